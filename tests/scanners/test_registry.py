"""scanners.registry against a real distribution-API registry on 127.0.0.1 (tests/support/registry_server.py)."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterator

import httpx
import pytest

from scanners.findings import Finding
from scanners.registry import (
    ACCEPT_MANIFESTS,
    CachedPlatforms,
    ImagePlatforms,
    MemoryRegistryCache,
    RegistryCache,
    RegistryClient,
    base_image_findings,
    normalise_platform,
    parse_reference,
    platforms_from_manifest,
    unchecked,
)
from tests.support.registry_server import AuthMode, FixtureRegistryServer, fixture_digest

PYTHON_INDEX = "manifests/python-3.12-slim.index.json"
PYTHON_ARM64 = "manifests/python-3.12-slim.linux-arm64.manifest.json"
PYTHON_PLATFORMS = (
    "linux/amd64",
    "linux/arm/v5",
    "linux/arm/v7",
    "linux/arm64",
    "linux/386",
    "linux/ppc64le",
    "linux/s390x",
)
REDIS_PLATFORMS = (
    "linux/amd64",
    "linux/arm/v5",
    "linux/arm/v7",
    "linux/arm64",
    "linux/386",
    "linux/mips64le",
    "linux/ppc64le",
    "linux/s390x",
)
SHA_A = "sha256:" + "a" * 64


@pytest.fixture
def make_registry() -> Iterator[Callable[..., FixtureRegistryServer]]:
    servers: list[FixtureRegistryServer] = []

    def make(auth: AuthMode = "token") -> FixtureRegistryServer:
        server = FixtureRegistryServer(auth=auth).start()
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.stop()


@pytest.fixture
def registry(make_registry: Callable[..., FixtureRegistryServer]) -> FixtureRegistryServer:
    return make_registry("token")


class SleepRecorder:
    def __init__(self) -> None:
        self.delays: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


def hub_client(server: FixtureRegistryServer, **options: object) -> RegistryClient:
    """A client that sends docker.io (and the server's own host) to the local registry."""
    options.setdefault("sleep", SleepRecorder())
    return RegistryClient(endpoints={"docker.io": server.url}, insecure_registries=[server.host], **options)  # type: ignore[arg-type]


def manifest_requests(server: FixtureRegistryServer) -> list[str]:
    return [path for path in server.paths() if "/manifests/" in path]


# --------------------------------------------------------------------------- parse_reference


@pytest.mark.parametrize(
    ("reference", "registry", "repository", "tag", "digest"),
    [
        ("python", "docker.io", "library/python", "latest", None),
        ("python:3.12-slim", "docker.io", "library/python", "3.12-slim", None),
        ("docker.io/python:3.12", "docker.io", "library/python", "3.12", None),
        ("docker.io/library/python:3.12", "docker.io", "library/python", "3.12", None),
        ("index.docker.io/python:3.12", "docker.io", "library/python", "3.12", None),
        ("library/python", "docker.io", "library/python", "latest", None),
        ("nvidia/cuda:12.4.1-runtime-ubuntu22.04", "docker.io", "nvidia/cuda", "12.4.1-runtime-ubuntu22.04", None),
        ("ghcr.io/astral-sh/uv:0.4.18", "ghcr.io", "astral-sh/uv", "0.4.18", None),
        ("quay.io/pypa/manylinux2014_aarch64", "quay.io", "pypa/manylinux2014_aarch64", "latest", None),
        ("registry.test:5000/team/app:1.0", "registry.test:5000", "team/app", "1.0", None),
        ("registry.test:5000/app", "registry.test:5000", "app", "latest", None),
        ("localhost/app:dev", "localhost", "app", "dev", None),
        ("localhost:5000/app", "localhost:5000", "app", "latest", None),
        ("127.0.0.1:5000/a/b/c:x", "127.0.0.1:5000", "a/b/c", "x", None),
        ("Registry/app", "Registry", "app", "latest", None),  # upper case: docker takes it as a host
        ("team/app", "docker.io", "team/app", "latest", None),
        ("python@" + SHA_A, "docker.io", "library/python", None, SHA_A),
        ("python:3.12-slim@" + SHA_A, "docker.io", "library/python", "3.12-slim", SHA_A),
        ("ghcr.io/o/i:1@" + SHA_A, "ghcr.io", "o/i", "1", SHA_A),
        ("my_org/my-app__x.y", "docker.io", "my_org/my-app__x.y", "latest", None),
        ("  python:3.11  ", "docker.io", "library/python", "3.11", None),
        ("[::1]:5000/app:1", "[::1]:5000", "app", "1", None),
    ],
)
def test_parse_reference(reference: str, registry: str, repository: str, tag: str | None, digest: str | None) -> None:
    parsed = parse_reference(reference)
    assert (parsed.registry, parsed.repository, parsed.tag, parsed.digest) == (registry, repository, tag, digest)
    assert parsed.reference == reference


@pytest.mark.parametrize(
    ("reference", "message"),
    [
        ("", "empty"),
        ("Python:3.12", "must be lowercase"),
        ("docker.io/Library/python", "must be lowercase"),
        ("python:bad tag", "bad tag"),
        ("python:" + "x" * 129, "bad tag"),
        ("python@sha256:abc", "bad digest"),
        ("python@sha256:" + "A" * 64, "sha256 needs 64 lower-case hex"),
        ("python@md5", "bad digest"),
        ("${BASE_IMAGE}", "invalid reference format"),
        ("python:$PY_VERSION-slim", "bad tag"),
        ("a" * 64, "64-byte hexadecimal"),
        ("app//x", "invalid reference format"),
        ("-app", "invalid reference format"),
        ("bad_host:5000x/app", "bad registry host"),
        ("docker.io/" + "a" * 250, "more than 255"),
    ],
)
def test_parse_reference_rejects(reference: str, message: str) -> None:
    with pytest.raises(ValueError) as info:
        parse_reference(reference)
    assert message in str(info.value)


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("linux/arm64/v8", "linux/arm64"),
        ("linux/aarch64", "linux/arm64"),
        ("linux/x86_64", "linux/amd64"),
        ("linux/armhf", "linux/arm/v7"),
        ("linux/arm/v7", "linux/arm/v7"),
        ("linux/amd64/v3", "linux/amd64/v3"),
        ("Linux/AMD64", "linux/amd64"),
        ("windows/amd64", "windows/amd64"),
    ],
)
def test_normalise_platform(given: str, expected: str) -> None:
    assert normalise_platform(given) == expected


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({"mediaType": "application/vnd.oci.image.index.v1+json"}, "no manifests list"),
        ({"mediaType": "application/vnd.oci.image.index.v1+json", "manifests": ["x"]}, "manifests[0]"),
        (
            {
                "schemaVersion": 2,
                "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "config": {"mediaType": "application/vnd.cncf.helm.config.v1+json", "digest": SHA_A},
            },
            "not a container image",
        ),
        ({"schemaVersion": 2, "mediaType": "application/vnd.docker.distribution.manifest.v2+json"}, "config.digest"),
        ({"schemaVersion": 2, "mediaType": "text/plain"}, "unexpected manifest media type"),
    ],
)
def test_platforms_from_manifest_rejects(document: dict, message: str) -> None:
    with pytest.raises(ValueError) as info:
        platforms_from_manifest(document, "")
    assert message in str(info.value)


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        ({"schemaVersion": 1, "name": "library/old", "tag": "1", "architecture": "amd64"}, ("linux/amd64",)),
        (
            {
                "schemaVersion": 2,
                "manifests": [  # OCI index without mediaType; artifact entry without platform
                    {"digest": SHA_A, "platform": {"os": "linux", "architecture": "arm64", "variant": "v8"}},
                    {"digest": SHA_A, "artifactType": "application/vnd.dev.sigstore.bundle.v0.3+json"},
                    {
                        "digest": SHA_A,
                        "platform": {"os": "windows", "architecture": "amd64", "os.version": "10.0.20348.2700"},
                    },
                ],
            },
            ("linux/arm64", "windows/amd64"),
        ),
    ],
)
def test_platforms_from_manifest_shapes(document: dict, expected: tuple[str, ...]) -> None:
    assert platforms_from_manifest(document, "") == (expected, None)


# --------------------------------------------------------------------------- the registry


def test_docker_hub_anonymous_token_flow_reads_the_image_index(registry: FixtureRegistryServer) -> None:
    with hub_client(registry) as client:
        answer = client.platforms("python:3.12-slim")
    assert answer.error is None
    assert answer.platforms == PYTHON_PLATFORMS  # attestation "unknown/unknown" entries skipped
    assert (answer.registry, answer.repository, answer.tag) == ("docker.io", "library/python", "3.12-slim")
    assert answer.resolved_digest == fixture_digest(PYTHON_INDEX)
    assert answer.is_index and answer.provides("linux/arm64") and not answer.provides("linux/riscv64")
    # 401 challenge -> anonymous token for the library/ scope -> 200
    assert registry.paths() == [
        "/v2/library/python/manifests/3.12-slim",
        "/token?service=registry.test&scope=repository%3Alibrary%2Fpython%3Apull",
        "/v2/library/python/manifests/3.12-slim",
    ]
    first, token, second = registry.requests
    assert "authorization" not in first.headers and "authorization" not in token.headers
    assert second.headers["authorization"].startswith("Bearer ")
    assert second.headers["accept"] == ACCEPT_MANIFESTS


def test_docker_manifest_list(registry: FixtureRegistryServer) -> None:
    with hub_client(registry) as client:
        answer = client.platforms("docker.io/redis:6.2")
    assert answer.platforms == REDIS_PLATFORMS
    assert answer.media_type == "application/vnd.docker.distribution.manifest.list.v2+json"
    assert answer.resolved_digest == fixture_digest("manifests/redis-6.2.list.json")


def test_single_manifest_reads_its_config_blob_through_the_cdn_redirect(registry: FixtureRegistryServer) -> None:
    with hub_client(registry) as client:
        answer = client.platforms("acme/legacy-app:1.4")
    assert answer.error is None
    assert answer.platforms == ("linux/amd64",)
    assert not answer.is_index and answer.provides("linux/arm64") is False
    config = fixture_digest("blobs/acme-legacy-app-1.4.config.json")
    assert registry.paths()[-2:] == [
        f"/v2/acme/legacy-app/blobs/{config}",
        f"/cdn/acme/legacy-app/{config}?expires=1728381165&signature=fixture",
    ]
    # the blob request reused the repository's token: one token request in the whole chain
    assert sum(path.startswith("/token") for path in registry.paths()) == 1


@pytest.mark.parametrize("spelling", ["python@{d}", "python:3.12-slim@{d}", "docker.io/library/python@{d}"])
def test_digest_pinned_image_resolves_through_the_digest(registry: FixtureRegistryServer, spelling: str) -> None:
    digest = fixture_digest(PYTHON_INDEX)
    with hub_client(registry) as client:
        answer = client.platforms(spelling.format(d=digest))
    assert answer.platforms == PYTHON_PLATFORMS
    assert answer.digest == answer.resolved_digest == digest
    assert manifest_requests(registry)[-1] == f"/v2/library/python/manifests/{digest}"


def test_digest_of_one_platform_manifest(registry: FixtureRegistryServer) -> None:
    digest = fixture_digest(PYTHON_ARM64)
    with hub_client(registry) as client:
        answer = client.platforms(f"python@{digest}")
    assert answer.platforms == ("linux/arm64",)  # config says arm64/v8
    assert answer.media_type == "application/vnd.oci.image.manifest.v1+json"
    assert base_image_findings(answer, path="Dockerfile", line=1) == []


def test_private_registry_with_credentials(registry: FixtureRegistryServer, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    with hub_client(registry, credentials={registry.host: (registry.username, registry.password)}) as client:
        answer = client.platforms(f"{registry.host}/acme/payments:2.0")
    assert answer.error is None
    assert answer.platforms == ("linux/amd64", "linux/arm64")
    token_request = next(r for r in registry.requests if r.path.startswith("/token"))
    assert token_request.headers["authorization"].startswith("Basic ")
    assert registry.password not in repr(answer) + caplog.text + repr(client)


def test_private_repository_without_credentials_is_refused(registry: FixtureRegistryServer) -> None:
    with hub_client(registry) as client:
        answer = client.platforms(f"{registry.host}/acme/payments:2.0")
    assert answer.platforms is None
    assert answer.error is not None and answer.error.startswith("auth refused")
    assert "no credentials are configured" in answer.error


def test_bad_credentials_are_refused_and_never_shown(
    registry: FixtureRegistryServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    wrong = "wrong-Pa55-7731"
    with hub_client(registry, credentials={registry.host: ("ci-bot", wrong)}) as client:
        answer = client.platforms(f"{registry.host}/acme/payments:2.0")
        findings = base_image_findings(answer, path="Dockerfile", line=3)
    assert answer.platforms is None
    assert answer.error is not None and "auth refused" in answer.error and "configured credentials" in answer.error
    assert [(f.rule, f.severity) for f in findings] == [("base-image-unknown", "info")]
    everything = repr(answer) + repr(findings) + caplog.text + repr(client)
    assert wrong not in everything and "ci-bot" not in everything


def test_basic_auth_challenge(make_registry: Callable[..., FixtureRegistryServer]) -> None:
    server = make_registry("basic")
    with hub_client(server, credentials={server.host: (server.username, server.password)}) as client:
        first = client.platforms(f"{server.host}/acme/legacy-app:1.4")
        second = client.platforms(f"{server.host}/library/redis:6.2")
    assert first.platforms == ("linux/amd64",) and second.platforms == REDIS_PLATFORMS
    # one 401 for the first request; afterwards Basic is sent up front
    unauthorised = [r for r in server.requests if "authorization" not in r.headers]
    assert [r.path for r in unauthorised] == ["/v2/acme/legacy-app/manifests/1.4"]


def test_basic_auth_challenge_without_credentials(make_registry: Callable[..., FixtureRegistryServer]) -> None:
    server = make_registry("basic")
    with hub_client(server) as client:
        answer = client.platforms(f"{server.host}/library/redis:6.2")
    assert answer.error == f"auth refused: {server.host} requires credentials and none are configured for {server.host}"


def test_open_registry_needs_no_token(make_registry: Callable[..., FixtureRegistryServer]) -> None:
    server = make_registry("none")
    with hub_client(server) as client:
        answer = client.platforms(f"{server.host}/library/python:3.12-slim")
    assert answer.platforms == PYTHON_PLATFORMS
    assert server.paths() == ["/v2/library/python/manifests/3.12-slim"]


@pytest.mark.parametrize(
    ("reference", "expected"),
    [
        ("python:no-such-tag", "not found: docker.io/library/python:no-such-tag has no manifest 'no-such-tag'"),
        ("python@" + SHA_A, f"not found: docker.io/library/python@{SHA_A} has no manifest"),
    ],
)
def test_404_is_an_error_not_an_exception(registry: FixtureRegistryServer, reference: str, expected: str) -> None:
    with hub_client(registry) as client:
        answer = client.platforms(reference)
    assert answer.platforms is None and answer.error is not None
    assert answer.error.startswith(expected)


def test_missing_repository_on_docker_hub_is_refused_like_the_hub_does(registry: FixtureRegistryServer) -> None:
    # Docker Hub answers 401 insufficient_scope, not 404, for repositories that do not exist.
    with hub_client(registry) as client:
        answer = client.platforms("acme/does-not-exist:1")
    assert answer.error is not None and answer.error.startswith("auth refused")


def test_429_with_retry_after_then_success(registry: FixtureRegistryServer) -> None:
    registry.fail(429, times=1, retry_after="7", path_contains="/manifests/")
    sleep = SleepRecorder()
    with hub_client(registry, sleep=sleep) as client:
        answer = client.platforms("python:3.12-slim")
    assert answer.platforms == PYTHON_PLATFORMS
    assert sleep.delays == [7.0]


def test_429_after_retries_is_rate_limited(registry: FixtureRegistryServer) -> None:
    registry.fail(429, times=10, retry_after="3600", path_contains="/manifests/")
    sleep = SleepRecorder()
    with hub_client(registry, sleep=sleep, retries=2, max_retry_after=30) as client:
        answer = client.platforms("python:3.12-slim")
        findings = base_image_findings(answer, path="Dockerfile", line=1)
    assert answer.platforms is None
    assert answer.error is not None and answer.error.startswith("rate limited")
    assert sleep.delays == [30.0, 30.0]  # Retry-After honoured, capped
    assert len(manifest_requests(registry)) == 3
    assert findings[0].rule == "base-image-unknown" and "rate limited" in findings[0].message


def test_5xx_is_retried(registry: FixtureRegistryServer) -> None:
    registry.fail(503, times=2, path_contains="/manifests/")
    sleep = SleepRecorder()
    with hub_client(registry, sleep=sleep, retries=2) as client:
        answer = client.platforms("python:3.12-slim")
    assert answer.platforms == PYTHON_PLATFORMS
    assert len(sleep.delays) == 2


def test_unreachable_registry_never_raises(make_registry: Callable[..., FixtureRegistryServer]) -> None:
    server = make_registry("none")
    host = server.host
    server.stop()
    sleep = SleepRecorder()
    with RegistryClient(insecure_registries=[host], sleep=sleep, retries=1, timeout=2) as client:
        answer = client.platforms(f"{host}/library/python:3.12-slim")
    assert answer.platforms is None
    assert answer.error is not None and answer.error.startswith(f"cannot reach {host}")
    assert "gave up after 2 attempts" in answer.error and len(sleep.delays) == 1


@pytest.mark.parametrize(
    ("reference", "words"), [("${BASE}:latest", "invalid reference format"), ("scratch", "reserved empty image")]
)
def test_references_no_registry_serves_give_an_answer_and_no_request(
    registry: FixtureRegistryServer, reference: str, words: str
) -> None:
    with hub_client(registry) as client:
        answer = client.platforms(reference)
    assert answer.platforms is None and answer.error is not None and words in answer.error
    assert registry.requests == []


def test_platforms_many_makes_one_request_chain_per_distinct_image(registry: FixtureRegistryServer) -> None:
    references = [
        "python:3.12-slim",
        "docker.io/python:3.12-slim",
        "docker.io/library/python:3.12-slim",
        "index.docker.io/library/python:3.12-slim",
        "redis:6.2",
        "docker.io/redis:6.2",
        "acme/legacy-app:1.4",
        "acme/legacy-app:1.4",
        "not a reference",
    ]
    with hub_client(registry, max_concurrency=4) as client:
        answers = client.platforms_many(references)
        again = client.platforms("python:3.12-slim")  # memoised for the client's life
    assert list(answers) == list(dict.fromkeys(references))
    assert {answers[r].platforms for r in references[:4]} == {PYTHON_PLATFORMS} == {again.platforms}
    assert answers["docker.io/redis:6.2"].reference == "docker.io/redis:6.2"
    assert answers["acme/legacy-app:1.4"].platforms == ("linux/amd64",)
    assert answers["not a reference"].error is not None
    # Each distinct image: exactly one authorised manifest GET, at most one 401 before it (a
    # token may be fetched up front once the registry's realm is known), one token request.
    manifests = manifest_requests(registry)
    for path in (
        "/v2/library/python/manifests/3.12-slim",
        "/v2/library/redis/manifests/6.2",
        "/v2/acme/legacy-app/manifests/1.4",
    ):
        authorised = [r for r in registry.requests if r.path == path and "authorization" in r.headers]
        assert len(authorised) == 1, path
        assert manifests.count(path) <= 2, path
    assert len(manifests) <= 6
    assert sum(p.startswith("/token") for p in registry.paths()) == 3


def test_cache_hits_make_no_requests(registry: FixtureRegistryServer) -> None:
    cache = MemoryRegistryCache()
    assert isinstance(cache, RegistryCache)
    digest = fixture_digest(PYTHON_INDEX)
    with hub_client(registry, cache=cache) as client:
        first = client.platforms_many(["python:3.12-slim", f"python@{digest}"])
    assert len(cache) == 2
    registry.clear_requests()
    with hub_client(registry, cache=cache) as client:  # a new run: new client, shared cache
        second = client.platforms_many(["python:3.12-slim", f"docker.io/library/python@{digest}"])
    assert registry.requests == []
    assert all(answer.from_cache for answer in second.values())
    assert second["python:3.12-slim"].platforms == first["python:3.12-slim"].platforms == PYTHON_PLATFORMS
    assert second["python:3.12-slim"].resolved_digest == digest


def test_expired_tag_is_revalidated_with_head_and_digests_never_expire(registry: FixtureRegistryServer) -> None:
    cache = MemoryRegistryCache()
    digest = fixture_digest(PYTHON_INDEX)
    long_ago = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
    cache.put(
        "docker.io",
        "library/python",
        "3.12-slim",
        CachedPlatforms(PYTHON_PLATFORMS, digest, "application/vnd.oci.image.index.v1+json", long_ago),
    )
    cache.put("docker.io", "library/python", SHA_A, CachedPlatforms(("linux/amd64",), SHA_A, None, long_ago))
    with hub_client(registry, cache=cache, cache_period=3600) as client:
        tag = client.platforms("python:3.12-slim")
        pinned = client.platforms(f"python@{SHA_A}")
    assert tag.platforms == PYTHON_PLATFORMS and tag.from_cache
    assert pinned.platforms == ("linux/amd64",) and pinned.from_cache
    assert registry.paths("GET") == ["/token?service=registry.test&scope=repository%3Alibrary%2Fpython%3Apull"]
    assert registry.paths("HEAD") == ["/v2/library/python/manifests/3.12-slim"] * 2  # 401, then with the token
    renewed = cache.get("docker.io", "library/python", "3.12-slim")
    assert renewed is not None and renewed.fetched_at > long_ago


def test_changed_digest_refetches_and_stale_cache_covers_an_outage(registry: FixtureRegistryServer) -> None:
    cache = MemoryRegistryCache()
    long_ago = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
    cache.put("docker.io", "library/python", "3.12-slim", CachedPlatforms(("linux/amd64",), SHA_A, None, long_ago))
    with hub_client(registry, cache=cache, cache_period=60) as client:
        fresh = client.platforms("python:3.12-slim")
    assert fresh.platforms == PYTHON_PLATFORMS and not fresh.from_cache
    assert "GET" in {r.method for r in registry.requests if "/manifests/" in r.path}

    cache.put("docker.io", "library/redis", "6.2", CachedPlatforms(("linux/amd64",), SHA_A, None, long_ago))
    registry.fail(503, times=10, path_contains="/v2/library/redis")
    with hub_client(registry, cache=cache, cache_period=60, retries=0) as client:
        stale = client.platforms("redis:6.2")
    assert stale.error is None and stale.platforms == ("linux/amd64",) and stale.from_cache


def test_shared_httpx_client_is_used_and_left_open(registry: FixtureRegistryServer) -> None:
    with httpx.Client() as http:
        with hub_client(registry, http=http) as client:
            answer = client.platforms("redis:6.2")
        assert not http.is_closed
    assert answer.platforms == REDIS_PLATFORMS


# --------------------------------------------------------------------------- findings


def answer(
    platforms: tuple[str, ...] | None,
    *,
    media_type: str | None = "application/vnd.oci.image.index.v1+json",
    error: str | None = None,
    reference: str = "python:3.12-slim",
) -> ImagePlatforms:
    parsed = parse_reference(reference)
    return ImagePlatforms(
        reference,
        parsed.registry,
        parsed.repository,
        parsed.tag,
        parsed.digest,
        platforms,
        SHA_A if platforms is not None else None,
        error,
        media_type if platforms is not None else None,
    )


@pytest.mark.parametrize(
    ("given", "wanted", "rule", "severity", "words"),
    [
        (answer(PYTHON_PLATFORMS), "linux/arm64", None, None, None),
        (answer(("linux/amd64", "linux/arm64")), "linux/arm64/v8", None, None, None),
        (
            answer(
                ("linux/amd64", "linux/386"), media_type="application/vnd.docker.distribution.manifest.list.v2+json"
            ),
            "linux/arm64",
            "base-image-no-arm64",
            "blocker",
            "is not published for linux/arm64 (the registry lists: linux/amd64, linux/386)",
        ),
        (
            answer(
                ("linux/amd64",),
                media_type="application/vnd.docker.distribution.manifest.v2+json",
                reference="acme/legacy-app:1.4",
            ),
            "linux/arm64",
            "base-image-no-arm64",
            "blocker",
            "acme/legacy-app:1.4 is a single-platform image for linux/amd64",
        ),
        (answer(("linux/amd64",)), "linux/arm64", "base-image-no-arm64", "blocker", "is not published for linux/arm64"),
        (
            answer(None, error="rate limited by registry-1.docker.io (HTTP 429)"),
            "linux/arm64",
            "base-image-unknown",
            "info",
            "(rate limited by registry-1.docker.io (HTTP 429))",
        ),
        (
            unchecked("python:3.12-slim", "registry lookups are turned off"),
            "linux/arm64",
            "base-image-unknown",
            "info",
            "registry lookups are turned off",
        ),
        (unchecked("${BASE}", "invalid reference format"), "linux/arm64", "base-image-unknown", "info", "${BASE}"),
        (answer(("linux/arm64",)), "linux/amd64", "base-image-no-platform", "blocker", "not published for linux/amd64"),
        (unchecked("scratch", "scratch"), "linux/arm64", None, None, None),
    ],
)
def test_base_image_findings(
    given: ImagePlatforms, wanted: str, rule: str | None, severity: str | None, words: str | None
) -> None:
    findings = base_image_findings(given, path="services/api/Dockerfile", line=4, wanted=wanted)
    if rule is None:
        assert findings == []
        return
    assert len(findings) == 1
    finding = findings[0]
    assert isinstance(finding, Finding)
    assert (finding.path, finding.line, finding.rule, finding.severity) == (
        "services/api/Dockerfile",
        4,
        rule,
        severity,
    )
    assert words is not None and words in finding.message


def test_unchecked_keeps_the_parsed_reference() -> None:
    value = unchecked("ghcr.io/o/i:1", "registry lookups are turned off")
    assert (value.registry, value.repository, value.tag, value.platforms, value.error) == (
        "ghcr.io",
        "o/i",
        "1",
        None,
        "registry lookups are turned off",
    )


def test_credentials_are_never_sent_to_a_plain_http_realm(registry: FixtureRegistryServer) -> None:
    # The registry is reached through an endpoint override, but its host is not marked insecure:
    # the token realm is plain http, so the password stays home and the private repo is refused.
    with RegistryClient(
        endpoints={"docker.io": registry.url},
        sleep=SleepRecorder(),
        credentials={"docker.io": (registry.username, registry.password)},
    ) as client:
        public = client.platforms("redis:6.2")
        private = client.platforms("acme/payments:2.0")
    assert public.platforms == REDIS_PLATFORMS
    assert private.platforms is None and private.error is not None and private.error.startswith("auth refused")
    assert all("authorization" not in r.headers for r in registry.requests if r.path.startswith("/token"))
