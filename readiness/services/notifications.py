"""Notification rules at work: the events a scan (or a refresh) made, the rules they match, one
delivery per (rule, event), sent by a task, retried with backoff, every attempt logged.

Exactly once per rule and event: a delivery row is inserted under the (rule, event key) unique
constraint before anything is sent, and only the insert that made the row queues its sending; a
delivery is claimed (``pending`` → ``sending``) by a conditional update, so a task delivered twice
sends once. A receiver that failed is asked again a few times at once (``scanners.http``), then by
the task after a growing countdown; the log keeps the attempts and the last error, never a
channel's URL in full.

Scopes: a rule's teams and repos (none: all) and its campaign (the campaign's teams and targets)
narrow the repo events; ``campaign-at-risk`` matches rules of that campaign, or of the campaign's
teams, or of the whole organisation; ``upstream-suggestion-resolved`` goes to rules without a
scope and to the rules whose scope holds a repo that locks the package (a repo of the rule's teams
and repos, and of its active campaign's teams when the campaign's targets meet the suggestion's).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable, Sequence

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from readiness.models import (
    Campaign,
    NotificationDelivery,
    NotificationRule,
    NotificationState,
    Repo,
    Scan,
    Team,
    UpstreamSuggestion,
)
from readiness.queries.campaigns import campaign_statuses
from readiness.queries.notification_events import Event, Item, repos_locking, scan_events
from readiness.services.enqueue import (
    DELIVER_NOTIFICATION,
    NOTIFY_SCAN,
    enqueue_on_commit,
)
from readiness.services.notification_channels import send, target_problem

__all__ = [
    "MAX_TASK_RETRIES",
    "RuleError",
    "deliveries_create",
    "delivery_give_up",
    "delivery_send",
    "notify_after_scan",
    "notify_scan",
    "notify_history",
    "notify_upstream_resolved",
    "rule_add",
    "rule_send_test",
]

log = logging.getLogger(__name__)

MAX_TASK_RETRIES = 6
"""Later tries of a delivery still failing, at 1, 2, 4 … 32 minutes (about an hour in all)."""

_REPO_EVENTS = frozenset({"repo-became-ready", "repo-newly-blocked", "new-blocker", "scan-failed"})


def notify_after_scan(*, scan_id: int, previous_id: int | None) -> None:
    """Queue the notifications of a finished (or failed) scan on commit; never fails the scan.

    Without an enabled rule nothing is queued: one indexed query instead of a task per scan.
    """
    try:
        if NotificationRule.objects.filter(enabled=True).exists():
            enqueue_on_commit(NOTIFY_SCAN, (scan_id, previous_id))
    except Exception:  # noqa: BLE001 - notifications are secondary to the scan's own results
        log.exception("queuing the notifications of scan %s failed", scan_id)


def _rules(events: Iterable[str]) -> list[NotificationRule]:
    return list(
        NotificationRule.objects.filter(enabled=True, event__in=set(events))
        .select_related("campaign")
        .prefetch_related("teams", "repos", "campaign__teams")
    )


def _matches(rule: NotificationRule, event: Event) -> bool:
    team_ids = {t.pk for t in rule.teams.all()}
    repo_ids = {r.pk for r in rule.repos.all()}
    if event.event == "upstream-suggestion-resolved":
        return _concerns(rule, team_ids, repo_ids, event)
    if event.event == "campaign-at-risk":
        if rule.campaign_id:
            return rule.campaign_id == event.campaign_id
        if repo_ids:
            return False
        campaign_teams = set(event.campaign_team_ids)
        return not team_ids or not campaign_teams or bool(team_ids & campaign_teams)
    if team_ids and event.team_id not in team_ids:
        return False
    if repo_ids and event.repo_id not in repo_ids:
        return False
    if rule.campaign is not None:
        campaign = rule.campaign
        campaign_teams = {t.pk for t in campaign.teams.all()}
        if not campaign.is_active or (campaign_teams and event.team_id not in campaign_teams):
            return False
        if event.target is not None and event.target not in campaign.targets:
            return False
    return True


def _concerns(rule: NotificationRule, team_ids: set[int], repo_ids: set[int], event: Event) -> bool:
    """Whether an organisation-wide event (a package's suggestion) is the scoped rule's business: one
    repo locking the package lies in every part of the rule's scope."""
    if not (team_ids or repo_ids or rule.campaign_id):
        return True
    campaign_teams: set[int] = set()
    if rule.campaign is not None:
        campaign = rule.campaign
        if not campaign.is_active:
            return False
        if event.target_ids and not set(event.target_ids) & set(campaign.targets):
            return False
        campaign_teams = {t.pk for t in campaign.teams.all()}
    return any(
        (not team_ids or team_id in team_ids)
        and (not repo_ids or repo_id in repo_ids)
        and (not campaign_teams or team_id in campaign_teams)
        for repo_id, team_id in event.scope_repos
    )


def deliveries_create(events: Sequence[Event]) -> list[int]:
    """One delivery per matching rule and event, each queued once; the ids of those made now."""
    if not events:
        return []
    made: list[int] = []
    now = timezone.now().isoformat()
    for rule in _rules(e.event for e in events):
        for event in events:
            if event.event != rule.event or not _matches(rule, event):
                continue
            delivery_id = uuid.uuid4()
            try:
                with transaction.atomic():
                    delivery = NotificationDelivery.objects.create(
                        rule=rule,
                        event=event.event,
                        event_key=event.key[:300],
                        delivery_id=delivery_id,
                        payload=event.payload(delivery_id=str(delivery_id), occurred_at=now),
                    )
            except IntegrityError:
                continue  # this rule already has this event: a task run twice, or a retry
            enqueue_on_commit(DELIVER_NOTIFICATION, (delivery.pk,))
            made.append(delivery.pk)
    return made


def notify_scan(*, scan_id: int, previous_id: int | None) -> int:
    """The task's body after a scan: its events (and campaigns turned at risk), delivered. New deliveries."""
    wanted = set(NotificationRule.objects.filter(enabled=True).values_list("event", flat=True).distinct())
    if not wanted:
        return 0
    events: list[Event] = []
    if wanted & _REPO_EVENTS:
        events += scan_events(scan_id=scan_id, previous_id=previous_id, site_root=settings.SITE_ROOT)
    if "campaign-at-risk" in wanted:
        events += _campaigns_turned_at_risk()
    return len(deliveries_create([e for e in events if e.event in wanted]))


def _campaigns_turned_at_risk() -> list[Event]:
    """Campaigns whose status became "at risk" since the last look (the state is kept per campaign)."""
    events = []
    for status in campaign_statuses():
        campaign = status.campaign
        key = f"campaign:{campaign.pk}:status"
        at_risk = status.word == "at risk"
        with transaction.atomic():
            state, created = NotificationState.objects.select_for_update().get_or_create(
                key=key, defaults={"value": status.word}
            )
            turned = at_risk and (created or state.value != "at risk")
            if not created and state.value != status.word:
                state.value = status.word
                state.save(update_fields=["value", "updated_at"])
        if not turned:
            continue
        teams = [t for t in status.teams if t.at_risk]
        event = Event(
            "campaign-at-risk",
            f"campaign-at-risk:{campaign.pk}:{state.updated_at.isoformat()}",
            f"Campaign “{campaign.name}”: {status.text}",
            url=f"{settings.SITE_ROOT}/campaigns/{campaign.slug}/",
            campaign=campaign.name,
            items=tuple(
                Item(
                    t.team,
                    fix=f"{t.blocked} blocked repo{'s' if t.blocked != 1 else ''}, "
                    + (f"projected {t.projected:%Y-%m-%d}" if t.projected else "no progress yet"),
                )
                for t in teams
            ),
            campaign_id=campaign.pk,
            campaign_team_ids=tuple(t.pk for t in campaign.teams.all()),
        )
        events.append(event)
    return events


def notify_upstream_resolved(*, suggestion_ids: Sequence[int]) -> int:
    """The task's body after a refresh resolved suggestions: one event each, with the repos that lock
    its package for the scoped rules. 4 queries (rules, suggestions, their repos, the rules' scopes)
    before the deliveries, whatever the number of repos and suggestions."""
    if not NotificationRule.objects.filter(enabled=True, event="upstream-suggestion-resolved").exists():
        return 0
    suggestions = list(UpstreamSuggestion.objects.filter(pk__in=list(suggestion_ids), status="resolved"))
    locking = repos_locking({s.package for s in suggestions}) if suggestions else {}
    events = [
        Event(
            "upstream-suggestion-resolved",
            f"upstream-suggestion-resolved:{s.pk}:{s.status_changed_at.isoformat() if s.status_changed_at else ''}",
            f"{s.package}: no repo is blocked on {', '.join(s.targets) or 'its targets'} any more",
            url=f"{settings.SITE_ROOT}/upstream/",
            items=(Item(s.package, fix=f"the upstream suggestion “{s.title}” is resolved"),),
            scope_repos=locking.get(s.package, ()),
            target_ids=tuple(s.targets),
        )
        for s in suggestions
    ]
    return len(deliveries_create(events))


def delivery_send(*, delivery_id: int, retry_later: bool) -> bool:
    """Send a pending delivery; ``True`` when it should be tried again later (only if ``retry_later``)."""
    claimed = NotificationDelivery.objects.filter(pk=delivery_id, state=NotificationDelivery.State.PENDING).update(
        state=NotificationDelivery.State.SENDING
    )
    if not claimed:
        return False  # sent already, or being sent by another worker
    delivery = NotificationDelivery.objects.select_related("rule").get(pk=delivery_id)
    rule = delivery.rule
    outcome = send(channel=rule.channel, target=rule.target, secret=rule.secret, payload=delivery.payload)
    attempts = delivery.attempts + outcome.attempts
    fields = {
        "attempts": attempts,
        "retried": attempts > 1,
        "response_status": outcome.status,
        "error": outcome.error[:2000],
    }
    if outcome.ok:
        fields.update(state=NotificationDelivery.State.SENT, sent_at=timezone.now())
    elif outcome.transient and retry_later:
        fields.update(state=NotificationDelivery.State.PENDING)
    else:
        fields.update(state=NotificationDelivery.State.FAILED)
    NotificationDelivery.objects.filter(pk=delivery_id).update(**fields)
    if not outcome.ok:
        log.warning("notification %s (%s) failed: %s", delivery.delivery_id, rule.event, outcome.error)
    return not outcome.ok and outcome.transient and retry_later


def delivery_give_up(*, delivery_id: int) -> None:
    NotificationDelivery.objects.filter(pk=delivery_id, state=NotificationDelivery.State.PENDING).update(
        state=NotificationDelivery.State.FAILED
    )


_SAMPLE_ITEMS = (Item("grpcio", "1.30.0", "linux/arm64", "1.60.0", "upgrade to 1.60.0"),)


def rule_send_test(*, rule_id: int) -> NotificationDelivery:
    """Send a sample event of the rule's kind through its channel now (the admin's "send test")."""
    rule = NotificationRule.objects.get(pk=rule_id)
    event = Event(
        rule.event,
        f"test:{uuid.uuid4()}",
        f"Test from Arch Readiness: {rule.get_event_display()}",
        url=f"{settings.SITE_ROOT}/",
        repo="example-repo",
        target="linux/arm64",
        items=_SAMPLE_ITEMS,
        detail=f"This is a test of the rule “{rule.name}”.",
    )
    delivery_id = uuid.uuid4()
    delivery = NotificationDelivery.objects.create(
        rule=rule,
        event=rule.event,
        event_key=event.key,
        delivery_id=delivery_id,
        payload=event.payload(delivery_id=str(delivery_id), occurred_at=timezone.now().isoformat()),
        test=True,
    )
    delivery_send(delivery_id=delivery.pk, retry_later=False)
    delivery.refresh_from_db()
    return delivery


class RuleError(ValueError):
    """A rule that cannot work as given: the message says why."""


def rule_add(
    *,
    name: str,
    event: str,
    channel: str,
    target: str,
    secret: str = "",
    teams: Sequence[str] = (),
    repos: Sequence[str] = (),
    campaign: str | None = None,
) -> NotificationRule:
    """Make a rule (``manage.py notify add``, the demo); refuses unknown events, channels, teams, repos."""
    if event not in NotificationRule.Event.values:
        raise RuleError(f"unknown event {event!r} (one of {', '.join(NotificationRule.Event.values)})")
    if channel not in NotificationRule.Channel.values:
        raise RuleError(f"unknown channel {channel!r} (one of {', '.join(NotificationRule.Channel.values)})")
    target = target.strip()
    problem = target_problem(channel, target)
    if problem:
        raise RuleError(problem)
    team_rows = list(Team.objects.filter(name__in=list(teams)))
    repo_rows = list(Repo.objects.filter(name__in=list(repos)))
    missing = sorted(set(teams) - {t.name for t in team_rows}) + sorted(set(repos) - {r.name for r in repo_rows})
    if missing:
        raise RuleError(f"unknown teams or repos: {', '.join(missing)}")
    campaign_row = Campaign.objects.filter(slug=campaign).first() if campaign else None
    if campaign and campaign_row is None:
        raise RuleError(f"unknown campaign {campaign!r}")
    with transaction.atomic():
        rule = NotificationRule.objects.create(
            name=name[:200], event=event, channel=channel, target=target, secret=secret, campaign=campaign_row
        )
        rule.teams.set(team_rows)
        rule.repos.set(repo_rows)
    return rule


def notify_history(
    *, repo_ids: Sequence[int], events: Iterable[str] = ("repo-became-ready", "repo-newly-blocked")
) -> int:
    """Replay the transitions of the repos' scan history (backfilled points included) to the rules:
    the demo's way to show notifications at once. Idempotent like live events. New deliveries."""
    wanted = set(events)
    found: list[Event] = []
    for repo_id in repo_ids:
        points = list(
            Scan.objects.filter(repo_id=repo_id, state__in=Scan.FINISHED_WITH_RESULTS)
            .order_by(F("as_of").asc(nulls_last=True), "finished_at")  # past points, then live scans
            .values_list("pk", flat=True)
        )
        for previous, scan in zip(points, points[1:]):
            found += [
                e
                for e in scan_events(scan_id=scan, previous_id=previous, site_root=settings.SITE_ROOT, past=True)
                if e.event in wanted
            ]
    return len(deliveries_create(found))
