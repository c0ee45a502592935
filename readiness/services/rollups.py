"""Daily readiness roll-ups per repo, team and the whole organisation, for trend charts.

A repo's state on a day is that of its latest finished scan at the end of the day (backfilled
scans count at the point in time they stand for). Re-running a day replaces its rows, so the
Celery beat job and a manual re-run can never double count.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from django.db import transaction
from django.db.models.functions import Coalesce
from django.utils import timezone

from readiness.models import Repo, Rollup, Scan
from readiness.models.rollups import repo_state

__all__ = ["rollup_days", "rollup_row"]


def rollup_days(*, day: dt.date | None = None, since: dt.date | None = None, until: dt.date | None = None) -> int:
    """Compute the roll-ups of ``day`` (default today) or of every day from ``since`` to ``until``."""
    today = timezone.localdate()
    if since is not None:
        first, last = since, until or today
    else:
        first = last = day or today
    days = [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]
    if not days:
        return 0
    end_of = {d: dt.datetime.combine(d + dt.timedelta(days=1), dt.time.min, tzinfo=dt.UTC) for d in days}

    enabled = dict(Repo.objects.filter(enabled=True).values_list("id", "team_id"))
    history: dict[int, list[tuple[dt.datetime, dict]]] = defaultdict(list)
    rows = (
        Scan.objects.filter(repo_id__in=enabled, state__in=Scan.FINISHED_WITH_RESULTS)
        .annotate(at=Coalesce("as_of", "finished_at"))
        .filter(at__lt=end_of[last])
        .order_by("repo_id", "at")
        .values_list("repo_id", "at", "summary")
    )
    for repo_id, at, summary in rows:
        history[repo_id].append((at, summary or {}))

    out: list[Rollup] = []
    for d in days:
        org: dict[str, defaultdict] = defaultdict(lambda: defaultdict(int))
        team: dict[tuple[int, str], defaultdict] = defaultdict(lambda: defaultdict(int))
        for repo_id, scans in history.items():
            summary = _latest_before(scans, end_of[d])
            if summary is None:
                continue
            for target, s in summary.items():
                state = repo_state(s)
                counts = {"repos": 1, state: 1, "blockers": int(s.get("blockers", 0))}
                out.append(rollup_row(d, Rollup.Scope.REPO, target, counts, repo_id=repo_id, team_id=enabled[repo_id]))
                for bucket in (org[target], team[(enabled[repo_id], target)] if enabled[repo_id] else None):
                    if bucket is not None:
                        for k, v in counts.items():
                            bucket[k] += v
        out.extend(rollup_row(d, Rollup.Scope.ORG, target, c) for target, c in org.items())
        out.extend(
            rollup_row(d, Rollup.Scope.TEAM, target, c, team_id=team_id) for (team_id, target), c in team.items()
        )

    with transaction.atomic():
        Rollup.objects.filter(day__in=days).delete()
        Rollup.objects.bulk_create(out, batch_size=5000)
    return len(out)


def _latest_before(scans: list[tuple[dt.datetime, dict]], end: dt.datetime) -> dict | None:
    latest = None
    for at, summary in scans:
        if at >= end:
            break
        latest = summary
    return latest


def rollup_row(day, scope, target, counts, *, repo_id=None, team_id=None) -> Rollup:
    """One roll-up row from a scope's counts per repo state (``sdist`` is "builds from source")."""
    return Rollup(
        day=day,
        scope=scope,
        repo_id=repo_id,
        team_id=team_id,
        target=target,
        repos=counts.get("repos", 0),
        ready=counts.get("ready", 0),
        builds_from_source=counts.get("sdist", 0),
        blocked=counts.get("blocked", 0),
        unknown=counts.get("unknown", 0),
        blockers=counts.get("blockers", 0),
    )
