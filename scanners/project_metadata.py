"""A project's own URLs (issue tracker, source, home page), from the index's core metadata.

PEP 658/714 let an index serve a release file's ``METADATA`` next to it as ``<file>.metadata``,
advertised in the Simple API as ``core-metadata`` (``data-core-metadata`` / the older
``data-dist-info-metadata`` in HTML). Reading that small file costs one request and no wheel
download. Fetching (:func:`fetch_project_metadata`) and parsing (:func:`parse_core_metadata`)
are separate; callers cache the answer per package (the dashboard keeps it in the database).
"""

from __future__ import annotations

import email.parser
import email.policy
import json
import logging
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urljoin

import httpx
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from scanners.distributions import DistributionFile
from scanners.http import DEFAULT_DEADLINE, HttpError, RetryPolicy, one_line, request
from scanners.index import ACCEPT
from scanners.metadata_cache import FileMetadataCache, metadata_key

__all__ = ["ProjectMetadata", "fetch_project_metadata", "metadata_from_page", "metadata_reader", "parse_core_metadata"]

if TYPE_CHECKING:  # imported where used: the command line reads metadata without loading pypi_simple
    from pypi_simple import DistributionPackage, ProjectPage

_log = logging.getLogger(__name__)
_JSON = "application/vnd.pypi.simple.v1+json"
# Metadata is extra knowledge, never needed for a verdict: one attempt, as before the shared helper.
_ONCE = RetryPolicy(retries=0)
# The index's word that a file has no metadata; anything else but a 200 is trouble, not an answer.
_NO_METADATA = frozenset({403, 404, 410})


@dataclass(frozen=True, slots=True)
class ProjectMetadata:
    """What a project says about itself in its newest release's core metadata.

    ``project_urls`` are ``(label, url)`` pairs in file order; ``error`` is a one-line reason
    when nothing could be read (then the other fields are empty).
    """

    name: str
    version: str = ""
    project_urls: tuple[tuple[str, str], ...] = ()
    home_page: str = ""
    error: str = ""


def parse_core_metadata(data: bytes) -> tuple[tuple[tuple[str, str], ...], str]:
    """``(Project-URL pairs, Home-page)`` from a METADATA file (RFC 822 headers; pure).

    A ``Project-URL`` without a comma is kept with an empty label; bad bytes are replaced
    rather than raising, because one odd file must not stop advice for the others. NUL
    characters are dropped: no URL holds one, and PostgreSQL refuses them in text.
    """
    message = email.parser.BytesHeaderParser(policy=email.policy.compat32).parsebytes(data)
    urls = []
    for value in message.get_all("Project-URL") or ():
        label, sep, url = str(value).replace("\x00", "").partition(",")
        if not sep:
            label, url = "", label
        if url.strip():
            urls.append((label.strip(), url.strip()))
    home = str(message.get("Home-page") or "").replace("\x00", "").strip()
    if home.upper() == "UNKNOWN":
        home = ""
    return tuple(urls), home


def _version(p: DistributionPackage) -> Version | None:
    try:
        return Version(p.version) if p.version else None
    except InvalidVersion:
        return None


def _newest_with_metadata(page: ProjectPage) -> DistributionPackage | None:
    """The newest non-yanked release's file with metadata; final releases before pre-releases, wheels first."""
    candidates = [
        (v, p) for p in page.packages if p.has_metadata and not p.is_yanked and (v := _version(p)) is not None
    ]
    if not candidates:
        return None
    return max(candidates, key=lambda vp: (not vp[0].is_prerelease, vp[0], vp[1].package_type == "wheel"))[1]


def _get(
    http: httpx.Client, url: str, *, timeout: float, deadline: float, headers: dict[str, str] | None = None
) -> httpx.Response:
    """One GET through :func:`scanners.http.request`; a 5xx comes back as an answer, like any status."""
    try:
        return request(http, "GET", url, headers=headers, timeout=timeout, deadline=deadline, policy=_ONCE)
    except HttpError as exc:
        if exc.response is not None:
            return exc.response
        raise


def _unreadable(canonical: str, exc: HttpError | OSError) -> ProjectMetadata:
    return ProjectMetadata(canonical, error=f"cannot read the metadata of {canonical}: {one_line(exc)}")


def fetch_project_metadata(
    name: str, *, index_url: str, http: httpx.Client, timeout: float = 30.0, deadline: float = DEFAULT_DEADLINE
) -> ProjectMetadata:
    """Read ``name``'s project page, then the core metadata of its newest release's file.

    Two requests, each within ``deadline`` seconds. Never raises for HTTP or network trouble:
    the reason is in ``error``.
    """
    canonical = canonicalize_name(name)
    page_url = urljoin(index_url if index_url.endswith("/") else index_url + "/", f"{canonical}/")
    try:
        response = _get(http, page_url, headers={"Accept": ACCEPT}, timeout=timeout, deadline=deadline)
    except (HttpError, OSError) as exc:
        return _unreadable(canonical, exc)
    if response.status_code != 200:
        return ProjectMetadata(canonical, error=f"{page_url} answered HTTP {response.status_code}")
    return metadata_from_page(
        canonical,
        body=response.content,
        content_type=response.headers.get("Content-Type", ""),
        page_url=str(response.url),
        http=http,
        timeout=timeout,
        deadline=deadline,
    )


def metadata_from_page(
    name: str,
    *,
    body: bytes,
    content_type: str,
    page_url: str,
    http: httpx.Client,
    timeout: float = 30.0,
    deadline: float = DEFAULT_DEADLINE,
) -> ProjectMetadata:
    """The core metadata of the newest release listed on an already fetched project page (one request).

    Callers that keep index pages in a cache pass the cached page, so asking for a project's
    URLs never fetches its page a second time.
    """
    from pypi_simple import ProjectPage

    canonical = canonicalize_name(name)
    try:
        media = content_type.split(";")[0].strip().lower()
        if media == _JSON:
            page = ProjectPage.from_json_data(json.loads(body), base_url=page_url)
        else:
            page = ProjectPage.from_html(canonical, body, base_url=page_url)
        chosen = _newest_with_metadata(page)
        if chosen is None:
            return ProjectMetadata(canonical, error="the index serves no core metadata for this project")
        meta = _get(http, chosen.metadata_url, timeout=timeout, deadline=deadline)
        if meta.status_code != 200:
            return ProjectMetadata(canonical, error=f"{chosen.filename}.metadata answered HTTP {meta.status_code}")
    except (HttpError, OSError) as exc:
        return _unreadable(canonical, exc)
    except Exception as exc:  # noqa: BLE001 - a malformed page (pydantic, JSON) is an answer, not a crash
        return ProjectMetadata(canonical, error=f"malformed project page for {canonical}: {exc}".splitlines()[0])
    urls, home = parse_core_metadata(meta.content)
    return ProjectMetadata(canonical, str(_version(chosen)), urls, home)


def metadata_reader(
    http: httpx.Client,
    *,
    timeout: float = 15.0,
    deadline: float = DEFAULT_DEADLINE,
    cache: FileMetadataCache | None = None,
    refresh: bool = False,
) -> Callable[[DistributionFile], bytes | None]:
    """``read(file) -> bytes | None``: a release file's core metadata (PEP 658 ``<url>.metadata``), memoised.

    ``None`` when the index serves none for that file or cannot be reached within ``deadline``
    seconds: callers then simply know less (no "upgrade the parent" advice), never fail.
    With a ``cache``, bodies and the index's "none" answers come from disk first and go there
    after (never a network failure); ``refresh`` asks again about files the cache says have none.
    Safe to call from several threads (:func:`scanners.check.verdicts.read_all` does);
    ``read.prefetch(files)`` fetches many at once (8 in flight) into its memory.
    """
    seen: dict[str, bytes | None] = {}

    def read(file: DistributionFile) -> bytes | None:
        if not file.url:
            return None
        key = metadata_key(file) or file.url
        if key in seen:
            return seen[key]
        if cache is not None:
            known, body = cache.get(key, absent=not refresh)
            if known:
                seen[key] = body
                return body
        try:
            response = _get(http, file.url.split("#", 1)[0] + ".metadata", timeout=timeout, deadline=deadline)
        except (HttpError, OSError):
            seen[key] = None  # unreachable: this run knows less; the next one asks again
            return None
        if response.status_code == 200:
            body = response.content
        elif response.status_code in _NO_METADATA:
            body = None
        else:  # 5xx, 429: the index did not say; not kept
            seen[key] = None
            return None
        if cache is not None:
            cache.put(key, body)
        seen[key] = body
        return body

    def prefetch(files: Sequence[DistributionFile]) -> None:
        unique = list({f.url: f for f in files if f.url}.values())
        if len(unique) > 1:
            with ThreadPoolExecutor(max_workers=8, thread_name_prefix="metadata") as pool:
                list(pool.map(read, unique))

    read.prefetch = prefetch  # type: ignore[attr-defined]
    return read
