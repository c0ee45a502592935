"""The package index cache in the database, shared by every worker.

Worker threads of :class:`~scanners.index.IndexClient` never touch the database: pages are
loaded in one query before a batch (``preload``) and written back in one transaction after
it (``flush``), on the calling thread. On PostgreSQL, a session advisory lock per package
makes sure two workers that need the same uncached package send one request between them: the
second waits for the first and then reads its page from the cache.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable

from django.db import transaction
from django.utils import timezone
from packaging.utils import NormalizedName, canonicalize_name

from readiness.models import IndexPage
from readiness.services.advisory_locks import (
    advisory_lock,
    advisory_try_lock_many,
    advisory_unlock,
    advisory_unlock_many,
    can_lock,
)
from scanners.index import CachedPage, IndexClient, MemoryIndexCache, ProjectResult

__all__ = ["DatabaseIndexCache", "DatabaseIndexClient"]


class DatabaseIndexCache(MemoryIndexCache):
    """An ``IndexCache`` over :class:`IndexPage` rows, buffered in memory between preload and flush."""

    def __init__(self) -> None:
        super().__init__()
        self._dirty: dict[tuple[str, str], CachedPage] = {}
        # When the body held in memory last changed (its row's changed_at): a scan records it for
        # each page it used, so a later scan can ask "has any of them changed since?" exactly.
        self._changed: dict[tuple[str, str], dt.datetime] = {}

    def put(self, index_url: str, name: str, page: CachedPage) -> None:
        super().put(index_url, name, page)
        with self._lock:
            self._dirty[(index_url, name)] = page

    def preload(self, index_url: str, names: Iterable[str]) -> None:
        """Load the cached pages of ``names`` (one query)."""
        wanted = [n for n in names if (index_url, n) not in self._pages]
        if not wanted:
            return
        rows = IndexPage.objects.filter(index_url=index_url, name__in=wanted)
        with self._lock:
            for row in rows:
                self._changed[(index_url, row.name)] = row.changed_at
                self._pages[(index_url, row.name)] = CachedPage(
                    body=bytes(row.body),
                    content_type=row.content_type,
                    etag=row.etag or None,
                    last_modified=row.last_modified or None,
                    fetched_at=row.fetched_at,
                    url=row.page_url or None,
                )

    def fresh_changes(
        self, index_url: str, names: Iterable[str], *, fresh_after: dt.datetime
    ) -> dict[str, dt.datetime]:
        """The change time of each page of ``names`` confirmed after ``fresh_after`` (one query, no bodies).

        Such a page is answered without a request; when this process has parsed its body at that
        change time, the body need not be read either. The times are remembered as
        :meth:`changed_at` reports them.
        """
        rows = IndexPage.objects.filter(index_url=index_url, name__in=list(names), fetched_at__gt=fresh_after)
        found = dict(rows.values_list("name", "changed_at"))
        with self._lock:
            for name, changed in found.items():
                self._changed[(index_url, name)] = changed
        return found

    def forget(self, index_url: str, names: Iterable[str]) -> None:
        with self._lock:
            for n in names:
                self._pages.pop((index_url, n), None)
                self._changed.pop((index_url, n), None)

    def changed_at(self, index_url: str, names: Iterable[str]) -> dict[str, dt.datetime]:
        """The change time of each page of ``names`` held now, as this process read it (absent: not held).

        Call after :meth:`flush`: a page fetched since the last flush has no change time yet.
        """
        with self._lock:
            return {n: self._changed[(index_url, n)] for n in names if (index_url, n) in self._changed}

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
            changed: dict[tuple[str, str], dt.datetime] = {}
            for (index_url, name), page in dirty.items():
                row = existing.get((index_url, name))
                if row is None:
                    new_rows.append(_row(index_url, name, page, changed_at=now))
                    changed[(index_url, name)] = now
                    continue
                if bytes(row.body) != page.body:
                    row.body, row.changed_at = page.body, now
                changed[(index_url, name)] = row.changed_at
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
        with self._lock:
            self._changed.update(changed)
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

    def fetch_many(
        self, names: Iterable[str], *, progress: Callable[[int, int], None] | None = None
    ) -> dict[str, ProjectResult]:
        names = list(names)
        canonical = sorted({canonicalize_name(n) for n in names})
        # Fresh pages this process has parsed at their current change time are answered from
        # memory: their bodies (megabytes per scan) are not read again.
        results = self._parsed_fresh(canonical)
        self.cache.preload(self.base_url, [n for n in canonical if n not in results])
        fresh = [n for n in canonical if n not in results and self._fresh(n)]
        # Fresh pages are answered on this thread: a pool of threads only pays off for requests,
        # and parsing under the GIL gains nothing from it.
        results.update((n, self.fetch_project(n)) for n in fresh)
        if progress is not None and fresh:
            progress(len(fresh), len(canonical))
        stale = [n for n in canonical if n not in results]
        for i in range(0, len(stale), _LOCK_BATCH):
            results.update(self._fetch_stale(stale[i : i + _LOCK_BATCH]))
            if progress is not None:
                progress(len(fresh) + min(i + _LOCK_BATCH, len(stale)), len(canonical))
        self._remember_parsed(results)
        for name in names:
            results[name] = results[canonicalize_name(name)]
        return results

    def _parsed_fresh(self, canonical: list[str]) -> dict[str, ProjectResult]:
        cutoff = timezone.now() - dt.timedelta(seconds=self.cache_period)
        changes = self.cache.fresh_changes(self.base_url, canonical, fresh_after=cutoff)
        found: dict[str, ProjectResult] = {}
        with _PARSED_LOCK:
            for name, changed in changes.items():
                hit = _PARSED_AT.get((self.base_url, name))
                if hit is not None and hit[0] == changed:
                    _PARSED_AT.move_to_end((self.base_url, name))
                    found[name] = hit[1]
        for name, result in found.items():
            self._answered(name, dataclasses.replace(result, from_cache=True))
        return {name: self.fetch_project(name) for name in found}

    def _remember_parsed(self, results: dict[str, ProjectResult]) -> None:
        """Remember each page parsed from a body whose change time is known (the cache read it with
        the body, or set it on writing a new one): the next scan asking for it reads no body."""
        changes = self.cache.changed_at(self.base_url, results)
        with _PARSED_LOCK:
            for name, result in results.items():
                if result.status == "ok" and result.warning is None and name in changes:
                    _PARSED_AT[(self.base_url, name)] = (changes[name], result)
                    _PARSED_AT.move_to_end((self.base_url, name))
            while len(_PARSED_AT) > _PARSED_MAX:
                _PARSED_AT.popitem(last=False)

    def refresh(self, names: Iterable[str]) -> int:
        """Make sure the cached pages of ``names`` are fresh, fetching only those that are not.

        Cheaper than :meth:`fetch_many` when most pages are fresh: fresh pages are neither
        loaded nor parsed. Returns the number of projects that needed a request.
        """
        canonical = sorted({canonicalize_name(n) for n in names})
        cutoff = timezone.now() - dt.timedelta(seconds=self.cache_period)
        fresh = set(
            IndexPage.objects.filter(index_url=self.base_url, name__in=canonical, fetched_at__gt=cutoff).values_list(
                "name", flat=True
            )
        )
        stale = [n for n in canonical if n not in fresh]
        if stale:
            self.fetch_many(stale)
        return len(stale)

    def _fetch_stale(self, stale: list[str]) -> dict[str, ProjectResult]:
        if not can_lock():
            results = IndexClient.fetch_many(self, stale)
            self.cache.flush()
            return results
        # One query for all the locks (and one to release them): not two round trips per package.
        mine = [n for _url, n in advisory_try_lock_many(_NAMESPACE, [(self.base_url, n) for n in stale])]
        try:
            # Another worker may have fetched some of them between our read and our lock.
            self.cache.forget(self.base_url, mine)
            self.cache.preload(self.base_url, mine)
            results = IndexClient.fetch_many(self, mine)
            self.cache.flush()
        finally:
            advisory_unlock_many(_NAMESPACE, [(self.base_url, n) for n in mine])
        # Packages another worker was fetching: wait for it (holding no lock of our own, so no
        # deadlock), then read its page from the cache; fetch ourselves only if it failed.
        for n in sorted(set(stale) - set(mine)):
            advisory_lock(_NAMESPACE, self.base_url, n)
            try:
                self.cache.forget(self.base_url, [n])
                self.cache.preload(self.base_url, [n])
                results[n] = self.fetch_project(n)
                self.cache.flush()
            finally:
                advisory_unlock(_NAMESPACE, self.base_url, n)
        return results

    def _fresh(self, name: str) -> bool:
        page = self.cache.get(self.base_url, name)
        return page is not None and (timezone.now() - page.fetched_at).total_seconds() < self.cache_period

    def _parse(self, canonical: NormalizedName, page: CachedPage, *, from_cache: bool) -> ProjectResult:
        # A worker sees the same popular page in scan after scan: parse each distinct body once
        # per process (pypi_simple's parsers cost about 1 ms per page).
        key = (canonical, hashlib.blake2b(page.body, digest_size=16).digest(), page.content_type, page.url)
        with _PARSED_LOCK:
            hit = _PARSED.get(key)
            if hit is not None:
                _PARSED.move_to_end(key)
        if hit is not None:
            return dataclasses.replace(hit, from_cache=from_cache)
        result = super()._parse(canonical, page, from_cache=from_cache)
        if result.status == "ok":
            with _PARSED_LOCK:
                _PARSED[key] = result
                while len(_PARSED) > _PARSED_MAX:
                    _PARSED.popitem(last=False)
        return result


_NAMESPACE = "index-page"
_LOCK_BATCH = 500  # advisory locks held at once by one session: well under PostgreSQL's lock table
_PARSED_MAX = 20_000
_PARSED: OrderedDict[tuple, ProjectResult] = OrderedDict()
# (index URL, name) -> (the page's change time, its parse): lets a fresh page skip its body.
_PARSED_AT: OrderedDict[tuple[str, str], tuple[dt.datetime, ProjectResult]] = OrderedDict()
_PARSED_LOCK = threading.Lock()
