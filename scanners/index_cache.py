"""Caches of raw index pages, shared by every scan until their period expires.

A cache stores the page *as received* (body, content type, validators), not parsed files:
the parser can change without invalidating caches, and an expired page can be revalidated
with ``If-None-Match`` / ``If-Modified-Since`` so that an unchanged project costs a 304.
At organisation scale (~3,000 distinct packages per scan) this is what keeps a full scan
at one request per package per cache period.

Implementations must be safe to call from several threads: the index client fetches
projects concurrently.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import marshal
import mmap
import os
import sys
import tempfile
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

from packaging.version import Version

from scanners.distributions import ProjectFiles

__all__ = ["CachedPage", "FileIndexCache", "IndexCache", "MemoryIndexCache", "atomic_write"]

_log = logging.getLogger(__name__)

# Bump when the parser or the row layout changes: pages parsed before are then parsed again.
# The Python version is part of it because marshal's format is Python's own.
_PARSED_FORMAT = f"2:{sys.version_info[0]}.{sys.version_info[1]}:{marshal.version}"


@dataclass(frozen=True, slots=True)
class CachedPage:
    """One project page as the index sent it.

    ``fetched_at`` is when the index last confirmed the page (a 200 or a 304), timezone-aware
    UTC. ``url`` is the page's final URL after redirects: relative file links resolve
    against it.
    """

    body: bytes
    content_type: str
    etag: str | None
    last_modified: str | None
    fetched_at: dt.datetime
    url: str | None = None


@runtime_checkable
class IndexCache(Protocol):
    """Where the index client keeps pages between runs. ``name`` is canonical (PEP 503)."""

    def get(self, index_url: str, name: str) -> CachedPage | None: ...

    def put(self, index_url: str, name: str, page: CachedPage) -> None: ...


class MemoryIndexCache:
    """A per-process cache (tests, one-off CLI runs)."""

    def __init__(self) -> None:
        self._pages: dict[tuple[str, str], CachedPage] = {}
        self._lock = threading.Lock()

    def get(self, index_url: str, name: str) -> CachedPage | None:
        with self._lock:
            return self._pages.get((index_url, name))

    def put(self, index_url: str, name: str, page: CachedPage) -> None:
        with self._lock:
            self._pages[(index_url, name)] = page

    def __len__(self) -> int:
        with self._lock:
            return len(self._pages)


class FileIndexCache:
    """Pages on disk, one directory per index URL (used by the CLI across runs).

    Each page is two files: ``<name>.body`` (the raw bytes) and ``<name>.json`` (headers,
    time and the body's sha256). Both are written to a temporary file and renamed, and the
    meta file is written last, so a reader never sees a half-written page; a body that does
    not match its recorded hash (a concurrent writer, a truncated disk) is a miss, not an error.

    A third file, ``<name>.files``, holds the page as parsed (:meth:`put_files`): a command-line
    run answers a fresh page from it (:meth:`fresh_files`) without reading or parsing the body,
    which for a project of thousands of files costs tens of milliseconds. It names the body's
    sha256 and the parser's version, so a new page or a changed parser is a miss.
    """

    def __init__(self, directory: str | os.PathLike[str]) -> None:
        self.directory = Path(directory)

    def _paths(self, index_url: str, name: str) -> tuple[Path, Path]:
        # Hash the URL: it may contain credentials and characters a file name cannot.
        folder = self.directory / hashlib.sha256(index_url.encode()).hexdigest()[:16]
        safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in name)
        return folder / f"{safe}.body", folder / f"{safe}.json"

    def get(self, index_url: str, name: str) -> CachedPage | None:
        body_path, meta_path = self._paths(index_url, name)
        try:
            meta = json.loads(meta_path.read_text())
            body = body_path.read_bytes()
            if hashlib.sha256(body).hexdigest() != meta["sha256"]:
                return None
            fetched = dt.datetime.fromisoformat(meta["fetched_at"])
            if fetched.tzinfo is None:
                fetched = fetched.replace(tzinfo=dt.UTC)
            return CachedPage(
                body=body,
                content_type=meta["content_type"],
                etag=meta.get("etag"),
                last_modified=meta.get("last_modified"),
                fetched_at=fetched,
                url=meta.get("url"),
            )
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError) as exc:
            _log.warning("ignoring unreadable index cache entry %s: %s", meta_path, exc)
            return None

    def fresh_files(
        self, index_url: str, name: str, *, period: float, now: dt.datetime
    ) -> tuple[ProjectFiles, str | None] | None:
        """The parsed files and PEP 792 status of a page confirmed less than ``period`` seconds
        before ``now``, or ``None`` (stale, never parsed, unreadable: then read the page)."""
        _body_path, meta_path = self._paths(index_url, name)
        try:
            meta = json.loads(meta_path.read_bytes())
            fetched = dt.datetime.fromisoformat(meta["fetched_at"])
            if fetched.tzinfo is None:
                fetched = fetched.replace(tzinfo=dt.UTC)
            if not 0 <= (now - fetched).total_seconds() < period:
                return None
            return _load_parsed(meta_path.with_suffix(".files"), name, meta["sha256"])
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError, EOFError) as exc:
            _log.warning("ignoring unreadable index cache entry %s: %s", meta_path, exc)
            return None

    def put_files(
        self, index_url: str, name: str, page: CachedPage, files: ProjectFiles, status: str | None
    ) -> ProjectFiles | None:
        """Keep ``page`` as parsed into ``files``; the same files, read back lazily from what was kept
        (so a cold run holds no more of a page than a warm one), or ``None`` when it could not be kept."""
        _body_path, meta_path = self._paths(index_url, name)
        sha = hashlib.sha256(page.body).hexdigest()
        path = meta_path.with_suffix(".files")
        try:
            meta_path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write(path, _dump_parsed(files, status, sha))
            loaded = _load_parsed(path, name, sha)
        except (OSError, ValueError, EOFError) as exc:
            _log.warning("cannot write index cache entry %s: %s", path, exc)
            return None
        return loaded[0] if loaded is not None else None

    def put(self, index_url: str, name: str, page: CachedPage) -> None:
        body_path, meta_path = self._paths(index_url, name)
        meta = {
            "index_url": index_url,
            "name": name,
            "content_type": page.content_type,
            "etag": page.etag,
            "last_modified": page.last_modified,
            "fetched_at": page.fetched_at.isoformat(),
            "url": page.url,
            "sha256": hashlib.sha256(page.body).hexdigest(),
        }
        try:
            body_path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write(body_path, page.body)
            atomic_write(meta_path, json.dumps(meta).encode())
        except OSError as exc:
            # A full or read-only disk only costs a refetch next time; the scan goes on.
            _log.warning("cannot write index cache entry %s: %s", meta_path, exc)


# A parsed page on disk: magic, the length of the table, the table (marshal: format and body hash,
# status, project URLs, each release's (version key, offset, length), the page's rows' (offset,
# length)), then each release's rows and the page's rows, each one marshal blob read when asked.
_MAGIC = b"RPF1"


def _dump_parsed(files: ProjectFiles, status: str | None, sha: str) -> list[bytes]:
    """The parsed page's file, in pieces written one after another (joined, the biggest page's
    file of 10 MB was held twice)."""
    rows = files.rows()
    releases: dict[object, tuple[str, list]] = {}
    versions: dict[str, Version] = {}  # a release's dozens of files share one key: one Version each
    for key, row in rows:
        if key is not None:
            version = versions.get(key)
            if version is None:
                version = versions[key] = Version(key)
            releases.setdefault(version, (key, []))[1].append(row)
    blobs: list[bytes] = []
    index = []
    offset = 0
    for key, release_rows in releases.values():
        blob = marshal.dumps(release_rows)
        index.append((key, offset, len(blob)))
        blobs.append(blob)
        offset += len(blob)
    everything = marshal.dumps(rows)
    table = marshal.dumps(
        ((_PARSED_FORMAT, sha), status, [list(u) for u in files.project_urls], index, (offset, len(everything)))
    )
    return [_MAGIC, len(table).to_bytes(8, "little"), table, *blobs, everything]


def _load_parsed(path: Path, name: str, sha: str) -> tuple[ProjectFiles, str | None] | None:
    with open(path, "rb") as f:
        # Mapped, not read: only the releases asked for are ever paged in; the mapping keeps this
        # version of the file even if another run replaces it meanwhile.
        data = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
    if data[:4] != _MAGIC:
        return None
    size = int.from_bytes(data[4:12], "little")
    header, status, urls, index, (all_offset, all_length) = _read_blob(data, 12, size)
    if header != (_PARSED_FORMAT, sha):
        return None
    base = 12 + size

    def blob(offset: int, length: int):
        return lambda: _read_blob(data, base + offset, length)

    releases = {key: blob(offset, length) for key, offset, length in index}
    files = ProjectFiles.from_loaders(name, releases, blob(all_offset, all_length), tuple(map(tuple, urls)))  # type: ignore[arg-type]
    return files, status


def _read_blob(data: mmap.mmap, start: int, length: int):
    """One marshal blob of a mapped parsed page, its pages let go of once read. A fault maps a whole
    page-cache folio (up to 2 MB: the table's read alone mapped 2 MB of a big page), and what a run
    touched stayed in its resident memory for as long as the mapping lived (88 MB of a 365-package
    lock's peak 150 MB), though each blob is read once; the page cache keeps the pages either way."""
    try:
        return marshal.loads(data[start : start + length])
    finally:
        if _DONTNEED is not None:
            # The folio's neighbours were mapped too: let go of every page of the largest folio around.
            first = start - start % _LARGEST_FOLIO
            end = min(len(data), start + length + _LARGEST_FOLIO - 1)
            data.madvise(_DONTNEED, first, end - first)


_LARGEST_FOLIO = 2 << 20  # a PMD-sized huge page on x86-64 and arm64 with 4 KiB pages
_DONTNEED = getattr(mmap, "MADV_DONTNEED", None)  # Windows has no madvise: pages stay until unmapped


def atomic_write(path: Path, data: bytes | Iterable[bytes]) -> None:
    """Write ``data`` (or its pieces in turn) to a temporary file beside ``path`` and rename it:
    readers see all or nothing."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            if isinstance(data, bytes):
                f.write(data)
            else:
                f.writelines(data)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
