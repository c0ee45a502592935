"""Where registry answers are kept between runs: the cache protocol and an in-memory cache.

The database-backed cache (``readiness.services.registry_cache``) builds on
:class:`MemoryRegistryCache`; the engine itself only needs the protocol.
"""

from __future__ import annotations

import datetime as dt
import threading
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

__all__ = ["CachedPlatforms", "MemoryRegistryCache", "RegistryCache"]


@dataclass(frozen=True, slots=True)
class CachedPlatforms:
    """A registry answer worth keeping: ``fetched_at`` is timezone-aware UTC."""

    platforms: tuple[str, ...]
    digest: str | None
    media_type: str | None
    fetched_at: dt.datetime


@runtime_checkable
class RegistryCache(Protocol):
    """Where answers are kept between runs; ``reference`` is the tag, or the digest when pinned.

    Implementations must be thread-safe: :meth:`RegistryClient.platforms_many` asks concurrently.
    """

    def get(self, registry: str, repository: str, reference: str) -> CachedPlatforms | None: ...

    def put(self, registry: str, repository: str, reference: str, entry: CachedPlatforms) -> None: ...


class MemoryRegistryCache:
    """A per-process cache (tests, one-off CLI runs)."""

    def __init__(self) -> None:
        self._entries: dict[tuple[str, str, str], CachedPlatforms] = {}
        self._lock = threading.Lock()

    def get(self, registry: str, repository: str, reference: str) -> CachedPlatforms | None:
        with self._lock:
            return self._entries.get((registry, repository, reference))

    def put(self, registry: str, repository: str, reference: str, entry: CachedPlatforms) -> None:
        with self._lock:
            self._entries[(registry, repository, reference)] = entry

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)
