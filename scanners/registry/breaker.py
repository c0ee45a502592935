"""A circuit breaker per registry host: after repeated failures, stop asking it for a while.

A registry that is down (or a network that is closed) fails every lookup the same way, each
after its retries and deadline. Counting *consecutive* host-level failures (unreachable, timed
out, 429, 5xx; a 404 or 401 means the host answered) per host, the breaker trips at the
threshold: the client that saw it asks that host nothing more, and the trip is kept in the
registry cache under ``(registry, "", "")`` so that every client sharing the cache (every worker,
every scan) skips the host too until the failure period has passed.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading

from scanners.http import one_line
from scanners.registry.cache import CachedPlatforms, RegistryCache

__all__ = ["HOST_ENTRY", "HostBreakers"]

_log = logging.getLogger("scanners.registry")

HOST_ENTRY = ("", "")
"""The (repository, reference) under which a host's tripped breaker is kept in the cache."""


class HostBreakers:
    """The breakers of one client's hosts; thread-safe (lookups run in a pool)."""

    def __init__(self, *, cache: RegistryCache | None, threshold: int, period: float) -> None:
        self._cache = cache
        self.threshold = max(1, threshold)
        self.period = period
        self._lock = threading.Lock()
        self._failures: dict[str, int] = {}  # consecutive host-level failures, per registry
        self._tripped: dict[str, str] = {}  # registries not asked again by this client: why

    def outage(self, registry: str, now: dt.datetime) -> str | None:
        """Why ``registry`` is not asked now (tripped here, or by another client), or ``None``."""
        with self._lock:
            tripped = self._tripped.get(registry)
        if tripped is not None or self._cache is None:
            return tripped
        try:
            entry = self._cache.get(registry, *HOST_ENTRY)
        except Exception:  # noqa: BLE001 - a broken cache only costs a request
            return None
        if entry is not None and entry.failed_at is not None and (now - entry.failed_at).total_seconds() < self.period:
            return entry.error or f"not asked: {registry} failed repeatedly"
        return None

    def answered(self, registry: str) -> None:
        """The host answered (a manifest, a 404, an auth refusal): it is up."""
        with self._lock:
            self._failures.pop(registry, None)

    def failed(self, registry: str, reason: str, now: dt.datetime) -> None:
        """A host-level failure; the one that reaches the threshold trips the breaker."""
        with self._lock:
            count = self._failures[registry] = self._failures.get(registry, 0) + 1
            trips = count >= self.threshold and registry not in self._tripped
            if trips:
                self._tripped[registry] = why = one_line(
                    f"not asked: {registry} failed {count} lookups in a row, last: {reason}"
                )
        if not trips:
            return
        _log.warning("%s failed %d lookups in a row; not asking it again for now", registry, count)
        if self._cache is not None:
            try:
                self._cache.put(registry, *HOST_ENTRY, CachedPlatforms.failure(why, now))
            except Exception as exc:  # noqa: BLE001
                _log.warning("registry cache write failed for %s: %s", registry, one_line(exc))
