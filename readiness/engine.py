"""The engine configured from Django settings: the index URL, the default targets and the limits.

Management commands and services call these instead of reading settings themselves, so the
CLI and the Celery scans always agree on the index and the targets (the clients themselves
are built in :mod:`readiness.clients`).
"""

from __future__ import annotations

from django.conf import settings

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
