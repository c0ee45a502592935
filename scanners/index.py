"""Package index client: release files of a project, from PEP 691 JSON or PEP 503 HTML pages.

Fetching and parsing are separate, as in pip's collector: :class:`IndexClient` does the I/O
(content negotiation, retries, conditional requests, caching) and :func:`parse_project_page`
is pure and branches on the response's content type, using ``pypi_simple``'s parsers.

An index client never raises for HTTP or network trouble: every project gets a
:class:`ProjectResult` whose ``status`` says ``ok``, ``not_found`` or ``error`` with a one-line
reason, so one dead mirror or one private package never stops a scan of 3,000 packages.
One client serves one scan run: it memoises every project it fetched, so a package costs at
most one request per run (and none while a shared cache still holds its page).
"""

from __future__ import annotations

import ast
import configparser
import datetime as dt
import importlib.util
import logging
import os
import re
import sys
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from urllib.parse import urljoin

import httpx
from packaging.utils import NormalizedName, canonicalize_name

from scanners.distributions import ProjectFiles
from scanners.http import DEFAULT_DEADLINE, HttpError, OwnsOrSharesHttp, RetryPolicy, one_line, redact, request
from scanners.index_cache import CachedPage, FileIndexCache, IndexCache, MemoryIndexCache
from scanners.index_pages import parse_project_page

__all__ = [
    "ACCEPT",
    "CachedPage",
    "FileIndexCache",
    "IndexCache",
    "IndexClient",
    "MemoryIndexCache",
    "ProjectResult",
    "ResultStatus",
    "default_index_url",
    "parse_project_page",
    "public_index_url",
]

_log = logging.getLogger(__name__)

ACCEPT = ", ".join(
    [
        "application/vnd.pypi.simple.v1+json",
        "application/vnd.pypi.simple.v1+html;q=0.2",
        "text/html;q=0.01",
    ]
)
"""The Accept header pip sends: JSON preferred, HTML accepted from older indexes."""

# PEP 508 names: anything else cannot be a project on an index, so don't ask for it.
_VALID_NAME = re.compile(r"^([A-Z0-9]|[A-Z0-9][A-Z0-9._-]*[A-Z0-9])$", re.IGNORECASE)

ResultStatus = Literal["ok", "not_found", "error"]

_PARSING = threading.Lock()


@dataclass(frozen=True, slots=True)
class ProjectResult:
    """What the index said about one project.

    ``files`` is set exactly when ``status == "ok"``. ``error`` is a one-line reason for
    ``not_found``/``error``. ``from_cache`` is true when the files came from a cached page
    (fresh, revalidated by a 304, or a stale fallback). ``warning`` is set when a stale
    cached page was used because the index could not be reached. ``project_status`` is the
    PEP 792 status (``"archived"``, ``"quarantined"``, ``"deprecated"``) when the index gives one.
    """

    name: NormalizedName
    files: ProjectFiles | None
    error: str | None
    status: ResultStatus
    from_cache: bool = False
    warning: str | None = None
    project_status: str | None = None

    def __post_init__(self) -> None:
        if (self.status == "ok") != (self.files is not None):
            raise ValueError(f"ProjectResult {self.name}: files must be set exactly when status is 'ok'")


class IndexClient(OwnsOrSharesHttp):
    """Fetches project pages from one Simple Repository API index.

    :param base_url: the index URL (``…/simple/``); see :func:`default_index_url`.
    :param http: a shared ``httpx.Client`` (it is thread-safe); the client makes and owns one
        when ``None``. Timeouts are always passed per request, so a client without them is fine.
    :param cache: an :class:`IndexCache`; ``None`` caches nothing between runs.
    :param cache_period: seconds a cached page is used without asking the index; after that
        the page is revalidated with a conditional request.
    :param max_concurrency: requests in flight at once in :meth:`fetch_many`.
    :param retries: extra attempts after a timeout, network error, 429 or 5xx (not other 4xx).
    :param backoff: first retry delay in seconds; it doubles each attempt, with jitter.
    :param timeout: seconds for each read of a request (connect is capped at 10 s).
    :param deadline: seconds one page may take in all, retries and a slow body included
        (see :mod:`scanners.http`).
    :param max_retry_after: cap on a server's Retry-After, so one index cannot stall a scan.
    :param sleep: how to wait between attempts (``time.sleep``); tests pass a recorder.
    """

    def __init__(
        self,
        base_url: str,
        *,
        http: httpx.Client | None = None,
        cache: IndexCache | None = None,
        cache_period: float = 3600,
        max_concurrency: int = 8,
        retries: int = 4,
        backoff: float = 0.5,
        timeout: float = 30.0,
        max_retry_after: float = 60.0,
        deadline: float = DEFAULT_DEADLINE,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if max_concurrency < 1:
            raise ValueError("max_concurrency must be at least 1")
        if retries < 0:
            raise ValueError("retries must not be negative")
        self.base_url = base_url if base_url.endswith("/") else base_url + "/"
        self.cache = cache
        self.cache_period = cache_period
        self.max_concurrency = max_concurrency
        self.retries = retries
        self.backoff = backoff
        self.max_retry_after = max_retry_after
        self.timeout = timeout
        self.deadline = deadline
        self._policy = RetryPolicy(retries=retries, backoff=backoff, max_retry_after=max_retry_after)
        self._sleep = sleep
        self._use_http(http, max_connections=max_concurrency)
        self._lock = threading.Lock()
        self._memo: dict[str, Future[ProjectResult]] = {}

    def project_url(self, name: str) -> str:
        return urljoin(self.base_url, f"{canonicalize_name(name)}/")

    # -- public API ----------------------------------------------------------------------------

    def fetch_project(self, name: str) -> ProjectResult:
        """The files of one project; never raises for HTTP or network trouble.

        The first call for a (canonical) name does the work; later and concurrent calls get
        the same result.
        """
        canonical = canonicalize_name(name)
        with self._lock:
            future = self._memo.get(canonical)
            owner = future is None
            if owner:
                future = self._memo[canonical] = Future()
        assert future is not None
        if owner:
            try:
                result = self._fetch(name, canonical)
            except Exception as exc:  # noqa: BLE001 - a bug here must not kill a scan
                _log.exception("index client failed on %s", canonical)
                result = ProjectResult(
                    canonical, None, f"internal error fetching {canonical}: {one_line(exc)}", "error"
                )
            future.set_result(result)
        return future.result()

    def _answered(self, name: str, result: ProjectResult) -> None:
        """Let ``result`` be this client's answer for ``name`` unless it has one already (a cache
        that knows the answer without the page, like a worker's memory of parsed pages)."""
        canonical = canonicalize_name(name)
        with self._lock:
            if canonical in self._memo:
                return
            future: Future[ProjectResult] = Future()
            future.set_result(result)
            self._memo[canonical] = future

    def fetch_many(
        self, names: Iterable[str], *, progress: Callable[[int, int], None] | None = None
    ) -> dict[str, ProjectResult]:
        """Fetch many projects concurrently, one request per distinct canonical name.

        The result maps each canonical name, and also each spelling passed in, to its result.
        ``progress(done, total)`` is called from the calling thread after each distinct project.
        """
        spellings: dict[str, list[str]] = {}
        for name in names:
            spellings.setdefault(canonicalize_name(name), []).append(name)
        total = len(spellings)
        results: dict[str, ProjectResult] = {}
        if not total:
            return results
        done = 0
        with ThreadPoolExecutor(max_workers=min(self.max_concurrency, total), thread_name_prefix="index") as pool:
            futures = {pool.submit(self.fetch_project, given[0]): canonical for canonical, given in spellings.items()}
            for future in as_completed(futures):
                canonical = futures[future]
                result = future.result()  # fetch_project never raises
                results[canonical] = result
                for spelling in spellings[canonical]:
                    results[spelling] = result
                done += 1
                if progress is not None:
                    progress(done, total)
        return results

    # -- internals -----------------------------------------------------------------------------

    def _fetch(self, given: str, canonical: NormalizedName) -> ProjectResult:
        if not _VALID_NAME.match(given.strip()):
            return ProjectResult(canonical, None, f"{given!r} is not a valid project name", "error")
        url = self.project_url(canonical)
        now = dt.datetime.now(dt.UTC)
        parsed_before = self._fresh_files(canonical, now)
        if parsed_before is not None:
            return parsed_before
        cached = self._cache_get(canonical)
        if cached is not None and (now - cached.fetched_at).total_seconds() < self.cache_period:
            parsed = self._parse(canonical, cached, from_cache=True)
            if parsed.status == "ok":
                return parsed
            cached = None  # an unparsable cached page is refetched in full

        headers = {"Accept": ACCEPT}
        if cached is not None:
            if cached.etag:
                headers["If-None-Match"] = cached.etag
            if cached.last_modified:
                headers["If-Modified-Since"] = cached.last_modified
        response, reason = self._get(url, headers)

        if response is None:
            if cached is not None:
                stale = self._parse(canonical, cached, from_cache=True)
                if stale.status == "ok":
                    note = f"{reason}; using the page cached at {cached.fetched_at.isoformat(timespec='seconds')}"
                    _log.warning("%s: %s", canonical, note)
                    return ProjectResult(canonical, stale.files, None, "ok", True, note, stale.project_status)
            return ProjectResult(canonical, None, reason, "error")

        if response.status_code == 304 and cached is not None:
            refreshed = CachedPage(
                body=cached.body,
                content_type=cached.content_type,
                etag=response.headers.get("ETag", cached.etag),
                last_modified=response.headers.get("Last-Modified", cached.last_modified),
                fetched_at=dt.datetime.now(dt.UTC),
                url=cached.url,
            )
            self._cache_put(canonical, refreshed)
            return self._parse(canonical, refreshed, from_cache=True)
        if response.status_code == 404:
            return ProjectResult(
                canonical, None, f"{canonical} is not on the index {redact(self.base_url)} (HTTP 404)", "not_found"
            )
        if response.status_code != 200:
            return ProjectResult(canonical, None, f"index {redact(url)} answered HTTP {response.status_code}", "error")

        page = CachedPage(
            body=response.content,
            content_type=response.headers.get("Content-Type", ""),
            etag=response.headers.get("ETag"),
            last_modified=response.headers.get("Last-Modified"),
            fetched_at=dt.datetime.now(dt.UTC),
            url=str(response.url),
        )
        result = self._parse(canonical, page, from_cache=False)
        if result.status == "ok":
            self._cache_put(canonical, page)
        return result

    def _parse(self, canonical: NormalizedName, page: CachedPage, *, from_cache: bool) -> ProjectResult:
        # One page parsed and kept at a time: parsing holds the GIL anyway, and a big project's page
        # (thousands of files) is tens of megabytes of objects until it is kept as rows on disk.
        with _PARSING:
            try:
                files, status = parse_project_page(
                    canonical, page.body, page.content_type, url=page.url or self.project_url(canonical)
                )
            except ValueError as exc:
                where = "cached page" if from_cache else redact(page.url or self.project_url(canonical))
                return ProjectResult(canonical, None, f"{where}: {exc}", "error", from_cache)
            put_files = getattr(self.cache, "put_files", None)
            if put_files is not None:
                try:
                    files = put_files(self.base_url, canonical, page, files, status) or files
                except Exception as exc:  # noqa: BLE001 - a broken cache costs a parse, not a scan
                    _log.warning("index cache write failed for %s: %s", canonical, exc)
        return ProjectResult(canonical, files, None, "ok", from_cache, None, status)

    def _fresh_files(self, canonical: NormalizedName, now: dt.datetime) -> ProjectResult | None:
        """A fresh page's files as a cache that keeps parsed pages has them (:class:`FileIndexCache`)."""
        fresh_files = getattr(self.cache, "fresh_files", None)
        if fresh_files is None or self.cache_period <= 0:
            return None
        try:
            hit = fresh_files(self.base_url, canonical, period=self.cache_period, now=now)
        except Exception as exc:  # noqa: BLE001 - a broken cache costs a request, not a scan
            _log.warning("index cache read failed for %s: %s", canonical, exc)
            return None
        if hit is None:
            return None
        files, status = hit
        return ProjectResult(canonical, files, None, "ok", True, None, status)

    def _get(self, url: str, headers: Mapping[str, str]) -> tuple[httpx.Response | None, str]:
        """GET with the shared retry policy; ``(response, "")`` or ``(None, one-line reason)``."""
        try:
            response = request(
                self._http,
                "GET",
                url,
                headers=headers,
                timeout=self.timeout,
                deadline=self.deadline,
                policy=self._policy,
                sleep=self._sleep,
            )
        except HttpError as exc:
            where = redact(url)
            if exc.kind == "bad_url":
                return None, f"bad index URL {where}: {exc.detail}"
            if exc.kind == "unreachable":
                return None, f"cannot reach index {where}: {exc.detail}{exc.gave_up}"
            if exc.kind in ("status", "timeout", "deadline"):
                return None, f"index {where} {exc.detail}{exc.gave_up}"
            return None, f"index {where}: {exc.detail}"
        return response, ""

    def _cache_get(self, canonical: str) -> CachedPage | None:
        if self.cache is None:
            return None
        try:
            return self.cache.get(self.base_url, canonical)
        except Exception as exc:  # noqa: BLE001 - a broken cache costs a request, not a scan
            _log.warning("index cache read failed for %s: %s", canonical, exc)
            return None

    def _cache_put(self, canonical: str, page: CachedPage) -> None:
        if self.cache is None:
            return
        try:
            self.cache.put(self.base_url, canonical, page)
        except Exception as exc:  # noqa: BLE001
            _log.warning("index cache write failed for %s: %s", canonical, exc)


# --------------------------------------------------------------------------- index URL


def _pip_config_files(environ: Mapping[str, str], prefix: str | None) -> list[Path]:
    """pip's configuration files in increasing priority (pip's ``Configuration`` order).

    ``PIP_CONFIG_FILE=/dev/null`` disables every file, as in pip; an existing
    ``PIP_CONFIG_FILE`` also hides the user's files.
    """
    env_file = environ.get("PIP_CONFIG_FILE")
    if env_file == os.devnull:
        return []
    home = Path(environ.get("HOME") or "~").expanduser()
    xdg_dirs = environ.get("XDG_CONFIG_DIRS") or "/etc/xdg"
    files: list[Path] = [Path(d) / "pip" / "pip.conf" for d in reversed(xdg_dirs.split(os.pathsep)) if d]
    files.append(Path("/etc/pip.conf"))
    if not (env_file and Path(env_file).exists()):
        xdg_home = Path(environ.get("XDG_CONFIG_HOME") or home / ".config")
        files += [home / ".pip" / "pip.conf", xdg_home / "pip" / "pip.conf"]
    if prefix:
        files.append(Path(prefix) / "pip.conf")
    if env_file:
        files.append(Path(env_file))
    return files


def _pip_config_index_url(files: Iterable[Path]) -> str | None:
    found: str | None = None
    for path in files:
        parser = configparser.RawConfigParser()
        try:
            with open(path, encoding="utf-8") as f:
                parser.read_file(f)
        except FileNotFoundError:
            continue
        except (OSError, UnicodeDecodeError, configparser.Error) as exc:
            _log.warning("ignoring unreadable pip configuration %s: %s", path, one_line(exc))
            continue
        # pip normalises option names ("index_url" == "index-url"); `pip install` reads [install] over [global].
        for section in ("global", "install"):
            if parser.has_section(section):
                for key, value in parser.items(section):
                    if key.lower().replace("_", "-") == "index-url" and value.strip():
                        found = value.strip()
    return found


def default_index_url(environ: Mapping[str, str] = os.environ, *, prefix: str | None = sys.prefix) -> str:
    """The index to ask: ``READINESS_INDEX_URL``, else ``PIP_INDEX_URL``, else pip's
    configured ``index-url``, else the public index.

    pip's configuration is read with configparser from the files pip itself reads on Linux
    (``PIP_CONFIG_FILE``, ``$XDG_CONFIG_HOME/pip/pip.conf``, ``~/.pip/pip.conf``,
    ``/etc/xdg/pip/pip.conf``, ``/etc/pip.conf`` and ``<prefix>/pip.conf``), never by
    importing pip. ``prefix`` is the environment whose site ``pip.conf`` counts (``None``: none).
    """
    for var in ("READINESS_INDEX_URL", "PIP_INDEX_URL"):
        value = (environ.get(var) or "").strip()
        if value:
            return value
    configured = _pip_config_index_url(_pip_config_files(environ, prefix))
    return configured or public_index_url()


def public_index_url() -> str:
    """``pypi_simple.PYPI_SIMPLE_ENDPOINT``, the public index, read from pypi_simple's own source.

    Importing ``pypi_simple`` loads an HTML parser, pydantic and requests (~0.3 s) for one string
    constant, on every command-line run; reading the constant's assignment costs a millisecond.
    """
    module = sys.modules.get("pypi_simple")
    if module is not None:
        return module.PYPI_SIMPLE_ENDPOINT
    spec = importlib.util.find_spec("pypi_simple")
    if spec is not None and spec.origin:
        try:
            for node in ast.parse(Path(spec.origin).read_bytes()).body:
                target: ast.expr
                if isinstance(node, ast.AnnAssign) and node.value is not None:
                    target, value = node.target, node.value
                elif isinstance(node, ast.Assign) and len(node.targets) == 1:
                    target, value = node.targets[0], node.value
                else:
                    continue
                if isinstance(target, ast.Name) and target.id == "PYPI_SIMPLE_ENDPOINT":
                    return str(ast.literal_eval(value))
        except (OSError, SyntaxError, ValueError):
            pass
    from pypi_simple import PYPI_SIMPLE_ENDPOINT  # a layout this reader does not know: pay the import

    return PYPI_SIMPLE_ENDPOINT
