"""Shared set-up for the Django side: Celery mode per test, and a real Celery worker on demand.

Most tests run tasks in-process (eager). Tests that need the real thing ask for the
``celery_worker`` fixture: it starts ``celery -A readiness worker`` as a subprocess on the
configured Redis broker against the test database, so data must be committed
(``transactional_db``). Without a broker (a developer's machine with no Redis configured) those
tests are skipped; in CI (``CI`` set) a missing broker is an error, never a silent skip.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.db import connection

from readiness.celery import app as celery_app
from readiness.celery import worker_command
from tests.support.index_server import FixtureIndexServer

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def eager_tasks(request, settings, tmp_path_factory):
    """Tasks run in-process unless the test uses a real worker; git caches go to a temp dir."""
    uses_worker = "celery_worker" in request.fixturenames
    old = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = not uses_worker
    settings.READINESS_GIT_CACHE_DIR = tmp_path_factory.mktemp("git-cache")
    settings.READINESS_REGISTRY_LOOKUPS = False  # tests never reach a real registry
    yield
    celery_app.conf.task_always_eager = old


def _broker_url() -> str:
    url = os.environ.get("CELERY_BROKER_URL", "")
    if not url:
        if os.environ.get("CI"):
            pytest.fail("CI must set CELERY_BROKER_URL: worker tests never fall back")
        pytest.skip("no CELERY_BROKER_URL: real-worker tests need Redis")
    return url


class Worker:
    """A real ``celery worker`` subprocess; ``kill()`` simulates a lost machine (SIGKILL)."""

    def __init__(self, env: dict[str, str], log_path: Path) -> None:
        self.env = env
        self.log_path = log_path
        self.proc: subprocess.Popen | None = None

    def start(self, *, concurrency: int = 2) -> None:
        # A restarted worker appends to the same log: only a "ready." after this point counts.
        offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            worker_command(name=f"test-{os.getpid()}-{time.monotonic_ns()}@%h", concurrency=concurrency),
            cwd=ROOT,
            env=self.env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if b"ready." in self.log_path.read_bytes()[offset:]:
                return
            if self.proc.poll() is not None:
                raise RuntimeError(f"celery worker exited: {self.log_path.read_text()[-2000:]}")
            time.sleep(0.2)
        raise RuntimeError(f"celery worker not ready after 60 s: {self.log_path.read_text()[-2000:]}")

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.kill()
        self.log.close()

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_for(self, condition: Callable[[], object], what: str, *, timeout: float = 90) -> None:
        """Poll ``condition`` until it holds; on timeout fail with the end of this worker's log."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if condition():
                return
            time.sleep(0.2)
        raise AssertionError(f"timed out waiting for {what}; worker log:\n{self.output()[-4000:]}")


@pytest.fixture
def scan_index(settings) -> Iterator[FixtureIndexServer]:
    """A private fixture index that scans (in process and in a real worker) ask.

    Private because tests stop it, slow it down and count its requests. One retry only, so a
    test with the index down does not wait for the production back-off.
    """
    server = FixtureIndexServer(mode="both").start()
    settings.READINESS_INDEX_URL = server.url
    settings.READINESS_INDEX_RETRIES = 1
    yield server
    server.stop()


@pytest.fixture
def celery_worker(transactional_db, tmp_path, settings, scan_index):
    """A started worker sharing the test database, the test's index and a queue of its own.

    The queue name is unique per test: a message a killed worker left unacknowledged in Redis
    can never reach another test's worker (whose database reuses scan ids).
    """
    broker = _broker_url()
    db = settings.DATABASES["default"]
    if db["ENGINE"].endswith("sqlite3"):
        pytest.skip("real-worker tests need PostgreSQL (DATABASE_URL)")
    user = db.get("USER") or "postgres"
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    host = db.get("HOST") or "127.0.0.1"
    port = db.get("PORT") or 5432
    queue = f"readiness-test-{uuid.uuid4().hex[:12]}"
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{user}{password}@{host}:{port}/{connection.settings_dict['NAME']}",
        "CELERY_BROKER_URL": broker,
        "CELERY_TASK_DEFAULT_QUEUE": queue,
        "READINESS_GIT_CACHE_DIR": str(tmp_path / "worker-git-cache"),
        "READINESS_VAR_DIR": str(tmp_path / "worker-var"),
        "READINESS_REGISTRY_LOOKUPS": "0",  # no real registry from tests; test_registry_scan.py uses a local one
        "READINESS_INDEX_URL": scan_index.url,
        "READINESS_INDEX_RETRIES": str(settings.READINESS_INDEX_RETRIES),
        "READINESS_INDEX_CACHE_SECONDS": str(settings.READINESS_INDEX_CACHE_SECONDS),
        "READINESS_UPSTREAM_REFRESH_DELAY": "1",  # the refresh behind the scans, without a long wait
        "CELERY_VISIBILITY_TIMEOUT": "30",
    }
    old_queue = celery_app.conf.task_default_queue
    celery_app.conf.task_default_queue = queue
    worker = Worker(env, tmp_path / "worker.log")
    worker.start()
    yield worker
    worker.stop()
    with celery_app.connection_for_write() as conn:
        conn.default_channel.queue_purge(queue)
    celery_app.conf.task_default_queue = old_queue


@pytest.fixture(scope="session", autouse=True)
def flush_by_delete():
    """Empty the tables after a transactional test with DELETE, not TRUNCATE, on PostgreSQL.

    TRUNCATE gives each of the ~30 tables (and their indexes) new files: ~350 ms per test here,
    minutes over the suite, for tables that hold a few hundred rows. DELETE in the flush's one
    transaction empties them in a few milliseconds; Django's foreign keys are deferred, so the
    order does not matter. Sequences are not reset either way (``reset_sequences`` is off).
    """
    from django.db.backends.postgresql.operations import DatabaseOperations

    original = DatabaseOperations.sql_flush

    def sql_flush(self, style, tables, *, reset_sequences=False, allow_cascade=False):
        if reset_sequences or not tables:
            return original(self, style, tables, reset_sequences=reset_sequences, allow_cascade=allow_cascade)
        return [f"{style.SQL_KEYWORD('DELETE FROM')} {style.SQL_FIELD(self.quote_name(t))};" for t in tables]

    DatabaseOperations.sql_flush = sql_flush
    yield
    DatabaseOperations.sql_flush = original
