"""HTTP for every client of the engine: one retrying request, one redactor, one way to shorten a reason.

The package index, core metadata, the GitHub API and (next) container registries all ask servers
we do not run, thousands of times per scan. They share one policy, so a flaky mirror, a proxy
that trickles bytes or a rate limit behaves the same wherever it is met:

* **Retries.** A timeout, a network error and the statuses in :data:`RETRY_STATUSES` (429 and
  the transient 5xx) are retried; every other answer (404, 401, a redirect not followed…) is
  returned at once. Waits double from :attr:`RetryPolicy.backoff`, with jitter so many workers
  hit by the same outage do not come back in step. A ``Retry-After`` header replaces the
  computed wait, capped by :attr:`RetryPolicy.max_retry_after` so one server cannot stall a scan.
* **Timeouts.** ``timeout`` bounds each connect and each read of one attempt. httpx's read
  timeout is per read, so a server sending one byte every few seconds never trips it: the
  ``deadline`` (seconds) therefore covers the whole call, every attempt, every wait and the
  body download. The body is streamed and the deadline checked between chunks, and no read
  waits past it, so a call ends with an :class:`HttpError` of kind ``"deadline"`` soon after
  the deadline passes. A retry whose wait would pass the deadline is not made.
* **Failures** are an :class:`HttpError` with a ``kind`` the caller words for its reader, a
  one-line ``detail`` and the URL already :func:`redact`\\ ed; :func:`request` only *returns*
  answers whose status is not retryable (with the body read).

Callers keep their own headers (Accept, Authorization), redirect rule and size limit per call,
so one ``httpx.Client`` (thread-safe, one connection pool) serves them all.
"""

from __future__ import annotations

import logging
import random
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal, Self

import httpx

from scanners import ANALYSER_VERSION
from scanners.http_headers import retry_after_seconds

__all__ = [
    "DEFAULT_DEADLINE",
    "RETRY_STATUSES",
    "SERVER_ERRORS",
    "USER_AGENT",
    "FailureKind",
    "HttpError",
    "OwnsOrSharesHttp",
    "RetryPolicy",
    "new_client",
    "one_line",
    "redact",
    "request",
    "without_userinfo",
]

_log = logging.getLogger(__name__)

DEFAULT_DEADLINE = 60.0
"""Seconds one call may take in all (attempts, waits and body): no page may take more than 60 s."""

SERVER_ERRORS = frozenset({500, 502, 503, 504})
"""Server errors worth another attempt: the server or a proxy in front of it is briefly unwell."""

RETRY_STATUSES = SERVER_ERRORS | {429}
"""The statuses retried by default: server errors and "too many requests"."""

USER_AGENT = f"arch-readiness/{ANALYSER_VERSION} (+httpx)"

_CONNECT_TIMEOUT = 10.0
_LONG_TEXT = 300
_USERINFO = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)[^/?#\s]*@")

FailureKind = Literal["status", "timeout", "deadline", "unreachable", "bad_url", "redirects", "too_large", "protocol"]


def redact(text: str) -> str:
    """``text`` (a URL, or a message containing URLs) with the userinfo of every URL replaced:
    ``https://user:token@host/x`` → ``https://***@host/x``.

    Tokens in URLs are the usual way to reach private indexes and repositories, and messages
    end up in logs and the database.
    """
    return _USERINFO.sub(r"\g<scheme>***@", text)


def without_userinfo(text: str) -> str:
    """``text`` with the userinfo of every URL removed (``https://user:token@host/x`` →
    ``https://host/x``): the same part :func:`redact` hides, for keys that must not change
    when a token is rotated."""
    return _USERINFO.sub(r"\g<scheme>", text)


def one_line(value: BaseException | str, *, limit: int = _LONG_TEXT) -> str:
    """An exception or a text as one short line for a message: whitespace collapsed, at most
    ``limit`` characters; an exception without a message gives its class name."""
    text = " ".join(str(value).split())
    if not text and isinstance(value, BaseException):
        text = type(value).__name__
    return text if len(text) <= limit else text[: limit - 3] + "..."


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How often and how long to wait before asking again.

    ``retries`` extra attempts follow the first. The wait before retry ``n`` (from 1) is
    ``backoff * 2**(n-1)`` times a random factor in ``[1 - jitter, 1 + jitter]``, unless the
    answer had a ``Retry-After``, which is used instead, capped by ``max_retry_after``.
    """

    retries: int = 4
    backoff: float = 0.5
    jitter: float = 0.5
    max_retry_after: float = 60.0
    statuses: frozenset[int] = RETRY_STATUSES

    def __post_init__(self) -> None:
        if self.retries < 0:
            raise ValueError("retries must not be negative")
        if not 0 <= self.jitter <= 1:
            raise ValueError("jitter must be between 0 and 1")

    def delay(self, retry: int, retry_after: float | None = None) -> float:
        """Seconds to wait before retry number ``retry`` (1 for the first)."""
        if retry_after is not None:
            return min(retry_after, self.max_retry_after)
        factor = random.uniform(1 - self.jitter, 1 + self.jitter) if self.jitter else 1.0
        return self.backoff * (2 ** (retry - 1)) * factor


class HttpError(Exception):
    """A call that gave no usable answer; ``str()`` is one line with the redacted URL.

    ``kind`` says what went wrong, for the caller's own wording: ``"status"`` (a retryable
    status was still answered when retries ran out; ``response`` is that last answer, body
    read), ``"timeout"`` (an attempt's connect or read timed out), ``"deadline"`` (the call's
    deadline passed), ``"unreachable"`` (connection or network error), ``"bad_url"``,
    ``"redirects"``, ``"too_large"`` (the body passed ``max_bytes``) or ``"protocol"``.
    ``attempts`` is how many requests were sent; ``detail`` the one-line reason without the URL.
    """

    def __init__(
        self, kind: FailureKind, *, url: str, detail: str, attempts: int = 1, response: httpx.Response | None = None
    ) -> None:
        self.kind = kind
        self.url = redact(url)
        self.detail = detail
        self.attempts = attempts
        self.response = response
        super().__init__(f"{self.url}: {detail}")

    def __str__(self) -> str:
        return f"{self.url}: {self.detail}{self.gave_up}"

    @property
    def gave_up(self) -> str:
        """``" (gave up after N attempts)"`` when more than one attempt was made, else ``""``."""
        return f" (gave up after {self.attempts} attempts)" if self.attempts > 1 else ""


class _DeadlinePassed(Exception):
    pass


class _TooLarge(Exception):
    pass


def new_client(*, max_connections: int = 16) -> httpx.Client:
    """An ``httpx.Client`` for the clients here: our User-Agent and a pool of ``max_connections``.

    Timeouts are passed per request by :func:`request`, so the client needs none of its own.
    """
    return httpx.Client(
        limits=httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections),
        headers={"User-Agent": USER_AGENT},
    )


class OwnsOrSharesHttp:
    """Base of the clients built on an ``httpx.Client``: a shared one the caller closes, or their own.

    Subclasses call :meth:`_use_http` in ``__init__``; :meth:`close` (and ``with``) closes the
    client only when it was made here, so one pool can serve the index, registry and GitHub alike.
    """

    _http: httpx.Client
    _owns_http: bool

    def _use_http(self, http: httpx.Client | None, *, max_connections: int = 16) -> None:
        self._owns_http = http is None
        self._http = http if http is not None else new_client(max_connections=max_connections)

    def close(self) -> None:
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def request(
    http: httpx.Client,
    method: str,
    url: str,
    *,
    headers: Mapping[str, str] | None = None,
    params: Mapping[str, Any] | None = None,
    content: bytes | None = None,
    timeout: float = 30.0,
    connect_timeout: float = _CONNECT_TIMEOUT,
    deadline: float = DEFAULT_DEADLINE,
    policy: RetryPolicy = RetryPolicy(),
    max_bytes: int | None = None,
    follow_redirects: bool = True,
    sleep: Callable[[float], None] = time.sleep,
    shown_url: str | None = None,
) -> httpx.Response:
    """Send ``method url`` under the module's policy; the answer has its body read.

    :param timeout: seconds for each read of one attempt; connecting is capped at ``connect_timeout``.
    :param deadline: seconds for the whole call, attempts, waits and body included.
    :param content: the request body (a POST's JSON, encoded), sent again on each attempt.
    :param policy: the retries; ``RetryPolicy(retries=0)`` asks once.
    :param max_bytes: refuse a body larger than this (as sent, before decompression).
    :param sleep: how to wait between attempts (``time.sleep``); tests pass a recorder.
    :param shown_url: the URL as errors and log lines name it, when the URL itself is a secret
        (a Slack or Teams webhook's path is its key).
    :raises HttpError: no usable answer; a returned response never has a retryable status.
    """
    deadline_at = time.monotonic() + deadline
    label = shown_url if shown_url is not None else url
    attempts = policy.retries + 1
    failure: HttpError | None = None
    for attempt in range(1, attempts + 1):
        remaining = deadline_at - time.monotonic()
        if remaining <= 0:
            raise _deadline_error(label, deadline, attempt - 1)
        # No read may wait past the deadline: a read timeout that fires then is the deadline's.
        read = min(timeout, remaining)
        limits = httpx.Timeout(read, connect=min(read, connect_timeout))
        retry_after: float | None = None
        try:
            response = _attempt(
                http,
                method,
                url,
                headers=headers,
                params=params,
                content=content,
                timeout=limits,
                follow_redirects=follow_redirects,
                deadline_at=deadline_at,
                max_bytes=max_bytes,
            )
        except _DeadlinePassed:
            raise _deadline_error(label, deadline, attempt) from None
        except _TooLarge:
            raise HttpError(
                "too_large", url=label, detail=f"answer larger than {max_bytes} bytes", attempts=attempt
            ) from None
        except httpx.TimeoutException:
            if read < timeout or time.monotonic() >= deadline_at:
                raise _deadline_error(label, deadline, attempt) from None
            failure = HttpError("timeout", url=label, detail=f"timed out after {timeout:g}s", attempts=attempt)
        except (httpx.UnsupportedProtocol, httpx.InvalidURL) as exc:
            raise HttpError("bad_url", url=label, detail=one_line(exc), attempts=attempt) from None
        except httpx.TooManyRedirects:
            raise HttpError("redirects", url=label, detail="too many redirects", attempts=attempt) from None
        except (httpx.TransportError, OSError) as exc:
            failure = HttpError("unreachable", url=label, detail=one_line(exc), attempts=attempt)
        except httpx.HTTPError as exc:
            raise HttpError("protocol", url=label, detail=one_line(exc), attempts=attempt) from None
        else:
            if response.status_code not in policy.statuses:
                return response
            failure = HttpError(
                "status", url=label, detail=f"answered HTTP {response.status_code}", attempts=attempt, response=response
            )
            retry_after = retry_after_seconds(response.headers.get("Retry-After"))
        if attempt == attempts:
            break
        delay = policy.delay(attempt, retry_after)
        if time.monotonic() + delay >= deadline_at:
            _log.info(
                "%s (attempt %d/%d); not retrying: waiting %.2fs would pass the %gs deadline",
                failure,
                attempt,
                attempts,
                delay,
                deadline,
            )
            break
        _log.info("%s (attempt %d/%d); retrying in %.2fs", failure, attempt, attempts, delay)
        sleep(delay)
    assert failure is not None
    raise failure


def _deadline_error(url: str, deadline: float, attempts: int) -> HttpError:
    return HttpError(
        "deadline",
        url=url,
        detail=f"timed out: no complete answer within the {deadline:g}s deadline",
        attempts=max(attempts, 1),
    )


def _attempt(
    http: httpx.Client,
    method: str,
    url: str,
    *,
    headers: Mapping[str, str] | None,
    params: Mapping[str, Any] | None,
    content: bytes | None,
    timeout: httpx.Timeout,
    follow_redirects: bool,
    deadline_at: float,
    max_bytes: int | None,
) -> httpx.Response:
    """One request, its body streamed with the deadline (and size) checked between chunks."""
    with http.stream(
        method,
        url,
        headers=headers,
        params=params,
        content=content,
        timeout=timeout,
        follow_redirects=follow_redirects,
    ) as streamed:
        declared = streamed.headers.get("Content-Length", "")
        if max_bytes is not None and declared.isdigit() and int(declared) > max_bytes:
            raise _TooLarge
        chunks: list[bytes] = []
        size = 0
        for chunk in streamed.iter_raw():
            size += len(chunk)
            if max_bytes is not None and size > max_bytes:
                raise _TooLarge
            chunks.append(chunk)
            if time.monotonic() > deadline_at:
                raise _DeadlinePassed
    # A plain response over the raw bytes: httpx decodes them (Content-Encoding) as for any
    # response, and callers use .content, .json(), .links and .url as usual.
    return httpx.Response(
        streamed.status_code,
        headers=streamed.headers,
        content=b"".join(chunks),
        request=streamed.request,
        history=streamed.history,
        extensions=streamed.extensions,
    )
