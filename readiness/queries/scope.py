"""What every page is "about": the enabled repos (of one team, or all) and their current results.

A repo's current state is its ``latest_scan``; the verdict rows of that state live in the scan
the latest one points at (``results_from``, when nothing changed) or in the latest scan itself.
These helpers return *subqueries*, not lists, so a page that filters verdict rows by "current
result scans" stays one SQL statement whether the organisation has 1 repo or 2,000.
"""

from __future__ import annotations

from collections.abc import Collection

from django.db.models import F, QuerySet
from django.db.models.functions import Coalesce

from readiness.models import Repo, Team

__all__ = ["current_repos", "result_scan_ids", "team_names"]


def current_repos(*, team: str | None, repo_ids: Collection[int] | None = None) -> QuerySet[Repo]:
    """Enabled repos, of ``team`` when given (an unknown team simply matches nothing), and among
    ``repo_ids`` when given (a campaign's scope)."""
    qs = Repo.objects.filter(enabled=True)
    if team:
        qs = qs.filter(team__name=team)
    if repo_ids is not None:
        qs = qs.filter(id__in=list(repo_ids))
    return qs


def result_scan_ids(*, team: str | None, repo_ids: Collection[int] | None = None) -> QuerySet:
    """Subquery: the ids of the scans holding the verdict rows of each current repo's latest scan."""
    return (
        current_repos(team=team, repo_ids=repo_ids)
        .filter(latest_scan__isnull=False)
        .annotate(result_id=Coalesce(F("latest_scan__results_from_id"), F("latest_scan_id")))
        .values("result_id")
    )


def team_names() -> list[str]:
    """All team names, for the team filter shown on every page (1 query)."""
    return list(Team.objects.order_by("name").values_list("name", flat=True))
