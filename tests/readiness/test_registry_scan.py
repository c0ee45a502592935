"""Base images that do not exist for arm64, found during scans and archcheck (issue 8, part 1).

A real local registry (tests/support/registry_server.py) stands in for Docker Hub: the
settings point ``docker.io`` at it, as an operator would point it at a pull-through mirror.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from readiness.models import ImagePlatformsCache, ScanFinding
from readiness.services.organisation import organisation_scan
from tests.readiness.scan_support import repo_row, use_registry
from tests.scanners.git_helpers import make_repo
from tests.support.registry_server import FixtureRegistryServer

ROOT = Path(__file__).resolve().parents[2]
LEGACY = "FROM acme/legacy-app:1.4\nRUN pip install six==1.16.0\n"
MULTI_STAGE = "FROM python:3.12-slim AS build\nRUN pip wheel six\nFROM acme/legacy-app:1.4\nCOPY --from=build / /\n"
SLIM = "FROM python:3.12-slim\n"


@pytest.fixture
def registry(settings):
    with FixtureRegistryServer(auth="token") as server:
        use_registry(settings, server)
        yield server


def scan(repos, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        return organisation_scan(trigger="manual", repos=repos)


def test_scan_flags_an_amd64_only_base_image_once_per_image(
    db, tmp_path, scan_index, registry, django_capture_on_commit_callbacks
):
    legacy = repo_row("legacy", make_repo(tmp_path / "a", {"Dockerfile": LEGACY, "requirements.txt": "six==1.16.0\n"}))
    multi = repo_row("multi", make_repo(tmp_path / "b", {"Dockerfile": MULTI_STAGE}))
    slim = repo_row("slim", make_repo(tmp_path / "c", {"Dockerfile": SLIM}))
    first = scan([legacy], django_capture_on_commit_callbacks)
    (finding,) = ScanFinding.objects.filter(scan_id=first[0].pk, rule="base-image-no-arm64")
    assert (finding.path, finding.line, finding.severity) == ("Dockerfile", 1, "blocker")
    first[0].refresh_from_db()
    assert first[0].summary["linux/arm64"]["blockers"] == 1
    assert first[0].summary["linux/amd64"]["blockers"] == 0  # an amd64-only image is fine on amd64
    assert ImagePlatformsCache.objects.filter(repository="acme/legacy-app", reference="1.4").exists()

    registry.clear_requests()
    (multi_scan,) = scan([multi], django_capture_on_commit_callbacks)
    # The final stage's base (line 3) lacks arm64; the build stage's python:3.12-slim has it.
    assert [f.line for f in ScanFinding.objects.filter(scan_id=multi_scan.pk, rule="base-image-no-arm64")] == [3]
    manifests = [p for p in registry.paths() if "/manifests/" in p]
    assert manifests and all("legacy-app" not in p for p in manifests)  # legacy-app came from the database cache

    registry.clear_requests()
    (slim_scan,) = scan([slim], django_capture_on_commit_callbacks)
    assert not ScanFinding.objects.filter(scan_id=slim_scan.pk, rule__startswith="base-image").exists()
    assert registry.paths() == []  # one lookup per distinct image across the organisation


def test_registry_down_is_info_not_a_failed_scan(
    db, tmp_path, scan_index, registry, settings, django_capture_on_commit_callbacks
):
    settings.READINESS_REGISTRY_ENDPOINTS = {"docker.io": "http://127.0.0.1:9"}
    settings.READINESS_REGISTRY_INSECURE = ["127.0.0.1:9"]
    repo = repo_row("offline", make_repo(tmp_path, {"Dockerfile": LEGACY}))
    (done,) = scan([repo], django_capture_on_commit_callbacks)
    done.refresh_from_db()
    assert done.state == "done"
    (finding,) = ScanFinding.objects.filter(scan_id=done.pk, rule="base-image-unknown")
    assert finding.severity == "info"


def test_archcheck_reports_the_base_image(tmp_path, registry, fixture_index):
    repo = make_repo(tmp_path, {"Dockerfile": LEGACY, "requirements.txt": "six==1.16.0\n"})
    env = {
        **os.environ,
        "READINESS_INDEX_URL": fixture_index.url,
        "READINESS_VAR_DIR": str(tmp_path / "var"),
        "READINESS_REGISTRY_ENDPOINTS": f"docker.io={registry.url}",
        "READINESS_REGISTRY_INSECURE": registry.host,
    }
    env.pop("DATABASE_URL", None)
    run = lambda *extra: subprocess.run(  # noqa: E731
        [sys.executable, "manage.py", "archcheck", str(repo), "--format", "json", "--fail-on", "none", *extra],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    result = run()
    assert result.returncode == 1, result.stderr  # the base image is a blocker on arm64
    (dockerfile,) = json.loads(result.stdout)["dockerfiles"]
    assert [f["rule"] for f in dockerfile["findings"] if f["rule"].startswith("base-image")] == ["base-image-no-arm64"]
    offline = run("--no-registry")
    assert offline.returncode == 0
    assert not [
        f
        for d in json.loads(offline.stdout)["dockerfiles"]
        for f in d["findings"]
        if f["rule"].startswith("base-image")
    ]


def test_backfill_asks_a_failing_registry_once_not_at_every_point(db, tmp_path, scan_index, registry, settings):
    import datetime as dt

    from readiness.services.backfill import repo_backfill
    from tests.scanners.git_helpers import commit_files

    path = make_repo(tmp_path, {"Dockerfile": LEGACY}, date=dt.datetime(2026, 1, 5, tzinfo=dt.UTC))
    for week in (2, 3):
        commit_files(
            path,
            {"requirements.txt": f"six==1.16.0  # week {week}\n"},
            date=dt.datetime(2026, 1, 5, tzinfo=dt.UTC) + dt.timedelta(weeks=week - 1),
        )
    repo = repo_row("history", path)
    registry.fail(503, times=1000)  # the registry is down for the whole backfill
    registry.clear_requests()
    scans = repo_backfill(
        repo=repo,
        since=dt.datetime(2026, 1, 5, tzinfo=dt.UTC),
        every=dt.timedelta(weeks=1),
        until=dt.datetime(2026, 1, 20, tzinfo=dt.UTC),
    )
    assert len(scans) == 3
    for s in scans:
        assert ScanFinding.objects.filter(scan_id=s.results_from_id or s.pk, rule="base-image-unknown").exists()
    attempts = 1 + 2  # the client's own retries, for the first point only
    assert len([p for p in registry.paths() if "legacy-app/manifests" in p]) == attempts
