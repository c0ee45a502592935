"""The weekly email report: what one section (the organisation, or one team) says this week.

Reuses the dashboard's own reads, so the email and the pages can never disagree: current
readiness is counted from each repo's stored summary (:func:`readiness.queries.overview.target_readiness`),
last week's numbers and the sparkline come from ``Rollup`` rows (:func:`readiness.queries.trends.readiness_series`),
the next actions from :func:`readiness.queries.actions.next_actions` (the overview's), and the
"ask upstream" drafts awaiting a decision from :func:`readiness.queries.upstream.upstream_suggestions`.

Queries of :func:`weekly_report_section` (6, whatever the size of the organisation):
1. every current repo's id, name and latest summary;
2. organisation (or team) rollups of the last 12 weeks (numbers a week ago, sparkline);
3. repo-scope rollups of the day a week ago, for the current repos (who became ready, who is newly blocked);
4. blocking and re-lockable verdict rows (next actions);
5. blocker findings (next actions);
6. the open upstream suggestions.
A report is one section per scope; :func:`weekly_report` builds each scope once per run
(``cache``), so sending to 500 subscribers costs 7 queries per distinct scope, not per email.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import MutableMapping, Sequence
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import OuterRef, Prefetch, Subquery

from readiness.models import Rollup, Subscription, Team, UpstreamSuggestion, WeeklyReport
from readiness.models.rollups import repo_state
from readiness.queries.actions import next_actions
from readiness.queries.campaigns import TeamProgress, campaign_statuses
from readiness.queries.links import site_url
from readiness.queries.overview import TargetReadiness, target_readiness
from readiness.queries.scope import current_repos, team_names
from readiness.queries.trends import TrendPoint, readiness_series
from readiness.queries.upstream import upstream_suggestions

__all__ = [
    "ActionLine",
    "EmailSettingsPage",
    "RepoChange",
    "ReportSection",
    "TargetWeek",
    "UpstreamLine",
    "WeeklyReportData",
    "email_settings_page",
    "iso_week_label",
    "weekly_report",
    "weekly_report_section",
]

HISTORY_WEEKS = 12
TOP_ACTIONS = 5
TOP_UPSTREAM = 5
MAX_REPO_CHANGES = 10


def iso_week_label(week: dt.date) -> str:
    year, number, _ = week.isocalendar()
    return f"{year}-W{number:02d}"


def _signed(n: int | float | None, unit: str = "") -> str:
    if n is None:
        return "new"
    if isinstance(n, float):
        n = round(n, 1)
        if n == int(n):
            n = int(n)
    return f"{n:+}{unit}" if n else f"±0{unit}"


@dataclass(frozen=True, slots=True)
class TargetWeek:
    """One target's line: now (counted from summaries), a week ago and the weekly history (rollups)."""

    now: TargetReadiness
    history: tuple[TrendPoint, ...] = ()

    @property
    def target(self) -> str:
        return self.now.target

    @property
    def last_week_pct(self) -> float | None:
        return None if self.now.last_week is None else self.now.last_week.ready_pct

    @property
    def ready_pct_change(self) -> float | None:
        return None if self.last_week_pct is None else round(self.now.ready_pct - self.last_week_pct, 1)

    @property
    def ready_change_label(self) -> str:
        """``+3 repos`` (or ``new`` when there is no rollup a week old to compare with)."""
        return _signed(self.now.ready_change, " repos" if self.now.ready_change not in (1, -1) else " repo")

    @property
    def blocked_change_label(self) -> str:
        return _signed(self.now.blocked_change)

    @property
    def pct_change_label(self) -> str:
        return _signed(self.ready_pct_change, " pts")

    @property
    def trend_direction(self) -> str:
        c = self.ready_pct_change
        return "flat" if not c else ("up" if c > 0 else "down")

    @property
    def spark(self) -> tuple[tuple[str, float, int], ...]:
        """(ISO week, ready %, bar height in px 2-24) per week, oldest first: the HTML sparkline."""
        return tuple((iso_week_label(p.day), p.ready_pct, 2 + round(22 * p.ready_pct / 100)) for p in self.history)

    @property
    def spark_text(self) -> str:
        """The same sparkline for the plain-text part: one block character per week."""
        blocks = " ▁▂▃▄▅▆▇█"
        return "".join(blocks[round(8 * p.ready_pct / 100)] for p in self.history)


@dataclass(frozen=True, slots=True)
class RepoChange:
    name: str
    targets: tuple[str, ...]
    url: str


@dataclass(frozen=True, slots=True)
class ActionLine:
    """One next action, as the overview shows it (readiness.queries.actions)."""

    title: str
    detail: str
    repos: int
    targets: tuple[str, ...]
    url: str
    pulled_in_by: tuple[str, ...] = ()  # direct dependencies that bring a transitive blocker in


@dataclass(frozen=True, slots=True)
class UpstreamLine:
    """A drafted upstream issue nobody has filed or dismissed yet (readiness.models.UpstreamSuggestion)."""

    package: str
    version: str
    targets: tuple[str, ...]
    repos: int
    url: str


@dataclass(frozen=True, slots=True)
class ReportSection:
    team: str | None
    repos: int
    scanned: int
    targets: tuple[TargetWeek, ...]
    compared_with: dt.date | None
    became_ready: tuple[RepoChange, ...]
    became_ready_total: int
    newly_blocked: tuple[RepoChange, ...]
    newly_blocked_total: int
    next_actions: tuple[ActionLine, ...]
    actions_total: int
    ask_upstream: tuple[UpstreamLine, ...]
    ask_upstream_total: int
    links: dict[str, str] = field(default_factory=dict)

    @property
    def title(self) -> str:
        return f"Team {self.team}" if self.team else "Whole organisation"

    @property
    def headline(self) -> TargetWeek | None:
        """The least ready target: the number a manager should look at first."""
        return min(self.targets, key=lambda t: (t.now.ready_pct, t.target)) if self.targets else None

    @property
    def more_became_ready(self) -> int:
        return self.became_ready_total - len(self.became_ready)

    @property
    def more_newly_blocked(self) -> int:
        return self.newly_blocked_total - len(self.newly_blocked)

    @property
    def more_ask_upstream(self) -> int:
        return self.ask_upstream_total - len(self.ask_upstream)


@dataclass(frozen=True, slots=True)
class WeeklyReportData:
    week: dt.date
    sections: tuple[ReportSection, ...]
    settings_url: str
    unsubscribe_url: str = ""
    campaigns: tuple[CampaignLine, ...] = ()
    """The active campaigns covering the subscriber's scope, first in the email."""

    @property
    def week_label(self) -> str:
        return iso_week_label(self.week)

    @property
    def headline(self) -> tuple[ReportSection, TargetWeek] | None:
        for section in self.sections:
            if section.headline is not None:
                return section, section.headline
        return None


@dataclass(frozen=True, slots=True)
class CampaignLine:
    name: str
    word: str  # on track, at risk, past due, done, no trend yet
    text: str
    url: str
    teams: tuple[str, ...] = ()  # how the subscriber's teams stand in it ("team a: at risk, …")


def _campaign_lines(*, teams: Sequence[str] | None, today: dt.date, site_root: str) -> tuple[CampaignLine, ...]:
    return tuple(
        CampaignLine(
            s.campaign.name,
            s.word,
            s.text,
            site_url(site_root, "campaign", s.campaign.slug),
            teams=tuple(_team_words(t) for t in s.teams if teams and t.team in teams),
        )
        for s in campaign_statuses(teams=teams, today=today)
    )


def _team_words(t: TeamProgress) -> str:
    if not t.blocked:
        return f"team {t.team}: done"
    projected = f"projected {t.projected.isoformat()}" if t.projected else "no progress in the last weeks"
    return f"team {t.team}: {'at risk' if t.at_risk else 'on track'}, {t.blocked} blocked, {projected}"


def _repo_changes(
    current: list[tuple[int, str, dict | None]], before: dict[tuple[int, str], str], *, site_root: str
) -> tuple[list[RepoChange], list[RepoChange]]:
    """Repos whose state on some target moved to ``ready`` / ``blocked`` since the rollup a week ago.

    A (repo, target) with no rollup a week ago (a repo added or first scanned this week) is not a
    change: it is compared from next week on, so a new organisation's first email is not a list of everything.
    """
    ready: list[RepoChange] = []
    blocked: list[RepoChange] = []
    for repo_id, name, summary in current:
        to_ready, to_blocked = [], []
        for target, s in sorted((summary or {}).items()):
            if not isinstance(s, dict) or (repo_id, target) not in before:
                continue
            was, now = before[(repo_id, target)], repo_state(s)
            if now == "ready" and was != "ready":
                to_ready.append(target)
            elif now == "blocked" and was != "blocked":
                to_blocked.append(target)
        url = site_url(site_root, "repo", name)
        if to_ready:
            ready.append(RepoChange(name=name, targets=tuple(to_ready), url=url))
        if to_blocked:
            blocked.append(RepoChange(name=name, targets=tuple(to_blocked), url=url))
    return ready, blocked


def _upstream_lines(*, team: str | None, site_root: str) -> list[UpstreamLine]:
    """Suggested upstream issues awaiting a decision: the open drafts of issue 5's suggestions (1 query)."""
    return [
        UpstreamLine(
            package=s.package,
            version=", ".join(s.versions),
            targets=tuple(s.targets),
            repos=s.repos_blocked,
            url=site_url(site_root, "package", s.package, team=team),
        )
        for s in upstream_suggestions(team=team).suggestions
        if s.status == UpstreamSuggestion.Status.OPEN
    ]


def weekly_report_section(*, team: str | None, today: dt.date, site_root: str | None = None) -> ReportSection:
    """One section of the weekly email. 7 queries (see the module docstring), 6 without rollups."""
    site_root = (site_root if site_root is not None else settings.SITE_ROOT).rstrip("/")
    repos = current_repos(team=team)
    current = list(repos.values_list("id", "name", "latest_scan__summary"))
    summaries = [s for _, _, s in current if s is not None]
    series = readiness_series(team=team, since=today - dt.timedelta(weeks=HISTORY_WEEKS))
    week_ago = today - dt.timedelta(days=7)
    last_week: dict[str, TrendPoint] = {}
    history: dict[str, tuple[TrendPoint, ...]] = {}
    for s in series:
        before = [p for p in s.points if p.day <= week_ago]
        if before:
            last_week[s.target] = before[-1]
        history[s.target] = s.weekly()
    compared_with = max((p.day for p in last_week.values()), default=None)
    before_states: dict[tuple[int, str], str] = {}
    if compared_with is not None:
        rows = Rollup.objects.filter(scope=Rollup.Scope.REPO, day=compared_with, repo_id__in=repos.values("id"))
        for repo_id, target, ready, blocked, unknown in rows.values_list(
            "repo_id", "target", "ready", "blocked", "unknown"
        ):
            before_states[(repo_id, target)] = (
                "ready" if ready else "blocked" if blocked else "unknown" if unknown else "sdist"
            )
    targets = tuple(
        TargetWeek(
            now=TargetReadiness.from_counts(t, c, last_week.get(t)),
            history=history.get(t, ()),
        )
        for t, c in sorted(target_readiness(summaries).items())
    )
    ready, blocked = _repo_changes(current, before_states, site_root=site_root)
    actions = next_actions(team=team)
    upstream = _upstream_lines(team=team, site_root=site_root)
    return ReportSection(
        team=team,
        repos=len(current),
        scanned=len(summaries),
        targets=targets,
        compared_with=compared_with,
        became_ready=tuple(ready[:MAX_REPO_CHANGES]),
        became_ready_total=len(ready),
        newly_blocked=tuple(blocked[:MAX_REPO_CHANGES]),
        newly_blocked_total=len(blocked),
        next_actions=tuple(
            ActionLine(
                title=a.title,
                detail=a.detail,
                repos=len(a.repos),
                targets=tuple(a.target_names),
                url=site_url(site_root, "package", a.package, team=team)
                if a.package
                else site_url(site_root, "blockers", team=team),
                pulled_in_by=tuple(a.pulled_in_by),
            )
            for a in actions[:TOP_ACTIONS]
        ),
        actions_total=len(actions),
        ask_upstream=tuple(upstream[:TOP_UPSTREAM]),
        ask_upstream_total=len(upstream),
        links={
            name: site_url(site_root, name, team=team)
            for name in ("overview", "blockers", "trends", "upstream", "repos")
        },
    )


def weekly_report(
    *,
    teams: Sequence[str] | None,
    week: dt.date,
    today: dt.date,
    site_root: str | None = None,
    unsubscribe_url: str = "",
    cache: MutableMapping[str | None, ReportSection] | None = None,
    campaigns_cache: MutableMapping[tuple, tuple[CampaignLine, ...]] | None = None,
) -> WeeklyReportData:
    """The report of one subscription: one section for the organisation, or one per team (in name order).

    7 queries per section not already in ``cache`` (a dict the caller keeps for one sending run).
    """
    site_root = (site_root if site_root is not None else settings.SITE_ROOT).rstrip("/")
    cache = {} if cache is None else cache
    campaigns_cache = {} if campaigns_cache is None else campaigns_cache
    sections = []
    for team in sorted(teams) if teams else [None]:
        if team not in cache:
            cache[team] = weekly_report_section(team=team, today=today, site_root=site_root)
        sections.append(cache[team])
    key = ("campaigns", tuple(sorted(teams or ())))
    if key not in campaigns_cache:
        campaigns_cache[key] = _campaign_lines(teams=teams, today=today, site_root=site_root)
    return WeeklyReportData(
        week=week,
        sections=tuple(sections),
        settings_url=site_url(site_root, "email-settings"),
        unsubscribe_url=unsubscribe_url,
        campaigns=campaigns_cache[key],
    )


# -- the settings page ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SubscriptionRow:
    id: int
    email: str
    username: str
    scope: str
    teams: tuple[str, ...]
    active: bool
    last_week: str
    last_state: str


@dataclass(frozen=True, slots=True)
class EmailSettingsPage:
    teams: tuple[str, ...]
    mine: SubscriptionRow | None
    everyone: tuple[SubscriptionRow, ...]  # admins only; empty for viewers


def _row(sub: Subscription) -> SubscriptionRow:
    return SubscriptionRow(
        id=sub.pk,
        email=sub.user.email,
        username=sub.user.get_username(),
        scope=sub.scope,
        teams=tuple(t.name for t in sub.teams.all()),
        active=sub.active,
        last_week=iso_week_label(sub.last_week) if sub.last_week else "",
        last_state=sub.last_state or "",
    )


def email_settings_page(*, user, is_admin: bool) -> EmailSettingsPage:
    """The user's own subscription, and everybody's for an admin. At most 3 queries.

    1. team names (the team checkboxes); 2. the subscriptions (the user's, or all for an admin) with
    their user and their latest report's week and state (subqueries); 3. their teams (prefetch,
    skipped when there is no subscription).
    """
    teams = tuple(team_names())
    latest = WeeklyReport.objects.filter(subscription=OuterRef("pk")).order_by("-week")
    qs = (
        Subscription.objects.select_related("user")
        .prefetch_related(Prefetch("teams", queryset=Team.objects.order_by("name")))
        .annotate(last_week=Subquery(latest.values("week")[:1]), last_state=Subquery(latest.values("state")[:1]))
    )
    if is_admin:
        subs = list(qs.order_by("user__email", "user__username"))
        rows = tuple(_row(s) for s in subs)
        mine = next((r for r, s in zip(rows, subs) if s.user_id == user.pk), None)
        return EmailSettingsPage(teams=teams, mine=mine, everyone=rows)
    own = list(qs.filter(user=user))
    return EmailSettingsPage(teams=teams, mine=_row(own[0]) if own else None, everyone=())
