from __future__ import annotations

import pytest

from scanners.lockfiles import parse_lockfile
from tests.scanners.lockfiles._helpers import (
    assert_truncation_names_last_line,
    assert_unreadable,
    fixture,
    truncated,
)


def _parse(name: str, text: str | None = None):
    return parse_lockfile("poetry.lock", fixture(f"poetry/{name}") if text is None else text)


@pytest.mark.parametrize(
    ("name", "count"),
    [
        ("web-poetry2.lock", 33),
        ("data-poetry2.lock", 8),
        ("tiny-poetry2.lock", 7),
        ("web-poetry18.lock", 33),
        ("data-poetry18.lock", 7),
        ("tiny-poetry18.lock", 8),
        ("small-poetry11.lock", 13),
    ],
)
def test_real_locks_parse(name: str, count: int) -> None:
    parsed = _parse(name)
    assert (parsed.format, len(parsed.packages), parsed.problems) == ("poetry.lock", count, ())
    for pkg in parsed.packages:
        assert pkg.line is not None
        if pkg.source == "index":
            # every file carries its hash, so the analyser can skip the index
            assert pkg.files and all(f.sha256 and len(f.sha256) == 64 for f in pkg.files)
            assert all(f.version is not None and str(f.version) == pkg.version for f in pkg.files if f.kind != "other")


def test_poetry2_groups_markers_and_dependencies() -> None:
    pkgs = {(p.name, p.version): p for p in _parse("data-poetry2.lock").packages}
    assert pkgs[("numpy", "2.4.6")].markers == 'python_version < "3.14"'
    assert pkgs[("numpy", "2.5.5")].markers == 'python_version >= "3.14"'
    assert pkgs[("uvloop", "0.23.0")].markers == 'sys_platform != "win32"'
    assert pkgs[("pandas", "3.1.1")].dependencies == ("numpy", "python-dateutil", "tzdata")
    web = {p.name: p for p in _parse("web-poetry2.lock").packages}
    assert web["pytest"].groups == ("dev",)
    assert web["packaging"].groups == ("main", "dev")
    assert web["psycopg2"].files is not None and {f.kind for f in web["psycopg2"].files} >= {"sdist", "wheel"}
    assert web["django"].direct is None


def test_sources_git_and_directory() -> None:
    pkgs = {p.name: p for p in _parse("tiny-poetry18.lock").packages}
    assert (pkgs["tinyutil"].source, pkgs["tinyutil"].files) == ("vcs", None)
    assert pkgs["tinyutil"].detail == "git https://git.test/acme/tinyutil.git@0f0a0f2d5ae97a2af8f1d2aa1f021471ed90ed83"
    assert (pkgs["localhelpers"].source, pkgs["localhelpers"].detail) == ("editable", "directory ../../../localpkg")


def test_lock_version_1_1_takes_files_from_metadata() -> None:
    pkgs = {p.name: p for p in _parse("small-poetry11.lock").packages}
    names = sorted(f.filename for f in pkgs["requests"].files)
    assert names == ["requests-2.34.2-py3-none-any.whl", "requests-2.34.2.tar.gz"]
    assert len(pkgs["psutil"].files) > 5


def test_version_1_1_files_of_another_version_are_not_mixed_in() -> None:
    text = """
[[package]]
name = "six"
version = "1.16.0"
category = "main"
optional = false
python-versions = "*"

[metadata]
lock-version = "1.1"
python-versions = "^3.11"
content-hash = "x"

[metadata.files]
six = [
    {file = "six-1.16.0-py2.py3-none-any.whl", hash = "sha256:8abb2f1d86890a2dfb989f9a77cfcfd3e47c2a354b01111771326f8aa26e0254"},
    {file = "six-1.17.0-py2.py3-none-any.whl", hash = "sha256:4721f391ed90541fddacab5acf947aa0d3dc7d27b2e1e8eda2be8970586c3274"},
]
"""
    (six,) = _parse("", text).packages
    assert [f.filename for f in six.files] == ["six-1.16.0-py2.py3-none-any.whl"]


def test_per_group_markers_are_alternatives() -> None:
    text = """
[[package]]
name = "colorama"
version = "0.4.6"
groups = ["main", "dev"]
markers = {main = "sys_platform == 'win32'", dev = "platform_system == 'Windows'"}
files = []

[metadata]
lock-version = "2.1"
"""
    (pkg,) = _parse("", text).packages
    assert pkg.markers == '(sys_platform == "win32") or (platform_system == "Windows")'
    assert pkg.files is None  # no files listed: let the index decide


def test_bad_entries_are_problems_with_key_paths() -> None:
    text = """
package = [
  {name = "ok", version = "1.0"},
  7,
  {name = "no-version"},
  {name = "bad name!", version = "1"},
  {name = "badmarker", version = "1", markers = "python_version <<< '3'"},
  {name = "badfiles", version = "1", files = [{hash = "sha256:00"}]},
]
[metadata]
lock-version = "9.0"
"""
    parsed = _parse("", text)
    assert [p.name for p in parsed.packages] == ["ok", "badmarker", "badfiles"]
    locations = [p.location for p in parsed.problems]
    assert locations == [
        "metadata.lock-version",
        "package[1]",
        "package[2].version",
        "package[3].name",
        "package[4].markers",
        "package[5].files[0]",
    ]
    assert all(p.line is None for p in parsed.packages)  # inline array: no [[package]] headers


@pytest.mark.parametrize(
    ("text", "message", "line"),
    [
        ("[[package]\nname = 'x'\n", "invalid TOML", 1),
        ('[[package]]\nname = "a"\nversion = 1.0.0\n', "invalid TOML", 3),
        ("[tool.other]\nx = 1\n", "not a poetry.lock", None),
        ("package = 'x'\n", "not an array", None),
    ],
)
def test_unreadable_files_raise_lockfile_error(text: str, message: str, line: int | None) -> None:
    assert_unreadable("poetry.lock", text, message=message, line=line)


def test_truncated_lock_names_the_line() -> None:
    text = truncated(fixture("poetry/web-poetry2.lock"), 'hash = "sha256:')
    assert_truncation_names_last_line("poetry.lock", text, message="invalid TOML")
