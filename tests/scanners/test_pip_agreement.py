"""The analyser agrees with real pip, file for file.

For every recorded release in the fixture index, on several foreign targets, real pip runs
``pip download --no-deps`` against a real local index (JSON and HTML) with the target's whole
platform ladder, Python version, implementation and ABI as flags, and the file it downloads
must be the file the analyser names:

* "binary" runs use ``--only-binary=:all:`` (the reference DESIGN.md names): pip then sees
  only the wheels, so its choice is compared with :func:`decide` on the wheels, and when pip
  finds nothing the full verdict must be ``sdist`` exactly when the release has an sdist the
  target's Python admits, else ``none``.
* "sdist" runs leave sdists allowed (pip accepts the target flags with ``--no-deps``), so the
  full verdict — wheel or sdist, yanked rules included — is compared directly.

The pip runs go through a thread pool once per module and each case is then its own test.

One known difference is not exercised here on purpose: given the whole ladder as
``--platform`` flags, pip's command line moves ``manylinux2010``/``manylinux1`` right after
``manylinux2014`` (``_custom_manylinux_platforms``), while pip on a real host and the
analyser follow packaging's order. It only matters for a release that ships both a
``manylinux2010``-only and a ``manylinux_2_13..16`` wheel for the same Python; the fixture
releases have none (asserted below so the test notices if one is recorded).
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Literal

import pytest
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import Version

from scanners.analyser import Verdict, decide
from scanners.distributions import DistributionFile
from scanners.targets import Target
from tests.support.index_server import FixtureIndexServer, load_fixture_pages
from tests.support.real_pip import pip_download, pip_env

pytestmark = pytest.mark.slow

TARGETS = (
    Target("linux/amd64", "3.11", "glibc", "2.36"),
    Target("linux/arm64", "3.11", "glibc", "2.36"),
    Target("linux/arm64", "3.9", "glibc", "2.17"),
    Target("linux/amd64", "3.10", "glibc", "2.17"),
    Target("linux/arm64", "3.13", "glibc", "2.28"),
    Target("linux/amd64", "3.12", "glibc", "2.28"),
    Target("linux/amd64", "3.12", "musl", "1.2"),
    Target("linux/arm64", "3.13", "musl", "1.2"),
)

Mode = Literal["json", "html"]


@dataclass(frozen=True)
class Case:
    project: str
    version: str
    target: Target
    mode: Mode
    binary_only: bool
    requirement: str
    pinned: bool = True

    @property
    def id(self) -> str:
        t = self.target
        kind = "binary" if self.binary_only else "sdist"
        return f"{self.requirement}-{t.platform}-py{t.python}-{t.libc}{t.libc_version}-{self.mode}-{kind}"


# -- edge cases added to the index at run time (PEP 691 file dicts) ------------------------------

_ML_ARM = "manylinux_2_17_aarch64.manylinux2014_aarch64"
EDGE_PROJECTS: dict[str, list[dict[str, Any]]] = {
    # the best wheel is yanked: the lower-ranked good wheel wins
    "edge-yanked-best": [
        {"filename": f"edge_yanked_best-1.0-cp311-cp311-{_ML_ARM}.whl", "yanked": "segfaults"},
        {"filename": "edge_yanked_best-1.0-cp37-abi3-manylinux_2_17_aarch64.whl"},
        {"filename": "edge_yanked_best-1.0.tar.gz"},
    ],
    # every file yanked: an exact pin still installs the best wheel, a range gets nothing
    "edge-all-yanked": [
        {"filename": f"edge_all_yanked-1.0-cp311-cp311-{_ML_ARM}.whl", "yanked": True},
        {"filename": "edge_all_yanked-1.0-py3-none-any.whl", "yanked": "bad release"},
        {"filename": "edge_all_yanked-1.0.tar.gz", "yanked": True},
    ],
    # yanked wheel + good sdist: the sdist (binary-only pip takes the yanked wheel instead)
    "edge-yanked-wheel-sdist": [
        {"filename": f"edge_yanked_wheel_sdist-1.0-cp311-cp311-{_ML_ARM}.whl", "yanked": "broken"},
        {"filename": "edge_yanked_wheel_sdist-1.0.tar.gz"},
    ],
    # Requires-Python excludes the best wheel, then the next; padding makes ">3.11" exclude 3.11
    "edge-requires-python": [
        {"filename": f"edge_requires_python-1.0-cp311-cp311-{_ML_ARM}.whl", "requires-python": ">=3.12"},
        {"filename": "edge_requires_python-1.0-cp37-abi3-manylinux_2_17_aarch64.whl", "requires-python": ">3.11"},
        {"filename": "edge_requires_python-1.0-py3-none-any.whl", "requires-python": ">=3.11.0"},
        {"filename": "edge_requires_python-1.0.tar.gz", "requires-python": ">=3.13"},
    ],
    # an invalid Requires-Python is ignored by pip
    "edge-invalid-rp": [
        {"filename": "edge_invalid_rp-1.0-py3-none-any.whl", "requires-python": ">=3.6,,<"},
    ],
    # every file excluded by Requires-Python
    "edge-rp-none": [
        {"filename": "edge_rp_none-1.0-py3-none-any.whl", "requires-python": "<3.9"},
        {"filename": "edge_rp_none-1.0.tar.gz", "requires-python": "<3.9"},
    ],
    # build tags: the higher build number wins among equal tags
    "edge-build-tag": [
        {"filename": f"edge_build_tag-1.0-1-cp311-cp311-{_ML_ARM}.whl"},
        {"filename": f"edge_build_tag-1.0-3-cp311-cp311-{_ML_ARM}.whl"},
        {"filename": f"edge_build_tag-1.0-2-cp311-cp311-{_ML_ARM}.whl"},
    ],
    # manylinux_2_28 beats manylinux2014 on a new glibc; exact ABI beats abi3 beats pure
    "edge-ladder": [
        {"filename": "edge_ladder-1.0-py3-none-any.whl"},
        {"filename": "edge_ladder-1.0-cp38-abi3-manylinux_2_28_aarch64.whl"},
        {"filename": f"edge_ladder-1.0-cp311-cp311-{_ML_ARM}.whl"},
        {"filename": "edge_ladder-1.0-cp311-cp311-manylinux_2_28_aarch64.whl"},
        {"filename": "edge_ladder-1.0-cp311-cp311-musllinux_1_1_aarch64.whl"},
        {"filename": "edge_ladder-1.0-cp311-cp311-macosx_11_0_universal2.whl"},
    ],
    # macOS / Windows only, with and without an sdist
    "edge-macos-only": [
        {"filename": "edge_macos_only-1.0-cp311-cp311-macosx_11_0_universal2.whl"},
        {"filename": "edge_macos_only-1.0-cp311-cp311-win_amd64.whl"},
    ],
}

_ARM311 = Target("linux/arm64", "3.11", "glibc", "2.36")
_ARM311_OLD = Target("linux/arm64", "3.11", "glibc", "2.17")
_ARM311_MUSL = Target("linux/arm64", "3.11", "musl", "1.2")
EDGE_CASES: list[tuple[str, str, Target, bool, bool]] = [
    # (project, requirement, target, binary_only, pinned)
    ("edge-yanked-best", "edge-yanked-best==1.0", _ARM311, True, True),
    ("edge-yanked-best", "edge-yanked-best==1.0", _ARM311, False, True),
    ("edge-all-yanked", "edge-all-yanked==1.0", _ARM311, True, True),
    ("edge-all-yanked", "edge-all-yanked==1.0", _ARM311, False, True),
    ("edge-all-yanked", "edge-all-yanked===1.0", _ARM311, False, True),
    ("edge-all-yanked", "edge-all-yanked>=1.0,<2", _ARM311, False, False),
    ("edge-all-yanked", "edge-all-yanked==1.*", _ARM311, True, False),
    ("edge-yanked-wheel-sdist", "edge-yanked-wheel-sdist==1.0", _ARM311, False, True),
    ("edge-yanked-wheel-sdist", "edge-yanked-wheel-sdist==1.0", _ARM311, True, True),
    ("edge-requires-python", "edge-requires-python==1.0", _ARM311, True, True),
    ("edge-requires-python", "edge-requires-python==1.0", Target("linux/arm64", "3.12"), True, True),
    ("edge-requires-python", "edge-requires-python==1.0", Target("linux/arm64", "3.10"), False, True),
    ("edge-requires-python", "edge-requires-python==1.0", Target("linux/arm64", "3.13"), False, True),
    ("edge-invalid-rp", "edge-invalid-rp==1.0", _ARM311, True, True),
    ("edge-rp-none", "edge-rp-none==1.0", _ARM311, False, True),
    ("edge-build-tag", "edge-build-tag==1.0", _ARM311, True, True),
    ("edge-ladder", "edge-ladder==1.0", _ARM311, True, True),
    ("edge-ladder", "edge-ladder==1.0", _ARM311_OLD, True, True),
    ("edge-ladder", "edge-ladder==1.0", _ARM311_MUSL, True, True),
    ("edge-ladder", "edge-ladder==1.0", Target("linux/arm64", "3.12"), True, True),
    ("edge-ladder", "edge-ladder==1.0", Target("linux/amd64", "3.11"), True, True),
    ("edge-macos-only", "edge-macos-only==1.0", _ARM311, False, True),
]


def _files_from_dicts(dicts: Sequence[dict[str, Any]]) -> list[DistributionFile]:
    return [
        DistributionFile(d["filename"], requires_python=d.get("requires-python"), yanked=d.get("yanked", False))
        for d in dicts
    ]


def _recorded_releases() -> dict[tuple[str, str], list[DistributionFile]]:
    releases: dict[tuple[str, str], list[DistributionFile]] = {}
    for name, page in sorted(load_fixture_pages().items()):
        for f in _files_from_dicts(page["files"]):
            if f.version is not None:
                releases.setdefault((name, str(f.version)), []).append(f)
    return releases


RELEASES = _recorded_releases()
EDGE_FILES = {name: _files_from_dicts(files) for name, files in EDGE_PROJECTS.items()}


def _cases() -> list[Case]:
    cases: list[Case] = []
    for i, (project, version) in enumerate(sorted(RELEASES)):
        requirement = f"{project}=={version}"
        for k in range(4):
            target = TARGETS[(i * 3 + k) % len(TARGETS)]
            mode: Mode = "json" if (i + k) % 2 == 0 else "html"
            cases.append(Case(project, version, target, mode, True, requirement))
        target = TARGETS[(i * 5 + 1) % len(TARGETS)]
        cases.append(Case(project, version, target, "html" if i % 2 else "json", False, requirement))
    for j, (project, requirement, target, binary_only, pinned) in enumerate(EDGE_CASES):
        cases.append(Case(project, "1.0", target, "json" if j % 2 == 0 else "html", binary_only, requirement, pinned))
    return cases


CASES = _cases()


@dataclass(frozen=True)
class PipResult:
    returncode: int
    downloaded: tuple[str, ...]
    stderr: str


def _run_pip(case: Case, url: str, env: dict[str, str]) -> PipResult:
    t = case.target
    with tempfile.TemporaryDirectory() as dest:
        cmd = pip_download(dest, url, t)
        if case.binary_only:
            cmd.append("--only-binary=:all:")
        cmd.append(case.requirement)
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120, check=False)
        return PipResult(proc.returncode, tuple(sorted(os.listdir(dest))), proc.stderr)


@pytest.fixture(scope="module")
def pip_results() -> Iterator[dict[str, PipResult]]:
    servers = {mode: FixtureIndexServer(mode=mode) for mode in ("json", "html")}
    for server in servers.values():
        for name, files in EDGE_PROJECTS.items():
            server.add_project(name, files)
        server.start()
    try:
        env = pip_env()  # this machine's pip config adds indexes: the run must see only the fixture index
        with ThreadPoolExecutor(max_workers=4) as pool:
            futures = {c.id: pool.submit(_run_pip, c, servers[c.mode].url, env) for c in CASES}
            yield {cid: f.result() for cid, f in futures.items()}
    finally:
        for server in servers.values():
            server.stop()


def _python_admits(spec: str | None, target: Target) -> bool:
    if not spec:
        return True
    padded = Version(".".join((target.python.split(".") + ["0", "0"])[:3]))
    try:
        return SpecifierSet(spec).contains(padded, prereleases=True)
    except InvalidSpecifier:
        return True


def _files(case: Case) -> list[DistributionFile]:
    if case.project in EDGE_FILES:
        return EDGE_FILES[case.project]
    return RELEASES[(case.project, case.version)]


def test_enough_cases() -> None:
    assert len(CASES) >= 40
    assert {c.mode for c in CASES} == {"json", "html"}
    assert {c.target.python for c in CASES} >= {"3.9", "3.10", "3.11", "3.12", "3.13"}
    assert {(c.target.libc, c.target.libc_version) for c in CASES} >= {
        ("glibc", "2.17"),
        ("glibc", "2.28"),
        ("glibc", "2.36"),
        ("musl", "1.2"),
    }
    assert {c.target.platform for c in CASES} == {"linux/amd64", "linux/arm64"}


def test_fixture_releases_avoid_pips_cli_alias_reordering() -> None:
    """See the module docstring: no release pits a manylinux2010-only wheel against 2_13..2_16."""
    for (project, version), files in RELEASES.items():
        for f in files:
            plats = {t.platform for t in f.tags}
            if any(p.startswith("manylinux2010_") for p in plats) and not any(
                p.startswith("manylinux_2_12") for p in plats
            ):
                rivals = [
                    g
                    for g in files
                    if any(
                        p.startswith(("manylinux_2_13", "manylinux_2_14", "manylinux_2_15", "manylinux_2_16"))
                        for p in (t.platform for t in g.tags)
                    )
                ]
                assert not rivals, (project, version, f.filename, rivals)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_analyser_agrees_with_pip(case: Case, pip_results: dict[str, PipResult]) -> None:
    result = pip_results[case.id]
    files = _files(case)
    full: Verdict = decide(files, case.target, pinned=case.pinned)
    if result.returncode != 0:
        assert "No matching distribution" in result.stderr, result.stderr
        assert not result.downloaded
    else:
        assert len(result.downloaded) == 1, result.downloaded

    if case.binary_only:
        # pip saw only the wheels: compare with the analyser's choice among the wheels.
        wheels_only = decide([f for f in files if f.kind == "wheel"], case.target, pinned=case.pinned)
        if result.returncode == 0:
            assert (wheels_only.status, wheels_only.file) == ("wheel", result.downloaded[0]), wheels_only.reason
            if not wheels_only.yanked:
                assert (full.status, full.file) == ("wheel", result.downloaded[0])
        else:
            assert wheels_only.status == "none", wheels_only.reason
            assert full.status in ("sdist", "none")
            has_sdist = any(
                f.kind == "sdist"
                and _python_admits(f.requires_python, case.target)
                and (not f.is_yanked or case.pinned)
                for f in files
            )
            assert (full.status == "sdist") is has_sdist, full.reason
    elif result.returncode == 0:
        assert (full.status, full.file) == (
            "sdist" if result.downloaded[0].endswith((".tar.gz", ".zip")) else "wheel",
            result.downloaded[0],
        ), full.reason
    else:
        assert full.status == "none", full.reason
