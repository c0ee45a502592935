"""Container registry client: which platforms does a base image's tag provide?

A Dockerfile can be perfect and still fail on arm64 because its ``FROM`` image has no arm64
variant: ``docker build`` then stops with "no match for platform in manifest". Only the
image's registry knows, so this module asks it through the OCI distribution API
(``GET /v2/<name>/manifests/<tag-or-digest>``):

* an **image index** (OCI) or **manifest list** (Docker) lists one manifest per platform; its
  ``platform`` objects are the answer. BuildKit adds attestation manifests with the platform
  ``unknown/unknown``: they are not images and are skipped.
* a **single manifest** is one platform; which one is written only in its config blob
  (``GET /v2/<name>/blobs/<config digest>``), so that costs a second request.

Fetching and deciding are separate, as in :mod:`scanners.index`: :class:`RegistryClient` does the
I/O (auth challenges, retries, caching) and never raises for network or HTTP trouble; every
reference gets an :class:`ImagePlatforms` whose ``error`` says in one line why it could not be
asked. :func:`base_image_findings` is pure and turns an answer into Dockerfile findings.

Credentials (``{registry: (user, password)}``) are sent only to the token realm or registry
that asks for them, and never appear in log lines, error messages or returned values; bearer
tokens are kept in memory only, for their lifetime.

Reference normalisation follows docker's own (``distribution/reference``, ``normalize.go``):
no host means Docker Hub (``docker.io``), one-segment Docker Hub names get the ``library/``
prefix of official images, and the first segment is a host only when it has a ``.`` or ``:``,
is ``localhost``, or has upper-case letters.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import logging
import random
import re
import threading
import time
from collections.abc import Callable, Collection, Iterable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable
from urllib.parse import urlencode, urlsplit

import httpx

from scanners import ANALYSER_VERSION
from scanners.findings import Finding
from scanners.http_headers import retry_after_seconds

__all__ = [
    "ACCEPT_MANIFESTS",
    "CachedPlatforms",
    "DOCKER_HUB",
    "DOCKER_HUB_API",
    "ImagePlatforms",
    "ImageRef",
    "MemoryRegistryCache",
    "RegistryCache",
    "RegistryClient",
    "base_image_findings",
    "normalise_platform",
    "parse_reference",
    "platforms_from_manifest",
    "unchecked",
]

_log = logging.getLogger(__name__)

DOCKER_HUB = "docker.io"
"""The registry name references without a host mean."""
DOCKER_HUB_API = "registry-1.docker.io"
"""Where Docker Hub's distribution API lives (``docker.io`` itself only redirects to the web site)."""

_OCI_INDEX = "application/vnd.oci.image.index.v1+json"
_DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
_OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
_DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
_DOCKER_MANIFEST_V1 = ("application/vnd.docker.distribution.manifest.v1+json",
                       "application/vnd.docker.distribution.manifest.v1+prettyjws")
_IMAGE_CONFIGS = ("application/vnd.docker.container.image.v1+json", "application/vnd.oci.image.config.v1+json")

ACCEPT_MANIFESTS = ", ".join([_OCI_INDEX, _DOCKER_LIST, _OCI_MANIFEST, _DOCKER_MANIFEST])
"""Indexes first: without them in ``Accept`` some registries answer with one platform's manifest."""

_MAX_DOCUMENT = 4 * 1024 * 1024  # containerd's limit for manifests; a config blob is far smaller
_RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
_TOKEN_LIFETIME_DEFAULT = 60.0  # the distribution spec's default when a token answer has no expires_in

# --- reference grammar (distribution/reference/regexp.go) --------------------------------------
_ALNUM = r"[a-z0-9]+"
_SEPARATOR = r"(?:[._]|__|[-]+)"
_PATH_COMPONENT = rf"{_ALNUM}(?:{_SEPARATOR}{_ALNUM})*"
_PATH = re.compile(rf"{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*")
_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_DOMAIN = re.compile(rf"(?:{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*|\[[a-fA-F0-9:]+\])(?::[0-9]+)?")
_TAG = re.compile(r"[\w][\w.-]{0,127}")
_DIGEST = re.compile(r"[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]{32,}")
_SHA256 = re.compile(r"sha256:[a-f0-9]{64}")
_ANCHORED_HEX = re.compile(r"[a-f0-9]{64}")
_NAME_TOTAL_LENGTH_MAX = 255

# containerd's platform normalisation (platforms/database.go): architecture aliases and the
# default variants that are dropped, so "arm64/v8" and "aarch64" are both "arm64".
_ARCH_ALIASES = {"x86_64": ("amd64", ""), "x86-64": ("amd64", ""), "aarch64": ("arm64", ""),
                 "armhf": ("arm", "v7"), "armel": ("arm", "v6"), "i386": ("386", "")}
_DEFAULT_VARIANTS = {"arm64": "v8", "amd64": "v1"}


# --------------------------------------------------------------------------- values


@dataclass(frozen=True, slots=True)
class ImageRef:
    """An image reference split and normalised the way docker does.

    ``registry`` is the registry's name (``docker.io``, ``ghcr.io``, ``127.0.0.1:5000``);
    ``repository`` the path inside it (``library/python``). ``tag`` is ``"latest"`` when
    neither a tag nor a digest was written, and ``None`` for a bare ``name@digest``.
    """

    reference: str
    registry: str
    repository: str
    tag: str | None
    digest: str | None

    @property
    def lookup(self) -> str:
        """What the registry is asked for: the digest when pinned (immutable), else the tag."""
        return self.digest or self.tag or "latest"

    @property
    def key(self) -> tuple[str, str, str]:
        """One request chain per key: different spellings of one image share it."""
        return (self.registry, self.repository, self.lookup)


@dataclass(frozen=True, slots=True)
class ImagePlatforms:
    """What a registry said about one image reference.

    ``platforms`` are normalised ``os/architecture[/variant]`` strings in the registry's order
    (``linux/arm64``, never ``linux/arm64/v8``), ``None`` when unknown; then ``error`` says why
    in one line. ``media_type`` is the manifest type answered (index or single manifest), which
    tells a single-platform image from a one-entry index. ``from_cache`` is true when no
    request was needed (or the registry only confirmed the cached digest).
    """

    reference: str
    registry: str
    repository: str
    tag: str | None
    digest: str | None
    platforms: tuple[str, ...] | None
    resolved_digest: str | None
    error: str | None
    media_type: str | None = None
    from_cache: bool = False

    @property
    def is_index(self) -> bool:
        return self.media_type in (_OCI_INDEX, _DOCKER_LIST)

    def provides(self, wanted: str) -> bool | None:
        """``True``/``False`` whether ``wanted`` (``linux/arm64``) is among the platforms; ``None`` if unknown."""
        if self.platforms is None:
            return None
        return normalise_platform(wanted) in self.platforms


@dataclass(frozen=True, slots=True)
class CachedPlatforms:
    """A registry answer worth keeping: ``fetched_at`` is timezone-aware UTC."""

    platforms: tuple[str, ...]
    digest: str | None
    media_type: str | None
    fetched_at: dt.datetime


@runtime_checkable
class RegistryCache(Protocol):
    """Where answers are kept between runs; ``reference`` is the tag, or the digest when pinned.

    Implementations must be thread-safe: :meth:`RegistryClient.platforms_many` asks concurrently.
    """

    def get(self, registry: str, repository: str, reference: str) -> CachedPlatforms | None: ...

    def put(self, registry: str, repository: str, reference: str, entry: CachedPlatforms) -> None: ...


class MemoryRegistryCache:
    """A per-process cache (tests, one-off CLI runs)."""

    def __init__(self) -> None:
        self._entries: dict[tuple[str, str, str], CachedPlatforms] = {}
        self._lock = threading.Lock()

    def get(self, registry: str, repository: str, reference: str) -> CachedPlatforms | None:
        with self._lock:
            return self._entries.get((registry, repository, reference))

    def put(self, registry: str, repository: str, reference: str, entry: CachedPlatforms) -> None:
        with self._lock:
            self._entries[(registry, repository, reference)] = entry

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)


# --------------------------------------------------------------------------- parsing (pure)


def parse_reference(ref: str) -> ImageRef:
    """Normalise an image reference as ``docker pull`` would.

    >>> parse_reference("python:3.12-slim")
    ImageRef(reference='python:3.12-slim', registry='docker.io', repository='library/python', tag='3.12-slim', digest=None)

    :raises ValueError: the reference is not valid; the message quotes it (docker's wording).
    """
    text = ref.strip()
    if not text:
        raise ValueError("invalid reference format: empty image reference")
    if _ANCHORED_HEX.fullmatch(text):
        raise ValueError(f"invalid repository name ({text}), cannot specify 64-byte hexadecimal strings")
    name, digest = text, None
    if "@" in name:
        name, digest = name.split("@", 1)
        if not _DIGEST.fullmatch(digest):
            raise ValueError(f"invalid reference format: bad digest in {text!r}")
        if digest.startswith("sha256:") and not _SHA256.fullmatch(digest):
            raise ValueError(f"invalid checksum digest length or format in {text!r} (sha256 needs 64 lower-case hex digits)")
    tag = None
    colon, slash = name.rfind(":"), name.rfind("/")
    if colon > slash:
        name, tag = name[:colon], name[colon + 1:]
        if not _TAG.fullmatch(tag):
            raise ValueError(f"invalid reference format: bad tag {tag!r} in {text!r}")
    first, _, rest = name.partition("/")
    if not rest or ("." not in first and ":" not in first and first != "localhost" and first.lower() == first):
        registry, path = DOCKER_HUB, name
    else:
        registry, path = first, rest
        if not _DOMAIN.fullmatch(registry):
            raise ValueError(f"invalid reference format: bad registry host {registry!r} in {text!r}")
    if registry == "index.docker.io":  # docker's legacy default domain
        registry = DOCKER_HUB
    if registry == DOCKER_HUB and "/" not in path:
        path = "library/" + path
    if path.lower() != path:
        raise ValueError(f"invalid reference format: repository name ({path}) must be lowercase")
    if not _PATH.fullmatch(path):
        raise ValueError(f"invalid reference format: {text!r}")
    if len(registry) + 1 + len(path) > _NAME_TOTAL_LENGTH_MAX:
        raise ValueError(f"invalid reference format: repository name must not be more than {_NAME_TOTAL_LENGTH_MAX} characters")
    if tag is None and digest is None:
        tag = "latest"
    return ImageRef(reference=ref, registry=registry, repository=path, tag=tag, digest=digest)


def normalise_platform(platform: str) -> str:
    """``linux/aarch64`` and ``linux/arm64/v8`` -> ``linux/arm64``; ``linux/armhf`` -> ``linux/arm/v7``."""
    parts = platform.strip().lower().split("/")
    os_name = parts[0] if parts else ""
    arch = parts[1] if len(parts) > 1 else ""
    variant = parts[2] if len(parts) > 2 else ""
    return _platform(os_name, arch, variant)


def _platform(os_name: str, arch: str, variant: str) -> str:
    os_name, arch, variant = os_name.lower(), arch.lower(), variant.lower()
    if arch in _ARCH_ALIASES:
        arch, alias_variant = _ARCH_ALIASES[arch]
        variant = variant or alias_variant
    if variant and _DEFAULT_VARIANTS.get(arch) == variant:
        variant = ""
    return "/".join(part for part in (os_name, arch, variant) if part)


def platforms_from_manifest(document: Mapping[str, Any], media_type: str) -> tuple[tuple[str, ...] | None, str | None]:
    """Platforms listed by an image index / manifest list: ``(platforms, None)``.

    For a single manifest, returns ``(None, config digest)``: the platform is in the config
    blob, which the caller fetches and reads with :func:`_platform_from_config`.

    :raises ValueError: the document is neither, or is malformed; the message names the key.
    """
    if not isinstance(document, Mapping):
        raise ValueError("manifest is not a JSON object")
    media_type = (document.get("mediaType") or media_type or "").split(";")[0].strip()
    if media_type in (_OCI_INDEX, _DOCKER_LIST) or (not media_type and "manifests" in document):
        entries = document.get("manifests")
        if not isinstance(entries, list):
            raise ValueError("image index has no manifests list")
        found: list[str] = []
        for position, entry in enumerate(entries):
            if not isinstance(entry, Mapping):
                raise ValueError(f"manifests[{position}] is not an object")
            platform = entry.get("platform")
            if not isinstance(platform, Mapping):
                continue  # e.g. an artifact in the index; not an image anyone can run
            os_name, arch = str(platform.get("os", "")), str(platform.get("architecture", ""))
            if not os_name or not arch or "unknown" in (os_name, arch):
                continue  # BuildKit attestation manifests (provenance, SBOM) are "unknown/unknown"
            value = _platform(os_name, arch, str(platform.get("variant", "") or ""))
            if value not in found:
                found.append(value)
        return tuple(found), None
    if document.get("schemaVersion") == 1 or media_type in _DOCKER_MANIFEST_V1:
        arch = document.get("architecture")  # schema 1 carries its one architecture inline
        if not isinstance(arch, str) or not arch:
            raise ValueError("schema 1 manifest has no architecture")
        return (_platform("linux", arch, ""),), None
    if media_type in (_OCI_MANIFEST, _DOCKER_MANIFEST) or (not media_type and "config" in document):
        config = document.get("config")
        if not isinstance(config, Mapping) or not isinstance(config.get("digest"), str):
            raise ValueError("manifest has no config.digest")
        config_type = config.get("mediaType")
        if config_type not in _IMAGE_CONFIGS:
            raise ValueError(f"not a container image (config media type {config_type!r})")
        return None, config["digest"]
    raise ValueError(f"unexpected manifest media type {media_type or 'none'!r}")


def _platform_from_config(document: Mapping[str, Any]) -> str:
    if not isinstance(document, Mapping):
        raise ValueError("image config is not a JSON object")
    os_name, arch = document.get("os"), document.get("architecture")
    if not isinstance(os_name, str) or not isinstance(arch, str) or not os_name or not arch:
        raise ValueError("image config has no os/architecture")
    return _platform(os_name, arch, str(document.get("variant", "") or ""))


def unchecked(reference: str, reason: str) -> ImagePlatforms:
    """An answer for a reference nobody asked a registry about (lookups off, bad reference).

    Lets a caller skip the client entirely (closed networks) and still produce a
    ``base-image-unknown`` finding, or none, from the same value.
    """
    try:
        parsed = parse_reference(reference)
    except ValueError:
        return ImagePlatforms(reference, "", "", None, None, None, None, _one_line(reason))
    return ImagePlatforms(reference, parsed.registry, parsed.repository, parsed.tag, parsed.digest,
                          None, None, _one_line(reason))


# --------------------------------------------------------------------------- findings (pure)


def base_image_findings(
    image_platforms: ImagePlatforms, *, path: str, line: int, wanted: str = "linux/arm64"
) -> list[Finding]:
    """Dockerfile findings for one ``FROM`` image.

    * ``base-image-no-arm64`` (blocker): the registry answered and ``wanted`` is not among the
      platforms — an index without it, or a single-platform manifest for another one.
    * ``base-image-unknown`` (info): the registry could not be asked. Never a blocker: an
      offline registry must not fail a scan or hide the package verdicts.
    """
    image = image_platforms.reference
    if _is_scratch(image):
        return []  # the empty image exists for every platform; callers normally skip it anyway
    wanted = normalise_platform(wanted)
    if image_platforms.platforms is None:
        reason = image_platforms.error or "no answer"
        return [Finding(path, line, "base-image-unknown", "info",
                        f"Could not check which platforms {image} provides ({reason}); "
                        f"whether it exists for {wanted} is unknown.")]
    if wanted in image_platforms.platforms:
        return []
    available = ", ".join(image_platforms.platforms) or "none"
    if len(image_platforms.platforms) <= 1 and not image_platforms.is_index:
        message = (f"{image} is a single-platform image for {available}: there is no {wanted} variant, "
                   f"so `docker build --platform {wanted}` fails. Use a multi-platform tag or build this image for {wanted}.")
    else:
        message = (f"{image} is not published for {wanted} (the registry lists: {available}). "
                   f"Use a tag or image that includes {wanted}.")
    return [Finding(path, line, "base-image-no-arm64" if wanted == "linux/arm64" else "base-image-no-platform",
                    "blocker", message)]


# --------------------------------------------------------------------------- client


@dataclass(frozen=True, slots=True)
class _Challenge:
    scheme: str  # "bearer" or "basic"
    params: dict[str, str]


@dataclass(frozen=True, slots=True)
class _Token:
    value: str
    expires: float  # time.monotonic()


class _Failure(Exception):
    """Internal: a one-line reason this image could not be asked; becomes ImagePlatforms.error."""


class RegistryClient:
    """Asks container registries which platforms an image provides.

    :param http: a shared ``httpx.Client``; the client makes and owns one when ``None``.
    :param credentials: ``{registry: (username, password)}`` for private registries; keys are
        registry names as in references (``ghcr.io``, ``docker.io``, ``registry.test:5000``).
        Used only when a registry or its token realm asks; never logged or returned.
    :param cache: a :class:`RegistryCache`; ``None`` keeps nothing between runs.
    :param cache_period: seconds a cached tag answer is used without asking. After that the
        registry is asked with ``HEAD`` (which Docker Hub does not count against pull rate
        limits) and an unchanged digest renews the entry. Digest answers never expire.
    :param timeout: seconds per request (connect capped at 10 s).
    :param retries: extra attempts after a timeout, network error, 429 or 5xx.
    :param insecure_registries: registry names spoken to over plain http (test registries on
        127.0.0.1); everything else is https.
    :param endpoints: ``{registry: base URL}`` overrides where a registry's API is, e.g. a
        pull-through mirror for ``docker.io`` (or a local test server).
    :param backoff: first retry delay in seconds; doubles each attempt, with jitter.
    :param max_retry_after: cap on a registry's Retry-After, so one registry cannot stall a scan.
    :param max_concurrency: lookups in flight at once in :meth:`platforms_many`.
    :param sleep: how to wait between attempts; tests pass a recorder.
    """

    def __init__(
        self,
        *,
        http: httpx.Client | None = None,
        credentials: Mapping[str, tuple[str, str]] | None = None,
        cache: RegistryCache | None = None,
        cache_period: float = 86400,
        timeout: float = 10,
        retries: int = 2,
        insecure_registries: Collection[str] = (),
        endpoints: Mapping[str, str] | None = None,
        backoff: float = 0.5,
        max_retry_after: float = 30.0,
        max_concurrency: int = 4,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if retries < 0:
            raise ValueError("retries must not be negative")
        if max_concurrency < 1:
            raise ValueError("max_concurrency must be at least 1")
        self.cache = cache
        self.cache_period = cache_period
        self.retries = retries
        self.backoff = backoff
        self.max_retry_after = max_retry_after
        self.max_concurrency = max_concurrency
        self.insecure_registries = frozenset(_registry_key(name) for name in insecure_registries)
        self._endpoints = {_registry_key(name): url.rstrip("/") for name, url in (endpoints or {}).items()}
        # Private copy, keyed the same way as references; never exposed (no repr, no attribute).
        self.__credentials = {_registry_key(name): (str(pair[0]), str(pair[1])) for name, pair in (credentials or {}).items()}
        self._timeout = httpx.Timeout(timeout, connect=min(timeout, 10.0))
        self._sleep = sleep
        self._owns_http = http is None
        self._http = http if http is not None else httpx.Client(
            timeout=self._timeout, headers={"User-Agent": f"arch-readiness/{ANALYSER_VERSION} (+httpx)"},
        )
        self._lock = threading.Lock()
        self._memo: dict[tuple[str, str, str], Future[ImagePlatforms]] = {}
        self._tokens: dict[tuple[str, str], _Token] = {}
        self._challenges: dict[str, _Challenge] = {}

    def __repr__(self) -> str:  # never show credentials
        return f"<RegistryClient registries_with_credentials={len(self.__credentials)}>"

    def close(self) -> None:
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> RegistryClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- public API ----------------------------------------------------------------------------

    def platforms(self, reference: str) -> ImagePlatforms:
        """Which platforms ``reference`` provides; never raises for network or HTTP trouble.

        An invalid reference also gives an answer (with ``error``), so a Dockerfile with an
        unresolved ``${ARG}`` in ``FROM`` is reported, not fatal. Within one client each
        distinct (registry, repository, tag or digest) is asked once; concurrent callers share
        the request chain.
        """
        if _is_scratch(reference):
            return unchecked(reference, _SCRATCH)
        try:
            parsed = parse_reference(reference)
        except ValueError as exc:
            return unchecked(reference, str(exc))
        with self._lock:
            future = self._memo.get(parsed.key)
            owner = future is None
            if owner:
                future = self._memo[parsed.key] = Future()
        assert future is not None
        if owner:
            try:
                result = self._lookup(parsed)
            except Exception as exc:  # noqa: BLE001 - a bug here must not fail a scan
                _log.exception("registry client failed on %s", parsed.key)
                result = self._answer(parsed, error=f"internal error: {_one_line(exc)}")
            future.set_result(result)
        shared = future.result()
        # Same answer, but in the caller's own spelling of the reference.
        return shared if shared.reference == reference else _replace_reference(shared, reference)

    def platforms_many(self, references: Iterable[str]) -> dict[str, ImagePlatforms]:
        """Answers for many references, keyed by each reference as given.

        One request chain per distinct (registry, repository, tag or digest): ``python:3.12``,
        ``docker.io/library/python:3.12`` and ``index.docker.io/python:3.12`` share one.
        """
        given = list(dict.fromkeys(references))
        results: dict[str, ImagePlatforms] = {}
        if not given:
            return results
        by_key: dict[object, list[str]] = {}
        for reference in given:
            try:
                key: object = parse_reference(reference).key
            except ValueError:
                key = ("invalid", reference)
            by_key.setdefault(key, []).append(reference)
        workers = min(self.max_concurrency, len(by_key))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="registry") as pool:
            futures = {pool.submit(self.platforms, spellings[0]): spellings for spellings in by_key.values()}
            for future, spellings in futures.items():
                answer = future.result()  # platforms() never raises
                for spelling in spellings:
                    results[spelling] = _replace_reference(answer, spelling)
        return {reference: results[reference] for reference in given}

    # -- lookup ----------------------------------------------------------------------------------

    def _lookup(self, ref: ImageRef) -> ImagePlatforms:
        cached = self._cache_get(ref)
        now = dt.datetime.now(dt.timezone.utc)
        if cached is not None:
            age = (now - cached.fetched_at).total_seconds()
            if ref.digest is not None or age < self.cache_period:
                return self._from_cached(ref, cached)  # digests are immutable: never stale
        try:
            if cached is not None and cached.digest:
                current = self._head_digest(ref)
                if current == cached.digest:
                    renewed = CachedPlatforms(cached.platforms, cached.digest, cached.media_type, now)
                    self._cache_put(ref, renewed)
                    return self._from_cached(ref, renewed)
            platforms, digest, media_type = self._fetch(ref)
        except _Failure as failure:
            reason = str(failure)
            if cached is not None:
                # A stale answer beats none: base images rarely drop an architecture.
                _log.warning("%s: %s; using the answer cached at %s", ref.reference, reason,
                             cached.fetched_at.isoformat(timespec="seconds"))
                return self._from_cached(ref, cached)
            return self._answer(ref, error=reason)
        self._cache_put(ref, CachedPlatforms(platforms, digest, media_type, now))
        return self._answer(ref, platforms=platforms, digest=digest, media_type=media_type)

    def _fetch(self, ref: ImageRef) -> tuple[tuple[str, ...], str | None, str | None]:
        response = self._request(ref, "GET", f"/v2/{ref.repository}/manifests/{ref.lookup}",
                                 accept=ACCEPT_MANIFESTS, what="manifest")
        body = response.content
        if len(body) > _MAX_DOCUMENT:
            raise _Failure(f"manifest of {_display(ref)} is larger than {_MAX_DOCUMENT} bytes")
        computed = "sha256:" + hashlib.sha256(body).hexdigest()
        if ref.digest is not None and ref.digest.startswith("sha256:") and computed != ref.digest:
            raise _Failure(f"{_registry_host(ref)} answered a manifest whose digest is not {ref.digest}")
        digest = response.headers.get("Docker-Content-Digest") or computed
        media_type = response.headers.get("Content-Type", "").split(";")[0].strip() or None
        try:
            document = json.loads(body)
            platforms, config_digest = platforms_from_manifest(document, media_type or "")
        except ValueError as exc:
            raise _Failure(f"unreadable manifest for {_display(ref)}: {_one_line(exc)}") from None
        if isinstance(document, Mapping) and isinstance(document.get("mediaType"), str):
            media_type = document["mediaType"]
        if platforms is None:
            assert config_digest is not None
            blob = self._request(ref, "GET", f"/v2/{ref.repository}/blobs/{config_digest}",
                                 accept="application/json, */*", what="image config")
            if len(blob.content) > _MAX_DOCUMENT:
                raise _Failure(f"image config of {_display(ref)} is larger than {_MAX_DOCUMENT} bytes")
            try:
                platforms = (_platform_from_config(json.loads(blob.content)),)
            except ValueError as exc:
                raise _Failure(f"unreadable image config for {_display(ref)}: {_one_line(exc)}") from None
        return platforms, digest, media_type

    def _head_digest(self, ref: ImageRef) -> str | None:
        """The tag's current digest, from a HEAD (free of Docker Hub's pull rate limit)."""
        response = self._request(ref, "HEAD", f"/v2/{ref.repository}/manifests/{ref.lookup}",
                                 accept=ACCEPT_MANIFESTS, what="manifest")
        return response.headers.get("Docker-Content-Digest")

    # -- HTTP with auth and retries -------------------------------------------------------------

    def _request(self, ref: ImageRef, method: str, path: str, *, accept: str, what: str) -> httpx.Response:
        """One registry request, answering at most one auth challenge; raises :class:`_Failure`."""
        url = self._base_url(ref.registry) + path
        scope = f"repository:{ref.repository}:pull"
        headers = {"Accept": accept}
        authorization = self._known_authorization(ref.registry, scope)
        if authorization:
            headers["Authorization"] = authorization
        response = self._send(method, url, headers, ref=ref)
        if response.status_code == 401:
            challenge = _parse_challenge(response.headers.get("WWW-Authenticate", ""))
            if challenge is None:
                raise _Failure(f"{_registry_host(ref)} refused access to {ref.repository} (HTTP 401 without a usable challenge)")
            with self._lock:
                self._challenges[ref.registry] = challenge
            headers["Authorization"] = self._authorize(ref, challenge, scope)
            response = self._send(method, url, headers, ref=ref)
            if response.status_code == 401:
                hint = "check the credentials configured for it" if ref.registry in self.__credentials else "no credentials are configured for it"
                raise _Failure(f"auth refused: {_registry_host(ref)} denied access to {ref.repository} "
                               f"(HTTP 401; private or missing repository, {hint})")
        status = response.status_code
        if status == 200:
            return response
        if status == 404:
            raise _Failure(f"not found: {_display(ref)} has no {what} {path.rsplit('/', 1)[1]!r} on {_registry_host(ref)} (HTTP 404)")
        if status == 403:
            raise _Failure(f"auth refused: {_registry_host(ref)} forbids access to {ref.repository} (HTTP 403)")
        if status == 429:
            raise _Failure(f"rate limited by {_registry_host(ref)} (HTTP 429, gave up after {self.retries + 1} attempts)")
        raise _Failure(f"{_registry_host(ref)} answered HTTP {status} for the {what} of {_display(ref)}"
                       + (f" (gave up after {self.retries + 1} attempts)" if status in _RETRY_STATUSES else ""))

    def _known_authorization(self, registry: str, scope: str) -> str | None:
        """Authorization to send up front, when this registry already challenged us this run."""
        with self._lock:
            token = self._tokens.get((registry, scope))
            challenge = self._challenges.get(registry)
        if token is not None and token.expires > time.monotonic():
            return f"Bearer {token.value}"
        if challenge is None:
            return None
        if challenge.scheme == "basic":
            pair = self.__credentials.get(registry)
            return _basic(pair) if pair else None
        try:  # same realm, new repository: fetch its token without another 401 round trip
            return self._bearer(registry, challenge, scope)
        except _Failure:
            return None  # the request then meets the challenge and reports it properly

    def _authorize(self, ref: ImageRef, challenge: _Challenge, scope: str) -> str:
        if challenge.scheme == "basic":
            pair = self.__credentials.get(ref.registry)
            if pair is None:
                raise _Failure(f"auth refused: {_registry_host(ref)} requires credentials and none are configured for {ref.registry}")
            return _basic(pair)
        return self._bearer(ref.registry, challenge, challenge.params.get("scope") or scope)

    def _bearer(self, registry: str, challenge: _Challenge, scope: str) -> str:
        realm = challenge.params.get("realm", "")
        parts = urlsplit(realm)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise _Failure(f"{registry} sent an unusable token realm")
        query = {key: value for key, value in (("service", challenge.params.get("service")), ("scope", scope)) if value}
        url = realm + ("&" if parts.query else "?") + urlencode(query)
        headers = {"Accept": "application/json"}
        pair = self.__credentials.get(registry)
        realm_host = parts.netloc.rsplit("@", 1)[-1]
        if pair is not None:
            # Never send a password in clear text, except to a registry marked insecure (loopback tests).
            if parts.scheme == "https" or _registry_key(realm_host) in self.insecure_registries:
                headers["Authorization"] = _basic(pair)
        response = self._send("GET", url, headers, ref=None, host=realm_host)
        if response.status_code in (401, 403):
            who = "the configured credentials" if "Authorization" in headers else "anonymous access"
            raise _Failure(f"auth refused: token service {realm_host} rejected {who} for {registry} (HTTP {response.status_code})")
        if response.status_code == 429:
            raise _Failure(f"rate limited by token service {realm_host} (HTTP 429)")
        if response.status_code != 200:
            raise _Failure(f"token service {realm_host} answered HTTP {response.status_code}")
        try:
            answer = response.json()
            value = answer.get("token") or answer.get("access_token")
            lifetime = float(answer.get("expires_in") or _TOKEN_LIFETIME_DEFAULT)
        except (ValueError, AttributeError, TypeError):
            raise _Failure(f"token service {realm_host} sent an unreadable answer") from None
        if not isinstance(value, str) or not value:
            raise _Failure(f"token service {realm_host} sent no token")
        with self._lock:  # renew a little early so a token never expires mid-chain
            self._tokens[(registry, scope)] = _Token(value, time.monotonic() + max(lifetime - 10, 1))
        return f"Bearer {value}"

    def _send(self, method: str, url: str, headers: Mapping[str, str], *, ref: ImageRef | None,
              host: str | None = None) -> httpx.Response:
        """Send with retries on timeouts, network errors, 429 and 5xx; raises :class:`_Failure`."""
        where = host or (_registry_host(ref) if ref else urlsplit(url).netloc)
        attempts = self.retries + 1
        reason = ""
        response: httpx.Response | None = None
        for attempt in range(attempts):
            wait: float | None = None
            try:
                # Redirects are followed (Docker Hub sends blobs to a CDN); httpx drops the
                # Authorization header when a redirect leaves the registry's origin.
                response = self._http.request(method, url, headers=headers, timeout=self._timeout, follow_redirects=True)
            except httpx.TimeoutException:
                reason, response = f"{where} timed out after {self._timeout.read:g}s", None
            except (httpx.UnsupportedProtocol, httpx.InvalidURL, httpx.TooManyRedirects) as exc:
                raise _Failure(f"cannot ask {where}: {type(exc).__name__}") from None
            except (httpx.TransportError, OSError) as exc:
                reason, response = f"cannot reach {where}: {_one_line(exc)}", None
            else:
                if response.status_code not in _RETRY_STATUSES:
                    return response
                reason = f"{where} answered HTTP {response.status_code}"
                wait = retry_after_seconds(response.headers.get("Retry-After"))
            if attempt + 1 == attempts:
                break
            delay = self.backoff * (2**attempt) * random.uniform(0.5, 1.5)  # jitter spreads retries out
            if wait is not None:
                delay = min(wait, self.max_retry_after)
            _log.info("%s (attempt %d/%d); retrying in %.2fs", reason, attempt + 1, attempts, delay)
            self._sleep(delay)
        if response is not None:
            return response  # a final 429/5xx: the caller words it
        raise _Failure(reason + (f" (gave up after {attempts} attempts)" if attempts > 1 else ""))

    def _base_url(self, registry: str) -> str:
        if registry in self._endpoints:
            return self._endpoints[registry]
        host = DOCKER_HUB_API if registry == DOCKER_HUB else registry
        scheme = "http" if registry in self.insecure_registries else "https"
        return f"{scheme}://{host}"

    # -- helpers ---------------------------------------------------------------------------------

    def _answer(self, ref: ImageRef, *, platforms: tuple[str, ...] | None = None, digest: str | None = None,
                media_type: str | None = None, error: str | None = None, from_cache: bool = False) -> ImagePlatforms:
        return ImagePlatforms(ref.reference, ref.registry, ref.repository, ref.tag, ref.digest, platforms,
                              digest, _one_line(error) if error else None, media_type, from_cache)

    def _from_cached(self, ref: ImageRef, entry: CachedPlatforms) -> ImagePlatforms:
        return self._answer(ref, platforms=tuple(entry.platforms), digest=entry.digest,
                            media_type=entry.media_type, from_cache=True)

    def _cache_get(self, ref: ImageRef) -> CachedPlatforms | None:
        if self.cache is None:
            return None
        try:
            return self.cache.get(ref.registry, ref.repository, ref.lookup)
        except Exception as exc:  # noqa: BLE001 - a broken cache costs a request, not a scan
            _log.warning("registry cache read failed for %s: %s", ref.reference, _one_line(exc))
            return None

    def _cache_put(self, ref: ImageRef, entry: CachedPlatforms) -> None:
        if self.cache is None:
            return
        try:
            self.cache.put(ref.registry, ref.repository, ref.lookup, entry)
        except Exception as exc:  # noqa: BLE001
            _log.warning("registry cache write failed for %s: %s", ref.reference, _one_line(exc))


# --------------------------------------------------------------------------- small helpers

_CHALLENGE_PARAM = re.compile(r'([A-Za-z][A-Za-z0-9_-]*)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]+))')


def _parse_challenge(header: str) -> _Challenge | None:
    """``Bearer realm="…",service="…",scope="…"`` or ``Basic realm="…"``; ``None`` if neither."""
    scheme, _, rest = header.strip().partition(" ")
    scheme = scheme.lower()
    if scheme not in ("bearer", "basic"):
        return None
    params = {match[1].lower(): (match[2] if match[2] is not None else match[3]).replace('\\"', '"')
              for match in _CHALLENGE_PARAM.finditer(rest)}
    if scheme == "bearer" and not params.get("realm"):
        return None
    return _Challenge(scheme, params)


_SCRATCH = "scratch is docker's reserved empty image, not something a registry serves"


def _is_scratch(reference: str) -> bool:
    return reference.strip().lower() == "scratch"


def _basic(pair: tuple[str, str]) -> str:
    return "Basic " + base64.b64encode(f"{pair[0]}:{pair[1]}".encode()).decode()




def _registry_key(name: str) -> str:
    """Credential/endpoint keys spelled like references' registries (Docker Hub's aliases folded)."""
    key = name.strip().lower()
    for prefix in ("https://", "http://"):
        if key.startswith(prefix):
            key = key[len(prefix):]
    key = key.split("/", 1)[0]
    return DOCKER_HUB if key in ("index.docker.io", DOCKER_HUB_API, "registry.hub.docker.com") else key


def _registry_host(ref: ImageRef) -> str:
    return DOCKER_HUB_API if ref.registry == DOCKER_HUB else ref.registry


def _display(ref: ImageRef) -> str:
    return f"{ref.registry}/{ref.repository}" + (f"@{ref.digest}" if ref.digest else f":{ref.tag}")


def _replace_reference(answer: ImagePlatforms, reference: str) -> ImagePlatforms:
    """The shared answer in another spelling (``python@sha256:…`` vs ``python:3.12@sha256:…``)."""
    try:
        own = parse_reference(reference)
    except ValueError:
        return answer
    return ImagePlatforms(reference, own.registry, own.repository, own.tag, own.digest, answer.platforms,
                          answer.resolved_digest, answer.error, answer.media_type, answer.from_cache)


def _one_line(value: object) -> str:
    text = " ".join(str(value).split())
    return text[:300] + ("…" if len(text) > 300 else "")
