from __future__ import annotations

import pytest

from scanners.lockfiles import parse_lockfile
from scanners.lockfiles.base import LockfileError, ParsedLockfile
from tests.scanners.lockfiles._helpers import BINARY, FIXTURES, fixture

REQ = FIXTURES / "requirements"


def _parse(name: str) -> ParsedLockfile:
    return parse_lockfile(f"requirements/{name}", fixture(f"requirements/{name}"))


def _by_name(parsed: ParsedLockfile) -> dict[str, object]:
    return {p.name: p for p in parsed.packages}


@pytest.mark.parametrize(
    ("name", "count"),
    [
        ("web-pip-compile-requirements.txt", 26),
        ("web-uv-pip-compile-requirements.txt", 26),
        ("web-pip-compile-requirements-dev.txt", 6),
        ("data-pip-compile-requirements.txt", 6),
        ("data-uv-universal-requirements.txt", 48),
        ("tiny-pip-compile-requirements.txt", 8),
        ("web-uv-export-requirements.txt", 33),
    ],
)
def test_real_tool_output_parses_without_errors(name: str, count: int) -> None:
    parsed = _parse(name)
    assert parsed.format == "requirements"
    assert len(parsed.packages) == count
    assert [p for p in parsed.problems if p.severity == "error"] == []
    # --hash continuation lines never become packages, and every package has its start line.
    assert all(p.line is not None and p.lockfile == f"requirements/{name}" for p in parsed.packages)


def test_pip_compile_hashes_extras_and_via() -> None:
    parsed = _parse("web-pip-compile-requirements.txt")
    pkgs = _by_name(parsed)
    celery = pkgs["celery"]
    assert (celery.version, celery.extras, celery.direct, celery.line) == ("5.7.0", ("redis",), True, 19)
    assert celery.required_by == ("-r requirements.in",)
    click = pkgs["click"]
    assert click.direct is False
    assert click.required_by == ("celery", "click-didyoumean", "click-plugins", "click-repl")
    assert {n for n, p in pkgs.items() if p.direct} == {"celery", "django", "psycopg2", "requests"}
    assert all(p.source == "index" and p.markers is None for p in parsed.packages)


def test_pip_compile_dev_file_constraint_via_is_not_direct() -> None:
    pkgs = _by_name(_parse("web-pip-compile-requirements-dev.txt"))
    assert pkgs["packaging"].required_by == ("-c requirements.txt", "pytest")
    assert pkgs["packaging"].direct is False
    assert pkgs["pytest-django"].direct is True


def test_uv_universal_keeps_markers_and_both_numpy_forks() -> None:
    parsed = _parse("data-uv-universal-requirements.txt")
    numpys = [(p.version, p.markers) for p in parsed.packages if p.name == "numpy"]
    assert numpys == [
        ("1.26.4", 'python_full_version < "3.12" or sys_platform != "emscripten"'),
        ("2.5.5", 'python_full_version >= "3.12" and sys_platform == "emscripten"'),
    ]
    pkgs = _by_name(parsed)
    assert pkgs["tensorflow-macos"].markers == 'sys_platform == "darwin"'
    assert pkgs["tensorflow-macos"].direct is True
    assert pkgs["tensorflow"].markers == 'platform_machine == "arm64" and sys_platform == "darwin"'
    assert pkgs["psutil"].markers is None


def test_uv_export_project_via_and_editable_root() -> None:
    parsed = _parse("web-uv-export-requirements.txt")
    pkgs = _by_name(parsed)
    assert {n for n, p in pkgs.items() if p.direct} == {"celery", "django", "psycopg2", "requests"}
    assert [(p.location, p.severity) for p in parsed.problems] == [("line 3", "info")]
    assert "project itself" in parsed.problems[0].message


def test_pip_compile_vcs_and_editable() -> None:
    pkgs = _by_name(_parse("tiny-pip-compile-requirements.txt"))
    assert (pkgs["tinyutil"].source, pkgs["tinyutil"].version) == ("vcs", None)
    assert pkgs["tinyutil"].detail == "VCS requirement git+https://git.test/acme/tinyutil.git@v0.3.0"
    assert (pkgs["localhelpers"].source, pkgs["localhelpers"].line, pkgs["localhelpers"].direct) == (
        "editable",
        7,
        True,
    )
    assert pkgs["idna"].required_by == ("localhelpers", "requests")


MIXED_EXPECTED = [
    # name, version, source, line, markers, extras
    ("django", "5.2.19", "index", 10, None, ()),
    ("celery", "5.7.0", "index", 11, 'python_version < "3.14"', ("redis",)),
    ("exact", "1.0.post1", "index", 12, None, ()),
    ("numpy", None, "unpinned", 13, None, ()),
    ("pandas", None, "unpinned", 14, None, ()),
    ("psutil", None, "unpinned", 15, None, ()),
    ("simplejson", None, "unpinned", 16, None, ()),
    ("requests", "2.34.2", "url", 17, None, ()),
    ("vendored", "0.9", "url", 18, None, ()),
    ("urllib3", "2.8.0", "url", 19, None, ()),
    ("tinyutil", None, "vcs", 20, None, ()),
    ("tinyutil2", None, "vcs", 21, None, ()),
    ("localhelpers", None, "path", 22, None, ()),
    ("otherpkg", None, "path", 23, None, ()),
    ("editable-pkg", None, "editable", 24, None, ()),
    ("editme", None, "editable", 25, None, ()),
    ("amqp", "5.4.2", "index", 29, None, ()),
    ("vine", "5.1.0", "index", 33, None, ()),
]


def test_every_line_type() -> None:
    parsed = _parse("mixed-requirements.txt")
    got = [(p.name, p.version, p.source, p.line, p.markers, p.extras) for p in parsed.packages]
    assert got == MIXED_EXPECTED
    pkgs = _by_name(parsed)
    assert pkgs["numpy"].detail == "specifier >=1.26"
    assert pkgs["psutil"].detail == "no version specifier"
    assert pkgs["simplejson"].detail == "specifier ==3.*"
    assert pkgs["amqp"].required_by == ("celery",)
    assert pkgs["vine"].required_by == ("amqp", "celery")


def test_options_and_bad_lines_become_problems() -> None:
    parsed = _parse("mixed-requirements.txt")
    problems = [(p.location, p.severity, p.message.split(":")[0]) for p in parsed.problems]
    assert problems == [
        ("line 2", "info", "option --index-url https"),
        ("line 3", "info", "option --extra-index-url https"),
        ("line 4", "info", "option --trusted-host index.test is not taken into account"),
        ("line 5", "info", "option --find-links ./wheels is not taken into account"),
        ("line 6", "info", "option --no-binary psycopg2 is not taken into account"),
        ("line 7", "info", "option --only-binary "),
        ("line 8", "info", "option --pre is not taken into account"),
        ("line 26", "info", "'.' is the project itself, not a locked package"),
        ("line 27", "error", "invalid requirement 'this is not a requirement !!'"),
        ("line 28", "error", "unknown option '--frobnicate' ignored"),
        (
            None,
            "error",
            "hash-checking mode is on (some lines have --hash) but django (requirements/mixed-requirements.txt",
        ),
    ]
    assert str(parsed.problems[8]).startswith("requirements/mixed-requirements.txt: line 27: invalid requirement")
    # amqp's --hash puts the whole file in hash-checking mode: the unhashed pins allow no file.
    assert "django (requirements/mixed-requirements.txt:10), celery" in parsed.problems[-1].message
    assert "pip refuses to install anything from this file" in parsed.problems[-1].message
    pkgs = _by_name(parsed)
    assert pkgs["amqp"].hashes == {
        "9362660c4a31150cf18e78cae2ce8aa1e929fc6c6739e69f6dd5dbea9c3edc82",
        "e6e756b15c89c86818b48a4947a424706238afbf67d457428d3269bc4590db9e",
    }
    assert pkgs["django"].hashes == frozenset() and pkgs["vine"].hashes == frozenset()
    assert pkgs["numpy"].hashes is None  # not a pin: unknown anyway


def test_one_bad_line_keeps_the_other_packages() -> None:
    text = "requests==2.34.2\nnot a requirement ((\npsutil==7.2.2 \\\n    --hash=sha256:" + "a" * 64 + "\n"
    parsed = parse_lockfile("requirements.txt", text)
    assert [(p.name, p.line) for p in parsed.packages] == [("requests", 1), ("psutil", 3)]
    # psutil's --hash turns on hash checking, so requests (no hash) is a problem of its own.
    assert [(p.location, p.severity) for p in parsed.problems] == [("line 2", "error"), (None, "error")]
    assert "requests (requirements.txt:1) have none" in parsed.problems[1].message


def _reader(path: str) -> str | None:
    file = REQ / path
    return file.read_text() if file.is_file() else None


def test_includes_constraints_cycle_and_missing() -> None:
    parsed = parse_lockfile(
        "includes/requirements.txt", fixture("requirements/includes/requirements.txt"), read_file=_reader
    )
    got = [(p.name, p.version, p.source, p.lockfile, p.line) for p in parsed.packages]
    assert got == [
        ("requests", "2.34.2", "index", "includes/requirements/base.txt", 1),
        # unpinned "django", pinned by the constraint file: what pip installs
        ("django", "5.2.19", "index", "includes/requirements.txt", 4),
        ("celery", None, "unpinned", "includes/requirements.txt", 5),
    ]
    # psutil is only in the constraint file: constraints never add packages
    assert "psutil" not in {p.name for p in parsed.packages}
    assert parsed.packages[1].detail == "pinned by constraint includes/constraints.txt line 1"
    assert parsed.includes == (
        "includes/requirements/base.txt",
        "includes/requirements.txt",
        "includes/constraints.txt",
        "includes/requirements/missing.txt",
    )
    messages = [str(p) for p in parsed.problems]
    assert messages == [
        "includes/requirements/base.txt: line 2: include cycle: includes/requirements.txt -> "
        "includes/requirements/base.txt -> includes/requirements.txt",
        "includes/requirements.txt: line 6: requirement file includes/requirements/missing.txt not found",
    ]


def test_constraints_file_on_its_own_lists_its_pins() -> None:
    parsed = parse_lockfile("includes/constraints.txt", fixture("requirements/includes/constraints.txt"))
    assert [(p.name, p.version) for p in parsed.packages] == [("django", "5.2.19"), ("psutil", "7.2.2")]


def test_includes_without_a_reader_are_listed_not_followed() -> None:
    parsed = parse_lockfile("a/requirements.txt", "-r ../base.txt\n-c constraints.txt\nflask==3.0\n")
    assert parsed.includes == ("base.txt", "a/constraints.txt")
    assert [p.severity for p in parsed.problems] == ["info", "info"]
    assert [p.name for p in parsed.packages] == ["flask"]


@pytest.mark.parametrize(
    ("line", "name", "version", "source"),
    [
        ("Django==5.2.19", "django", "5.2.19", "index"),
        ("zope.interface==7.0", "zope-interface", "7.0", "index"),
        ("pkg===2024.1-custom", "pkg", "2024.1-custom", "index"),
        ("pkg==1.0,!=1.1", "pkg", None, "unpinned"),
        ("pkg==1.*", "pkg", None, "unpinned"),
        ("pkg[a,b]>=1", "pkg", None, "unpinned"),
        ("pkg @ file:///srv/wheels/pkg-1.0-py3-none-any.whl", "pkg", "1.0", "path"),
        ("https://index.test/p/foo_bar-2.0.tar.gz", "foo-bar", "2.0", "url"),
        ("-e git+https://git.test/x.git#egg=thing", "thing", None, "editable"),
        ("--editable=./src/pkg", "pkg", None, "editable"),
        ("hg+https://hg.test/repo#egg=Mercurial_Thing", "mercurial-thing", None, "vcs"),
        ("requests==2.34.2  # pinned for CVE", "requests", "2.34.2", "index"),
        ("amqp==5.4.2  # via kombu, celery", "amqp", "5.4.2", "index"),
    ],
)
def test_requirement_lines(line: str, name: str, version: str | None, source: str) -> None:
    parsed = parse_lockfile("requirements.txt", line + "\n")
    assert [(p.name, p.version, p.source) for p in parsed.packages] == [(name, version, source)]
    assert [p for p in parsed.problems if p.severity == "error"] == []


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("https://index.test/download/archive\n", "cannot tell the project name"),
        ("-e\n", "-e needs a path or URL"),
        ("-r\n", "-r needs a file name"),
        ("--index-url\n", "--index-url needs a value"),
        ("pkg ; python_version <<< '3'\n", "invalid requirement"),
        ("-r https://index.test/reqs.txt\n", "is a URL: not followed"),
    ],
)
def test_bad_lines_are_reported(text: str, message: str) -> None:
    parsed = parse_lockfile("requirements.txt", text)
    assert parsed.packages == ()
    assert len(parsed.problems) == 1 and message in parsed.problems[0].message
    assert parsed.problems[0].location == "line 1"


def test_empty_and_comment_only_files_have_no_packages() -> None:
    for text in ("", "\n\n", "# nothing pinned yet\n"):
        parsed = parse_lockfile("requirements.txt", text)
        assert (parsed.packages, parsed.problems) == ((), ())


def test_truncated_file_keeps_what_was_complete() -> None:
    text = fixture("requirements/web-pip-compile-requirements.txt")
    cut = text[: text.index("django==")] + "django==5.2.19 \\\n    --hash=sha256:3d"  # cut mid-continuation
    parsed = parse_lockfile("requirements.txt", cut)
    assert [p.name for p in parsed.packages][-2:] == ["click-repl", "django"]
    assert [p for p in parsed.problems if p.severity == "error"] == []


def test_binary_file_is_a_lockfile_error() -> None:
    with pytest.raises(LockfileError, match="binary"):
        parse_lockfile("requirements.txt", BINARY)


def test_binary_include_is_a_problem() -> None:
    parsed = parse_lockfile("requirements.txt", "-r other.txt\nflask==3.0\n", read_file=lambda _p: BINARY)
    assert [p.name for p in parsed.packages] == ["flask"]
    assert "binary" in parsed.problems[0].message


def test_diamond_includes_list_packages_once() -> None:
    files = {"a.txt": "-r c.txt\n", "b.txt": "-r c.txt\n", "c.txt": "six==1.17.0\n"}
    parsed = parse_lockfile("requirements.txt", "-r a.txt\n-r b.txt\n", read_file=files.get)
    assert [(p.name, p.lockfile) for p in parsed.packages] == [("six", "c.txt")]
    assert parsed.problems == ()


def test_includes_that_nest_forever_are_cut_off() -> None:
    # every level names a new path (sub/sub/sub/…), so there is no cycle to detect
    text = "-r sub/requirements.txt\nsix==1.17.0\n"
    parsed = parse_lockfile("requirements.txt", text, read_file=lambda _p: text)
    assert len(parsed.packages) == 17
    assert [p.message.endswith("includes nest too deep") for p in parsed.problems] == [True]


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("./vendor/Foo_Bar-1.0.tar.bz2", ("foo-bar", "1.0", "path")),
        ("./vendor/foo_bar-2.0-py3-none-any.whl", ("foo-bar", "2.0", "path")),
        ("https://index.test/files/Legacy-Pkg-0.3.tgz", ("legacy-pkg", "0.3", "url")),
        ("./vendor/plain-dir", ("plain-dir", None, "path")),
    ],
)
def test_archive_requirements_take_name_and_version_from_the_file_name(line: str, expected: tuple) -> None:
    # The same file-name rules as the index's (legacy sdist suffixes included): a local
    # "Foo_Bar-1.0.tar.bz2" is the project foo-bar, not one named "foo-bar-1-0-tar-bz2".
    (pkg,) = parse_lockfile("requirements.txt", f"{line}\n").packages
    assert (pkg.name, pkg.version, pkg.source) == expected
