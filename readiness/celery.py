"""The Celery app. Workers: ``celery -A readiness worker``; beat: ``celery -A readiness beat``."""

import os
import sys

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "readiness.settings")

app = Celery("readiness")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


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
