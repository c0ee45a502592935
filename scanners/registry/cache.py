"""Where registry answers are kept between runs: the cache protocol, an in-memory and an on-disk cache.

The database-backed cache (``readiness.services.registry_cache``) builds on
:class:`MemoryRegistryCache`; the engine itself only needs the protocol.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

from scanners.index_cache import atomic_write

__all__ = ["CachedPlatforms", "FileRegistryCache", "MemoryRegistryCache", "RegistryCache"]

_log = logging.getLogger(__name__)


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


class FileRegistryCache:
    """Answers on disk, one small JSON file per image (the CLI between runs: ``archcheck``).

    Successes and failures alike are kept, each with the time it was learnt: the client decides
    from those times (its cache and failure periods) whether to ask again, so a registry that
    failed is not asked on every run of the command. Writes go to a temporary file and are
    renamed; an unreadable entry is a miss, never an error.
    """

    def __init__(self, directory: str | os.PathLike[str]) -> None:
        self.directory = Path(directory)

    def _path(self, registry: str, repository: str, reference: str) -> Path:
        key = "\0".join((registry, repository, reference)).encode()
        return self.directory / f"{hashlib.sha256(key).hexdigest()[:32]}.json"

    def get(self, registry: str, repository: str, reference: str) -> CachedPlatforms | None:
        path = self._path(registry, repository, reference)
        try:
            data = json.loads(path.read_bytes())
            if data["key"] != [registry, repository, reference]:
                return None  # a hash collision is a miss
            return CachedPlatforms(
                platforms=tuple(data["platforms"]),
                digest=data["digest"],
                media_type=data["media_type"],
                fetched_at=_time(data["fetched_at"]),
                error=data["error"],
                failed_at=_time(data["failed_at"]),
            )
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError) as exc:
            _log.warning("ignoring unreadable registry cache entry %s: %s", path, exc)
            return None

    def put(self, registry: str, repository: str, reference: str, entry: CachedPlatforms) -> None:
        path = self._path(registry, repository, reference)
        data = {
            "key": [registry, repository, reference],
            "platforms": list(entry.platforms),
            "digest": entry.digest,
            "media_type": entry.media_type,
            "fetched_at": entry.fetched_at.isoformat() if entry.fetched_at else None,
            "error": entry.error,
            "failed_at": entry.failed_at.isoformat() if entry.failed_at else None,
        }
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write(path, json.dumps(data).encode())
        except OSError as exc:
            # A full or read-only disk only costs a lookup next time.
            _log.warning("cannot write registry cache entry %s: %s", path, exc)


def _time(value: str | None) -> dt.datetime | None:
    if value is None:
        return None
    moment = dt.datetime.fromisoformat(value)
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)
