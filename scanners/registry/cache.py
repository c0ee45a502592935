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
    """What a registry last said about an image; times are timezone-aware UTC.

    ``fetched_at`` is when ``platforms`` were last confirmed (``None``: never answered).
    ``failed_at`` and ``error`` say when and why the last attempt to ask failed, if it failed
    after that: a failure is remembered for the client's short failure period, so an outage or a
    missing image costs one lookup per period rather than one per scan, and a good answer from
    before the failure is still what the image provides.
    """

    platforms: tuple[str, ...]
    digest: str | None
    media_type: str | None
    fetched_at: dt.datetime | None
    error: str | None = None
    failed_at: dt.datetime | None = None

    @classmethod
    def failure(cls, error: str, at: dt.datetime, *, previous: CachedPlatforms | None = None) -> CachedPlatforms:
        """``previous`` (its answer, if it had one) with this failure on top."""
        if previous is None or previous.fetched_at is None:
            return cls((), None, None, None, error, at)
        return cls(previous.platforms, previous.digest, previous.media_type, previous.fetched_at, error, at)


@runtime_checkable
class RegistryCache(Protocol):
    """Where answers are kept between runs; ``reference`` is the tag, or the digest when pinned.

    A registry host whose circuit breaker tripped is kept under ``(registry, "", "")``: no image
    has an empty repository, and every worker sharing the cache then skips that host a while.

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
