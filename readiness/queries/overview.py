"""The overview page: how ready are we, what blocks us, what changed.

Current readiness comes from each repo's stored per-target ``summary`` (no verdict rows);
"a week ago" and the trend come from ``Rollup`` rows; blockers from the GROUP BY queries of
:mod:`readiness.queries.blockers`.

Queries of :func:`overview_page` (6, whatever the size of the organisation):
1. every current repo's latest summary and finish time (one small row per repo);
2. rollups of the last 12 weeks, organisation or team scope (trend chart, last week's numbers);
3. top blocking packages ranked by repos (GROUP BY);
4. their version/target/fix groups (GROUP BY, limited to those packages);
5. the direct dependencies that pull them in (their blocking rows' stored chains);
6. the most recently changed repos (latest scans that found something new).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from django.utils import timezone

from readiness.queries.blockers import PackageBlockers, blocker_packages
from readiness.queries.scope import current_repos
from readiness.queries.trends import Series, TrendPoint, readiness_series
from readiness.services.rollups import repo_state

__all__ = ["OverviewPage", "RecentRepo", "TargetReadiness", "overview_page", "target_readiness"]

TOP_BLOCKERS = 10
RECENT_REPOS = 10
TREND_WEEKS = 12


@dataclass(frozen=True, slots=True)
class TargetReadiness:
    """Repos per state on one target, and the change since the rollup of a week ago."""

    target: str
    repos: int
    ready: int
    builds_from_source: int
    blocked: int
    unknown: int = 0
    """Repos whose answer is incomplete (index outage, unreadable or no lockfile): never ready."""
    last_week: TrendPoint | None = None

    def _pct(self, n: int) -> float:
        return round(100 * n / self.repos, 1) if self.repos else 0.0

    @property
    def ready_pct(self) -> float:
        return self._pct(self.ready)

    @property
    def builds_from_source_pct(self) -> float:
        return self._pct(self.builds_from_source)

    @property
    def blocked_pct(self) -> float:
        return self._pct(self.blocked)

    @property
    def unknown_pct(self) -> float:
        return self._pct(self.unknown)

    @property
    def unknown_change(self) -> int | None:
        return None if self.last_week is None else self.unknown - self.last_week.unknown

    @property
    def ready_change(self) -> int | None:
        return None if self.last_week is None else self.ready - self.last_week.ready

    @property
    def blocked_change(self) -> int | None:
        return None if self.last_week is None else self.blocked - self.last_week.blocked

    @property
    def builds_from_source_change(self) -> int | None:
        return None if self.last_week is None else self.builds_from_source - self.last_week.builds_from_source


@dataclass(frozen=True, slots=True)
class RecentRepo:
    name: str
    team: str
    finished_at: dt.datetime | None
    states: tuple[tuple[str, str], ...]  # (target, ready/sdist/blocked)


@dataclass(frozen=True, slots=True)
class OverviewPage:
    repos: int
    scanned: int
    last_scan_at: dt.datetime | None
    targets: tuple[TargetReadiness, ...]
    trend: tuple[Series, ...]
    top_blockers: tuple[PackageBlockers, ...]
    recent: tuple[RecentRepo, ...]

    def trend_chart(self) -> list[dict]:
        return [s.chart() for s in self.trend]


def target_readiness(summaries: list[dict]) -> dict[str, dict[str, int]]:
    """Count repos per target and state from stored summaries (pure: tested without a database)."""
    counts: dict[str, dict[str, int]] = defaultdict(lambda: {"repos": 0, "ready": 0, "sdist": 0, "blocked": 0, "unknown": 0})
    for summary in summaries:
        for target, s in (summary or {}).items():
            if not isinstance(s, dict):
                continue
            c = counts[target]
            c["repos"] += 1
            c[repo_state(s)] += 1
    return dict(counts)


def _states(summary: dict | None) -> tuple[tuple[str, str], ...]:
    return tuple((t, repo_state(s)) for t, s in sorted((summary or {}).items()) if isinstance(s, dict))


def overview_page(*, team: str | None, today: dt.date | None = None) -> OverviewPage:
    """Everything the overview shows, already loaded. 6 queries (see the module docstring)."""
    today = today or timezone.localdate()
    rows = list(current_repos(team=team).values_list("latest_scan__summary", "latest_scan__finished_at"))
    summaries = [s for s, _ in rows if s is not None]
    finished = [f for _, f in rows if f is not None]
    trend = readiness_series(team=team, since=today - dt.timedelta(weeks=TREND_WEEKS))
    week_ago = today - dt.timedelta(days=7)
    last_week = {}
    for series in trend:
        before = [p for p in series.points if p.day <= week_ago]
        if before:
            last_week[series.target] = before[-1]
    targets = tuple(
        TargetReadiness(
            target=t, repos=c["repos"], ready=c["ready"], builds_from_source=c["sdist"], blocked=c["blocked"],
            unknown=c["unknown"], last_week=last_week.get(t),
        )
        for t, c in sorted(target_readiness(summaries).items())
    )
    recent_qs = (
        current_repos(team=team)
        .filter(latest_scan__isnull=False, latest_scan__unchanged=False)
        .order_by("-latest_scan__finished_at", "name")
        .values_list("name", "team__name", "latest_scan__finished_at", "latest_scan__summary")[:RECENT_REPOS]
    )
    recent = tuple(RecentRepo(name=n, team=t or "", finished_at=f, states=_states(s)) for n, t, f, s in recent_qs)
    return OverviewPage(
        repos=len(rows),
        scanned=len(summaries),
        last_scan_at=max(finished) if finished else None,
        targets=targets,
        trend=tuple(trend),
        top_blockers=tuple(blocker_packages(team=team, limit=TOP_BLOCKERS)),
        recent=recent,
    )
