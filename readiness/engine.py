"""The engine configured from Django settings: the index URL, the default targets and the limits.

Management commands and services call these instead of reading settings themselves, so the
CLI and the Celery scans always agree on the index and the targets (the clients themselves
are built in :mod:`readiness.clients`).
"""

from __future__ import annotations

from django.conf import settings

from scanners.archcheck_settings import ArchcheckSettings
from scanners.check import CheckLimits, TargetDefaults
from scanners.index import default_index_url


def index_url() -> str:
    return settings.READINESS_INDEX_URL or default_index_url()


def target_defaults() -> TargetDefaults:
    return TargetDefaults(
        python=settings.READINESS_DEFAULT_PYTHON,
        libc=settings.READINESS_DEFAULT_LIBC,
        platforms=tuple(settings.READINESS_PLATFORMS),
    )


def check_limits() -> CheckLimits:
    return CheckLimits(
        packages_per_lockfile=settings.READINESS_MAX_PACKAGES_PER_LOCKFILE,
        packages_per_repo=settings.READINESS_MAX_PACKAGES_PER_REPO,
    )


def archcheck_settings() -> ArchcheckSettings:
    """What ``archcheck`` reads, from Django's settings (``python -m scanners`` reads the environment)."""
    return ArchcheckSettings(
        var_dir=settings.VAR_DIR,
        git_cache_dir=settings.READINESS_GIT_CACHE_DIR,
        index_url=settings.READINESS_INDEX_URL,
        platforms=tuple(settings.READINESS_PLATFORMS),
        default_python=settings.READINESS_DEFAULT_PYTHON,
        default_libc=settings.READINESS_DEFAULT_LIBC,
        index_cache_seconds=settings.READINESS_INDEX_CACHE_SECONDS,
        index_retries=settings.READINESS_INDEX_RETRIES,
        http_deadline=settings.READINESS_HTTP_DEADLINE,
        max_file_bytes=settings.READINESS_MAX_FILE_BYTES,
        max_packages_per_lockfile=settings.READINESS_MAX_PACKAGES_PER_LOCKFILE,
        max_packages_per_repo=settings.READINESS_MAX_PACKAGES_PER_REPO,
        registry_lookups=settings.READINESS_REGISTRY_LOOKUPS,
        registry_cache_seconds=settings.READINESS_REGISTRY_CACHE_SECONDS,
        registry_failure_seconds=settings.READINESS_REGISTRY_FAILURE_SECONDS,
        registry_auth_file=settings.READINESS_REGISTRY_AUTH_FILE,
        registry_endpoints=dict(settings.READINESS_REGISTRY_ENDPOINTS),
        registry_insecure=tuple(settings.READINESS_REGISTRY_INSECURE),
    )
