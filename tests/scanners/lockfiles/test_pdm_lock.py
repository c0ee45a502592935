from __future__ import annotations

import pytest

from scanners.lockfiles import parse_lockfile
from tests.scanners.lockfiles._helpers import (
    assert_truncation_names_last_line,
    assert_unreadable,
    fixture,
    truncated,
)


def _parse(name: str = "", text: str | None = None):
    return parse_lockfile("pdm.lock", fixture(f"pdm/{name}") if text is None else text)


@pytest.mark.parametrize(
    ("name", "count", "has_files"),
    [
        ("web-pdm.lock", 33, True),
        ("data-pdm.lock", 7, True),
        ("tiny-pdm.lock", 8, True),
        # locked for linux/CPython 3.11 only: its files are not the whole release
        ("web-linux-target-pdm.lock", 31, False),
    ],
)
def test_real_locks_parse(name: str, count: int, has_files: bool) -> None:
    parsed = _parse(name)
    assert (parsed.format, len(parsed.packages), parsed.problems) == ("pdm.lock", count, ())
    index = [p for p in parsed.packages if p.source == "index"]
    assert all((p.files is not None) == has_files for p in index)
    assert all(p.line is not None for p in parsed.packages)


def test_extras_entries_are_merged_and_groups_kept() -> None:
    pkgs = {p.name: p for p in _parse("web-pdm.lock").packages}
    assert [p.name for p in _parse("web-pdm.lock").packages].count("celery") == 1
    celery = pkgs["celery"]
    assert (celery.version, celery.extras) == ("5.7.0", ("redis",))
    assert "celery" not in celery.dependencies and "kombu" in celery.dependencies
    assert pkgs["pytest"].groups == ("dev",)
    assert pkgs["tzdata"].markers == 'sys_platform == "win32" or platform_system == "Windows"'
    sha = {f.filename: f.sha256 for f in pkgs["celery"].files}
    assert sha["celery-5.7.0.tar.gz"] == "6a5dfcf6662287204f009a02002b9e66c83d4105e47ebabdc7079108772fc6f0"


def test_path_and_editable_sources() -> None:
    pkgs = {p.name: p for p in _parse("tiny-pdm.lock").packages}
    assert (pkgs["tinyutil"].source, pkgs["tinyutil"].files) == ("path", None)
    assert (pkgs["localhelpers"].source, pkgs["localhelpers"].groups) == ("editable", ("dev",))
    assert pkgs["idna"].groups == ("default", "dev")


def test_bad_entries_are_problems() -> None:
    text = """
[metadata]
lock_version = "4.5.0"

[[package]]
name = "ok"
version = "1.0"
dependencies = ["six>=1", "not valid (("]
files = [{file = "ok-1.0.tar.gz", hash = "sha256:00"}, {hash = "x"}]

[[package]]
name = "noversion"

[[package]]
name = "vcs"
git = "https://git.test/x.git"
revision = "abc"
"""
    parsed = _parse(text=text)
    got = [(p.name, p.version, p.source, p.detail, p.line) for p in parsed.packages]
    assert got == [("ok", "1.0", "index", None, 5), ("vcs", None, "vcs", "git https://git.test/x.git@abc", 14)]
    assert parsed.packages[0].dependencies == ("six",)
    assert [p.location for p in parsed.problems] == [
        "package[0].dependencies[1]",
        "package[0].files[1]",
        "package[1].version",
    ]


@pytest.mark.parametrize(
    ("text", "message", "line"),
    [
        ("[metadata]\ngroups = [\n", "invalid TOML", 2),
        ("[tool]\n", "not a pdm.lock", None),
    ],
)
def test_unreadable_files_raise_lockfile_error(text: str, message: str, line: int | None) -> None:
    assert_unreadable("pdm.lock", text, message=message, line=line)


def test_truncated_lock_names_the_line() -> None:
    text = truncated(fixture("pdm/web-pdm.lock"), 'hash = "sha256:')
    assert_truncation_names_last_line("pdm.lock", text, message="invalid TOML")


OLD_STRATEGY_LOCK = """
[metadata]
groups = ["default"]
strategy = ["cross_platform"]
lock_version = "4.4.1"
content_hash = "sha256:0"

[[package]]
name = "pytest"
version = "7.4.0"
requires_python = ">=3.7"
dependencies = ["colorama; sys_platform == \\"win32\\"", "iniconfig", "tomli>=1.0.0; python_version < \\"3.11\\""]

[[package]]
name = "colorama"
version = "0.4.6"

[[package]]
name = "iniconfig"
version = "2.0.0"

[[package]]
name = "tomli"
version = "2.0.1"
"""


def test_locks_without_inherited_markers_get_them_from_the_edges() -> None:
    parsed = parse_lockfile("pdm.lock", OLD_STRATEGY_LOCK)
    markers = {p.name: p.markers for p in parsed.packages}
    assert markers == {
        "pytest": None,
        "colorama": 'sys_platform == "win32"',
        "iniconfig": None,
        "tomli": 'python_version < "3.11"',
    }


def test_inherited_markers_are_used_as_written() -> None:
    parsed = parse_lockfile("pdm.lock", OLD_STRATEGY_LOCK.replace('["cross_platform"]', '["inherit_metadata"]'))
    assert {p.name: p.markers for p in parsed.packages}["colorama"] is None
