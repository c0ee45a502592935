from __future__ import annotations

import datetime as dt

import pytest

from scanners.lockfiles import parse_lockfile
from tests.scanners.lockfiles._helpers import (
    assert_truncation_names_last_line,
    assert_unreadable,
    fixture,
    truncated,
)


def _parse(name: str = "", text: str | None = None):
    return parse_lockfile("uv.lock", fixture(f"uv/{name}") if text is None else text)


@pytest.mark.parametrize(("name", "count"), [("web-uv.lock", 33), ("data-uv.lock", 49), ("tiny-uv.lock", 8)])
def test_real_locks_parse_and_drop_the_project(name: str, count: int) -> None:
    parsed = _parse(name)
    assert (parsed.format, len(parsed.packages), parsed.problems) == ("uv.lock", count, ())
    assert not {"web-service", "data-job", "tiny-tool"} & {p.name for p in parsed.packages}
    assert all(p.line is not None and p.direct is not None for p in parsed.packages)


def test_registry_files_with_hash_size_and_upload_time() -> None:
    pkgs = {p.name: p for p in _parse("web-uv.lock").packages}
    amqp = pkgs["amqp"]
    assert [f.filename for f in amqp.files] == ["amqp-5.4.2.tar.gz", "amqp-5.4.2-py3-none-any.whl"]
    sdist = amqp.files[0]
    assert sdist.sha256 == "9362660c4a31150cf18e78cae2ce8aa1e929fc6c6739e69f6dd5dbea9c3edc82"
    assert sdist.size == 133663
    assert sdist.upload_time == dt.datetime(2026, 11, 2, 10, 34, 18, tzinfo=dt.UTC)
    assert sdist.url.startswith("https://index.test/packages/")
    assert {n for n, p in pkgs.items() if p.direct} == {"celery", "django", "psycopg2", "requests", "pytest"}
    assert pkgs["pytest"].groups == ("dev",)
    assert pkgs["celery"].groups == ()
    assert "kombu" in pkgs["celery"].dependencies


def test_markers_are_derived_from_the_graph() -> None:
    parsed = _parse("data-uv.lock")
    pkgs = {(p.name, p.version): p for p in parsed.packages}
    by_name = {p.name: p for p in parsed.packages}
    # the macOS-only package and everything only it pulls in are not Linux blockers
    assert by_name["tensorflow-macos"].markers == 'sys_platform == "darwin"'
    assert by_name["tensorflow-macos"].direct is True
    assert by_name["keras"].markers is not None and "darwin" in by_name["keras"].markers
    assert by_name["keras"].direct is False
    assert by_name["uvloop"].markers == 'sys_platform != "win32"'
    assert by_name["pywin32"].markers == 'sys_platform == "win32"'
    assert by_name["psutil"].markers is None
    # uv forked numpy three ways (tensorflow-macos needs numpy<2): each fork keeps its condition
    numpys = sorted(v for (n, v) in pkgs if n == "numpy")
    assert numpys == ["1.26.4", "2.4.6", "2.5.5"]
    assert 'sys_platform != "win32"' in pkgs[("numpy", "1.26.4")].markers
    assert 'python_full_version < "3.12"' in pkgs[("numpy", "2.4.6")].markers


def test_git_and_editable_sources() -> None:
    pkgs = {p.name: p for p in _parse("tiny-uv.lock").packages}
    assert (pkgs["tinyutil"].source, pkgs["tinyutil"].files, pkgs["tinyutil"].direct) == ("vcs", None, True)
    assert pkgs["tinyutil"].detail.startswith("git https://git.test/acme/tinyutil.git?rev=v0.3.0#0f0a0f2")
    assert (pkgs["localhelpers"].source, pkgs["localhelpers"].detail) == ("editable", "editable ../../../localpkg")
    assert pkgs["idna"].direct is False


WORKSPACE = """
version = 1
revision = 2
requires-python = ">=3.11"

[manifest]
members = ["app", "lib"]

[[package]]
name = "app"
version = "0.1.0"
source = { virtual = "." }
dependencies = [{ name = "lib" }, { name = "six", marker = "sys_platform == 'linux'" }]

[[package]]
name = "lib"
version = "0.1.0"
source = { editable = "packages/lib" }
dependencies = [{ name = "six" }]

[[package]]
name = "six"
version = "1.17.0"
source = { registry = "https://index.test/simple" }
wheels = [{ url = "https://index.test/six-1.17.0-py2.py3-none-any.whl", hash = "sha256:4721f391ed90541fddacab5acf947aa0d3dc7d27b2e1e8eda2be8970586c3274" }]

[[package]]
name = "orphan"
version = "1.0"
source = { url = "https://index.test/orphan-1.0.tar.gz" }
"""


def test_workspace_members_are_roots() -> None:
    parsed = _parse(text=WORKSPACE)
    got = [(p.name, p.source, p.direct, p.markers) for p in parsed.packages]
    # six reaches through lib unconditionally: the linux-only edge from app does not restrict it
    assert got == [("six", "index", True, None), ("orphan", "url", False, None)]
    assert [(p.location, p.severity) for p in parsed.problems] == [("package[3]", "info")]


def test_without_a_root_resolution_markers_are_used() -> None:
    text = """
version = 1
[[package]]
name = "numpy"
version = "2.4.6"
source = { registry = "https://index.test/simple" }
resolution-markers = ["python_full_version < '3.12'"]
"""
    (pkg,) = _parse(text=text).packages
    assert (pkg.markers, pkg.direct, pkg.files) == ('python_full_version < "3.12"', None, None)


def test_bad_entries_are_problems_with_key_paths() -> None:
    text = """
version = 2
[[package]]
name = "app"
version = "0"
source = { editable = "." }
dependencies = [{ name = "ok" }, "oops", { name = "x", marker = "os_name <<< 'nt'" }]

[[package]]
name = "ok"
version = "1.0"
source = { registry = "https://index.test/simple" }
wheels = [{ hash = "sha256:00" }, 3]

[[package]]
name = "noversion"
source = { registry = "https://index.test/simple" }
"""
    parsed = _parse(text=text)
    assert [p.name for p in parsed.packages] == ["ok"]
    assert [p.location for p in parsed.problems] == [
        "version",
        "package[0].dependencies[1]",
        "package[0].dependencies[2].marker",
        "package[1].wheels[0]",
        "package[1].wheels[1]",
        "package[2].version",
    ]
    assert parsed.packages[0].line == 9


@pytest.mark.parametrize(
    ("text", "message", "line"),
    [
        ("version = 1\n[[package]\n", "invalid TOML", 2),
        ("[other]\nx = 1\n", "not a uv.lock", None),
        ("version = 1\npackage = 3\n", "not an array", None),
    ],
)
def test_unreadable_files_raise_lockfile_error(text: str, message: str, line: int | None) -> None:
    assert_unreadable("uv.lock", text, message=message, line=line)


def test_truncated_lock_names_the_line() -> None:
    text = truncated(fixture("uv/web-uv.lock"), 'hash = "sha256:')
    assert_truncation_names_last_line("uv.lock", text, message="invalid TOML")
