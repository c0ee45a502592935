"""The package index cache in the database, shared by every worker.

Worker threads of :class:`~scanners.index.IndexClient` never touch the database: pages are
loaded in one query before a batch (``preload``) and written back in one transaction after
it (``flush``), on the calling thread. On PostgreSQL, a session advisory lock per package
makes sure two workers that need the same uncached package send one request between them: the
second waits for the first and then reads its page from the cache.
"""

from __future__ import annotations

import datetime as dt
import threading
import zlib
from collections.abc import Callable, Iterable

from django.db import connection, transaction
from django.utils import timezone
from packaging.utils import canonicalize_name

from readiness.models import IndexPage
from scanners.index import CachedPage, IndexClient, ProjectResult

__all__ = ["DatabaseIndexCache", "DatabaseIndexClient"]


class DatabaseIndexCache:
    """An ``IndexCache`` over :class:`IndexPage` rows, buffered in memory between preload and flush."""

    def __init__(self) -> None:
        self._pages: dict[tuple[str, str], CachedPage] = {}
        self._dirty: dict[tuple[str, str], CachedPage] = {}
        self._lock = threading.Lock()

    def get(self, index_url: str, name: str) -> CachedPage | None:
        with self._lock:
            return self._pages.get((index_url, name))

    def put(self, index_url: str, name: str, page: CachedPage) -> None:
        with self._lock:
            self._pages[(index_url, name)] = page
            self._dirty[(index_url, name)] = page

    def preload(self, index_url: str, names: Iterable[str]) -> None:
        """Load the cached pages of ``names`` (one query)."""
        wanted = [n for n in names if (index_url, n) not in self._pages]
        if not wanted:
            return
        rows = IndexPage.objects.filter(index_url=index_url, name__in=wanted)
        with self._lock:
            for row in rows:
                self._pages[(index_url, row.name)] = CachedPage(
                    body=bytes(row.body),
                    content_type=row.content_type,
                    etag=row.etag or None,
                    last_modified=row.last_modified or None,
                    fetched_at=row.fetched_at,
                    url=row.page_url or None,
                )

    def forget(self, index_url: str, names: Iterable[str]) -> None:
        with self._lock:
            for n in names:
                self._pages.pop((index_url, n), None)

    def flush(self) -> int:
        """Write pages fetched or revalidated since the last flush; ``changed_at`` moves only on new bodies."""
        with self._lock:
            dirty, self._dirty = self._dirty, {}
        if not dirty:
            return 0
        now = timezone.now()
        with transaction.atomic():
            existing = {
                (row.index_url, row.name): row
                for row in IndexPage.objects.select_for_update().filter(
                    index_url__in={k[0] for k in dirty}, name__in={k[1] for k in dirty}
                )
            }
            new_rows, changed_rows = [], []
            for (index_url, name), page in dirty.items():
                row = existing.get((index_url, name))
                if row is None:
                    new_rows.append(_row(index_url, name, page, changed_at=now))
                    continue
                if zlib.crc32(bytes(row.body)) != zlib.crc32(page.body) or bytes(row.body) != page.body:
                    row.body, row.changed_at = page.body, now
                row.content_type = page.content_type
                row.etag = page.etag or ""
                row.last_modified = page.last_modified or ""
                row.page_url = page.url or ""
                row.fetched_at = page.fetched_at
                changed_rows.append(row)
            IndexPage.objects.bulk_create(new_rows, ignore_conflicts=True)
            IndexPage.objects.bulk_update(
                changed_rows, ["body", "changed_at", "content_type", "etag", "last_modified", "page_url", "fetched_at"]
            )
        return len(dirty)


def _row(index_url: str, name: str, page: CachedPage, *, changed_at: dt.datetime) -> IndexPage:
    return IndexPage(
        index_url=index_url,
        name=name,
        body=page.body,
        content_type=page.content_type,
        etag=page.etag or "",
        last_modified=page.last_modified or "",
        page_url=page.url or "",
        fetched_at=page.fetched_at,
        changed_at=changed_at,
    )


class DatabaseIndexClient(IndexClient):
    """An :class:`IndexClient` whose cache lives in the database and is shared across workers."""

    cache: DatabaseIndexCache

    def __init__(self, base_url: str, **kwargs) -> None:
        super().__init__(base_url, cache=DatabaseIndexCache(), **kwargs)

    def fetch_many(self, names: Iterable[str], *, progress: Callable[[int, int], None] | None = None) -> dict[str, ProjectResult]:
        names = list(names)
        canonical = sorted({canonicalize_name(n) for n in names})
        self.cache.preload(self.base_url, canonical)
        if connection.vendor != "postgresql":
            results = super().fetch_many(names, progress=progress)
            self.cache.flush()
            return results

        stale = [n for n in canonical if not self._fresh(n)]
        mine = [n for n in stale if _try_lock(self.base_url, n)]
        try:
            results = super().fetch_many([n for n in names if canonicalize_name(n) not in set(stale) - set(mine)], progress=progress)
            self.cache.flush()
        finally:
            for n in mine:
                _unlock(self.base_url, n)
        # Packages another worker was fetching: wait for it (holding no lock of our own, so no
        # deadlock), then read its page from the cache; fetch ourselves only if it failed.
        for n in sorted(set(stale) - set(mine)):
            _lock(self.base_url, n)
            try:
                self.cache.forget(self.base_url, [n])
                self.cache.preload(self.base_url, [n])
                results.update(super().fetch_many([x for x in names if canonicalize_name(x) == n]))
                self.cache.flush()
            finally:
                _unlock(self.base_url, n)
        return results

    def _fresh(self, name: str) -> bool:
        page = self.cache.get(self.base_url, name)
        return page is not None and (timezone.now() - page.fetched_at).total_seconds() < self.cache_period


def _key(index_url: str, name: str) -> int:
    # Advisory locks take a signed 64-bit key; crc32 of two strings is plenty to tell packages apart.
    return (zlib.crc32(index_url.encode()) << 31) ^ zlib.crc32(name.encode())


def _try_lock(index_url: str, name: str) -> bool:
    with connection.cursor() as cur:
        cur.execute("SELECT pg_try_advisory_lock(%s)", [_key(index_url, name)])
        return bool(cur.fetchone()[0])


def _lock(index_url: str, name: str) -> None:
    with connection.cursor() as cur:
        cur.execute("SELECT pg_advisory_lock(%s)", [_key(index_url, name)])


def _unlock(index_url: str, name: str) -> None:
    with connection.cursor() as cur:
        cur.execute("SELECT pg_advisory_unlock(%s)", [_key(index_url, name)])
