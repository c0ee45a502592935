from __future__ import annotations

import pytest

from scanners.lockfiles import parse_lockfile
from tests.scanners.lockfiles._helpers import (
    assert_truncation_names_last_line,
    assert_unreadable,
    fixture,
    truncated,
)


def _parse(name: str = "", text: str | None = None, path: str = "pylock.toml"):
    return parse_lockfile(path, fixture(f"pylock/{name}") if text is None else text)


@pytest.mark.parametrize(
    ("name", "count", "info"),
    [
        ("web-uv-export.pylock.toml", 33, 1),  # uv lists the project itself: reported, not a package
        ("data-uv-export.pylock.toml", 49, 0),
        ("tiny-uv-export.pylock.toml", 8, 0),
        ("web-pip-lock.pylock.toml", 26, 0),
        ("tiny-pip-lock.pylock.toml", 7, 0),
    ],
)
def test_real_locks_validate_and_parse(name: str, count: int, info: int) -> None:
    parsed = _parse(name)
    assert (parsed.format, len(parsed.packages)) == ("pylock.toml", count)
    assert [p.severity for p in parsed.problems] == ["info"] * info
    for pkg in parsed.packages:
        assert pkg.line is not None
        if pkg.source == "index":
            assert pkg.files and all(f.sha256 for f in pkg.files)


def test_files_markers_and_sources() -> None:
    pkgs = {(p.name, p.version): p for p in _parse("data-uv-export.pylock.toml").packages}
    uvloop = pkgs[("uvloop", "0.23.0")]
    assert uvloop.markers == 'sys_platform != "win32"'
    assert {f.kind for f in uvloop.files} == {"sdist", "wheel"}
    assert pkgs[("tensorflow-macos", "2.16.2")].markers == 'sys_platform == "darwin"'
    tiny = {p.name: p for p in _parse("tiny-uv-export.pylock.toml").packages}
    assert (tiny["tinyutil"].source, tiny["tinyutil"].files) == ("vcs", None)
    assert tiny["tinyutil"].detail == "git https://git.test/acme/tinyutil.git@0f0a0f2d5ae97a2af8f1d2aa1f021471ed90ed83"
    assert (tiny["localhelpers"].source, tiny["localhelpers"].version) == ("editable", None)
    # pip lock records only the wheel it chose for the machine it ran on
    pip = {p.name: p for p in _parse("web-pip-lock.pylock.toml").packages}
    assert [f.filename for f in pip["amqp"].files] == ["amqp-5.4.2-py3-none-any.whl"]


def test_named_pylock_is_detected() -> None:
    parsed = _parse("tiny-pip-lock.pylock.toml", path="deploy/pylock.prod.toml")
    assert parsed.format == "pylock.toml"


HEAD = 'lock-version = "1.0"\ncreated-by = "hand"\n'


def test_a_rejected_package_does_not_hide_the_others() -> None:
    text = (
        HEAD
        + """
[[packages]]
name = "six"
version = "1.17.0"
wheels = [{ name = "six-1.17.0-py2.py3-none-any.whl", url = "https://index.test/six-1.17.0-py2.py3-none-any.whl", hashes = { sha256 = "4721f391ed90541fddacab5acf947aa0d3dc7d27b2e1e8eda2be8970586c3274" } }]

[[packages]]
name = "broken"
version = "1.0"

[[packages]]
name = "archive"
version = "2.0"
archive = { url = "https://index.test/archive-2.0.tar.gz", hashes = { sha256 = "00" } }

[[packages]]
name = "wheelbad"
wheels = [{ url = 3, hashes = {} }]
"""
    )
    parsed = _parse(text=text)
    assert [(p.name, p.source, p.line) for p in parsed.packages] == [("six", "index", 4), ("archive", "url", 13)]
    assert [p.location for p in parsed.problems] == ["packages[1]", "packages[3].wheels[0].url"]
    assert all(p.severity == "error" for p in parsed.problems)


def test_a_package_seen_in_another_lock_is_judged_at_its_own_place() -> None:
    # Each package's validation is remembered per process by its content: the same entries in
    # another order, in another file, must still be reported at their own index, line and path.
    six = """[[packages]]
name = "six"
version = "1.17.0"
wheels = [{ name = "six-1.17.0-py2.py3-none-any.whl", url = "https://index.test/six-1.17.0-py2.py3-none-any.whl", hashes = { sha256 = "4721f391ed90541fddacab5acf947aa0d3dc7d27b2e1e8eda2be8970586c3274" } }]
"""
    bad_wheel = """[[packages]]
name = "wheelbad"
wheels = [{ url = 3, hashes = {} }]
"""
    mismatch = """[[packages]]
name = "other"
version = "1.0"
wheels = [{ name = "six-1.0-py3-none-any.whl", url = "https://index.test/six-1.0-py3-none-any.whl", hashes = { sha256 = "00" } }]
"""
    first = _parse(text=HEAD + "\n" + six + "\n" + bad_wheel + "\n" + mismatch, path="a/pylock.toml")
    second = _parse(text=HEAD + "\n" + mismatch + "\n" + bad_wheel + "\n" + six, path="b/pylock.toml")
    assert [(p.name, p.line) for p in first.packages] == [("six", 4)]
    assert [(p.name, p.line) for p in second.packages] == [("six", 13)]
    assert [(p.path, p.location, p.line) for p in first.problems] == [
        ("a/pylock.toml", "packages[1].wheels[0].url", 9),
        ("a/pylock.toml", "packages[2].wheels[0]", 13),
    ]
    assert [(p.path, p.location, p.line) for p in second.problems] == [
        ("b/pylock.toml", "packages[0].wheels[0]", 4),
        ("b/pylock.toml", "packages[1].wheels[0].url", 9),
    ]
    assert first.problems[1].message == second.problems[0].message
    assert "not consistent with package name 'other'" in first.problems[1].message


@pytest.mark.parametrize(
    ("text", "message", "line"),
    [
        ('lock-version = "1.0"\n[[packages]\n', "invalid TOML", 2),
        ('lock-version = "2.0"\ncreated-by = "x"\npackages = []\n', "unsupported pylock", None),
        ('lock-version = "1.0"\npackages = []\n', "invalid pylock", None),
        ('lock-version = "1.0"\ncreated-by = "x"\npackages = 3\n', "invalid pylock at packages", None),
    ],
)
def test_unreadable_files_raise_lockfile_error(text: str, message: str, line: int | None) -> None:
    assert_unreadable("pylock.toml", text, message=message, line=line)


def test_truncated_lock_names_the_line() -> None:
    text = truncated(fixture("pylock/web-uv-export.pylock.toml"), 'sha256 = "')
    assert_truncation_names_last_line("pylock.toml", text, message="invalid TOML")


@pytest.mark.parametrize(
    ("wheels", "version"),
    [
        (["foo_bar-1.0-py3-none-any.whl", "foo_bar-1.0-cp311-cp311-manylinux_2_17_x86_64.whl"], "1.0"),
        (["foo_bar-1.0-py3-none-any.whl", "foo_bar-2.0-py3-none-any.whl"], None),
    ],
)
def test_a_package_without_version_is_pinned_by_its_files(wheels: list[str], version: str | None) -> None:
    # PEP 751 lets a lock leave out "version"; the wheels it lists still fix what is installed.
    entries = "".join(
        f'[[packages.wheels]]\nurl = "https://index.test/{w}"\nhashes = {{sha256 = "00"}}\n' for w in wheels
    )
    text = f'lock-version = "1.0"\ncreated-by = "x"\n\n[[packages]]\nname = "foo-bar"\n{entries}'
    (pkg,) = _parse(text=text).packages
    assert (pkg.name, pkg.version, pkg.source, len(pkg.files)) == ("foo-bar", version, "index", len(wheels))
