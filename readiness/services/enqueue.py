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
"""

from __future__ import annotations

from django.db import transaction

from readiness.celery import app as celery_app

__all__ = ["SCAN_REPOSITORY", "enqueue_on_commit"]

SCAN_REPOSITORY = "readiness.tasks.scan_repository"
"""``scan_repository(scan_id)``: claim and run one queued scan."""


def enqueue_on_commit(task_name: str, args: tuple = (), *, countdown: float | None = None) -> None:
    """Queue ``task_name(*args)`` when the current transaction commits (at once outside one)."""
    task = celery_app.tasks[task_name]
    transaction.on_commit(lambda: task.apply_async(args, countdown=countdown))
