from __future__ import annotations

import json

import pytest

from scanners.lockfiles import parse_lockfile
from tests.scanners.lockfiles._helpers import assert_truncation_names_last_line, assert_unreadable, fixture


def _parse(name: str = "", text: str | None = None):
    return parse_lockfile("Pipfile.lock", fixture(f"pipfile/{name}") if text is None else text)


@pytest.mark.parametrize(
    ("name", "default", "develop"),
    [("web-Pipfile.lock", 26, 5), ("data-Pipfile.lock", 7, 0), ("tiny-Pipfile.lock", 8, 0)],
)
def test_real_locks_keep_both_sections(name: str, default: int, develop: int) -> None:
    parsed = _parse(name)
    assert parsed.format == "Pipfile.lock"
    assert parsed.problems == ()
    groups = [p.groups for p in parsed.packages]
    assert (groups.count(("default",)), groups.count(("develop",))) == (default, develop)
    assert all(p.files is None and p.line is not None for p in parsed.packages)


def test_versions_markers_extras_and_lines() -> None:
    parsed = _parse("web-Pipfile.lock")
    celery = next(p for p in parsed.packages if p.name == "celery")
    assert (celery.version, celery.extras, celery.markers, celery.line) == (
        "5.7.0",
        ("redis",),
        'python_version >= "3.10"',
        43,
    )
    # packaging is in both sections: reported once per section, each with its own line
    packaging = [(p.groups, p.line) for p in parsed.packages if p.name == "packaging"]
    assert packaging == [(("default",), 299), (("develop",), 447)]
    assert fixture("pipfile/web-Pipfile.lock").splitlines()[446].strip() == '"packaging": {'


def test_git_editable_and_unresolved_entries() -> None:
    tiny = {p.name: p for p in _parse("tiny-Pipfile.lock").packages}
    assert (tiny["tinyutil"].source, tiny["tinyutil"].version) == ("vcs", None)
    assert tiny["tinyutil"].detail == "git https://git.test/acme/tinyutil.git@0f0a0f2d5ae97a2af8f1d2aa1f021471ed90ed83"
    assert (tiny["localhelpers"].source, tiny["localhelpers"].detail) == ("editable", "editable ../../../localpkg")
    data = {p.name: p for p in _parse("data-Pipfile.lock").packages}
    # pipenv wrote "==>=306" for a package its Linux resolution skipped
    assert (data["pywin32"].source, data["pywin32"].version) == ("unpinned", None)
    assert data["pywin32"].markers == 'sys_platform == "win32"'


def test_bad_entries_are_problems() -> None:
    doc = {
        "_meta": {},
        "default": {"ok": {"version": "==1.0"}, "bad!": {"version": "==1"}, "notdict": [], "num": {"version": 3}},
        "develop": [],
    }
    parsed = _parse(text=json.dumps(doc))
    assert [(p.name, p.version) for p in parsed.packages] == [("ok", "1.0")]
    assert [p.location for p in parsed.problems] == [
        "default.bad!",
        "default.notdict",
        "default.num.version",
        "develop",
    ]


@pytest.mark.parametrize(
    ("text", "message", "line"),
    [
        ('{\n  "default": {\n    "six": {,\n', "invalid JSON", 3),
        ("[1, 2]", "not an object", None),
        ('{"_meta": {}}', "not a Pipfile.lock", None),
    ],
)
def test_unreadable_files_raise_lockfile_error(text: str, message: str, line: int | None) -> None:
    assert_unreadable("Pipfile.lock", text, message=message, line=line)


def test_truncated_lock_names_the_line() -> None:
    full = fixture("pipfile/web-Pipfile.lock")
    text = full[: full.index('"version": "==5.7.0"') + 15]
    assert_truncation_names_last_line("Pipfile.lock", text, message="invalid JSON")
