"""The repositories page: every repo with its team, readiness per target, blockers, last scan.

Team and search are applied in SQL; the state filter (on one target, or the worst state over all
targets) and the sort work on the per-target ``summary`` JSON, so they run in Python over one
small row per repo (2,000 at most, not the million verdict rows behind them), which keeps the
SQL identical on PostgreSQL and SQLite. ``?target=linux/arm64&state=blocked`` lists exactly the
repos the overview counts as blocked on linux/arm64.

Queries of :func:`repos_page`: 1, the repos with their team and latest summary.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from readiness.models.rollups import repo_state
from readiness.queries.scope import current_repos

__all__ = ["STATES", "RepoRow", "ReposPage", "parse_sort", "repos_page"]

STATES = ("ready", "sdist", "blocked", "unknown", "unscanned")
_STATE_ORDER = {"blocked": 0, "unknown": 1, "sdist": 2, "ready": 3, None: 4}
_SIMPLE_SORTS = ("name", "team", "blockers", "scanned")


@dataclass(frozen=True, slots=True)
class RepoRow:
    name: str
    team: str
    scanned_at: dt.datetime | None
    scan_state: str | None
    states: dict[str, str]  # target -> ready / sdist / blocked / unknown
    blockers_by_target: dict[str, int]

    @property
    def blockers(self) -> int:
        return sum(self.blockers_by_target.values())

    @property
    def overall(self) -> str:
        """``unscanned``, else the worst state over the repo's targets."""
        if not self.states:
            return "unscanned"
        return min(self.states.values(), key=lambda s: _STATE_ORDER[s])

    def state_on(self, target: str) -> str:
        """The state on one target (``unscanned`` when no finished scan covers it)."""
        return self.states.get(target, "unscanned")


@dataclass(frozen=True, slots=True)
class ReposPage:
    rows: tuple[RepoRow, ...]
    targets: tuple[str, ...]
    sort: str
    total: int
    target: str = ""
    """The target the state filter applied to (empty: the worst state over all targets)."""


def parse_sort(value: str | None, *, targets: tuple[str, ...]) -> str | None:
    """``name``, ``-team``, ``target:linux/arm64`` …; ``None`` when it is not a column."""
    key = (value or "").removeprefix("-")
    if key in _SIMPLE_SORTS or (key.startswith("target:") and key[len("target:") :] in targets):
        return value
    return None


def _sort_key(column: str):
    if column == "name":
        return lambda r: r.name
    if column == "team":
        return lambda r: (r.team == "", r.team, r.name)
    if column == "blockers":
        return lambda r: (r.blockers, r.name)
    if column == "scanned":
        return lambda r: (r.scanned_at is not None, r.scanned_at or dt.datetime.min.replace(tzinfo=dt.UTC), r.name)
    target = column[len("target:") :]
    return lambda r: (_STATE_ORDER[r.states.get(target)], r.name)


def repos_page(*, team: str | None, q: str = "", state: str = "", sort: str = "name", target: str = "") -> ReposPage:
    """Repos of ``team`` (or all) whose name contains ``q``, in ``state`` (on ``target``, else
    overall), sorted by ``sort``. 1 query.

    An unknown ``state``, ``target`` or ``sort`` is ignored (all states, sorted by name).
    """
    qs = current_repos(team=team)
    if q:
        qs = qs.filter(name__icontains=q)
    rows = []
    targets: set[str] = set()
    values = qs.order_by("name").values_list(
        "name", "team__name", "latest_scan__finished_at", "latest_scan__state", "latest_scan__summary"
    )
    for name, team_name, finished, scan_state, summary in values:
        summary = summary if isinstance(summary, dict) else {}
        per_target = {t: s for t, s in summary.items() if isinstance(s, dict)}
        targets.update(per_target)
        rows.append(
            RepoRow(
                name=name,
                team=team_name or "",
                scanned_at=finished,
                scan_state=scan_state,
                states={t: repo_state(s) for t, s in per_target.items()},
                blockers_by_target={t: int(s.get("blockers") or 0) for t, s in per_target.items()},
            )
        )
    total = len(rows)
    target_tuple = tuple(sorted(targets))
    target = target if target in target_tuple else ""
    if state in STATES:
        rows = [r for r in rows if (r.state_on(target) if target else r.overall) == state]
    sort = parse_sort(sort, targets=target_tuple) or "name"
    rows.sort(key=_sort_key(sort.removeprefix("-")), reverse=sort.startswith("-"))
    return ReposPage(rows=tuple(rows), targets=target_tuple, sort=sort, total=total, target=target)
