"""Campaign pages: where a campaign stands, its burndown, teams at risk, and the next actions.

A repo is in a campaign's scope when it is enabled, in one of its teams (all repos when it has
none) and, when the campaign names a CPython series or a libc, when its image gives one of the
campaign's targets that Python or libc. Its state in the campaign is its worst state over the
campaign's targets (blocked, unknown, builds from source, ready).

The burndown counts, per day, the repos in scope blocked on any of the campaign's targets,
from the repo-scope roll-ups (backfilled points included); today's point is the current state.
The projection extends the rate of the last :data:`RATE_DAYS` days to zero.

Queries of :func:`campaign_page` (11, whatever the organisation's size): the campaign, its teams,
the repos in scope with their latest summaries, the blocked repos' triage (3), the roll-ups (per
day and team), the roll-ups of the start day, the next actions (2), and one for the list of
teams. :func:`campaign_statuses` (the overview, the email, the list): 1 query, and 3 per campaign.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Collection, Iterator
from dataclasses import dataclass, field

from django.db.models import Count, Q
from django.utils import timezone

from readiness.models import Campaign, Rollup
from readiness.models.rollups import repo_state
from readiness.queries.actions import NextAction, next_actions
from readiness.queries.exports import spreadsheet_safe
from readiness.queries.scope import current_repos
from readiness.queries.triage import blocked_repo_triage

__all__ = [
    "CAMPAIGN_CSV_COLUMNS",
    "CampaignPage",
    "CampaignStatus",
    "TeamProgress",
    "campaign_covers",
    "campaign_csv",
    "campaign_page",
    "campaign_statuses",
]

RATE_DAYS = 28
NEXT_ACTIONS = 8
STATES = ("ready", "sdist", "blocked", "unknown")
_WORST = {"blocked": 0, "unknown": 1, "sdist": 2, "ready": 3}
CAMPAIGN_CSV_COLUMNS = [
    "row",
    "day",
    "repo",
    "team",
    "state",
    "triage",
    "state_at_start",
    "blocked_repos",
    "ideal",
    "detail",
]


@dataclass(frozen=True, slots=True)
class TeamProgress:
    team: str
    repos: int
    blocked: int
    blocked_then: int | None  # RATE_DAYS ago (or at the start), from the roll-ups
    projected: dt.date | None
    at_risk: bool

    @property
    def days_left(self) -> int | None:
        return None if self.projected is None else max((self.projected - timezone.localdate()).days, 0)


@dataclass(frozen=True, slots=True)
class CampaignStatus:
    """``word``: done, on track, at risk, past due, no trend yet, closed; ``text`` says it in full."""

    campaign: Campaign
    word: str
    text: str
    blocked: int
    repos: int
    projected: dt.date | None = None
    teams: tuple[TeamProgress, ...] = ()

    @property
    def css(self) -> str:
        return self.word.replace(" ", "-")


@dataclass(frozen=True, slots=True)
class _Repo:
    id: int
    name: str
    team: str
    state: str
    state_at_start: str = ""


@dataclass(slots=True)
class CampaignPage:
    campaign: Campaign
    teams: tuple[str, ...]
    repos: tuple[_Repo, ...]
    now: dict[str, int]
    at_start: dict[str, int] | None
    blocked_triage: dict[str, int]
    burndown: list[tuple[dt.date, int]]
    status: CampaignStatus
    team_progress: list[TeamProgress]
    actions: list[NextAction]
    triage_of: dict[int, str] = field(default_factory=dict)
    today: dt.date = field(default_factory=timezone.localdate)
    rate_since: dt.date | None = None  # the day the projection's rate is measured from

    @property
    def repos_at_start(self) -> int | None:
        return None if self.at_start is None else sum(self.at_start.values())

    def chart(self) -> dict:
        """What the burndown chart draws: the actual line, the ideal one, and the projection."""
        c = self.campaign
        start_blocked = self.burndown[0][1] if self.burndown else self.now["blocked"]
        projected = self.status.projected
        return {
            "actual": {"x": [d.isoformat() for d, _ in self.burndown], "y": [n for _, n in self.burndown]},
            "ideal": {"x": [c.start.isoformat(), c.due.isoformat()], "y": [start_blocked, 0]},
            "projected": {"x": [self.today.isoformat(), projected.isoformat()], "y": [self.now["blocked"], 0]}
            if projected is not None and self.now["blocked"]
            else None,
            "due": c.due.isoformat(),
        }


def _scope(campaign: Campaign, team_names: list[str]) -> list[tuple[int, str, str, dict]]:
    """(repo id, name, team, per-target summaries of the campaign's targets) of the repos in scope."""
    repos = current_repos(team=None)
    if team_names:
        repos = repos.filter(team__name__in=team_names)
    out = []
    for repo_id, name, team, summary, targets in repos.values_list(
        "id", "name", "team__name", "latest_scan__summary", "latest_scan__targets"
    ).order_by("name"):
        if (campaign.python or campaign.libc) and not _image_matches(campaign, targets or []):
            continue
        mine = {t: s for t, s in (summary or {}).items() if t in campaign.targets}
        out.append((repo_id, name, team or "", mine))
    return out


def _image_matches(campaign: Campaign, targets: list) -> bool:
    return any(campaign_covers(campaign, t) for t in targets)


def campaign_covers(campaign: Campaign, target: object) -> bool:
    """Whether ``target`` (a stored or ``archcheck/1`` target: ``id``, ``python``, ``libc``) is one the
    campaign is about: one of its targets, of its CPython series and libc when it names them.

    The one rule of a campaign's scope: its pages and a pull request's check both use it.
    """
    if not isinstance(target, dict) or target.get("id") not in campaign.targets:
        return False
    python = str(target.get("python", ""))
    if campaign.python and python != campaign.python and not python.startswith(campaign.python + "."):
        return False
    return not (campaign.libc and target.get("libc", "glibc") != campaign.libc)


def _worst(states: list[str]) -> str:
    return min(states, key=_WORST.__getitem__) if states else "unknown"


def _projection(blocked_now: int, blocked_then: int | None, days: int, today: dt.date) -> dt.date | None:
    """The day the blocked count reaches zero at the rate of the last ``days`` days (``None``: not falling)."""
    if blocked_now == 0:
        return today
    if blocked_then is None or days <= 0 or blocked_then <= blocked_now:
        return None
    # blocked_now / ((then - now) / days), rounded up, in whole numbers (no 28.000000000000004).
    return today + dt.timedelta(days=-(-blocked_now * days // (blocked_then - blocked_now)))


def _status(
    campaign: Campaign, *, blocked: int, repos: int, projected: dt.date | None, history_days: int, today: dt.date
) -> CampaignStatus:
    def status(word: str, text: str) -> CampaignStatus:
        return CampaignStatus(campaign, word, text, blocked, repos, projected)

    if campaign.closed_at is not None:
        return status("closed", f"closed on {timezone.localdate(campaign.closed_at).isoformat()}")
    if repos == 0:
        return status("no trend yet", "no repository in scope has been scanned yet")
    if blocked == 0:
        return status("done", f"done: none of the {repos} repos is blocked")
    if today > campaign.due:
        return status(
            "past due", f"past due since {campaign.due.isoformat()}: {blocked} of {repos} repos still blocked"
        )
    if projected is None:
        if history_days <= 0:
            return status(
                "no trend yet", f"{blocked} of {repos} repos blocked; no trend yet (the campaign starts today)"
            )
        return status(
            "at risk", f"at risk: {blocked} of {repos} repos blocked and no progress in the last {history_days} days"
        )
    if projected > campaign.due:
        return status("at risk", f"at risk: projected {projected.isoformat()}, due {campaign.due.isoformat()}")
    return status("on track", f"on track: projected {projected.isoformat()}, due {campaign.due.isoformat()}")


def _rollup_counts(campaign: Campaign, repo_ids: list[int], since: dt.date, today: dt.date):
    """Blocked repos per day, and per (day, team), from the repo-scope roll-ups."""
    rows = (
        Rollup.objects.filter(
            scope=Rollup.Scope.REPO, repo_id__in=repo_ids, target__in=campaign.targets, day__gte=since, day__lte=today
        )
        .values("day", "repo__team__name")
        .annotate(blocked=Count("repo_id", distinct=True, filter=Q(blocked__gt=0)))
        .order_by("day")
    )
    per_day: dict[dt.date, int] = defaultdict(int)
    per_team: dict[tuple[dt.date, str], int] = {}
    for row in rows:
        per_day[row["day"]] += row["blocked"]
        per_team[(row["day"], row["repo__team__name"] or "")] = row["blocked"]
    return per_day, per_team


@dataclass(frozen=True, slots=True)
class _Progress:
    """What the status line needs: the scope's states now and the burndown."""

    team_names: list[str]
    scope: list[tuple[int, str, str, dict]]
    states: dict[int, str]
    now: Counter
    burndown: list[tuple[dt.date, int]]
    per_team: dict[tuple[dt.date, str], int]
    then_day: dt.date | None
    history_days: int
    status: CampaignStatus


def _progress(campaign: Campaign, today: dt.date) -> _Progress:
    """3 queries: the teams, the repos in scope, the roll-ups."""
    team_names = sorted(campaign.teams.values_list("name", flat=True))
    scope = _scope(campaign, team_names)
    ids = [r[0] for r in scope]
    states = {repo_id: _worst([repo_state(s) for s in summaries.values()]) for repo_id, _n, _t, summaries in scope}
    now = Counter(states.values())
    per_day, per_team = _rollup_counts(campaign, ids, campaign.start, today)
    burndown = sorted(per_day.items())
    if campaign.closed_at is None and (not burndown or burndown[-1][0] < today):
        burndown.append((today, now["blocked"]))  # today's point is the current state
    window_start = max(campaign.start, today - dt.timedelta(days=RATE_DAYS))
    then_day = next((d for d, _ in burndown if d >= window_start), None)
    history_days = (today - then_day).days if then_day is not None else 0
    projected = _projection(now["blocked"], per_day.get(then_day) if then_day else None, history_days, today)
    status = _status(
        campaign, blocked=now["blocked"], repos=len(scope), projected=projected, history_days=history_days, today=today
    )
    teams = _team_progress(campaign, scope, states, per_team, then_day, history_days, today)
    status = dataclasses.replace(status, teams=tuple(teams))
    return _Progress(team_names, scope, states, now, burndown, per_team, then_day, history_days, status)


def campaign_page(*, slug: str, today: dt.date | None = None) -> CampaignPage | None:
    """Everything the campaign page shows; ``None`` for an unknown slug."""
    today = today or timezone.localdate()
    campaign = Campaign.objects.filter(slug=slug).first()
    if campaign is None:
        return None
    progress = _progress(campaign, today)
    team_names, scope, states, now = progress.team_names, progress.scope, progress.states, progress.now
    ids = [r[0] for r in scope]
    # Each blocked repo is judged on the campaign targets it is blocked on, not on all of them.
    blocked = {
        repo_id: [t for t, s in summaries.items() if repo_state(s) == "blocked"]
        for repo_id, _n, _t, summaries in scope
        if states[repo_id] == "blocked"
    }
    triage_of = blocked_repo_triage(blocked=blocked, today=today)

    burndown, status = progress.burndown, progress.status
    start_states = _start_states(campaign, ids)
    at_start = Counter(start_states.values()) if start_states else None
    teams = list(status.teams)
    repos = tuple(_Repo(i, n, t, states[i], start_states.get(i, "")) for i, n, t, _s in scope)
    actions = next_actions(team=None, repo_ids=ids, targets=campaign.targets, limit=NEXT_ACTIONS) if ids else []
    return CampaignPage(
        campaign=campaign,
        teams=tuple(team_names),
        repos=repos,
        now={s: now.get(s, 0) for s in STATES},
        at_start={s: at_start.get(s, 0) for s in STATES} if at_start is not None else None,
        blocked_triage={
            k: sum(1 for v in triage_of.values() if v == k) for k in ("untriaged", "in-progress", "accepted")
        },
        burndown=burndown,
        status=status,
        team_progress=teams,
        actions=actions,
        triage_of=triage_of,
        today=today,
        rate_since=progress.then_day,
    )


def _start_states(campaign: Campaign, ids: list[int]) -> dict[int, str]:
    """Each repo's state on the campaign's first day with roll-ups (the start day, or the first after it)."""
    first = (
        Rollup.objects.filter(
            scope=Rollup.Scope.REPO, repo_id__in=ids, target__in=campaign.targets, day__gte=campaign.start
        )
        .order_by("day")
        .values_list("day", flat=True)
        .first()
    )
    if first is None:
        return {}
    worst: dict[int, list[str]] = defaultdict(list)
    rows = Rollup.objects.filter(scope=Rollup.Scope.REPO, repo_id__in=ids, target__in=campaign.targets, day=first)
    for repo_id, ready, sdist, blocked, unknown in rows.values_list(
        "repo_id", "ready", "builds_from_source", "blocked", "unknown"
    ):
        worst[repo_id].append(
            "blocked" if blocked else "unknown" if unknown else "sdist" if sdist else "ready" if ready else "unknown"
        )
    return {repo_id: _worst(s) for repo_id, s in worst.items()}


def _team_progress(campaign, scope, states, per_team, then_day, history_days, today) -> list[TeamProgress]:
    repos: Counter = Counter()
    blocked: Counter = Counter()
    for repo_id, _name, team, _s in scope:
        repos[team] += 1
        blocked[team] += states[repo_id] == "blocked"
    out = []
    for team in sorted(repos):
        then = per_team.get((then_day, team)) if then_day is not None else None
        projected = _projection(blocked[team], then, history_days, today)
        at_risk = blocked[team] > 0 and (projected is None or projected > campaign.due)
        out.append(TeamProgress(team or "no team", repos[team], blocked[team], then, projected, at_risk))
    # Teams at risk first, the most days of work left first; then the rest by blocked repos.
    far = dt.date.max
    out.sort(key=lambda p: (not p.at_risk, -((p.projected or far) - today).days if p.at_risk else -p.blocked, p.team))
    return out


def campaign_statuses(
    *, active_only: bool = True, teams: Collection[str] | None = None, today: dt.date | None = None
) -> list[CampaignStatus]:
    """The status line of each (active) campaign, for the overview and the weekly email; with
    ``teams``, only the campaigns that cover one of them (or the whole organisation)."""
    today = today or timezone.localdate()
    campaigns = Campaign.objects.filter(closed_at__isnull=True) if active_only else Campaign.objects.all()
    if teams:
        campaigns = campaigns.filter(Q(teams__isnull=True) | Q(teams__name__in=list(teams))).distinct()
    return [_progress(c, today).status for c in campaigns.order_by("closed_at", "due", "name")]


def campaign_csv(*, slug: str, today: dt.date | None = None) -> Iterator[list] | None:
    """The campaign's status; every repo in scope with its state now, its triage and its state at the
    start; the burndown day by day with the ideal line; each team's progress; the next actions.
    The ``row`` column says which. ``None`` for an unknown slug."""
    page = campaign_page(slug=slug, today=today)
    if page is None:
        return None

    def rows() -> Iterator[list]:
        c = page.campaign
        yield [
            "status",
            page.today.isoformat(),
            "",
            "",
            page.status.word,
            "",
            "",
            page.now["blocked"],
            "",
            page.status.text,
        ]
        for r in page.repos:
            yield ["repo", "", r.name, r.team, r.state, page.triage_of.get(r.id, ""), r.state_at_start, "", "", ""]
        start_blocked = page.burndown[0][1] if page.burndown else page.now["blocked"]
        span = max((c.due - c.start).days, 1)
        for day, n in page.burndown:
            ideal = max(start_blocked * (1 - (day - c.start).days / span), 0)
            yield ["burndown", day.isoformat(), "", "", "", "", "", n, round(ideal, 1), ""]
        for t in page.team_progress:
            state = "done" if not t.blocked else "at risk" if t.at_risk else "on track"
            projected = t.projected.isoformat() if t.projected and t.blocked else ""
            yield ["team", projected, "", t.team, state, "", "", t.blocked, "", f"{t.repos} repos"]
        for a in page.actions:
            yield ["action", "", "; ".join(a.repo_names), "", a.kind, "", "", len(a.repos), "", a.title]

    def all_rows() -> Iterator[list]:
        yield CAMPAIGN_CSV_COLUMNS
        yield from spreadsheet_safe(rows())

    return all_rows()
