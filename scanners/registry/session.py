"""Talking to one container registry: where its API is, its auth challenges and tokens, retries.

:class:`RegistrySession` sends the requests of :class:`~scanners.registry.client.RegistryClient`
(which decides what to ask and keeps the answers). Every request goes through
:func:`scanners.http.request`, so retries, ``Retry-After``, jitter and the per-call deadline are
the same as for the package index. A request that gives no usable answer raises
:class:`RegistryFailure` with one line a reader understands; ``host_level`` says whether it
speaks of the registry (down, slow, rate limiting) rather than of the image.

Credentials (``{registry: (user, password)}``) are sent only to the token realm or registry
that asks for them, and never appear in log lines, error messages or returned values; bearer
tokens are kept in memory only, for their lifetime.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Collection, Mapping
from urllib.parse import urlencode, urlsplit

import httpx

from scanners.http import RETRY_STATUSES, HttpError, RetryPolicy, redact, request
from scanners.image_reference import DOCKER_HUB, DOCKER_HUB_ALIASES, DOCKER_HUB_API, ImageRef
from scanners.registry.auth import Challenge, Token, basic_authorization, parse_challenge

__all__ = ["MAX_DOCUMENT", "RegistryFailure", "RegistrySession", "display", "registry_host", "registry_key"]

MAX_DOCUMENT = 4 * 1024 * 1024  # containerd's limit for manifests; a config blob is far smaller
_TOKEN_LIFETIME_DEFAULT = 60.0  # the distribution spec's default when a token answer has no expires_in


class RegistryFailure(Exception):
    """Internal: a one-line reason this image could not be asked; becomes ImagePlatforms.error.

    ``host_level`` failures say nothing about the image and everything about its registry
    (unreachable, timed out, 429, 5xx): they count towards the host's circuit breaker.
    """

    def __init__(self, reason: str, *, host_level: bool = False) -> None:
        super().__init__(reason)
        self.host_level = host_level


class RegistrySession:
    """The requests of one client, over a (shared) ``httpx.Client``; see the module docstring."""

    def __init__(
        self,
        *,
        http: httpx.Client,
        credentials: Mapping[str, tuple[str, str]] | None,
        insecure_registries: Collection[str],
        endpoints: Mapping[str, str] | None,
        policy: RetryPolicy,
        timeout: float,
        deadline: float,
        sleep: Callable[[float], None],
    ) -> None:
        self._http = http
        self.insecure_registries = frozenset(registry_key(name) for name in insecure_registries)
        self._endpoints = {registry_key(name): url.rstrip("/") for name, url in (endpoints or {}).items()}
        # Private copy, keyed the same way as references; never exposed (no repr, no attribute).
        self.__credentials = {
            registry_key(name): (str(pair[0]), str(pair[1])) for name, pair in (credentials or {}).items()
        }
        self._policy = policy
        self._timeout = timeout
        self._deadline = deadline
        self._sleep = sleep
        self._lock = threading.Lock()
        self._tokens: dict[tuple[str, str], Token] = {}
        self._challenges: dict[str, Challenge] = {}

    def __repr__(self) -> str:  # never show credentials
        return f"<RegistrySession registries_with_credentials={len(self.__credentials)}>"

    @property
    def registries_with_credentials(self) -> int:
        return len(self.__credentials)

    def request(self, ref: ImageRef, method: str, path: str, *, accept: str, what: str) -> httpx.Response:
        """One registry request, answering at most one auth challenge; raises :class:`RegistryFailure`."""
        url = self._base_url(ref.registry) + path
        scope = f"repository:{ref.repository}:pull"
        headers = {"Accept": accept}
        authorization = self._known_authorization(ref.registry, scope)
        if authorization:
            headers["Authorization"] = authorization
        too_large = f"{what} of {display(ref)} is larger than {MAX_DOCUMENT} bytes"
        response, attempts = self._send(method, url, headers, ref=ref, too_large=too_large)
        if response.status_code == 401:
            challenge = parse_challenge(response.headers.get("WWW-Authenticate", ""))
            if challenge is None:
                raise RegistryFailure(
                    f"{registry_host(ref)} refused access to {ref.repository} (HTTP 401 without a usable challenge)"
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
                raise RegistryFailure(
                    f"auth refused: {registry_host(ref)} denied access to {ref.repository} "
                    f"(HTTP 401; private or missing repository, {hint})"
                )
        status = response.status_code
        if status == 200:
            return response
        if status == 404:
            raise RegistryFailure(
                f"not found: {display(ref)} has no {what} {path.rsplit('/', 1)[1]!r} on {registry_host(ref)} (HTTP 404)"
            )
        if status == 403:
            raise RegistryFailure(f"auth refused: {registry_host(ref)} forbids access to {ref.repository} (HTTP 403)")
        if status == 429:
            raise RegistryFailure(
                f"rate limited by {registry_host(ref)} (HTTP 429{_gave_up(attempts)})", host_level=True
            )
        raise RegistryFailure(
            f"{registry_host(ref)} answered HTTP {status} for the {what} of {display(ref)}"
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
        except RegistryFailure:
            return None  # the request then meets the challenge and reports it properly

    def _authorize(self, ref: ImageRef, challenge: Challenge, scope: str) -> str:
        if challenge.scheme == "basic":
            pair = self.__credentials.get(ref.registry)
            if pair is None:
                raise RegistryFailure(
                    f"auth refused: {registry_host(ref)} requires credentials and none are configured for {ref.registry}"
                )
            return basic_authorization(pair)
        return self._bearer(ref.registry, challenge, challenge.params.get("scope") or scope)

    def _bearer(self, registry: str, challenge: Challenge, scope: str) -> str:
        realm = challenge.params.get("realm", "")
        parts = urlsplit(realm)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise RegistryFailure(f"{registry} sent an unusable token realm")
        query = {key: value for key, value in (("service", challenge.params.get("service")), ("scope", scope)) if value}
        url = realm + ("&" if parts.query else "?") + urlencode(query)
        headers = {"Accept": "application/json"}
        pair = self.__credentials.get(registry)
        realm_host = parts.netloc.rsplit("@", 1)[-1]
        if pair is not None:
            # Never send a password in clear text, except to a registry marked insecure (loopback tests).
            if parts.scheme == "https" or registry_key(realm_host) in self.insecure_registries:
                headers["Authorization"] = basic_authorization(pair)
        response, _ = self._send(
            "GET",
            url,
            headers,
            ref=None,
            host=realm_host,
            too_large=f"token service {realm_host} sent an answer larger than {MAX_DOCUMENT} bytes",
        )
        if response.status_code in (401, 403):
            who = "the configured credentials" if "Authorization" in headers else "anonymous access"
            raise RegistryFailure(
                f"auth refused: token service {realm_host} rejected {who} for {registry} (HTTP {response.status_code})"
            )
        if response.status_code == 429:
            raise RegistryFailure(f"rate limited by token service {realm_host} (HTTP 429)", host_level=True)
        if response.status_code != 200:
            raise RegistryFailure(
                f"token service {realm_host} answered HTTP {response.status_code}",
                host_level=response.status_code >= 500,
            )
        try:
            answer = response.json()
            value = answer.get("token") or answer.get("access_token")
            lifetime = float(answer.get("expires_in") or _TOKEN_LIFETIME_DEFAULT)
        except (ValueError, AttributeError, TypeError):
            raise RegistryFailure(f"token service {realm_host} sent an unreadable answer") from None
        if not isinstance(value, str) or not value:
            raise RegistryFailure(f"token service {realm_host} sent no token")
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
        Everything that gives no answer raises :class:`RegistryFailure` (``too_large`` is its reason
        for a body over the size limit).
        """
        where = host or (registry_host(ref) if ref else urlsplit(url).netloc)
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
                max_bytes=None if method == "HEAD" else MAX_DOCUMENT,
                sleep=self._sleep,
            )
        except HttpError as exc:
            if exc.kind == "status" and exc.response is not None:
                return exc.response, exc.attempts
            host_level = exc.kind in ("timeout", "deadline", "unreachable")
            raise RegistryFailure(_failure_reason(exc, where, too_large), host_level=host_level) from None
        return response, None

    def _base_url(self, registry: str) -> str:
        if registry in self._endpoints:
            return self._endpoints[registry]
        host = DOCKER_HUB_API if registry == DOCKER_HUB else registry
        scheme = "http" if registry in self.insecure_registries else "https"
        return f"{scheme}://{host}"


def registry_key(name: str) -> str:
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


def registry_host(ref: ImageRef) -> str:
    return DOCKER_HUB_API if ref.registry == DOCKER_HUB else ref.registry


def display(ref: ImageRef) -> str:
    return f"{ref.registry}/{ref.repository}" + (f"@{ref.digest}" if ref.digest else f":{ref.tag}")
