"""PostgreSQL session advisory locks keyed by strings: one worker asks the outside world at a time.

The index cache locks a package, the registry cache an image, so two workers that need the same
uncached thing send one request between them: the second waits for the first and then reads the
answer from the database. Keys are hashed into the signed 64-bit space advisory locks take;
each caller names its own namespace, so a package and an image can never share a lock.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from django.db import connection

__all__ = [
    "advisory_lock",
    "advisory_try_lock",
    "advisory_try_lock_many",
    "advisory_unlock",
    "advisory_unlock_many",
    "can_lock",
    "held",
    "held_if_free",
]


def can_lock() -> bool:
    """Advisory locks exist only on PostgreSQL (SQLite runs one process: nothing to serialise)."""
    return connection.vendor == "postgresql"


def _key(namespace: str, parts: tuple[str, ...]) -> int:
    # crc32 of the namespace and of the joined parts: 62 bits, plenty to tell packages apart.
    return (zlib.crc32(namespace.encode()) << 31) ^ zlib.crc32("\x00".join(parts).encode())


def advisory_try_lock(namespace: str, *parts: str) -> bool:
    with connection.cursor() as cur:
        cur.execute("SELECT pg_try_advisory_lock(%s)", [_key(namespace, parts)])
        return bool(cur.fetchone()[0])


def advisory_try_lock_many(namespace: str, many: Iterable[tuple[str, ...]]) -> list[tuple[str, ...]]:
    """Take the lock of each of ``many`` (each the ``parts`` of one lock) that nobody holds, in one
    query; those locked, in the order given.

    A scan asks for a hundred uncached packages at once: one round trip each (and one more to
    unlock) was most of the queries of a first scan.
    """
    many = list(many)
    if not many:
        return []
    keys = [_key(namespace, parts) for parts in many]
    with connection.cursor() as cur:
        # ORDER BY the position: locks are taken in the order given, as one by one would.
        cur.execute(
            "SELECT i FROM unnest(%s::bigint[]) WITH ORDINALITY AS k(key, i) WHERE pg_try_advisory_lock(key) ORDER BY i",
            [keys],
        )
        return [many[i - 1] for (i,) in cur.fetchall()]


def advisory_unlock_many(namespace: str, many: Iterable[tuple[str, ...]]) -> None:
    """Release the locks of ``many`` (held by this session), in one query."""
    keys = [_key(namespace, parts) for parts in many]
    if keys:
        with connection.cursor() as cur:
            cur.execute("SELECT pg_advisory_unlock(key) FROM unnest(%s::bigint[]) AS k(key)", [keys])


def advisory_lock(namespace: str, *parts: str) -> None:
    with connection.cursor() as cur:
        cur.execute("SELECT pg_advisory_lock(%s)", [_key(namespace, parts)])


def advisory_unlock(namespace: str, *parts: str) -> None:
    with connection.cursor() as cur:
        cur.execute("SELECT pg_advisory_unlock(%s)", [_key(namespace, parts)])


@contextmanager
def held(namespace: str, *parts: str) -> Iterator[None]:
    """The lock for the ``with`` block (waiting for it); nothing to hold without PostgreSQL."""
    if not can_lock():
        yield
        return
    advisory_lock(namespace, *parts)
    try:
        yield
    finally:
        advisory_unlock(namespace, *parts)


@contextmanager
def held_if_free(namespace: str, *parts: str) -> Iterator[bool]:
    """The lock for the ``with`` block if nobody holds it (``True``), else ``False`` at once."""
    if not can_lock():
        yield True
        return
    if not advisory_try_lock(namespace, *parts):
        yield False
        return
    try:
        yield True
    finally:
        advisory_unlock(namespace, *parts)
