"""Container registry client: which platforms does a base image's tag provide?

A Dockerfile can be perfect and still fail on arm64 because its ``FROM`` image has no arm64
variant: ``docker build`` then stops with "no match for platform in manifest". Only the
image's registry knows, so :class:`RegistryClient` asks it through the OCI distribution API
and reads the answer with :mod:`scanners.registry.manifests`.

Fetching and deciding are separate, as in :mod:`scanners.index`: :class:`RegistryClient` decides
what to ask and keeps the answers (memo, cache, remembered failures, the breakers of
:mod:`.breaker`), :class:`~scanners.registry.session.RegistrySession` sends the requests (auth,
retries, deadline), and the client never raises for network or HTTP trouble: every reference
gets an :class:`ImagePlatforms` whose ``error`` says in one line why it could not be asked.
:func:`scanners.registry.findings.base_image_findings` is pure and turns an answer into
Dockerfile findings.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import threading
import time
from collections.abc import Callable, Collection, Iterable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor

import httpx

from scanners.http import (
    DEFAULT_DEADLINE,
    OwnsOrSharesHttp,
    RetryPolicy,
    one_line,
)
from scanners.image_reference import (
    ImageRef,
    is_scratch,
    parse_reference,
)
from scanners.registry.breaker import HostBreakers
from scanners.registry.cache import CachedPlatforms, RegistryCache
from scanners.registry.manifests import ACCEPT_MANIFESTS, ImagePlatforms, platform_from_config, platforms_from_manifest
from scanners.registry.session import MAX_DOCUMENT, RegistryFailure, RegistrySession, display, registry_host

__all__ = ["RegistryClient", "unchecked"]

# The name the log lines had before the registry became a package; logging settings use it.
_log = logging.getLogger("scanners.registry")


def unchecked(reference: str, reason: str) -> ImagePlatforms:
    """An answer for a reference nobody asked a registry about (lookups off, bad reference).

    Lets a caller skip the client entirely (closed networks) and still produce a
    ``base-image-unknown`` finding, or none, from the same value.
    """
    try:
        parsed = parse_reference(reference)
    except ValueError:
        return ImagePlatforms(reference, "", "", None, None, None, None, one_line(reason))
    return ImagePlatforms(
        reference, parsed.registry, parsed.repository, parsed.tag, parsed.digest, None, None, one_line(reason)
    )


class RegistryClient(OwnsOrSharesHttp):
    """Asks container registries which platforms an image provides.

    :param http: a shared ``httpx.Client``; the client makes and owns one when ``None``.
    :param credentials: ``{registry: (username, password)}`` for private registries; keys are
        registry names as in references (``ghcr.io``, ``docker.io``, ``registry.test:5000``).
        Used only when a registry or its token realm asks; never logged or returned.
    :param cache: a :class:`RegistryCache`; ``None`` keeps nothing between runs.
    :param cache_period: seconds a cached tag answer is used without asking. After that the
        registry is asked with ``HEAD`` (which Docker Hub does not count against pull rate
        limits) and an unchanged digest renews the entry. Digest answers never expire.
    :param failure_period: seconds a failed lookup (DNS, auth refused, 404, 429, 5xx, timeout)
        is remembered in the cache and answered from there, with the same error, without asking.
    :param breaker_threshold: consecutive host-level failures (unreachable, timeout, 429, 5xx)
        after which a registry host is not asked again by this client, and, through the cache,
        by any client for the failure period.
    :param timeout: seconds per read of one attempt (connect capped at 10 s).
    :param deadline: seconds one request may take in all (attempts, waits and body), see
        :mod:`scanners.http`; a registry that trickles its answer is given up on then.
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
        failure_period: float = 600,
        breaker_threshold: int = 3,
        timeout: float = 10,
        deadline: float = DEFAULT_DEADLINE,
        retries: int = 2,
        insecure_registries: Collection[str] = (),
        endpoints: Mapping[str, str] | None = None,
        backoff: float = 0.5,
        max_retry_after: float = 30.0,
        max_concurrency: int = 4,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if max_concurrency < 1:
            raise ValueError("max_concurrency must be at least 1")
        self.cache = cache
        self.cache_period = cache_period
        self.failure_period = failure_period
        # RetryPolicy refuses negative retries; jitter 0.5 spreads retries over 0.5x to 1.5x the wait.
        self.max_concurrency = max_concurrency
        self._use_http(http)
        self._session = RegistrySession(
            http=self._http,
            credentials=credentials,
            insecure_registries=insecure_registries,
            endpoints=endpoints,
            policy=RetryPolicy(retries=retries, backoff=backoff, jitter=0.5, max_retry_after=max_retry_after),
            timeout=timeout,
            deadline=deadline,
            sleep=sleep,
        )
        self._lock = threading.Lock()
        self._memo: dict[tuple[str, str, str], Future[ImagePlatforms]] = {}
        self._breakers = HostBreakers(cache=cache, threshold=breaker_threshold, period=failure_period)

    def __repr__(self) -> str:  # never show credentials
        return f"<RegistryClient registries_with_credentials={self._session.registries_with_credentials}>"

    # -- public API ----------------------------------------------------------------------------

    def platforms(self, reference: str) -> ImagePlatforms:
        """Which platforms ``reference`` provides; never raises for network or HTTP trouble.

        An invalid reference also gives an answer (with ``error``), so a Dockerfile with an
        unresolved ``${ARG}`` in ``FROM`` is reported, not fatal. Within one client each
        distinct (registry, repository, tag or digest) is asked once; concurrent callers share
        the request chain.
        """
        if is_scratch(reference):
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
                result = self._answer(parsed, error=f"internal error: {one_line(exc)}")
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
        now = dt.datetime.now(dt.UTC)
        cached = self._cache_get(ref)
        remembered = self._remembered(ref, cached, now)
        if remembered is not None:
            return remembered
        answered = cached if cached is not None and cached.fetched_at is not None else None
        outage = self._breakers.outage(ref.registry, now)
        if outage is not None:
            return self._from_cached(ref, answered) if answered is not None else self._answer(ref, error=outage)
        try:
            if answered is not None and answered.digest:
                current = self._head_digest(ref)
                if current == answered.digest:
                    renewed = CachedPlatforms(answered.platforms, answered.digest, answered.media_type, now)
                    self._cache_put(ref, renewed)
                    self._breakers.answered(ref.registry)
                    return self._from_cached(ref, renewed)
            platforms, digest, media_type = self._fetch(ref)
        except RegistryFailure as failure:
            reason = str(failure)
            if failure.host_level:
                self._breakers.failed(ref.registry, reason, now)
            else:  # the registry answered (404, 401): it is up
                self._breakers.answered(ref.registry)
            self._cache_put(ref, CachedPlatforms.failure(reason, now, previous=answered))
            if answered is not None:
                # A stale answer beats none: base images rarely drop an architecture.
                _log.warning(
                    "%s: %s; using the answer cached at %s",
                    ref.reference,
                    reason,
                    answered.fetched_at.isoformat(timespec="seconds") if answered.fetched_at else "?",
                )
                return self._from_cached(ref, answered)
            return self._answer(ref, error=reason)
        self._breakers.answered(ref.registry)
        self._cache_put(ref, CachedPlatforms(platforms, digest, media_type, now))
        return self._answer(ref, platforms=platforms, digest=digest, media_type=media_type)

    def _remembered(self, ref: ImageRef, entry: CachedPlatforms | None, now: dt.datetime) -> ImagePlatforms | None:
        """The cache's answer when it needs no request: a fresh (or pinned) answer, a recent failure."""
        if entry is None:
            return None
        if entry.fetched_at is not None and (
            ref.digest is not None or (now - entry.fetched_at).total_seconds() < self.cache_period
        ):
            return self._from_cached(ref, entry)  # digests are immutable: never stale
        if entry.failed_at is not None and (now - entry.failed_at).total_seconds() < self.failure_period:
            if entry.fetched_at is not None:
                return self._from_cached(ref, entry)  # asked again within the period: the old answer
            return self._answer(ref, error=entry.error or "the last lookup failed", from_cache=True)
        return None

    def _needs_request(self, reference: str) -> tuple[str, str, str] | None:
        """The cache key of ``reference`` if looking it up now would ask its registry, else ``None``.

        For a shared cache that serialises lookups of one image across processes.
        """
        try:
            ref = parse_reference(reference)
        except ValueError:
            return None
        with self._lock:
            if ref.key in self._memo:
                return None
        now = dt.datetime.now(dt.UTC)
        if self._remembered(ref, self._cache_get(ref), now) is not None or self._breakers.outage(ref.registry, now):
            return None
        return (ref.registry, ref.repository, ref.lookup)

    def _fetch(self, ref: ImageRef) -> tuple[tuple[str, ...], str | None, str | None]:
        response = self._session.request(
            ref, "GET", f"/v2/{ref.repository}/manifests/{ref.lookup}", accept=ACCEPT_MANIFESTS, what="manifest"
        )
        body = response.content
        if len(body) > MAX_DOCUMENT:
            raise RegistryFailure(f"manifest of {display(ref)} is larger than {MAX_DOCUMENT} bytes")
        computed = "sha256:" + hashlib.sha256(body).hexdigest()
        if ref.digest is not None and ref.digest.startswith("sha256:") and computed != ref.digest:
            raise RegistryFailure(f"{registry_host(ref)} answered a manifest whose digest is not {ref.digest}")
        digest = response.headers.get("Docker-Content-Digest") or computed
        media_type = response.headers.get("Content-Type", "").split(";")[0].strip() or None
        try:
            document = json.loads(body)
            platforms, config_digest = platforms_from_manifest(document, media_type or "")
        except ValueError as exc:
            raise RegistryFailure(f"unreadable manifest for {display(ref)}: {one_line(exc)}") from None
        if isinstance(document, Mapping) and isinstance(document.get("mediaType"), str):
            media_type = document["mediaType"]
        if platforms is None:
            assert config_digest is not None
            blob = self._session.request(
                ref,
                "GET",
                f"/v2/{ref.repository}/blobs/{config_digest}",
                accept="application/json, */*",
                what="image config",
            )
            if len(blob.content) > MAX_DOCUMENT:
                raise RegistryFailure(f"image config of {display(ref)} is larger than {MAX_DOCUMENT} bytes")
            try:
                platforms = (platform_from_config(json.loads(blob.content)),)
            except ValueError as exc:
                raise RegistryFailure(f"unreadable image config for {display(ref)}: {one_line(exc)}") from None
        return platforms, digest, media_type

    def _head_digest(self, ref: ImageRef) -> str | None:
        """The tag's current digest, from a HEAD (free of Docker Hub's pull rate limit)."""
        response = self._session.request(
            ref, "HEAD", f"/v2/{ref.repository}/manifests/{ref.lookup}", accept=ACCEPT_MANIFESTS, what="manifest"
        )
        return response.headers.get("Docker-Content-Digest")

    # -- helpers ---------------------------------------------------------------------------------

    def _answer(
        self,
        ref: ImageRef,
        *,
        platforms: tuple[str, ...] | None = None,
        digest: str | None = None,
        media_type: str | None = None,
        error: str | None = None,
        from_cache: bool = False,
    ) -> ImagePlatforms:
        return ImagePlatforms(
            ref.reference,
            ref.registry,
            ref.repository,
            ref.tag,
            ref.digest,
            platforms,
            digest,
            one_line(error) if error else None,
            media_type,
            from_cache,
        )

    def _from_cached(self, ref: ImageRef, entry: CachedPlatforms) -> ImagePlatforms:
        return self._answer(
            ref, platforms=tuple(entry.platforms), digest=entry.digest, media_type=entry.media_type, from_cache=True
        )

    def _cache_get(self, ref: ImageRef) -> CachedPlatforms | None:
        if self.cache is None:
            return None
        try:
            return self.cache.get(ref.registry, ref.repository, ref.lookup)
        except Exception as exc:  # noqa: BLE001 - a broken cache costs a request, not a scan
            _log.warning("registry cache read failed for %s: %s", ref.reference, one_line(exc))
            return None

    def _cache_put(self, ref: ImageRef, entry: CachedPlatforms) -> None:
        if self.cache is None:
            return
        try:
            self.cache.put(ref.registry, ref.repository, ref.lookup, entry)
        except Exception as exc:  # noqa: BLE001
            _log.warning("registry cache write failed for %s: %s", ref.reference, one_line(exc))


# --------------------------------------------------------------------------- small helpers

_SCRATCH = "scratch is docker's reserved empty image, not something a registry serves"


def _replace_reference(answer: ImagePlatforms, reference: str) -> ImagePlatforms:
    """The shared answer in another spelling (``python@sha256:…`` vs ``python:3.12@sha256:…``)."""
    try:
        own = parse_reference(reference)
    except ValueError:
        return answer
    return ImagePlatforms(
        reference,
        own.registry,
        own.repository,
        own.tag,
        own.digest,
        answer.platforms,
        answer.resolved_digest,
        answer.error,
        answer.media_type,
        answer.from_cache,
    )
