"""Base-image lookups for scans: the registry cache in the database (the client: ``readiness.clients``).

Like the index cache, worker threads never touch the database: every cached answer is read
in one query when the client is made (an organisation has hundreds of base images, not
millions) and new answers are written back in one transaction by :meth:`flush`.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction

from readiness.models import ImagePlatformsCache
from scanners.registry import CachedPlatforms, MemoryRegistryCache

__all__ = ["DatabaseRegistryCache", "registry_credentials"]


class DatabaseRegistryCache(MemoryRegistryCache):
    def __init__(self) -> None:
        super().__init__()
        self._entries.update(
            (
                (row.registry, row.repository, row.reference),
                CachedPlatforms(tuple(row.platforms), row.digest or None, row.media_type or None, row.fetched_at),
            )
            for row in ImagePlatformsCache.objects.all()
        )
        self._dirty: dict[tuple[str, str, str], CachedPlatforms] = {}

    def put(self, registry: str, repository: str, reference: str, entry: CachedPlatforms) -> None:
        super().put(registry, repository, reference, entry)
        with self._lock:
            self._dirty[(registry, repository, reference)] = entry

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
                    },
                )
        return len(dirty)


def registry_credentials() -> dict[str, tuple[str, str]]:
    """``{registry: (user, password)}`` from a Docker-style ``config.json`` (READINESS_REGISTRY_AUTH_FILE).

    The file is the one ``docker login`` writes, so operators reuse what they have; secrets stay
    in that file and in memory, never in the database or logs.
    """
    path = settings.READINESS_REGISTRY_AUTH_FILE
    if not path:
        return {}
    try:
        auths = json.loads(Path(path).read_text()).get("auths", {})
        out = {}
        for host, entry in auths.items():
            user, _, password = base64.b64decode(entry["auth"]).decode().partition(":")
            out[host.removeprefix("https://").split("/")[0]] = (user, password)
        return out
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ImproperlyConfigured(
            f"READINESS_REGISTRY_AUTH_FILE={path}: not a Docker config.json ({type(exc).__name__})"
        ) from None
