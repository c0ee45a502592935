"""Failed registry lookups are remembered for the failure period, and a failing host trips a breaker.

Against the loopback registry (tests/support/registry_server.py): what a registry could not
answer is answered from the cache with the same error until the failure period runs out, a good
answer from before an outage outlives it, and a host failing lookup after lookup is not asked
again, by this client or (through the cache) by the next one.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest

from scanners.registry import CachedPlatforms, MemoryRegistryCache, RegistryClient
from tests.scanners.test_registry import PYTHON_PLATFORMS, SHA_A, hub_client, manifest_requests
from tests.support.registry_server import FixtureRegistryServer


@pytest.fixture
def registry() -> Iterator[FixtureRegistryServer]:
    with FixtureRegistryServer(auth="none") as server:
        yield server


def _client(server: FixtureRegistryServer, cache: MemoryRegistryCache, **options: object) -> RegistryClient:
    options.setdefault("retries", 0)
    options.setdefault("max_concurrency", 1)  # lookups in order: the breaker's count is deterministic
    return hub_client(server, cache=cache, **options)


def test_a_missing_image_is_asked_once_per_failure_period(registry: FixtureRegistryServer) -> None:
    cache = MemoryRegistryCache()
    with _client(registry, cache) as client:
        first = client.platforms("python:3.99-nonexistent")
    assert first.error is not None and "not found" in first.error and not first.from_cache
    assert manifest_requests(registry) == ["/v2/library/python/manifests/3.99-nonexistent"]
    entry = cache.get("docker.io", "library/python", "3.99-nonexistent")
    assert entry is not None and entry.fetched_at is None and entry.failed_at is not None

    registry.clear_requests()
    with _client(registry, cache) as client:  # the next scan: same answer, no request
        again = client.platforms("python:3.99-nonexistent")
    assert registry.paths() == []
    assert again.error == first.error and again.from_cache

    # The period over, the registry is asked again (and may have the tag by now).
    cache.put(
        "docker.io",
        "library/python",
        "3.99-nonexistent",
        CachedPlatforms.failure(entry.error or "", entry.failed_at - dt.timedelta(seconds=601)),
    )
    with _client(registry, cache, failure_period=600) as client:
        client.platforms("python:3.99-nonexistent")
    assert manifest_requests(registry) == ["/v2/library/python/manifests/3.99-nonexistent"]


def test_an_outage_after_a_good_answer_keeps_the_answer_and_is_not_asked_again(
    registry: FixtureRegistryServer,
) -> None:
    cache = MemoryRegistryCache()
    long_ago = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
    cache.put("docker.io", "library/python", "3.12-slim", CachedPlatforms(PYTHON_PLATFORMS, SHA_A, None, long_ago))
    registry.fail(503, times=100)
    with _client(registry, cache, cache_period=60) as client:
        during = client.platforms("python:3.12-slim")
    assert during.platforms == PYTHON_PLATFORMS and during.error is None and during.from_cache
    assert len(manifest_requests(registry)) == 1
    entry = cache.get("docker.io", "library/python", "3.12-slim")
    assert entry is not None and entry.fetched_at == long_ago and entry.error and "HTTP 503" in entry.error

    registry.clear_requests()
    with _client(registry, cache, cache_period=60) as client:
        later = client.platforms("python:3.12-slim")
    assert registry.paths() == []
    assert later.platforms == PYTHON_PLATFORMS and later.error is None


def test_a_host_failing_lookup_after_lookup_trips_the_breaker_for_every_client(
    registry: FixtureRegistryServer,
) -> None:
    cache = MemoryRegistryCache()
    registry.fail(503, times=100)
    images = [f"python:3.{minor}-slim" for minor in range(8, 14)]
    with _client(registry, cache, breaker_threshold=3) as client:
        answers = client.platforms_many(images)
    assert len(manifest_requests(registry)) == 3  # then the breaker trips
    asked, skipped = images[:3], images[3:]
    assert all("HTTP 503" in (answers[i].error or "") for i in asked)
    for image in skipped:
        assert answers[image].error is not None
        assert answers[image].error.startswith(
            "not asked: docker.io failed 3 lookups in a row, last: registry-1.docker.io answered HTTP 503"
        )
    host = cache.get("docker.io", "", "")
    assert host is not None and host.failed_at is not None

    # The next scan's client (another worker, sharing the cache) does not ask that host either,
    # not even for an image nobody asked about yet.
    registry.clear_requests()
    with _client(registry, cache, breaker_threshold=3) as client:
        assert client.platforms("redis:6.2").error.startswith("not asked: docker.io failed 3 lookups")
    assert registry.paths() == []


def test_answers_between_failures_keep_the_breaker_closed(registry: FixtureRegistryServer) -> None:
    cache = MemoryRegistryCache()
    registry.fail(503, times=2, path_contains="/v2/library/python/manifests/3.1")
    with _client(registry, cache, breaker_threshold=2) as client:
        answers = client.platforms_many(["python:3.10-slim", "redis:6.2", "python:3.11-slim", "python:3.12-slim"])
    # 503, answered, 503, answered: never two failures in a row, so every image was asked.
    assert len(manifest_requests(registry)) == 4
    assert answers["redis:6.2"].error is None and answers["python:3.12-slim"].platforms == PYTHON_PLATFORMS
    assert cache.get("docker.io", "", "") is None
