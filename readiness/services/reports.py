"""Weekly email report: subscriptions, the schedule, and sending each report exactly once.

Exactly once per (subscription, ISO week): before talking to the mail server a sender *claims*
the report row, by inserting it under the ``one_report_per_subscription_week`` constraint or by
flipping a ``failed`` row back to ``sending`` with a conditional update. Only the caller whose
insert or update changed a row sends. So beat firing twice, two ``--send`` runs or a redelivered
task find the row taken and send nothing; a failure is recorded on the row (state ``failed``,
``error``, ``attempts``) and the next hourly run claims it again, up to ``MAX_ATTEMPTS``.

A row left in ``sending`` (the process died between claiming and recording) is never retried
by itself: the mail may have gone out, and a duplicate is worse than a missing weekly summary.
Such a row is *stuck* once it has been ``sending`` for longer than any send takes
(``STUCK_AFTER``): :func:`stuck_reports` lists them (the admin's filter and
``weekly_report --preview`` show them), and an operator who checked the mailbox sends one again
on purpose with :func:`report_resend` (``weekly_report --resend ID``).
"""

from __future__ import annotations

import datetime as dt
import logging
import zoneinfo
from collections.abc import Sequence
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import signing
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import Exists, F, OuterRef, QuerySet
from django.urls import reverse
from django.utils import timezone

from readiness import emails
from readiness.models import Subscription, Team, WeeklyReport
from readiness.queries.weekly_report import ReportSection, iso_week_label, weekly_report

__all__ = [
    "DAYS",
    "MAX_ATTEMPTS",
    "ReportSchedule",
    "SendResult",
    "UnknownTeams",
    "STUCK_AFTER",
    "ResendRefused",
    "report_claim",
    "report_preview",
    "report_resend",
    "reports_send_due",
    "stuck_reports",
    "subscribe_email",
    "subscription_from_token",
    "subscription_set",
    "subscription_unsubscribe",
    "unsubscribe_token",
    "unsubscribe_url",
]

log = logging.getLogger(__name__)

DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
MAX_ATTEMPTS = 5
STUCK_AFTER = dt.timedelta(hours=1)  # a send takes seconds: an hour in "sending" means its process died
_SALT = "readiness.weekly-report.unsubscribe"


class UnknownTeams(ValueError):
    """Team names that do not exist; the message lists them and the known ones."""


# -- subscriptions ---------------------------------------------------------------------------------


def _teams(names: Sequence[str]) -> list[Team]:
    wanted = sorted({n.strip() for n in names if n.strip()})
    found = list(Team.objects.filter(name__in=wanted))
    missing = sorted(set(wanted) - {t.name for t in found})
    if missing:
        known = ", ".join(Team.objects.order_by("name").values_list("name", flat=True)) or "none yet"
        raise UnknownTeams(f"unknown team(s): {', '.join(missing)} (known teams: {known})")
    return found


def subscription_set(*, user, teams: Sequence[str] = (), active: bool = True) -> Subscription:
    """Subscribe ``user`` to the organisation (no ``teams``) or to the named teams; re-activates.

    Raises :class:`UnknownTeams` before changing anything when a name does not exist.
    """
    team_rows = _teams(teams)
    with transaction.atomic():
        sub, _ = Subscription.objects.get_or_create(user=user)
        sub.scope = Subscription.Scope.TEAMS if team_rows else Subscription.Scope.ORG
        sub.active = active
        sub.save(update_fields=["scope", "active", "updated_at"])
        sub.teams.set(team_rows)
    return sub


def subscribe_email(*, email: str, teams: Sequence[str] = ()) -> tuple[Subscription, bool]:
    """Subscribe an address, creating its user (no usable password: it may never log in). Idempotent.

    Returns the subscription and whether a user was created. Raises ``ValidationError`` for a bad
    address and :class:`UnknownTeams` for an unknown team, before writing anything.
    """
    email = email.strip()
    validate_email(email)
    _teams(teams)
    User = get_user_model()
    with transaction.atomic():
        user = User.objects.filter(email__iexact=email).order_by("pk").first()
        created = user is None
        if created:
            user = User(username=email.lower()[:150], email=email)
            user.set_unusable_password()
            user.save()
        return subscription_set(user=user, teams=teams), created


def subscription_unsubscribe(*, subscription_id: int) -> bool:
    """Deactivate a subscription; ``False`` when it was already inactive or is gone. Idempotent."""
    return bool(
        Subscription.objects.filter(pk=subscription_id, active=True).update(active=False, updated_at=timezone.now())
    )


def unsubscribe_token(subscription_id: int) -> str:
    """A signed, non-expiring token naming one subscription: the one-click link needs no login."""
    return signing.dumps({"s": subscription_id}, salt=_SALT, compress=True)


def subscription_from_token(token: str) -> Subscription | None:
    """The subscription a token names, or ``None`` for a forged, mangled or stale token."""
    try:
        data = signing.loads(token, salt=_SALT)
        return Subscription.objects.select_related("user").get(pk=int(data["s"]))
    except (signing.BadSignature, KeyError, TypeError, ValueError, Subscription.DoesNotExist):
        return None


def unsubscribe_url(subscription_id: int, *, site_root: str | None = None) -> str:
    root = (site_root if site_root is not None else settings.SITE_ROOT).rstrip("/")
    return root + reverse("readiness:unsubscribe", args=[unsubscribe_token(subscription_id)])


# -- the schedule ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ReportSchedule:
    """When the weekly report is due: a weekday (0 = Monday) and an hour in a time zone."""

    day: int
    hour: int
    tz: zoneinfo.ZoneInfo

    @classmethod
    def from_settings(cls) -> ReportSchedule:
        return cls(
            day=DAYS.index(settings.READINESS_REPORT_DAY.lower()),
            hour=settings.READINESS_REPORT_HOUR,
            tz=zoneinfo.ZoneInfo(settings.READINESS_REPORT_TIMEZONE),
        )

    def due_week(self, now: dt.datetime) -> dt.date | None:
        """The Monday of the current ISO week (in ``tz``) once its scheduled moment has passed, else ``None``.

        Why "past the moment" rather than "at the hour": a beat that was down at 08:00 (deploy,
        outage) still sends at 09:00, and the claim row makes every later run a no-op.
        """
        local = now.astimezone(self.tz)
        monday = local.date() - dt.timedelta(days=local.weekday())
        moment = dt.datetime.combine(monday + dt.timedelta(days=self.day), dt.time(self.hour), tzinfo=self.tz)
        return monday if local >= moment else None

    def local_today(self, now: dt.datetime) -> dt.date:
        return now.astimezone(self.tz).date()


# -- sending ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SendResult:
    week: dt.date | None
    sent: tuple[int, ...] = ()  # subscription ids
    failed: tuple[int, ...] = ()
    skipped: int = 0  # claimed by another sender meanwhile

    def counts(self) -> dict[str, int]:
        return {"sent": len(self.sent), "failed": len(self.failed), "skipped": self.skipped}


def report_claim(*, subscription_id: int, week: dt.date, now: dt.datetime | None = None) -> WeeklyReport | None:
    """Claim the (subscription, week) report for sending; ``None`` when it is sent, being sent or given up."""
    now = now or timezone.now()
    try:
        with transaction.atomic():
            return WeeklyReport.objects.create(
                subscription_id=subscription_id,
                week=week,
                state=WeeklyReport.State.SENDING,
                attempts=1,
                claimed_at=now,
            )
    except IntegrityError:
        pass
    retryable = WeeklyReport.objects.filter(
        subscription_id=subscription_id, week=week, state=WeeklyReport.State.FAILED, attempts__lt=MAX_ATTEMPTS
    )
    claimed = _claim_again(retryable, now)
    return WeeklyReport.objects.get(subscription_id=subscription_id, week=week) if claimed else None


def _claim_again(rows: QuerySet[WeeklyReport], now: dt.datetime) -> int:
    """Flip ``rows`` (already narrowed to what may be claimed) to ``sending``, one more attempt;
    the number of rows changed: only the caller that changed one sends."""
    return rows.update(state=WeeklyReport.State.SENDING, attempts=F("attempts") + 1, claimed_at=now, error="")


def _record(report: WeeklyReport, **fields) -> None:
    # Conditional on "sending": only the claimer records the outcome of its own attempt.
    WeeklyReport.objects.filter(pk=report.pk, state=WeeklyReport.State.SENDING).update(**fields)


def reports_send_due(*, now: dt.datetime | None = None, schedule: ReportSchedule | None = None) -> SendResult:
    """Send every report due now: this ISO week's, for every active subscription not sent yet.

    Safe to run any number of times (beat hourly, ``weekly_report --send``): see the module docstring.
    Each distinct scope (organisation or team) is built once per run however many subscribers share it.
    """
    now = now or timezone.now()
    schedule = schedule or ReportSchedule.from_settings()
    week = schedule.due_week(now)
    if week is None:
        return SendResult(week=None)
    done = WeeklyReport.objects.filter(subscription=OuterRef("pk"), week=week).exclude(
        state=WeeklyReport.State.FAILED, attempts__lt=MAX_ATTEMPTS
    )
    subs = list(
        Subscription.objects.filter(active=True, user__is_active=True)
        .exclude(user__email="")
        .filter(~Exists(done))
        .select_related("user")
        .prefetch_related("teams")
        .order_by("pk")
    )
    cache: dict[str | None, ReportSection] = {}
    campaigns: dict[tuple, tuple] = {}  # the campaign lines of each scope, computed once per run
    today = schedule.local_today(now)
    sent, failed, skipped = [], [], 0
    for sub in subs:
        report = report_claim(subscription_id=sub.pk, week=week, now=now)
        if report is None:
            skipped += 1
            continue
        sent_it = _send_claimed(report, sub, today=today, cache=cache, campaigns=campaigns)
        (sent if sent_it else failed).append(sub.pk)
    return SendResult(week=week, sent=tuple(sent), failed=tuple(failed), skipped=skipped)


def _send_claimed(
    report: WeeklyReport,
    sub: Subscription,
    *,
    today: dt.date,
    cache: dict[str | None, ReportSection],
    campaigns: dict[tuple, tuple] | None = None,
) -> bool:
    """Build and send one claimed report, recording the outcome on its row; True when it went out."""
    teams = [t.name for t in sub.teams.all()] if sub.scope == Subscription.Scope.TEAMS else None
    try:
        data = weekly_report(
            teams=teams,
            week=report.week,
            today=today,
            unsubscribe_url=unsubscribe_url(sub.pk),
            cache=cache,
            campaigns_cache=campaigns,
        )
        subject = emails.weekly_report(to=sub.user.email, report=data)
    except Exception as exc:  # noqa: BLE001  any failure (SMTP down, refused address) is recorded, retried later
        log.warning(
            "weekly report %s for %s failed (attempt %s): %s",
            iso_week_label(report.week),
            sub.user.email,
            report.attempts,
            exc,
        )
        _record(report, state=WeeklyReport.State.FAILED, error=f"{type(exc).__name__}: {exc}"[:2000], to=sub.user.email)
        return False
    _record(
        report,
        state=WeeklyReport.State.SENT,
        sent_at=timezone.now(),
        to=sub.user.email,
        subject=subject[:300],
        error="",
    )
    return True


def stuck_reports(*, now: dt.datetime | None = None) -> list[WeeklyReport]:
    """Reports left in ``sending`` for longer than ``STUCK_AFTER``, oldest first. 1 query."""
    cutoff = (now or timezone.now()) - STUCK_AFTER
    return list(
        WeeklyReport.objects.filter(state=WeeklyReport.State.SENDING, claimed_at__lt=cutoff)
        .select_related("subscription__user")
        .order_by("claimed_at", "pk")
    )


class ResendRefused(ValueError):
    """The report cannot be sent again; the message says why and what to do instead."""


def report_resend(
    *, report_id: int, now: dt.datetime | None = None, schedule: ReportSchedule | None = None
) -> WeeklyReport:
    """Send one stuck (or given-up) report again, on an operator's word that it did not arrive.

    Refused for a report that was sent, one still being sent (younger than ``STUCK_AFTER``) and
    one that will be retried anyway. The claim is the same conditional update as every send, so
    two operators resending at once send it once.
    """
    now = now or timezone.now()
    schedule = schedule or ReportSchedule.from_settings()
    report = WeeklyReport.objects.filter(pk=report_id).select_related("subscription__user").first()
    if report is None:
        raise ResendRefused(f"there is no weekly report #{report_id}")
    label = f"report #{report.pk} ({iso_week_label(report.week)} to {report.to or report.subscription.user.email})"
    if report.state == WeeklyReport.State.SENT:
        raise ResendRefused(f"{label} was sent at {report.sent_at:%Y-%m-%d %H:%M %Z}: nothing to resend")
    if report.state == WeeklyReport.State.FAILED and report.attempts < MAX_ATTEMPTS:
        raise ResendRefused(
            f"{label} failed and is retried by the next hourly run (attempt {report.attempts} of {MAX_ATTEMPTS})"
        )
    if report.state == WeeklyReport.State.SENDING and report.claimed_at and report.claimed_at > now - STUCK_AFTER:
        raise ResendRefused(f"{label} is being sent right now (claimed at {report.claimed_at:%H:%M %Z}): wait for it")
    claimed = _claim_again(WeeklyReport.objects.filter(pk=report.pk, state=report.state, attempts=report.attempts), now)
    if not claimed:
        raise ResendRefused(f"{label} changed meanwhile (another resend?): look again")
    report.refresh_from_db()
    _send_claimed(report, report.subscription, today=schedule.local_today(now), cache={})
    report.refresh_from_db()
    return report


def report_preview(
    *, team: str | None, now: dt.datetime | None = None, schedule: ReportSchedule | None = None
) -> emails.RenderedEmail:
    """Render (never send) this week's report for the organisation or one team, for ``--preview``."""
    now = now or timezone.now()
    schedule = schedule or ReportSchedule.from_settings()
    today = schedule.local_today(now)
    week = today - dt.timedelta(days=today.weekday())
    if team:
        _teams([team])
    data = weekly_report(teams=[team] if team else None, week=week, today=today)
    return emails.weekly_report_render(data)
