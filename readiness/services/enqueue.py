"""Queuing Celery tasks from services: by the task's name, on commit. The only way services queue work.

Layers run one way: views → queries (reads) / services (writes) → models, and tasks call
services. A service therefore never imports :mod:`readiness.tasks`: that module imports the
services at its top, so the two would import each other (hiding one import inside a function
only hides the cycle until the first call). Services name the task instead, with a constant
from here; :mod:`readiness.tasks` declares each task under that same constant, so the name is
written once and cannot drift.

The name is resolved to the registered task object when the work is queued, inside the
caller's transaction, and the object's ``apply_async`` runs on commit, exactly as if the task
had been imported: without a broker (``task_always_eager``, the default for SQLite and the
demo) it runs in process on commit, with one it is sent to the queue. ``send_task`` is not used
because it ignores eager mode. Every process has the tasks registered because
:class:`readiness.apps.ReadinessConfig` imports :mod:`readiness.tasks` once Django is ready; a
name that is not registered raises ``KeyError`` before the commit, so a row is never left
queued with no task behind it.

Work queued with a ``countdown`` (a webhook's coalescing window) must not run inside the
request that queued it: in process it runs on a timer thread once the countdown is over, so the
request answers at once and later pushes find the scan still queued and join it. A process that
exits before its timer fires leaves the scan queued; :func:`readiness.services.scans.scan_request`
runs such a scan the next time one is asked for.
"""

from __future__ import annotations

import logging
import threading

from celery import Task
from django.db import connections, transaction

from readiness.celery import app as celery_app

__all__ = [
    "CHECK_PULL_REQUEST",
    "DELIVER_NOTIFICATION",
    "NOTIFY_SCAN",
    "NOTIFY_UPSTREAM_RESOLVED",
    "REFRESH_UPSTREAM_PENDING",
    "SCAN_ORGANISATION",
    "SCAN_REPOSITORY",
    "enqueue_on_commit",
    "tasks_run_in_process",
]

log = logging.getLogger(__name__)

SCAN_REPOSITORY = "readiness.tasks.scan_repository"
"""``scan_repository(scan_id)``: claim and run one queued scan."""

SCAN_ORGANISATION = "readiness.tasks.scan_organisation"
"""``scan_organisation(trigger, repo_ids=None, deep=False)``: warm the index, settle the unchanged
repos and queue a scan of each other one (all enabled repos when ``repo_ids`` is ``None``)."""

CHECK_PULL_REQUEST = "readiness.tasks.check_pull_request"
"""``check_pull_request(check_id)``: check a queued pull request's head against its base and post the check run."""

REFRESH_UPSTREAM_PENDING = "readiness.tasks.refresh_upstream_pending"
"""``refresh_upstream_pending()``: refresh the suggestions of every package finished scans marked."""

NOTIFY_SCAN = "readiness.tasks.notify_scan"
"""``notify_scan(scan_id, previous_id)``: the notification events of a finished scan, delivered."""

NOTIFY_UPSTREAM_RESOLVED = "readiness.tasks.notify_upstream_resolved"
"""``notify_upstream_resolved(suggestion_ids)``: tell the rules that these suggestions were resolved."""

DELIVER_NOTIFICATION = "readiness.tasks.deliver_notification"
"""``deliver_notification(delivery_id)``: send one logged delivery, retried with backoff."""


def tasks_run_in_process() -> bool:
    """No broker: tasks run in this process (the Celery app decides; tests switch it per test)."""
    return bool(celery_app.conf.task_always_eager)


def enqueue_on_commit(task_name: str, args: tuple = (), *, countdown: float | None = None) -> None:
    """Queue ``task_name(*args)`` when the current transaction commits (at once outside one).

    ``countdown`` (0 included): the task runs that many seconds later, never in the caller's
    thread; in process, on a timer thread.
    """
    task = celery_app.tasks[task_name]
    if countdown is not None and tasks_run_in_process():
        transaction.on_commit(lambda: _run_later(task, args, countdown))
    else:
        transaction.on_commit(lambda: task.apply_async(args, countdown=countdown))


def _run_later(task: Task, args: tuple, countdown: float) -> None:
    # A daemon thread: it never keeps a stopping process alive (the scan then stays queued and
    # runs at the next request for one).
    timer = threading.Timer(max(countdown, 0), _run_in_thread, (task, args))
    timer.daemon = True
    timer.name = f"deferred-{task.name.rsplit('.', 1)[-1]}"
    timer.start()


def _run_in_thread(task: Task, args: tuple) -> None:
    try:
        task.apply(args, throw=True)
    except Exception:  # noqa: BLE001 - nobody waits on this thread: the log is where it is seen
        log.exception("deferred task %s%r failed", task.name, args)
    finally:
        # The thread's own database connection: closed, not left for the server to time out.
        connections.close_all()
