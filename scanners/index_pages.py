"""Project pages of the Simple Repository API parsed into files: PEP 691 JSON here, PEP 503 HTML with ``pypi_simple``.

Pure (no I/O): :class:`scanners.index.IndexClient` fetches, this reads what it fetched, and the
on-disk cache keeps the answer (:mod:`scanners.index_cache`).
"""

from __future__ import annotations

import datetime as dt
import json
import re
from urllib.parse import urljoin

from packaging.utils import NormalizedName, canonicalize_name

from scanners.distributions import DistributionFile, FileRow, ProjectFiles, release_key
from scanners.http import one_line

__all__ = ["parse_project_page"]

_JSON_TYPE = "application/vnd.pypi.simple.v1+json"
_HTML_TYPES = frozenset({"application/vnd.pypi.simple.v1+html", "text/html"})


class _PageError(ValueError):
    """A page that came back but cannot be understood."""


def parse_project_page(name: str, body: bytes, content_type: str, *, url: str) -> tuple[ProjectFiles, str | None]:
    """Parse one project page into files (pure: no I/O).

    ``content_type`` is the response's header; ``url`` the page's final URL, against which
    relative file URLs resolve. Returns the files and the PEP 792 project status. JSON pages
    are read here (:func:`_json_rows`); HTML pages with ``pypi_simple``, imported only then
    (it brings an HTML parser and pydantic: a third of a second before the first page).

    :raises ValueError: the content type is not a Simple API type, or the page is malformed.
    """
    media, _, params = content_type.partition(";")
    media = media.strip().lower()
    charset = None
    for param in params.split(";"):
        key, _, value = param.partition("=")
        if key.strip().lower() == "charset":
            charset = value.strip().strip('"') or None
    try:
        if media == _JSON_TYPE:
            rows, status = _json_rows(json.loads(body), url, canonicalize_name(name))
            return ProjectFiles.from_rows(canonicalize_name(name), rows), status
        elif media in _HTML_TYPES:
            from pypi_simple import ProjectPage

            page = ProjectPage.from_html(name, body, base_url=url, from_encoding=charset)
            files = tuple(_to_file(p) for p in page.packages)
            status = page.status.value if page.status is not None else None
        else:
            raise _PageError(f"unsupported content type {media or '(none)'!r}")
    except _PageError:
        raise
    except Exception as exc:  # noqa: BLE001 - JSON, type and version errors alike mean "bad page"
        raise _PageError(f"malformed {'JSON' if media == _JSON_TYPE else 'HTML'} page: {one_line(exc)}") from exc
    return ProjectFiles(name=canonicalize_name(name), files=files), status


_PROJECT_STATUSES = frozenset({"active", "archived", "quarantined", "deprecated"})


def _json_rows(
    data: object, base_url: str, project: NormalizedName
) -> tuple[list[tuple[str | None, FileRow]], str | None]:
    """A PEP 691 page's files, as rows for :meth:`ProjectFiles.from_rows`, and its PEP 792 status,
    as ``pypi_simple.ProjectPage.from_json_data`` reads them (``tests/scanners/test_index_json.py``
    holds the two to the same answers on every fixture page).

    Plain dict reads instead of pydantic models, and rows instead of file objects: a page of
    thousands of files parses in a fraction of the time (a release's files are made when it is
    asked for), and the command line does not import pydantic at all.
    """
    if not isinstance(data, dict):
        raise ValueError("the page is not a JSON object")
    major = str(_dict(data.get("meta"), "meta").get("api-version", "1.0")).split(".")[0]
    if int(major) > 1:
        raise ValueError(f"unsupported repository version {data['meta']['api-version']}")
    status = _dict(data.get("project-status") or {}, "project-status").get("status")
    if status is not None and status not in _PROJECT_STATUSES:
        raise ValueError(f"unknown project status {status!r}")
    files: list[tuple[str | None, FileRow]] = []
    for raw in data["files"]:
        entry = _dict(raw, "file")
        filename, link, hashes = entry["filename"], entry["url"], _dict(entry["hashes"], "hashes")
        yanked = entry.get("yanked", False)
        requires_python = entry.get("requires-python")
        size = entry.get("size")
        upload_time = entry.get("upload-time")
        if not isinstance(filename, str) or not isinstance(link, str) or not isinstance(yanked, bool | str):
            raise ValueError(f"bad file entry {filename!r}")
        if requires_python is not None and not isinstance(requires_python, str):
            raise ValueError(f"{filename}: requires-python is not a string")
        if size is not None and (not isinstance(size, int) or isinstance(size, bool)):
            raise ValueError(f"{filename}: size is not an integer")
        row: FileRow = (
            filename,
            _join(base_url, link),
            requires_python or None,
            yanked if isinstance(yanked, str) else ("" if yanked else False),
            _upload_time(upload_time) if upload_time is not None else None,
            hashes.get("sha256"),
            size,
        )
        files.append((release_key(filename, project), row))
    return files, status


_PLAIN_ABSOLUTE = re.compile(r"https?://[^/?#;\s]+(/[^?#;\s]*)?")


def _join(base_url: str, link: str) -> str:
    """``urljoin(base_url, link)``; an absolute URL without query, fragment or parameters is its own
    answer (what urljoin gives back for it), and half of a big page's parse time went to urljoin."""
    if _PLAIN_ABSOLUTE.fullmatch(link):
        return link
    return urljoin(base_url, link)


def _upload_time(value: object) -> str:
    """The upload time as a row keeps it: the index's own text when it names its zone (it reads back
    as the same moment), else the moment in UTC."""
    if not isinstance(value, str):
        raise ValueError(f"upload-time {value!r} is not a string")
    moment = dt.datetime.fromisoformat(value)
    return value if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC).isoformat()


def _dict(value: object, what: str) -> dict:
    if not isinstance(value, dict):
        raise ValueError(f"{what} is not an object")
    return value


def _to_file(p) -> DistributionFile:  # a pypi_simple.DistributionPackage of an HTML page
    # PEP 592/691: yanked is False or the reason; a yank without reason is "".
    yanked: bool | str = (p.yanked_reason or "") if p.is_yanked else False
    return DistributionFile(
        filename=p.filename,
        url=p.url,
        requires_python=p.requires_python or None,
        yanked=yanked,
        upload_time=p.upload_time,
        sha256=p.digests.get("sha256"),
        size=p.size,
    )
