"""Container registry client: which platforms does a base image's tag provide?

A Dockerfile can be perfect and still fail on arm64 because its ``FROM`` image has no arm64
variant: ``docker build`` then stops with "no match for platform in manifest". Only the
image's registry knows, so :class:`RegistryClient` asks it through the OCI distribution API
and reads the answer with :mod:`scanners.registry.manifests`.

Fetching and deciding are separate, as in :mod:`scanners.index`: :class:`RegistryClient` does the
I/O (auth challenges, caching) and never raises for network or HTTP trouble; every
reference gets an :class:`ImagePlatforms` whose ``error`` says in one line why it could not be
asked. :func:`scanners.registry.findings.base_image_findings` is pure and turns an answer into
Dockerfile findings.

Every request goes through :func:`scanners.http.request`, so retries, ``Retry-After``, jitter
and the per-call deadline are the same as for the package index: a registry trickling a
manifest ends in an answer with ``error`` at the deadline rather than holding the scan.

Credentials (``{registry: (user, password)}``) are sent only to the token realm or registry
that asks for them, and never appear in log lines, error messages or returned values; bearer
tokens are kept in memory only, for their lifetime.
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
from urllib.parse import urlencode, urlsplit

import httpx

from scanners.http import (
    DEFAULT_DEADLINE,
    RETRY_STATUSES,
    HttpError,
    OwnsOrSharesHttp,
    RetryPolicy,
    one_line,
    redact,
    request,
)
from scanners.image_reference import (
    DOCKER_HUB,
    DOCKER_HUB_ALIASES,
    DOCKER_HUB_API,
    ImageRef,
    is_scratch,
    parse_reference,
)
from scanners.registry.auth import Challenge, Token, basic_authorization, parse_challenge
from scanners.registry.cache import CachedPlatforms, RegistryCache
from scanners.registry.manifests import ACCEPT_MANIFESTS, ImagePlatforms, platform_from_config, platforms_from_manifest

__all__ = ["RegistryClient", "unchecked"]

# The name the log lines had before the registry became a package; logging settings use it.
_log = logging.getLogger("scanners.registry")

_MAX_DOCUMENT = 4 * 1024 * 1024  # containerd's limit for manifests; a config blob is far smaller
_TOKEN_LIFETIME_DEFAULT = 60.0  # the distribution spec's default when a token answer has no expires_in


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


class _Failure(Exception):
    """Internal: a one-line reason this image could not be asked; becomes ImagePlatforms.error.

    ``host_level`` failures say nothing about the image and everything about its registry
    (unreachable, timed out, 429, 5xx): they count towards the host's circuit breaker.
    """

    def __init__(self, reason: str, *, host_level: bool = False) -> None:
        super().__init__(reason)
        self.host_level = host_level


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
        self.breaker_threshold = max(1, breaker_threshold)
        # RetryPolicy refuses negative retries; jitter 0.5 spreads retries over 0.5x to 1.5x the wait.
        self._policy = RetryPolicy(retries=retries, backoff=backoff, jitter=0.5, max_retry_after=max_retry_after)
        self.max_concurrency = max_concurrency
        self.insecure_registries = frozenset(_registry_key(name) for name in insecure_registries)
        self._endpoints = {_registry_key(name): url.rstrip("/") for name, url in (endpoints or {}).items()}
        # Private copy, keyed the same way as references; never exposed (no repr, no attribute).
        self.__credentials = {
            _registry_key(name): (str(pair[0]), str(pair[1])) for name, pair in (credentials or {}).items()
        }
        self._timeout = timeout
        self._deadline = deadline
        self._sleep = sleep
        self._use_http(http)
        self._lock = threading.Lock()
        self._memo: dict[tuple[str, str, str], Future[ImagePlatforms]] = {}
        self._tokens: dict[tuple[str, str], Token] = {}
        self._challenges: dict[str, Challenge] = {}
        self._host_failures: dict[str, int] = {}  # consecutive host-level failures, per registry
        self._tripped: dict[str, str] = {}  # registries not asked again by this client: why

    def __repr__(self) -> str:  # never show credentials
        return f"<RegistryClient registries_with_credentials={len(self.__credentials)}>"

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
        outage = self._outage(ref.registry, now)
        if outage is not None:
            return self._from_cached(ref, answered) if answered is not None else self._answer(ref, error=outage)
        try:
            if answered is not None and answered.digest:
                current = self._head_digest(ref)
                if current == answered.digest:
                    renewed = CachedPlatforms(answered.platforms, answered.digest, answered.media_type, now)
                    self._cache_put(ref, renewed)
                    self._note_success(ref.registry)
                    return self._from_cached(ref, renewed)
            platforms, digest, media_type = self._fetch(ref)
        except _Failure as failure:
            reason = str(failure)
            self._note_failure(ref.registry, failure, now)
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
        self._note_success(ref.registry)
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
        if self._remembered(ref, self._cache_get(ref), now) is not None or self._outage(ref.registry, now):
            return None
        return (ref.registry, ref.repository, ref.lookup)

    # -- the circuit breaker per registry host ---------------------------------------------------

    def _outage(self, registry: str, now: dt.datetime) -> str | None:
        """Why ``registry`` is not asked now (its breaker tripped here or in another client), or ``None``."""
        with self._lock:
            tripped = self._tripped.get(registry)
        if tripped is not None:
            return tripped
        if self.cache is None:
            return None
        try:
            entry = self.cache.get(registry, *_HOST_ENTRY)
        except Exception:  # noqa: BLE001 - logged by _cache_get for images; here it only costs a request
            return None
        if entry is not None and entry.failed_at is not None:
            if (now - entry.failed_at).total_seconds() < self.failure_period:
                return entry.error or f"not asked: {registry} failed repeatedly"
        return None

    def _note_success(self, registry: str) -> None:
        with self._lock:
            self._host_failures.pop(registry, None)

    def _note_failure(self, registry: str, failure: _Failure, now: dt.datetime) -> None:
        if not failure.host_level:  # the registry answered (404, 401): it is up
            self._note_success(registry)
            return
        with self._lock:
            count = self._host_failures[registry] = self._host_failures.get(registry, 0) + 1
            trips = count >= self.breaker_threshold and registry not in self._tripped
            if trips:
                reason = f"not asked: {registry} failed {count} lookups in a row, last: {failure}"
                self._tripped[registry] = one_line(reason)
        if trips:
            _log.warning("%s failed %d lookups in a row; not asking it again for now", registry, count)
            if self.cache is not None:
                try:
                    self.cache.put(registry, *_HOST_ENTRY, CachedPlatforms.failure(self._tripped[registry], now))
                except Exception as exc:  # noqa: BLE001
                    _log.warning("registry cache write failed for %s: %s", registry, one_line(exc))

    def _fetch(self, ref: ImageRef) -> tuple[tuple[str, ...], str | None, str | None]:
        response = self._request(
            ref, "GET", f"/v2/{ref.repository}/manifests/{ref.lookup}", accept=ACCEPT_MANIFESTS, what="manifest"
        )
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
            raise _Failure(f"unreadable manifest for {_display(ref)}: {one_line(exc)}") from None
        if isinstance(document, Mapping) and isinstance(document.get("mediaType"), str):
            media_type = document["mediaType"]
        if platforms is None:
            assert config_digest is not None
            blob = self._request(
                ref,
                "GET",
                f"/v2/{ref.repository}/blobs/{config_digest}",
                accept="application/json, */*",
                what="image config",
            )
            if len(blob.content) > _MAX_DOCUMENT:
                raise _Failure(f"image config of {_display(ref)} is larger than {_MAX_DOCUMENT} bytes")
            try:
                platforms = (platform_from_config(json.loads(blob.content)),)
            except ValueError as exc:
                raise _Failure(f"unreadable image config for {_display(ref)}: {one_line(exc)}") from None
        return platforms, digest, media_type

    def _head_digest(self, ref: ImageRef) -> str | None:
        """The tag's current digest, from a HEAD (free of Docker Hub's pull rate limit)."""
        response = self._request(
            ref, "HEAD", f"/v2/{ref.repository}/manifests/{ref.lookup}", accept=ACCEPT_MANIFESTS, what="manifest"
        )
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
        too_large = f"{what} of {_display(ref)} is larger than {_MAX_DOCUMENT} bytes"
        response, attempts = self._send(method, url, headers, ref=ref, too_large=too_large)
        if response.status_code == 401:
            challenge = parse_challenge(response.headers.get("WWW-Authenticate", ""))
            if challenge is None:
                raise _Failure(
                    f"{_registry_host(ref)} refused access to {ref.repository} (HTTP 401 without a usable challenge)"
                )
            with self._lock:
                self._challenges[ref.registry] = challenge
            headers["Authorization"] = self._authorize(ref, challenge, scope)
            response, attempts = self._send(method, url, headers, ref=ref, too_large=too_large)
            if response.status_code == 401:
                hint = (
                    "check the credentials configured for it"
                    if ref.registry in self.__credentials
                    else "no credentials are configured for it"
                )
                raise _Failure(
                    f"auth refused: {_registry_host(ref)} denied access to {ref.repository} "
                    f"(HTTP 401; private or missing repository, {hint})"
                )
        status = response.status_code
        if status == 200:
            return response
        if status == 404:
            raise _Failure(
                f"not found: {_display(ref)} has no {what} {path.rsplit('/', 1)[1]!r} on {_registry_host(ref)} (HTTP 404)"
            )
        if status == 403:
            raise _Failure(f"auth refused: {_registry_host(ref)} forbids access to {ref.repository} (HTTP 403)")
        if status == 429:
            raise _Failure(f"rate limited by {_registry_host(ref)} (HTTP 429{_gave_up(attempts)})", host_level=True)
        raise _Failure(
            f"{_registry_host(ref)} answered HTTP {status} for the {what} of {_display(ref)}"
            + (f" (gave up after {attempts} attempts)" if status in RETRY_STATUSES and (attempts or 0) > 1 else ""),
            host_level=status >= 500,
        )

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
            return basic_authorization(pair) if pair else None
        try:  # same realm, new repository: fetch its token without another 401 round trip
            return self._bearer(registry, challenge, scope)
        except _Failure:
            return None  # the request then meets the challenge and reports it properly

    def _authorize(self, ref: ImageRef, challenge: Challenge, scope: str) -> str:
        if challenge.scheme == "basic":
            pair = self.__credentials.get(ref.registry)
            if pair is None:
                raise _Failure(
                    f"auth refused: {_registry_host(ref)} requires credentials and none are configured for {ref.registry}"
                )
            return basic_authorization(pair)
        return self._bearer(ref.registry, challenge, challenge.params.get("scope") or scope)

    def _bearer(self, registry: str, challenge: Challenge, scope: str) -> str:
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
                headers["Authorization"] = basic_authorization(pair)
        response, _ = self._send(
            "GET",
            url,
            headers,
            ref=None,
            host=realm_host,
            too_large=f"token service {realm_host} sent an answer larger than {_MAX_DOCUMENT} bytes",
        )
        if response.status_code in (401, 403):
            who = "the configured credentials" if "Authorization" in headers else "anonymous access"
            raise _Failure(
                f"auth refused: token service {realm_host} rejected {who} for {registry} (HTTP {response.status_code})"
            )
        if response.status_code == 429:
            raise _Failure(f"rate limited by token service {realm_host} (HTTP 429)", host_level=True)
        if response.status_code != 200:
            raise _Failure(
                f"token service {realm_host} answered HTTP {response.status_code}",
                host_level=response.status_code >= 500,
            )
        try:
            answer = response.json()
            value = answer.get("token") or answer.get("access_token")
            lifetime = float(answer.get("expires_in") or _TOKEN_LIFETIME_DEFAULT)
        except (ValueError, AttributeError, TypeError):
            raise _Failure(f"token service {realm_host} sent an unreadable answer") from None
        if not isinstance(value, str) or not value:
            raise _Failure(f"token service {realm_host} sent no token")
        with self._lock:  # renew a little early so a token never expires mid-chain
            self._tokens[(registry, scope)] = Token(value, time.monotonic() + max(lifetime - 10, 1))
        return f"Bearer {value}"

    def _send(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str],
        *,
        ref: ImageRef | None,
        too_large: str,
        host: str | None = None,
    ) -> tuple[httpx.Response, int | None]:
        """The answer under :mod:`scanners.http`'s policy, and the attempts made when retries ran out.

        A 429 or 5xx still answered when the retries (or the deadline) run out is returned with
        the number of attempts, for the caller to word; any other answer comes with ``None``.
        Everything that gives no answer raises :class:`_Failure` (``too_large`` is its reason
        for a body over the size limit).
        """
        where = host or (_registry_host(ref) if ref else urlsplit(url).netloc)
        try:
            # Redirects are followed (Docker Hub sends blobs to a CDN); httpx drops the
            # Authorization header when a redirect leaves the registry's origin. A HEAD has no
            # body, and its Content-Length is the GET's, so no size limit applies to it.
            response = request(
                self._http,
                method,
                url,
                headers=headers,
                timeout=self._timeout,
                deadline=self._deadline,
                policy=self._policy,
                max_bytes=None if method == "HEAD" else _MAX_DOCUMENT,
                sleep=self._sleep,
            )
        except HttpError as exc:
            if exc.kind == "status" and exc.response is not None:
                return exc.response, exc.attempts
            host_level = exc.kind in ("timeout", "deadline", "unreachable")
            raise _Failure(_failure_reason(exc, where, too_large), host_level=host_level) from None
        return response, None

    def _base_url(self, registry: str) -> str:
        if registry in self._endpoints:
            return self._endpoints[registry]
        host = DOCKER_HUB_API if registry == DOCKER_HUB else registry
        scheme = "http" if registry in self.insecure_registries else "https"
        return f"{scheme}://{host}"

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
_HOST_ENTRY = ("", "")  # (repository, reference) of a registry host's breaker entry in the cache


def _registry_key(name: str) -> str:
    """Credential/endpoint keys spelled like references' registries (Docker Hub's aliases folded)."""
    key = name.strip().lower()
    for prefix in ("https://", "http://"):
        if key.startswith(prefix):
            key = key[len(prefix) :]
    key = key.split("/", 1)[0]
    return DOCKER_HUB if key in DOCKER_HUB_ALIASES else key


def _failure_reason(error: HttpError, where: str, too_large: str) -> str:
    """One line for a request that gave no answer, naming the host rather than the URL."""
    if error.kind == "too_large":
        return too_large
    if error.kind in ("timeout", "deadline"):
        return f"{where} {error.detail}{error.gave_up}"
    if error.kind == "unreachable":
        return f"cannot reach {where}: {error.detail}{error.gave_up}"
    # bad_url, redirects, protocol: asking again would not help. The detail may quote the URL.
    return f"cannot ask {where}: {redact(error.detail)}"


def _gave_up(attempts: int | None) -> str:
    return f", gave up after {attempts} attempts" if attempts and attempts > 1 else ""


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
