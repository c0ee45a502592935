"""Organisation-wide scans: warm the index once, then one scan per enabled repo."""

from __future__ import annotations

import logging

from readiness import engine
from readiness.models import Repo, Scan, Verdict
from readiness.services.scans import scan_request

log = logging.getLogger(__name__)


def organisation_scan(*, trigger: str = "schedule", repos: list[Repo] | None = None) -> list[Scan]:
    """Queue a scan of every enabled repo (or of ``repos``), after warming the index cache.

    Warming fetches every distinct package the repos locked at their latest scan, once: a
    package used by 800 repos then costs one index request, not 800. Packages new since then
    are still fetched once each, because the shared PostgreSQL cache serialises fetches of
    the same package across workers.
    """
    targets = list(repos) if repos is not None else list(Repo.objects.filter(enabled=True))
    names = organisation_packages(repo_ids=[r.pk for r in targets])
    if names:
        with engine.shared_index_client() as index:
            index.refresh(names)
    return [scan_request(repo=repo, trigger=trigger) for repo in targets]


def organisation_packages(*, repo_ids: list[int]) -> list[str]:
    """Distinct package names locked by the latest finished scans of ``repo_ids``."""
    result_ids = set()
    for scan_id, results_from in Repo.objects.filter(id__in=repo_ids, latest_scan__isnull=False).values_list(
        "latest_scan_id", "latest_scan__results_from_id"
    ):
        result_ids.add(results_from or scan_id)
    if not result_ids:
        return []
    return sorted(set(Verdict.objects.filter(scan_id__in=result_ids).values_list("package", flat=True)))
