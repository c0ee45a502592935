"""Celery tasks: a few lines each. They take ids, call a service and return.

Every task is harmless when run twice (``acks_late`` redelivers after a lost worker): the
services claim their row with a conditional update first.

Tasks call services, never the other way round: a service that queues a task names it with a
constant of :mod:`readiness.services.enqueue`, under which the task is declared here, so this
module can import the services at its top without the two importing each other.
"""

from __future__ import annotations

import datetime as dt
import logging

from celery import shared_task

from readiness.models import Repo
from readiness.services.enqueue import (
    CHECK_PULL_REQUEST,
    DELIVER_NOTIFICATION,
    NOTIFY_SCAN,
    NOTIFY_UPSTREAM_RESOLVED,
    REFRESH_UPSTREAM_PENDING,
    SCAN_ORGANISATION,
    SCAN_REPOSITORY,
)
from readiness.services.notifications import (
    MAX_TASK_RETRIES,
    delivery_give_up,
    delivery_send,
    notify_scan,
    notify_upstream_resolved,
)
from readiness.services.organisation import organisation_scan
from readiness.services.pull_request_checks import (
    MAX_POST_RETRIES,
    pull_request_check_run,
    pull_request_repost,
    pull_request_retry_countdown,
    pull_request_unposted,
)
from readiness.services.pull_requests import pull_requests_purge_stale
from readiness.services.reports import reports_send_due
from readiness.services.rollups import rollup_days
from readiness.services.scans import (
    ScanBusy,
    TransientScanError,
    scan_give_up,
    scan_run,
    scan_run_in_process,
    scans_reap_stale,
)
from readiness.services.triage import triage_wake_snoozed
from readiness.services.upstream import upstream_refresh, upstream_refresh_pending

log = logging.getLogger(__name__)


@shared_task(
    name=SCAN_REPOSITORY,
    bind=True,
    acks_late=True,
    max_retries=6,
    soft_time_limit=15 * 60,
    time_limit=20 * 60,
)
def scan_repository(self, scan_id: int, **unknown_kwargs) -> None:
    if unknown_kwargs:  # tasks queued by a newer/older deploy must not crash this one
        log.warning("scan_repository: ignoring unknown arguments %s", sorted(unknown_kwargs))
    if self.request.is_eager:
        # No broker: a retry would run at once, nested, and end in an unhandled Retry.
        scan_run_in_process(scan_id=scan_id)
        return
    try:
        scan_run(scan_id=scan_id)
    except (ScanBusy, TransientScanError) as exc:
        if self.request.retries >= self.max_retries:
            scan_give_up(scan_id=scan_id, error=f"gave up after {self.max_retries} retries: {exc}")
            return
        countdown = 30 if isinstance(exc, ScanBusy) else min(600, 15 * 2**self.request.retries)
        raise self.retry(exc=exc, countdown=countdown) from None


@shared_task(
    name=CHECK_PULL_REQUEST,
    bind=True,
    acks_late=True,
    max_retries=MAX_POST_RETRIES,
    soft_time_limit=15 * 60,
    time_limit=20 * 60,
)
def check_pull_request(self, check_id: int, repost: bool = False, **unknown_kwargs) -> None:
    """Check a pull request and post its run; a run GitHub refused is posted again (only posted: the
    check is not redone) after a growing countdown, updating the same run. In process (no broker)
    nobody can wait: the refusal stays on the row until the next event."""
    if unknown_kwargs:
        log.warning("check_pull_request: ignoring unknown arguments %s", sorted(unknown_kwargs))
    if repost:
        pull_request_repost(check_id=check_id)
    else:
        pull_request_check_run(check_id=check_id)
    if self.request.is_eager or not pull_request_unposted(check_id=check_id):
        return
    if self.request.retries >= self.max_retries:
        log.warning("check run of pull request check %s not posted after %s retries", check_id, self.max_retries)
        return
    raise self.retry(
        kwargs={"check_id": check_id, "repost": True}, countdown=pull_request_retry_countdown(self.request.retries)
    )


@shared_task(acks_late=True)
def purge_stale_pull_requests() -> int:
    """Daily: checks of pull requests whose close was never delivered, and of disabled repos."""
    return pull_requests_purge_stale()


@shared_task(name=SCAN_ORGANISATION, acks_late=True)
def scan_organisation(trigger: str = "schedule", repo_ids: list[int] | None = None, deep: bool = False) -> int:
    repos = None if repo_ids is None else list(Repo.objects.filter(pk__in=repo_ids).order_by("name"))
    return len(organisation_scan(trigger=trigger, repos=repos, deep=deep))


@shared_task(acks_late=True)
def reap_stale_scans(minutes: int = 10) -> list[int]:
    return scans_reap_stale(older_than=dt.timedelta(minutes=minutes))


@shared_task(acks_late=True)
def rollup_daily(day: str | None = None) -> int:
    return rollup_days(day=dt.date.fromisoformat(day) if day else None)


@shared_task(acks_late=True)
def send_weekly_reports() -> dict[str, int]:
    """Beat fires this hourly: it sends the reports due now; a report already sent is skipped."""
    return reports_send_due().counts()


@shared_task(acks_late=True)
def refresh_upstream() -> dict[str, int]:
    """Daily: recompute every upstream suggestion (scans refresh only the packages they saw)."""
    result = upstream_refresh()
    return {"created": result.created, "updated": result.updated, "resolved": result.resolved}


@shared_task(name=REFRESH_UPSTREAM_PENDING, acks_late=True)
def refresh_upstream_pending() -> dict[str, int]:
    """After scans: the suggestions of the packages they marked, all at once."""
    result = upstream_refresh_pending()
    return {"created": result.created, "updated": result.updated, "resolved": result.resolved}


@shared_task(acks_late=True)
def wake_snoozed_blockers() -> int:
    """Hourly: record the end of each snooze whose date has passed (pages show it open already)."""
    return triage_wake_snoozed()


def _in_process_guard(task, body, default):
    """In process (no broker) a task runs inside the scan or refresh that queued it, on commit: a
    notification's failure is logged there, never raised into the scan. A worker raises as usual."""
    if not task.request.is_eager:
        return body()
    try:
        return body()
    except Exception:  # noqa: BLE001 - notifications are secondary to what caused them
        log.exception("%s failed", task.name)
        return default


@shared_task(name=NOTIFY_SCAN, bind=True, acks_late=True)
def notify_scan_task(self, scan_id: int, previous_id: int | None = None) -> int:
    """After a scan: its notification events, one delivery per matching rule (idempotent)."""
    return _in_process_guard(self, lambda: notify_scan(scan_id=scan_id, previous_id=previous_id), 0)


@shared_task(name=NOTIFY_UPSTREAM_RESOLVED, bind=True, acks_late=True)
def notify_upstream_resolved_task(self, suggestion_ids: list[int]) -> int:
    return _in_process_guard(self, lambda: notify_upstream_resolved(suggestion_ids=suggestion_ids), 0)


@shared_task(name=DELIVER_NOTIFICATION, bind=True, acks_late=True, max_retries=MAX_TASK_RETRIES)
def deliver_notification(self, delivery_id: int) -> None:
    """Send one delivery; a receiver still failing after the quick retries is tried again later, with
    backoff (in process nobody can wait, so there it fails at once and stays in the log)."""
    if self.request.is_eager:
        _in_process_guard(self, lambda: delivery_send(delivery_id=delivery_id, retry_later=False), False)
        return
    again = delivery_send(delivery_id=delivery_id, retry_later=True)
    if not again:
        return
    if self.request.retries >= self.max_retries:
        delivery_give_up(delivery_id=delivery_id)
        return
    raise self.retry(countdown=60 * 2**self.request.retries)
