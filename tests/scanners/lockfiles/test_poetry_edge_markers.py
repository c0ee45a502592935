"""Poetry lock-version 1.1 and 2.0: markers live on dependency edges, and the graph walk finds them.

``winedge-poetry11.lock`` (Poetry 1.1.15) and ``winedge-poetry18.lock`` (Poetry 1.8.5, lock-version
2.0) lock a project that needs ``clikit``, which needs ``winshim`` only on Windows
(``sys_platform == "win32"``). winshim ships Windows wheels only: read without its edge marker
it would be a Linux blocker (``none``); it is ``n/a``.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from packaging.markers import Marker

from scanners.check import TargetDefaults, check_snapshot, is_relevant_path
from scanners.git import fetch_snapshot
from scanners.index import IndexClient
from scanners.lockfiles import parse_lockfile
from scanners.lockfiles._graph import bind_extras
from scanners.lockfiles.poetry import poetry_python_marker
from tests.scanners.git_helpers import make_repo
from tests.support.index_server import FixtureIndexServer
from tests.support.lock_projects import add_edge_projects

HASHED = Path(__file__).resolve().parents[2] / "fixtures" / "lockfiles" / "hashed"
LOCKS = ["winedge-poetry11", "winedge-poetry18"]
WIN32 = 'sys_platform == "win32"'


def _parse(stem: str, *, with_pyproject: bool):
    pyproject = (HASHED / f"{stem}.pyproject.toml").read_text()
    read = (lambda path: pyproject if path == "pyproject.toml" else None) if with_pyproject else None
    return parse_lockfile("poetry.lock", (HASHED / f"{stem}.lock").read_text(), read_file=read)


@pytest.mark.parametrize("stem", LOCKS)
@pytest.mark.parametrize("with_pyproject", [True, False], ids=["pyproject-roots", "graph-roots"])
def test_edge_marker_becomes_the_package_marker(stem, with_pyproject):
    parsed = _parse(stem, with_pyproject=with_pyproject)
    markers = {p.name: p.markers for p in parsed.packages}
    assert markers == {"clikit": None, "six": None, "winshim": WIN32}
    assert parsed.generated_by == "poetry 1.x"
    assert not [p for p in parsed.problems if p.severity == "error"]


@pytest.mark.parametrize("stem", LOCKS)
def test_windows_only_dependency_is_na_on_linux(stem, tmp_path):
    files = {
        "poetry.lock": (HASHED / f"{stem}.lock").read_text(),
        "pyproject.toml": (HASHED / f"{stem}.pyproject.toml").read_text(),
    }
    repo = make_repo(tmp_path, files, name="svc")
    snapshot = fetch_snapshot(str(repo), wanted=is_relevant_path, cache_dir=tmp_path / "git")
    with add_edge_projects(FixtureIndexServer(mode="both")) as server, IndexClient(server.url) as client:
        report = check_snapshot(snapshot, index=client, defaults=TargetDefaults(python="3.11", libc="glibc:2.36"))
    verdicts = {r.package.name: {t: v.status for t, v in r.verdicts.items()} for r in report.packages}
    assert verdicts["winshim"] == {"linux/amd64": "n/a", "linux/arm64": "n/a"}
    assert verdicts["clikit"] == verdicts["six"] == {"linux/amd64": "wheel", "linux/arm64": "wheel"}
    assert all(s.ready and s.complete for s in report.summary.values())
    # …and on Windows the marker holds: the walk did not simply drop the edge.
    assert Marker(WIN32).evaluate({"sys_platform": "win32"})


LOCK_WITH_EXTRAS = """
[[package]]
name = "uvicorn"
version = "0.15.0"
category = "main"
optional = false
python-versions = "*"

[package.dependencies]
click = ">=7"
httptools = {version = ">=0.1", optional = true, markers = "sys_platform != \\"win32\\" and extra == \\"standard\\""}
colorama = {version = ">=0.4", optional = true, markers = "sys_platform == \\"win32\\" and extra == \\"standard\\""}
watchgod = {version = ">=0.6", optional = true, markers = "extra == \\"standard\\""}

[package.extras]
standard = ["httptools (>=0.1)", "colorama (>=0.4)", "watchgod (>=0.6)"]

[[package]]
name = "click"
version = "8.0.1"
category = "main"
optional = false
python-versions = ">=3.6"

[package.dependencies]
colorama = {version = "*", markers = "platform_system == \\"Windows\\""}
importlib-metadata = {version = "*", python = "<3.8"}

[[package]]
name = "httptools"
version = "0.2.0"
category = "main"
optional = false
python-versions = "*"

[[package]]
name = "colorama"
version = "0.4.4"
category = "main"
optional = false
python-versions = "*"

[[package]]
name = "watchgod"
version = "0.7"
category = "main"
optional = false
python-versions = "*"

[[package]]
name = "importlib-metadata"
version = "4.8.1"
category = "dev"
optional = false
python-versions = ">=3.6"

[metadata]
lock-version = "1.1"
python-versions = "^3.7"
content-hash = "0"

[metadata.files]
"""


def _markers(pyproject: str | None) -> tuple[dict[str, str | None], list[str]]:
    read = (lambda path: pyproject) if pyproject is not None else None
    parsed = parse_lockfile("poetry.lock", LOCK_WITH_EXTRAS, read_file=read)
    return {p.name: p.markers for p in parsed.packages}, [p.message for p in parsed.problems]


def test_extras_asked_for_by_the_project_are_followed():
    markers, problems = _markers(
        '[tool.poetry.dependencies]\npython = "^3.7"\nuvicorn = {version = "*", extras = ["standard"]}\n'
    )
    assert markers["httptools"] == 'sys_platform != "win32"'
    assert markers["watchgod"] is None
    assert markers["colorama"] == '(platform_system == "Windows") or (sys_platform == "win32")'
    assert markers["importlib-metadata"] == 'python_version < "3.8"'
    assert problems == []


def test_extras_nobody_asked_for_are_not_followed():
    markers, problems = _markers('[tool.poetry.dependencies]\npython = "^3.7"\nuvicorn = "*"\n')
    assert markers["colorama"] == 'platform_system == "Windows"'  # only click's edge remains
    # httptools and watchgod are reached by nothing: reported (cautiously) as installed.
    assert markers["httptools"] is None and markers["watchgod"] is None
    assert any("httptools 0.2.0 is not reachable" in p for p in problems)


def test_without_a_pyproject_every_extra_edge_counts():
    markers, _problems = _markers(None)
    assert markers["httptools"] == 'sys_platform != "win32"'
    assert markers["watchgod"] is None
    assert markers["uvicorn"] is None and markers["click"] is None


@pytest.mark.parametrize(
    ("marker", "extras", "expected"),
    [
        (None, frozenset(), None),
        ('sys_platform == "win32"', frozenset(), 'sys_platform == "win32"'),
        ('sys_platform != "win32" and extra == "standard"', frozenset({"standard"}), 'sys_platform != "win32"'),
        ('sys_platform != "win32" and extra == "standard"', frozenset(), False),
        ('extra == "a" or extra == "b"', frozenset({"b"}), None),
        (
            'python_version >= "3" and (extra == "a" or python_version < "3.8")',
            frozenset(),
            'python_version >= "3" and python_version < "3.8"',
        ),
        ('python_version >= "3" and (extra == "a" or python_version < "3.8")', None, 'python_version >= "3"'),
        ('extra == "Standard_Extra"', frozenset({"standard-extra"}), None),  # extras compare normalised
    ],
)
def test_bind_extras(marker, extras, expected):
    assert bind_extras(marker, extras) == expected


@pytest.mark.parametrize(
    ("constraint", "marker"),
    [
        ("<3.8", 'python_version < "3.8"'),
        (">=3.6,<4.0", 'python_version >= "3.6" and python_version < "4.0"'),
        ("^3.7", 'python_version >= "3.7" and python_version < "4.0"'),
        ("~3.7", 'python_version >= "3.7" and python_version < "3.8"'),
        ("~2.7 || >=3.5", '(python_version >= "2.7" and python_version < "2.8") or (python_version >= "3.5")'),
        (">=3.6.2", 'python_full_version >= "3.6.2"'),
        ("3.*", 'python_version == "3.*"'),
        ("*", None),
        ("not a constraint", None),
    ],
)
def test_poetry_python_constraints(constraint, marker):
    assert poetry_python_marker(constraint) == marker
    if marker:
        Marker(marker)  # what the analyser will evaluate must parse
