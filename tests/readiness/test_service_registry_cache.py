"""Registry answers and failures shared through the database (issue 16, part 2).

Real PostgreSQL (advisory locks), the loopback registry and, for the last test, a real Celery
worker with two processes: a failing image is asked once per failure period by the whole
organisation, however many Dockerfiles name it and however many workers scan them.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from pathlib import Path

import pytest
from django.db import connection

from readiness.models import ImagePlatformsCache, Scan
from readiness.services.organisation import organisation_scan
from readiness.services.registry_cache import DatabaseRegistryClient
from tests.readiness.scan_support import in_two_sessions, repo_row, use_registry, wait_final
from tests.scanners.git_helpers import commit_files, make_repo
from tests.support.registry_server import FixtureRegistryServer

MISSING = ["python:3.99-missing-a", "python:3.99-missing-b", "python:3.99-missing-c"]


@pytest.fixture
def registry():
    with FixtureRegistryServer(auth="none") as server:
        yield server


def _client(server: FixtureRegistryServer, **options) -> DatabaseRegistryClient:
    options.setdefault("retries", 0)
    return DatabaseRegistryClient(endpoints={"docker.io": server.url}, insecure_registries=[server.host], **options)


def _manifest_gets(server: FixtureRegistryServer) -> Counter[str]:
    return Counter(p.rsplit("/", 1)[1] for p in server.paths("GET") if "/manifests/" in p)


def test_a_failure_is_stored_and_answers_the_next_client_until_its_period_runs_out(db, registry) -> None:
    with _client(registry) as client:
        first = client.platforms_many(["python:3.99-missing-a"])["python:3.99-missing-a"]
    assert first.error and "not found" in first.error
    row = ImagePlatformsCache.objects.get(repository="library/python", reference="3.99-missing-a")
    assert row.fetched_at is None and row.failed_at is not None and row.error == first.error

    registry.clear_requests()
    with _client(registry) as client:
        again = client.platforms_many(["python:3.99-missing-a"])["python:3.99-missing-a"]
    assert registry.paths() == [] and again.error == first.error

    ImagePlatformsCache.objects.filter(pk=row.pk).update(failed_at=row.failed_at - dt.timedelta(seconds=601))
    with _client(registry, failure_period=600) as client:
        client.platforms_many(["python:3.99-missing-a"])
    assert _manifest_gets(registry) == {"3.99-missing-a": 1}


def test_a_tripped_breaker_is_stored_and_every_new_client_skips_that_host(db, registry) -> None:
    registry.fail(503, times=100)
    with _client(registry, breaker_threshold=2, max_concurrency=1) as client:
        client.platforms_many(MISSING)
    assert sum(_manifest_gets(registry).values()) == 2
    host = ImagePlatformsCache.objects.get(registry="docker.io", repository="", reference="")
    assert host.error.startswith("not asked: docker.io failed 2 lookups in a row")

    registry.clear_requests()
    with _client(registry) as client:
        answer = client.platforms_many(["redis:6.2"])["redis:6.2"]
    assert registry.paths() == [] and answer.error == host.error


def test_two_workers_asking_for_the_same_images_send_one_request_each(transactional_db, registry) -> None:
    # transactional_db: each thread commits through its own connection, and the rows must go.
    if connection.vendor != "postgresql":
        pytest.skip("advisory locks are PostgreSQL's; SQLite serialises writers anyway")
    images = [*MISSING, "python:3.12-slim", "redis:6.2"]
    registry.delay(0.3)  # both clients are in flight at once

    def worker(together) -> dict[str, str | None]:
        with _client(registry) as client:
            together()
            return {ref: a.error and a.error.split(":")[0] for ref, a in client.platforms_many(images).items()}

    answers = in_two_sessions(worker)

    expected = {**dict.fromkeys(MISSING, "not found"), "python:3.12-slim": None, "redis:6.2": None}
    assert answers == [expected, expected]
    assert _manifest_gets(registry) == Counter(
        {"3.99-missing-a": 1, "3.99-missing-b": 1, "3.99-missing-c": 1, "3.12-slim": 1, "6.2": 1}
    )


def test_an_unknown_base_image_is_asked_again_once_its_failure_is_forgotten_and_not_before(
    db, tmp_path, scan_index, registry, settings, django_capture_on_commit_callbacks
) -> None:
    """The organisation scan's unchanged shortcut honours the failure period: nothing is stuck unknown."""
    use_registry(settings, registry)
    repo_row("svc", make_repo(tmp_path, {"Dockerfile": "FROM python:3.99-missing-a\n", "requirements.txt": ""}))

    def org_scan() -> Scan:
        with django_capture_on_commit_callbacks(execute=True):
            (scan,) = organisation_scan(trigger="schedule")
        scan.refresh_from_db()
        return scan

    first = org_scan()
    assert first.provenance["images"] == {
        "python:3.99-missing-a": {
            "key": ["docker.io", "library/python", "3.99-missing-a"],
            "digest": None,
            "failed": True,
        }
    }
    registry.clear_requests()
    assert org_scan().unchanged and registry.paths() == []  # within the failure period

    ImagePlatformsCache.objects.update(failed_at=dt.datetime(2020, 1, 1, tzinfo=dt.UTC))
    third = org_scan()
    assert (third.state, third.unchanged) == ("done", False)
    assert _manifest_gets(registry) == {"3.99-missing-a": 1}


@pytest.fixture
def worker_registry(settings, celery_worker, registry):
    """The loopback registry as Docker Hub for this process and a two-process worker alike."""
    use_registry(settings, registry, worker=celery_worker)  # the worker runs 2 processes
    return registry


@pytest.mark.slow
def test_a_failing_registry_is_asked_once_per_image_per_failure_period_across_two_workers(
    tmp_path: Path, scan_index, worker_registry
) -> None:
    registry = worker_registry
    registry.delay(0.2)  # lookups of the same image by both worker processes overlap
    paths = {
        f"svc-{i}": make_repo(tmp_path / f"svc-{i}", {"Dockerfile": f"FROM {MISSING[i % 3]}\n"}, name=f"svc-{i}")
        for i in range(6)
    }
    for name, path in paths.items():
        repo_row(name, path)

    first = wait_final(organisation_scan(trigger="schedule"))
    assert {s.state for s in first} == {"done"}
    assert _manifest_gets(registry) == Counter({m.split(":")[1]: 1 for m in MISSING})

    # Every repo changes (so every one is analysed again) within the failure period: nobody asks.
    for i, path in enumerate(paths.values()):
        commit_files(path, {"README.md": f"change {i}\n"})
    registry.clear_requests()
    second = wait_final(organisation_scan(trigger="push"))
    assert {s.state for s in second} == {"done"} and not any(s.unchanged for s in second)
    assert registry.paths() == []

    # The period over, each image is asked once more.
    ImagePlatformsCache.objects.update(failed_at=dt.datetime(2020, 1, 1, tzinfo=dt.UTC))
    for i, path in enumerate(paths.values()):
        commit_files(path, {"README.md": f"again {i}\n"})
    third = wait_final(organisation_scan(trigger="push"))
    assert {s.state for s in third} == {"done"}
    assert _manifest_gets(registry) == Counter({m.split(":")[1]: 1 for m in MISSING})
