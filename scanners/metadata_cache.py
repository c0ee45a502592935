"""Core metadata (PEP 658 ``<file>.metadata``) kept on disk between runs of the command line.

A release file's metadata is part of the file, which an index never changes once uploaded (its
sha256 names it), so a body is kept forever. That the index serves *no* metadata for a file (a
404) is kept only for a period, the index pages' own: an index may add metadata to old files,
and would then show it on the pages the same period brings back. A network failure is never
kept. The dashboard keeps the same answers in its database (``readiness.services.metadata_cache``),
under the same keys.
"""

from __future__ import annotations

import hashlib
import logging
import os
import time
from pathlib import Path

from scanners.distributions import DistributionFile
from scanners.index_cache import atomic_write

__all__ = ["FileMetadataCache", "metadata_key"]

_log = logging.getLogger(__name__)


def metadata_key(file: DistributionFile) -> str | None:
    """The key of a file's metadata: its sha256 where the index gives one, else its URL."""
    if file.sha256:
        return f"sha256:{file.sha256}"
    return file.url.split("#", 1)[0] if file.url else None


class FileMetadataCache:
    """``<key hash>.metadata`` holds a body; ``<key hash>.absent`` (its time of change) says "none".

    :param absent_period: seconds an answer of "no metadata" is believed without asking again.
    """

    def __init__(self, directory: str | os.PathLike[str], *, absent_period: float) -> None:
        self.directory = Path(directory)
        self.absent_period = absent_period

    def _stem(self, key: str) -> Path:
        digest = hashlib.sha256(key.encode()).hexdigest()
        return self.directory / digest[:2] / digest[2:32]

    def get(self, key: str, *, absent: bool = True) -> tuple[bool, bytes | None]:
        """``(known, body)``: ``(True, bytes)``, ``(True, None)`` for a fresh "none" (when ``absent``),
        else ``(False, None)``: ask the index."""
        stem = self._stem(key)
        try:
            return True, stem.with_suffix(".metadata").read_bytes()
        except FileNotFoundError:
            pass
        except OSError as exc:
            _log.warning("ignoring unreadable metadata cache entry %s: %s", stem, exc)
            return False, None
        if absent:
            try:
                age = time.time() - stem.with_suffix(".absent").stat().st_mtime
            except OSError:
                return False, None
            if 0 <= age < self.absent_period:
                return True, None
        return False, None

    def put(self, key: str, body: bytes | None) -> None:
        """Keep ``body`` (forever), or that the index has none (``None``, for the period)."""
        stem = self._stem(key)
        try:
            stem.parent.mkdir(parents=True, exist_ok=True)
            atomic_write(stem.with_suffix(".metadata" if body is not None else ".absent"), body or b"")
        except OSError as exc:
            # A full or read-only disk only costs a request next time.
            _log.warning("cannot write metadata cache entry %s: %s", stem, exc)
