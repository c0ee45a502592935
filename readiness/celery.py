"""The Celery app. Workers: ``celery -A readiness worker``; beat: ``celery -A readiness beat``."""

import gc
import os
import sys

from celery import Celery
from celery.signals import task_postrun, task_prerun, worker_process_init
from django.db import close_old_connections

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "readiness.settings")

app = Celery("readiness")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# A worker's memory is mostly long-lived caches (parsed index pages, lockfile entries, wheel
# tags) that grow through an organisation scan; each full collection of Python's cyclic GC walks
# all of them, and a scan allocates enough to trigger one every few scans: ~36 ms of a first
# scan's ~300 ms of CPU per repo. Collecting the young generation every 50,000 allocations
# instead of 700 (cycles still go, only later) and freezing what was imported before the first
# task (never garbage) took that to ~12 ms.
GC_THRESHOLDS = (50_000, 20, 10)


@worker_process_init.connect
def tune_garbage_collection(**_kwargs) -> None:
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


@task_prerun.connect
@task_postrun.connect
def close_old_database_connections(sender=None, **_kwargs) -> None:
    """What Django does around each request, around each task: close connections past their
    ``CONN_MAX_AGE`` or found broken, keep the rest (``CELERY_DB_REUSE_MAX`` stops Celery closing
    them all). A task run in process (eager) is inside its caller's transaction: left alone."""
    if sender is not None and getattr(sender.request, "is_eager", False):
        return
    close_old_connections()


def worker_command(*, name: str, concurrency: int = 2, loglevel: str = "INFO") -> list[str]:
    """The command line of a worker this project starts itself (the demo; the tests and benchmarks).

    A prefork pool without the cluster chatter (gossip, mingle, heartbeats) that a worker started
    on its own does not need and that slows its start; ``name`` is its node name (``x@%h``).
    """
    return [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "readiness",
        "worker",
        f"--loglevel={loglevel}",
        f"--concurrency={concurrency}",
        "--pool=prefork",
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
        "-n",
        name,
    ]
