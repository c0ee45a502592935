"""The trends page and export: readiness over time, from the daily ``Rollup`` rows only.

Trend pages never touch verdict rows: 2,000 repos × 2 targets × a year of rollups is small,
the verdicts behind them are not.

Queries of :func:`trends_page` (3, whatever the size of the organisation):
1. organisation (or the team's) rows per day and target in the period;
2. team rows per day and target in the period (one line per team);
3. blockers opened and closed per week: per-repo blocker counts on weekly days, compared with
   the week before by a window function (LAG) and summed by the database;
4. whether any point in the period was backfilled (the page's footnote then says how).
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass

from django.db import connection
from django.utils import timezone

from readiness.models import Repo, Rollup, Scan, Team

__all__ = [
    "DEFAULT_PERIOD",
    "PERIODS",
    "Series",
    "TRENDS_CSV_COLUMNS",
    "TrendPoint",
    "TrendsPage",
    "WeekBlockers",
    "parse_period",
    "readiness_series",
    "trends_csv_rows",
    "trends_page",
]

PERIODS = ("4w", "12w", "26w", "52w")
DEFAULT_PERIOD = "12w"
_PERIOD_RE = re.compile(r"^(\d{1,3})w$")
TRENDS_CSV_COLUMNS = [
    "day",
    "scope",
    "team",
    "target",
    "repos",
    "ready",
    "builds_from_source",
    "blocked",
    "unknown",
    "blockers",
]


def parse_period(value: str | None) -> int | None:
    """Weeks in ``?period=12w``; ``None`` for anything else (the caller falls back and says so)."""
    m = _PERIOD_RE.match(value or "")
    if not m or not 1 <= int(m.group(1)) <= 156:
        return None
    return int(m.group(1))


@dataclass(frozen=True, slots=True)
class TrendPoint:
    day: dt.date
    repos: int
    ready: int
    builds_from_source: int
    blocked: int
    blockers: int
    unknown: int = 0

    @property
    def ready_pct(self) -> float:
        return round(100 * self.ready / self.repos, 1) if self.repos else 0.0


@dataclass(frozen=True, slots=True)
class Series:
    """One line of a chart: a target (organisation or team scope) or a team on a target."""

    name: str
    target: str
    points: tuple[TrendPoint, ...]
    team: str = ""

    def weekly(self) -> tuple[TrendPoint, ...]:
        """One point a week, counted back from the newest, for the tables under the charts."""
        return self.points[::-1][::7][::-1]

    def chart(self) -> dict:
        return {
            "name": self.name,
            "x": [p.day.isoformat() for p in self.points],
            "y": [p.ready_pct for p in self.points],
            "ready": [p.ready for p in self.points],
            "repos": [p.repos for p in self.points],
        }


@dataclass(frozen=True, slots=True)
class Heatmap:
    """``rows``: ``(team, [point or None per week])``; each cell shows the week's % ready."""

    target: str
    weeks: list[dt.date]
    rows: list[tuple[str, list[TrendPoint | None]]]


@dataclass(frozen=True, slots=True)
class WeekBlockers:
    week: dt.date
    opened: int
    closed: int


@dataclass(frozen=True, slots=True)
class TrendsPage:
    weeks: int
    since: dt.date
    targets: tuple[Series, ...]
    teams: tuple[Series, ...]
    blockers: tuple[WeekBlockers, ...]
    backfilled: bool = False  # some points come from ``manage.py backfill`` (analysed as of their day)

    @property
    def is_empty(self) -> bool:
        return not self.targets

    @property
    def heatmaps(self) -> list[Heatmap]:
        """Per target, a team × week table of "% ready": legible at 20 teams, where 40 lines are not."""
        by_target: dict[str, list[Series]] = defaultdict(list)
        for s in self.teams:
            by_target[s.target].append(s)
        out = []
        for target, series in sorted(by_target.items()):
            weeks = sorted({p.day for s in series for p in s.weekly()})
            rows = []
            for s in sorted(series, key=lambda s: s.team):
                points = {p.day: p for p in s.weekly()}
                rows.append((s.team, [points.get(w) for w in weeks]))
            out.append(Heatmap(target=target, weeks=weeks, rows=rows))
        return out

    def charts(self) -> dict:
        return {
            "targets": [s.chart() for s in self.targets],
            "blockers": {
                "x": [w.week.isoformat() for w in self.blockers],
                "opened": [w.opened for w in self.blockers],
                "closed": [w.closed for w in self.blockers],
            },
        }


def _point(row: dict) -> TrendPoint:
    return TrendPoint(
        day=row["day"],
        repos=row["repos"],
        ready=row["ready"],
        builds_from_source=row["builds_from_source"],
        blocked=row["blocked"],
        blockers=row["blockers"],
        unknown=row["unknown"],
    )


_FIELDS = ("day", "target", "repos", "ready", "builds_from_source", "blocked", "unknown", "blockers")


def readiness_series(*, team: str | None, since: dt.date) -> list[Series]:
    """Readiness per target from ``since`` on: organisation rows, or the team's rows (1 query)."""
    qs = Rollup.objects.filter(day__gte=since)
    qs = qs.filter(scope=Rollup.Scope.TEAM, team__name=team) if team else qs.filter(scope=Rollup.Scope.ORG)
    by_target: dict[str, list[TrendPoint]] = defaultdict(list)
    for row in qs.order_by("target", "day").values(*_FIELDS):
        by_target[row["target"]].append(_point(row))
    return [Series(name=t, target=t, points=tuple(p)) for t, p in sorted(by_target.items())]


def _team_series(*, team: str | None, since: dt.date) -> list[Series]:
    qs = Rollup.objects.filter(scope=Rollup.Scope.TEAM, day__gte=since)
    if team:
        qs = qs.filter(team__name=team)
    lines: dict[tuple[str, str], list[TrendPoint]] = defaultdict(list)
    for row in qs.order_by("team__name", "target", "day").values("team__name", *_FIELDS):
        lines[(row["team__name"], row["target"])].append(_point(row))
    return [
        Series(name=f"{name} · {target}", target=target, points=tuple(p), team=name)
        for (name, target), p in lines.items()
    ]


def _weekly_blockers(*, team: str | None, since: dt.date, today: dt.date) -> list[WeekBlockers]:
    """Opened = sum of per-repo increases of blocker counts week over week; closed = decreases.

    Counted per (repo, target) from repo-scope rollups on the same weekday each week, one week
    before ``since`` included so the first week has something to compare with. Plain SQL because
    the ORM cannot aggregate over a window function; the SQL is portable (PostgreSQL, SQLite).
    """
    days = []
    day = today
    while day >= since - dt.timedelta(days=7):
        days.append(day)
        day -= dt.timedelta(days=7)
    rollup, repo, team_table = Rollup._meta.db_table, Repo._meta.db_table, Team._meta.db_table
    params: list = [Rollup.Scope.REPO.value, *days]
    team_sql = ""
    if team:
        team_sql = (
            f" AND r.repo_id IN (SELECT p.id FROM {repo} p JOIN {team_table} t ON t.id = p.team_id WHERE t.name = %s)"
        )
        params.append(team)
    sql = f"""
        SELECT day,
               SUM(CASE WHEN prev IS NOT NULL AND blockers > prev THEN blockers - prev ELSE 0 END),
               SUM(CASE WHEN prev IS NOT NULL AND blockers < prev THEN prev - blockers ELSE 0 END),
               COUNT(prev)
        FROM (
            SELECT r.day AS day, r.blockers AS blockers,
                   LAG(r.blockers) OVER (PARTITION BY r.repo_id, r.target ORDER BY r.day) AS prev
            FROM {rollup} r
            WHERE r.scope = %s AND r.day IN ({", ".join(["%s"] * len(days))}){team_sql}
        ) weekly
        GROUP BY day
        ORDER BY day
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    out = []
    for day, opened, closed, compared in rows:
        if isinstance(day, str):  # SQLite returns dates as text from raw SQL
            day = dt.date.fromisoformat(day)
        if compared:
            out.append(WeekBlockers(week=day, opened=int(opened or 0), closed=int(closed or 0)))
    return out


def trends_page(*, team: str | None, weeks: int = 12, today: dt.date | None = None) -> TrendsPage:
    """Readiness per target and per team over ``weeks``, and blockers opened/closed per week. 4 queries."""
    today = today or timezone.localdate()
    since = today - dt.timedelta(weeks=weeks)
    return TrendsPage(
        weeks=weeks,
        since=since,
        targets=tuple(readiness_series(team=team, since=since)),
        teams=tuple(_team_series(team=team, since=since)),
        blockers=tuple(_weekly_blockers(team=team, since=since, today=today)),
        backfilled=Scan.objects.filter(as_of__date__gte=since, state__in=Scan.FINISHED_WITH_RESULTS).exists(),
    )


def trends_csv_rows(*, team: str | None, weeks: int = 12, today: dt.date | None = None) -> Iterator[list]:
    """The rows behind the trends page's charts, organisation (or team) scope then per team. 2 queries."""
    today = today or timezone.localdate()
    since = today - dt.timedelta(weeks=weeks)
    scope_name = "team" if team else "org"
    for series in readiness_series(team=team, since=since):
        for p in series.points:
            yield _csv_row(p, scope_name, team or "", series.target)
    if not team:
        for series in _team_series(team=None, since=since):
            for p in series.points:
                yield _csv_row(p, "team", series.team, series.target)


def _csv_row(p: TrendPoint, scope: str, team: str, target: str) -> list:
    return [
        p.day.isoformat(),
        scope,
        team,
        target,
        p.repos,
        p.ready,
        p.builds_from_source,
        p.blocked,
        p.unknown,
        p.blockers,
    ]
