"""The overview page: how ready are we, what blocks us, what changed.

Current readiness comes from each repo's stored per-target ``summary`` (no verdict rows);
"a week ago" and the trend come from ``Rollup`` rows; the next actions from
:mod:`readiness.queries.actions`.

Queries of :func:`overview_page` (8, whatever the size of the organisation):
1. every current repo's latest summary and finish time (one small row per repo);
1b. the triage of the blocked repos (3, :func:`readiness.queries.triage.blocked_triage`; none when
    nothing is blocked);
2. rollups of the last 12 weeks, organisation or team scope (trend chart, last week's numbers);
3. blocking and re-lockable verdict rows of the current results (next actions);
4. blocker findings of the current results (next actions);
5. the most recently changed repos (latest scans that found something new).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import dataclass

from django.db.models.functions import Coalesce
from django.utils import timezone

from readiness.models.rollups import repo_state
from readiness.queries.actions import NextAction, next_actions
from readiness.queries.scope import current_repos
from readiness.queries.trends import Series, TrendPoint, readiness_series
from readiness.queries.triage import TRIAGE_CLASSES, blocked_triage

__all__ = ["OverviewPage", "RecentRepo", "TargetReadiness", "overview_page", "target_readiness"]

NEXT_ACTIONS = 8
STATE_ORDER = ("ready", "sdist", "blocked", "unknown")
"""The order of a target's stacked bar: good news first."""
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
    blocked_triage: tuple[tuple[str, int], ...] = ()
    """The blocked repos by triage: ``(untriaged | in-progress | accepted, repos)``; accepted is
    decided, not ready."""

    @classmethod
    def from_counts(
        cls,
        target: str,
        counts: Mapping[str, int],
        last_week: TrendPoint | None,
        blocked_triage: Mapping[str, int] | None = None,
    ) -> TargetReadiness:
        """From one target's counts of :func:`target_readiness` (``sdist`` is "builds from source")."""
        return cls(
            target=target,
            repos=counts["repos"],
            ready=counts["ready"],
            builds_from_source=counts["sdist"],
            blocked=counts["blocked"],
            unknown=counts["unknown"],
            blocked_triage=tuple((k, (blocked_triage or {}).get(k, 0)) for k in TRIAGE_CLASSES)
            if counts["blocked"]
            else (),
            last_week=last_week,
        )

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

    def count(self, state: str) -> int:
        return {
            "ready": self.ready,
            "sdist": self.builds_from_source,
            "blocked": self.blocked,
            "unknown": self.unknown,
        }[state]

    @property
    def segments(self) -> list[tuple[str, int, float, float]]:
        """``(state, repos, percent, offset percent)`` for the stacked bar, in :data:`STATE_ORDER`,
        empty states left out (an SVG bar: its widths are attributes, no inline styles)."""
        out, offset = [], 0.0
        for state in STATE_ORDER:
            n = self.count(state)
            if n:
                width = 100 * n / self.repos
                out.append((state, n, round(width, 2), round(offset, 2)))
                offset += width
        return out

    @property
    def legend(self) -> list[tuple[str, int, int | None]]:
        """``(state, repos, change since last week or None)`` for every state, zero counts included."""
        changes = {
            "ready": self.ready_change,
            "sdist": self.builds_from_source_change,
            "blocked": self.blocked_change,
            "unknown": self.unknown_change,
        }
        return [(s, self.count(s), changes[s]) for s in STATE_ORDER]

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
    next_actions: tuple[NextAction, ...]
    recent: tuple[RecentRepo, ...]

    def trend_chart(self) -> list[dict]:
        return [s.chart() for s in self.trend]


def target_readiness(summaries: list[dict]) -> dict[str, dict[str, int]]:
    """Count repos per target and state from stored summaries (pure: tested without a database)."""
    counts: dict[str, dict[str, int]] = defaultdict(
        lambda: {"repos": 0, "ready": 0, "sdist": 0, "blocked": 0, "unknown": 0}
    )
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
    """Everything the overview shows, already loaded. 5 queries (see the module docstring)."""
    today = today or timezone.localdate()
    rows = list(current_repos(team=team).values_list("id", "latest_scan__summary", "latest_scan__finished_at"))
    summaries = [s for _i, s, _f in rows if s is not None]
    finished = [f for _i, _s, f in rows if f is not None]
    blocked = {i: [t for t, ts in s.items() if repo_state(ts) == "blocked"] for i, s, _f in rows if s}
    by_target: dict[str, Counter] = defaultdict(Counter)
    for (_repo, target), cls in blocked_triage(blocked={i: ts for i, ts in blocked.items() if ts}, today=today).items():
        by_target[target][cls] += 1
    trend = readiness_series(team=team, since=today - dt.timedelta(weeks=TREND_WEEKS))
    week_ago = today - dt.timedelta(days=7)
    last_week = {}
    for series in trend:
        before = [p for p in series.points if p.day <= week_ago]
        if before:
            last_week[series.target] = before[-1]
    targets = tuple(
        TargetReadiness.from_counts(t, c, last_week.get(t), by_target.get(t))
        for t, c in sorted(target_readiness(summaries).items())
    )
    # A rescan that found nothing new ("unchanged") keeps the repo where its answer last changed:
    # the scan its results come from, not the rescan, says when that was.
    changed_at = Coalesce("latest_scan__results_from__finished_at", "latest_scan__finished_at")
    recent_qs = (
        current_repos(team=team)
        .filter(latest_scan__isnull=False)
        .annotate(changed_at=changed_at)
        .order_by("-changed_at", "name")
        .values_list("name", "team__name", "changed_at", "latest_scan__summary")[:RECENT_REPOS]
    )
    recent = tuple(RecentRepo(name=n, team=t or "", finished_at=f, states=_states(s)) for n, t, f, s in recent_qs)
    return OverviewPage(
        repos=len(rows),
        scanned=len(summaries),
        last_scan_at=max(finished) if finished else None,
        targets=targets,
        trend=tuple(trend),
        next_actions=tuple(next_actions(team=team, limit=NEXT_ACTIONS)),
        recent=recent,
    )
