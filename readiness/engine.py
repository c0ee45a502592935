"""The engine configured from Django settings: one place that builds index clients and defaults.

Management commands and services call these instead of reading settings themselves, so the
CLI and the Celery scans always agree on the index, the targets and the caches.
"""

from __future__ import annotations

from django.conf import settings

from scanners.check import TargetDefaults
from scanners.index import FileIndexCache, IndexClient, default_index_url


def index_url() -> str:
    return settings.READINESS_INDEX_URL or default_index_url()


def target_defaults() -> TargetDefaults:
    return TargetDefaults(
        python=settings.READINESS_DEFAULT_PYTHON,
        libc=settings.READINESS_DEFAULT_LIBC,
        platforms=tuple(settings.READINESS_PLATFORMS),
    )


def cli_index_client(*, url: str | None = None, cache: bool = True) -> IndexClient:
    """An index client for one command run, caching pages on disk between runs."""
    return IndexClient(
        url or index_url(),
        cache=FileIndexCache(settings.VAR_DIR / "index-cache") if cache else None,
        cache_period=settings.READINESS_INDEX_CACHE_SECONDS,
    )


def shared_index_client():
    """An index client whose cache is the database, shared by every worker (one per scan run)."""
    from readiness.services.index_cache import DatabaseIndexClient, process_http_client

    return DatabaseIndexClient(
        index_url(),
        http=process_http_client(),
        cache_period=settings.READINESS_INDEX_CACHE_SECONDS,
        retries=settings.READINESS_INDEX_RETRIES,
    )
