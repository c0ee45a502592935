"""Hashed locks, as pip installs them: only files whose sha256 the lock lists are candidates.

The locks in ``tests/fixtures/lockfiles/hashed/`` were made by the real tools (pip-compile
``--generate-hashes``, pipenv, PDM: see ``make.py``) against the fixture index as it was on the
morning of 2021-01-29 (:data:`~tests.support.lock_projects.LOCKED_AT`). The index served here
also has what MarkupSafe 1.1.1 gained that evening, as on the public index: a
``manylinux2014_aarch64`` and a ``manylinux2010_x86_64`` wheel. So on linux/arm64 pip builds the
sdist (the new wheel's hash is not in the lock), and on linux/amd64 it takes the hashed
``manylinux1`` wheel over the better-tagged new one. Real ``pip download --require-hashes``
is the reference, and the advice is ``relock`` with the tool's own command.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import tempfile
import tomllib
from pathlib import Path

import pytest

from scanners.analyser import decide
from scanners.check import TargetDefaults, check_snapshot, is_relevant_path
from scanners.git import fetch_snapshot
from scanners.index import IndexClient
from scanners.targets import Target
from tests.scanners.git_helpers import make_repo
from tests.support.index_server import FixtureIndexServer
from tests.support.lock_projects import LATER_WHEELS, LOCKED_AT
from tests.support.real_pip import pip_download, pip_env

pytestmark = pytest.mark.slow

HASHED = Path(__file__).resolve().parents[1] / "fixtures" / "lockfiles" / "hashed"
AMD64 = Target("linux/amd64", "3.8", "glibc", "2.28")
ARM64 = Target("linux/arm64", "3.8", "glibc", "2.28")
AARCH64_WHEEL = "MarkupSafe-1.1.1-cp38-cp38-manylinux2014_aarch64.whl"
LOCK_COMMIT = dt.datetime(2021, 1, 29, 13, 0, tzinfo=dt.UTC)

# (file in the fixtures, name in the repository, the re-lock command the advice must give)
LOCKS = [
    (
        "pip-compile-requirements.txt",
        "requirements.txt",
        "pip-compile --generate-hashes --no-emit-index-url --output-file=requirements.txt requirements.in --no-reuse-hashes",
    ),
    ("Pipfile.lock", "Pipfile.lock", "pipenv lock"),
    ("pdm.lock", "pdm.lock", "pdm lock --refresh"),
]


@pytest.fixture(scope="module")
def index():
    with FixtureIndexServer(mode="both") as server:
        yield server


def test_the_fixture_index_knows_what_came_after_the_locks():
    """The upload times are the public index's: the two wheels appeared after the locks were made."""
    with FixtureIndexServer(mode="json", as_of=LOCKED_AT) as then, FixtureIndexServer(mode="json") as now:
        names_then = {f["filename"] for f in then.project_page("markupsafe")["files"]}
        names_now = {f["filename"] for f in now.project_page("markupsafe")["files"]}
    assert set(LATER_WHEELS) <= names_now - names_then
    requirements = (HASHED / "pip-compile-requirements.txt").read_text()
    later_hashes = {
        f["hashes"]["sha256"]
        for f in FixtureIndexServer(mode="json").project_page("markupsafe")["files"]
        if f["filename"] in LATER_WHEELS
    }
    assert not any(h in requirements for h in later_hashes)


def _hashed_requirements(lock: str) -> str:
    """The lock as the hashed requirements file its tool hands to pip (``pipenv requirements --hash``)."""
    text = (HASHED / lock).read_text()
    if lock.endswith(".txt"):
        return text
    if lock == "Pipfile.lock":
        entries = json.loads(text)["default"]
        pins = [
            (name, entry["version"].lstrip("="), [h.split(":", 1)[1] for h in entry["hashes"]])
            for name, entry in entries.items()
        ]
    else:
        pins = [
            (p["name"], p["version"], [f["hash"].split(":", 1)[1] for f in p["files"]])
            for p in tomllib.loads(text)["package"]
        ]
    return "".join(f"{n}=={v} " + " ".join(f"--hash=sha256:{h}" for h in hashes) + "\n" for n, v, hashes in pins)


def _pip_download(
    index: FixtureIndexServer, requirements: str, target: Target, *, binary_only: bool
) -> tuple[int, list[str], str]:
    env = pip_env()
    with tempfile.TemporaryDirectory() as tmp:
        req = Path(tmp) / "requirements.txt"
        req.write_text(requirements)
        dest = Path(tmp) / "dl"
        cmd = [*pip_download(dest, index.url, target), "--require-hashes", "-r", str(req)]
        if binary_only:
            cmd.append("--only-binary=:all:")
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300, check=False)
        return proc.returncode, sorted(os.listdir(dest)) if dest.exists() else [], proc.stderr


def _check(index: FixtureIndexServer, tmp_path: Path, lock: str, name: str):
    repo = make_repo(tmp_path, {name: (HASHED / lock).read_text()}, date=LOCK_COMMIT, name="svc")
    snapshot = fetch_snapshot(str(repo), wanted=is_relevant_path, cache_dir=tmp_path / "git")
    with IndexClient(index.url) as client:
        return check_snapshot(snapshot, index=client, defaults=TargetDefaults(python="3.8", libc="glibc:2.28"))


@pytest.mark.parametrize(("lock", "name", "command"), LOCKS, ids=[lock for lock, _, _ in LOCKS])
def test_verdicts_are_the_files_pip_downloads(index, tmp_path, lock, name, command):
    report = _check(index, tmp_path, lock, name)
    results = {r.package.name: r for r in report.packages}
    markupsafe = results["markupsafe"]
    assert markupsafe.verdicts["linux/arm64"].status == "sdist"
    assert markupsafe.verdicts["linux/arm64"].file == "MarkupSafe-1.1.1.tar.gz"
    assert AARCH64_WHEEL in markupsafe.verdicts["linux/arm64"].reason
    assert markupsafe.verdicts["linux/amd64"].file == "MarkupSafe-1.1.1-cp38-cp38-manylinux1_x86_64.whl"
    assert results["six"].verdicts["linux/arm64"].file == "six-1.15.0-py2.py3-none-any.whl"

    requirements = _hashed_requirements(lock)
    for target in (AMD64, ARM64):
        code, files, stderr = _pip_download(index, requirements, target, binary_only=False)
        assert code == 0, stderr
        assert files == sorted(r.verdicts[target.id].file for r in report.packages), target.id

    # Without sdists, pip on arm64 keeps the only wheel it could use, downloads it and refuses
    # it: the analyser says the same of the wheels alone.
    code, _files, stderr = _pip_download(index, requirements, ARM64, binary_only=True)
    assert code != 0 and "THESE PACKAGES DO NOT MATCH THE HASHES" in stderr
    if markupsafe.package.hashes is not None:  # the lock lists hashes, not files (pip-compile, pipenv)
        release = IndexClient(index.url).fetch_many(["markupsafe"])["markupsafe"].files.release("1.1.1")
        wheels = [f for f in release if f.kind == "wheel"]
        verdict = decide(wheels, ARM64, allowed_hashes=markupsafe.package.hashes)
        assert verdict.status == "none" and "DO NOT MATCH THE HASHES" in verdict.reason


@pytest.mark.parametrize(("lock", "name", "command"), LOCKS, ids=[lock for lock, _, _ in LOCKS])
def test_the_advice_is_to_relock(index, tmp_path, lock, name, command):
    report = _check(index, tmp_path, lock, name)
    markupsafe = next(r for r in report.packages if r.package.name == "markupsafe")
    relock = markupsafe.advice[0]  # the cheapest fix: no version changes
    assert relock.kind == "relock"
    assert relock.targets == ("linux/arm64",)
    assert relock.file == AARCH64_WHEEL
    assert relock.uploaded_at == dt.datetime(2021, 1, 29, 23, 50, 58, 589791, tzinfo=dt.UTC)
    assert relock.locked_at == LOCK_COMMIT
    assert relock.command == command
    assert "after " + name + " last changed on 2021-01-29" in relock.detail
    assert [a.kind for a in markupsafe.advice][1:] == ["upgrade", "build-deps"]


def test_without_hashes_the_new_wheel_is_installed(index, tmp_path):
    """The same pins without --hash: pip (and the analyser) take the aarch64 wheel, no advice needed."""
    report = _check(index, tmp_path, "pip-compile-requirements.txt", "requirements.txt")
    plain = make_repo(tmp_path, {"requirements.txt": "markupsafe==1.1.1\nsix==1.15.0\n"}, name="plain")
    snapshot = fetch_snapshot(str(plain), wanted=is_relevant_path, cache_dir=tmp_path / "git")
    with IndexClient(index.url) as client:
        unhashed = check_snapshot(snapshot, index=client, defaults=TargetDefaults(python="3.8", libc="glibc:2.28"))
    markupsafe = next(r for r in unhashed.packages if r.package.name == "markupsafe")
    assert markupsafe.verdicts["linux/arm64"].file == AARCH64_WHEEL
    assert markupsafe.verdicts["linux/amd64"].file == "MarkupSafe-1.1.1-cp38-cp38-manylinux2010_x86_64.whl"
    assert markupsafe.advice == ()
    assert report.summary["linux/arm64"].ready is False and unhashed.summary["linux/arm64"].ready is True
