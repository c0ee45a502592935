"""Base-image lookups for scans: the registry cache in the database (the client: ``readiness.clients``).

Like the index cache, worker threads never touch the database: every cached answer is read
in one query when the client is made (an organisation has hundreds of base images, not
millions) and new answers are written back in one transaction by :meth:`flush`. Failures are
kept too, for the short failure period, and a registry host whose circuit breaker tripped is
kept as a row of its own: every worker then skips it, instead of each scan finding out again.
On PostgreSQL a session advisory lock per image makes two workers that need the same image ask
once between them: the second waits, then reads the first one's answer (or failure).
"""

from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.db.models import Q

from readiness.models import ImagePlatformsCache
from readiness.services.advisory_locks import advisory_lock, advisory_try_lock, advisory_unlock, can_lock
from scanners.archcheck_settings import docker_config_credentials
from scanners.registry import CachedPlatforms, ImagePlatforms, MemoryRegistryCache, RegistryClient

__all__ = ["DatabaseRegistryCache", "DatabaseRegistryClient", "registry_credentials"]

_NAMESPACE = "registry-image"

Key = tuple[str, str, str]  # (registry, repository, tag or digest)


def _entry(row: ImagePlatformsCache) -> CachedPlatforms:
    return CachedPlatforms(
        tuple(row.platforms),
        row.digest or None,
        row.media_type or None,
        row.fetched_at,
        row.error or None,
        row.failed_at,
    )


class DatabaseRegistryCache(MemoryRegistryCache):
    def __init__(self) -> None:
        super().__init__()
        self._entries.update(
            ((row.registry, row.repository, row.reference), _entry(row)) for row in ImagePlatformsCache.objects.all()
        )
        self._dirty: dict[Key, CachedPlatforms] = {}

    def put(self, registry: str, repository: str, reference: str, entry: CachedPlatforms) -> None:
        super().put(registry, repository, reference, entry)
        with self._lock:
            self._dirty[(registry, repository, reference)] = entry

    def reload(self, keys: Iterable[Key]) -> None:
        """Read ``keys`` (and their hosts' breaker rows) again: another worker may have answered (1 query)."""
        keys = set(keys)
        keys |= {(registry, "", "") for registry, _, _ in keys}
        if not keys:
            return
        match = Q()
        for registry, repository, reference in keys:
            match |= Q(registry=registry, repository=repository, reference=reference)
        rows = {(r.registry, r.repository, r.reference): _entry(r) for r in ImagePlatformsCache.objects.filter(match)}
        with self._lock:
            for key in keys:
                if key in rows:
                    self._entries[key] = rows[key]

    def flush(self) -> int:
        with self._lock:
            dirty, self._dirty = self._dirty, {}
        with transaction.atomic():
            for (registry, repository, reference), entry in dirty.items():
                ImagePlatformsCache.objects.update_or_create(
                    registry=registry,
                    repository=repository,
                    reference=reference,
                    defaults={
                        "platforms": list(entry.platforms),
                        "digest": entry.digest or "",
                        "media_type": entry.media_type or "",
                        "fetched_at": entry.fetched_at,
                        "error": (entry.error or "")[:500],
                        "failed_at": entry.failed_at,
                    },
                )
        return len(dirty)


class DatabaseRegistryClient(RegistryClient):
    """A :class:`RegistryClient` whose cache is the database, shared by every worker.

    Each distinct image is asked once per cache period (once per failure period when it fails)
    across all workers: the lookups that need a request run under that image's advisory lock,
    with the cache read again after the lock is taken, and written back before it is released.
    """

    cache: DatabaseRegistryCache

    def __init__(self, **kwargs) -> None:
        super().__init__(cache=DatabaseRegistryCache(), **kwargs)

    def platforms_many(self, references: Iterable[str]) -> dict[str, ImagePlatforms]:
        given = list(dict.fromkeys(references))
        asking: dict[Key, list[str]] = {}
        for reference in given:
            key = self._needs_request(reference)
            if key is not None:
                asking.setdefault(key, []).append(reference)
        if not asking or not can_lock():
            try:
                return super().platforms_many(given)
            finally:
                self.cache.flush()
        mine = [key for key in sorted(asking) if advisory_try_lock(_NAMESPACE, *key)]
        waiting = [key for key in sorted(asking) if key not in mine]
        theirs = {reference for key in waiting for reference in asking[key]}
        try:
            self.cache.reload(mine)
            answers = super().platforms_many([r for r in given if r not in theirs])
            self.cache.flush()
        finally:
            for key in mine:
                advisory_unlock(_NAMESPACE, *key)
        # Images another worker is asking about: wait for it (holding no lock of our own, so no
        # deadlock), then take its answer from the database; ask ourselves only if it has none.
        for key in waiting:
            advisory_lock(_NAMESPACE, *key)
            try:
                self.cache.reload([key])
                answers.update(super().platforms_many(asking[key]))
                self.cache.flush()
            finally:
                advisory_unlock(_NAMESPACE, *key)
        return {reference: answers[reference] for reference in given}


def registry_credentials() -> dict[str, tuple[str, str]]:
    """``{registry: (user, password)}`` from a Docker-style ``config.json`` (READINESS_REGISTRY_AUTH_FILE).

    The file is the one ``docker login`` writes, so operators reuse what they have; secrets stay
    in that file and in memory, never in the database or logs.
    """
    try:
        return docker_config_credentials(settings.READINESS_REGISTRY_AUTH_FILE)
    except ValueError as exc:
        raise ImproperlyConfigured(str(exc)) from None
