"""One repository end to end through the engine: real git repos and the local fixture index."""

from __future__ import annotations

from pathlib import Path

import pytest

from scanners.check import TargetDefaults, check_snapshot, is_relevant_path, resolve_targets
from scanners.dockerfile import parse_dockerfile
from scanners.git import fetch_snapshot
from scanners.index import IndexClient
from tests.scanners.git_helpers import file_url, make_repo

LOCKFILES = Path(__file__).resolve().parents[1] / "fixtures" / "lockfiles"

REQUIREMENTS = """\
psutil==5.9.8
numpy==1.26.4 ; python_version < "3.13"
filprofiler==2022.5.0
psycopg2==2.9.9
six==1.16.0
PyYAML==6.0.1
git+https://github.com/acme/internal.git#egg=internal
"""
DEV_REQUIREMENTS = "-r requirements.txt\npsutil==6.0.0 ; sys_platform == 'darwin'\n"
SLIM = "ARG PY=3.11\nFROM python:${PY}-slim AS base\nFROM base\nRUN pip install -r requirements.txt\n"


def snapshot_of(tmp_path, files, **kwargs):
    repo = make_repo(tmp_path, files)
    return fetch_snapshot(file_url(repo), wanted=is_relevant_path, cache_dir=tmp_path / "cache", **kwargs)


@pytest.fixture
def index(fixture_index):
    fixture_index.clear_requests()
    with IndexClient(fixture_index.url) as client:
        yield client


def verdict(report, name, target_id):
    (result,) = [r for r in report.packages if r.package.name == name]
    return result.verdicts[target_id]


def test_requirements_and_dockerfile(tmp_path, index, fixture_index):
    snapshot = snapshot_of(tmp_path, {"requirements.txt": REQUIREMENTS, "Dockerfile": SLIM})
    report = check_snapshot(snapshot, index=index)

    assert [(t.id, t.python, t.libc, t.origin) for t in report.targets] == [
        ("linux/amd64", "3.11", "glibc", "Dockerfile:2"),
        ("linux/arm64", "3.11", "glibc", "Dockerfile:2"),
    ]
    assert verdict(report, "psutil", "linux/amd64").status == "wheel"
    assert verdict(report, "psutil", "linux/arm64").status == "sdist"
    assert verdict(report, "psutil", "linux/arm64").file == "psutil-5.9.8.tar.gz"
    assert verdict(report, "filprofiler", "linux/arm64").status == "none"
    assert verdict(report, "internal", "linux/arm64").status == "unknown"
    assert verdict(report, "six", "linux/arm64").pure
    fixes = {r.package.name: r.fix_version for r in report.packages}
    assert fixes["psutil"] == "6.0.0"
    assert fixes["filprofiler"] == "2024.11.2"
    assert fixes["six"] is None

    # The image has no compiler, so each sdist is a blocker, but only where it is an sdist.
    rules = [(f.rule, f.severity) for f in report.findings["Dockerfile"]]
    assert ("no-compiler-for-sdist", "blocker") in rules
    amd64, arm64 = report.summary["linux/amd64"], report.summary["linux/arm64"]
    assert arm64.counts == {"wheel": 3, "sdist": 2, "none": 1, "unknown": 1, "n/a": 0}
    assert amd64.counts["sdist"] == 1  # psycopg2 has no Linux wheel at all
    assert arm64.blockers == 1 + 2  # filprofiler none + two sdists without a compiler
    assert amd64.blockers == 1 + 1
    assert not arm64.ready and not amd64.ready
    # One request per distinct package (the VCS requirement asks nothing).
    assert len(fixture_index.page_requests()) == 6


def test_one_request_per_package_across_lockfiles(tmp_path, index, fixture_index):
    files = {
        "requirements.txt": REQUIREMENTS,
        "requirements-dev.txt": DEV_REQUIREMENTS,
        "services/api/requirements.txt": "psutil==5.9.8\nsix==1.16.0\n",
    }
    report = check_snapshot(snapshot_of(tmp_path, files), index=index)
    assert len(fixture_index.page_requests()) == 6
    # -r includes are not double counted: requirements.txt's lines appear once per lockfile row.
    keys = [(r.package.lockfile, r.package.line, r.package.name) for r in report.packages]
    assert len(keys) == len(set(keys))
    darwin_only = [
        r for r in report.packages if r.package.lockfile == "requirements-dev.txt" and r.package.name == "psutil"
    ]
    assert {v.status for v in darwin_only[0].verdicts.values()} == {"n/a"}


def test_lockfile_with_files_skips_the_index(tmp_path, index, fixture_index):
    (uv_lock,) = sorted((LOCKFILES / "uv").glob("*uv.lock"))[:1] or pytest.skip("no uv.lock fixture")
    report = check_snapshot(snapshot_of(tmp_path, {"uv.lock": uv_lock.read_text()}), index=index)
    assert report.packages, "the uv.lock fixture has packages"
    from_lockfile = [r for r in report.packages if r.package.files is not None]
    assert from_lockfile
    # Every package whose files came from the lockfile was decided without its index page,
    # unless it needed a fix version (which takes the index's full release list).
    asked = {r.path.rstrip("/").rsplit("/", 1)[-1] for r in fixture_index.page_requests()}
    for r in from_lockfile:
        if all(v.status in ("wheel", "n/a") for v in r.verdicts.values()):
            assert r.package.name not in asked


def test_bad_lockfile_does_not_hide_the_rest(tmp_path, index):
    files = {
        "requirements.txt": "six==1.16.0\n",
        "poetry.lock": "[[package]\nname = broken",
        "Pipfile.lock": b"\x00\x01\x02 binary",
    }
    report = check_snapshot(snapshot_of(tmp_path, files), index=index)
    assert [r.package.name for r in report.packages] == ["six"]
    errors = {f.path: f.error for f in report.files if f.error}
    assert "poetry.lock" in errors
    assert "Pipfile.lock" in errors
    assert report.partial


def test_index_outage_gives_unknown_not_a_crash(tmp_path):
    snapshot = snapshot_of(tmp_path, {"requirements.txt": "six==1.16.0\npsutil==5.9.8\n"})
    with IndexClient("http://127.0.0.1:9/simple/", retries=0) as dead:
        report = check_snapshot(snapshot, index=dead)
    assert {v.status for r in report.packages for v in r.verdicts.values()} == {"unknown"}
    assert set(report.index_errors) == {"six", "psutil"}
    assert report.partial


def test_targets_from_flags_default_and_alpine():
    alpine = parse_dockerfile("Dockerfile", "FROM python:3.12-alpine\n")
    defaults = TargetDefaults(python="3.10", libc="glibc:2.31", platforms=("linux/arm64",))
    (t,) = resolve_targets([alpine], platforms=(), defaults=defaults)
    assert (t.python, t.libc, t.origin) == ("3.12", "musl", "Dockerfile:1")
    (t,) = resolve_targets([], platforms=(), defaults=defaults)
    assert (t.python, t.libc, t.libc_version, t.origin) == ("3.10", "glibc", "2.31", "default")
    (t,) = resolve_targets([alpine], platforms=("linux/amd64",), defaults=defaults, python="3.9")
    assert (t.platform, t.python, t.libc, t.origin) == ("linux/amd64", "3.9", "musl", "flag")


def test_a_lockfile_naming_too_many_packages_is_checked_in_part_and_says_so(tmp_path, index, fixture_index):
    from scanners.check import CheckLimits

    names = [f"pkg-{i:05d}" for i in range(40)]
    files = {"requirements.txt": "six==1.16.0\n" + "".join(f"{n}==1.0\n" for n in names)}
    report = check_snapshot(snapshot_of(tmp_path, files), index=index, limits=CheckLimits(packages_per_lockfile=5))
    assert [r.package.name for r in report.packages] == ["six", *names[:4]]
    assert len(fixture_index.requests) <= 5  # one index request per package checked, never the rest
    problem = (
        "requirements.txt: 41 distinct packages, more than the limit of 5 per lockfile: only the first 5 are checked"
    )
    assert problem in report.problems
    assert {f.path: f.error for f in report.files}["requirements.txt"] == problem
    assert all(not s.complete and not s.ready for s in report.summary.values())


def test_a_repository_naming_too_many_packages_across_lockfiles_is_checked_in_part(tmp_path, index):
    from scanners.check import CheckLimits

    files = {f"svc{i}/requirements.txt": f"six==1.16.0\npkg-{i}==1.0\n" for i in range(4)}
    report = check_snapshot(snapshot_of(tmp_path, files), index=index, limits=CheckLimits(packages_per_repo=3))
    assert sorted({r.package.name for r in report.packages}) == ["pkg-0", "pkg-1", "six"]
    assert any(
        "5 distinct packages in the repository's lockfiles, more than the limit of 3" in p for p in report.problems
    )
    assert all(not s.complete for s in report.summary.values())
    unlimited = check_snapshot(snapshot_of(tmp_path / "again", files), index=index)
    assert sorted({r.package.name for r in unlimited.packages}) == ["pkg-0", "pkg-1", "pkg-2", "pkg-3", "six"]


def test_the_report_records_which_pages_it_read_and_what_for(tmp_path, index, fixture_index):
    """Provenance: requirements read every page for files; a lock with its own files reads pages only for advice."""
    poetry = (LOCKFILES / "poetry" / "web-poetry2.lock").read_text()
    files = {"requirements.txt": "psutil==5.9.8\nsix==1.16.0\n", "web/poetry.lock": poetry}
    report = check_snapshot(snapshot_of(tmp_path, files), index=index)
    asked = sorted({r.path.strip("/").rsplit("/", 1)[-1] for r in fixture_index.page_requests()})
    assert dict(report.provenance.pages) == {"psutil": "files", "psycopg2": "advice", "six": "files"}
    assert asked == sorted(report.provenance.pages)  # what it records is exactly what it asked
    assert report.provenance.missing_metadata == ()


def test_the_report_records_the_metadata_it_could_not_read(tmp_path, index):
    """A file whose metadata could not be read is recorded: the answer assumed it had none."""
    from scanners.distributions import DistributionFile

    asked: list[str] = []

    def read_metadata(file: DistributionFile) -> bytes | None:
        asked.append(file.filename)
        return None  # the index has no metadata for it (or could not be reached)

    # six 1.16.0's wheel predates the index validating metadata: the check reads it.
    report = check_snapshot(
        snapshot_of(tmp_path, {"requirements.txt": "six==1.16.0\n"}), index=index, read_metadata=read_metadata
    )
    assert asked, "the chosen old wheels' metadata was asked for"
    assert sorted(f.filename for f in report.provenance.missing_metadata) == sorted(set(asked))
