"""Every client the dashboard talks to the outside with, built from settings on ONE ``httpx.Client``.

The index client, the registry client, the GitHub client and the core metadata reader all
come from here, so the Celery scans and the demo agree on the index, the caches and the HTTP
policy (``archcheck`` builds its own from the same settings: :mod:`scanners.archcheck`), and a worker process keeps one connection pool and TLS context for them all.
What the clients do lives in ``scanners`` (and ``readiness.services.github``); this module
only decides how they are configured.
"""

from __future__ import annotations

import os

import httpx
from django.conf import settings

from readiness import engine
from readiness.services.github import GitHubClient
from scanners.http import new_client
from scanners.registry import RegistryClient

__all__ = [
    "github_client",
    "http_client",
    "http_deadline",
    "metadata_reader",
    "registry_client",
    "shared_index_client",
]

_HTTP: tuple[int, httpx.Client] | None = None


def http_client() -> httpx.Client:
    """One HTTP client per process (connection pool and TLS context are costly to build per scan).

    Keyed by process id: a Celery prefork child never uses a client made before the fork.
    """
    global _HTTP
    if _HTTP is None or _HTTP[0] != os.getpid():
        _HTTP = (os.getpid(), new_client(max_connections=16))
    return _HTTP[1]


def http_deadline() -> float:
    """Seconds one call may take in all (``READINESS_HTTP_DEADLINE``), see :mod:`scanners.http`."""
    return float(settings.READINESS_HTTP_DEADLINE)


def shared_index_client():
    """An index client whose cache is the database, shared by every worker (one per scan run)."""
    from readiness.services.index_cache import DatabaseIndexClient

    return DatabaseIndexClient(
        engine.index_url(),
        http=http_client(),
        cache_period=settings.READINESS_INDEX_CACHE_SECONDS,
        retries=settings.READINESS_INDEX_RETRIES,
        deadline=http_deadline(),
    )


def registry_client() -> RegistryClient | None:
    """A client for one run, or ``None`` when lookups are switched off (closed networks).

    Answers and failures are shared with every worker through the database (``archcheck`` keeps
    its own on disk: :mod:`scanners.archcheck`).
    """
    from readiness.services.registry_cache import DatabaseRegistryClient, registry_credentials

    if not settings.READINESS_REGISTRY_LOOKUPS:
        return None
    options = dict(
        credentials=registry_credentials(),
        cache_period=settings.READINESS_REGISTRY_CACHE_SECONDS,
        failure_period=settings.READINESS_REGISTRY_FAILURE_SECONDS,
        endpoints=settings.READINESS_REGISTRY_ENDPOINTS,
        insecure_registries=settings.READINESS_REGISTRY_INSECURE,
        http=http_client(),
        deadline=http_deadline(),
    )
    return DatabaseRegistryClient(**options)


def metadata_reader():
    """Core metadata of release files (PEP 658): old wheels pip may refuse, "upgrade the parent"
    advice. Shared through the database, so each file's metadata is fetched once for all scans."""
    from readiness.services.metadata_cache import DatabaseMetadataReader
    from scanners.project_metadata import metadata_reader as fetching_reader

    return DatabaseMetadataReader(fetching_reader(http_client(), deadline=http_deadline()))


def github_client() -> GitHubClient:
    """The GitHub API client of ``import_repos --github-org`` (GITHUB_API_URL, GITHUB_TOKEN)."""
    from readiness.services.github import github_client as make

    return make(
        base_url=settings.GITHUB_API_URL, token=settings.GITHUB_TOKEN, http=http_client(), deadline=http_deadline()
    )
