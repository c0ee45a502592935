"""``manage.py scan``: in process without a broker, through a real Celery worker with one."""

from __future__ import annotations

import re
import socket
import time

import pytest
from django.core.management import CommandError, call_command

from readiness.celery import app as celery_app
from readiness.models import Repo, Rollup, Scan
from tests.readiness.scan_support import org_repos

pytestmark = pytest.mark.django_db(transaction=True)


def _run(*args: str) -> str:
    from io import StringIO

    out = StringIO()
    call_command("scan", *args, stdout=out)
    return out.getvalue()


def test_scan_all_in_process_prints_a_progress_bar_and_a_summary(tmp_path, scan_index, capsys) -> None:
    org_repos(tmp_path, 5)

    out = _run("--all")

    err = capsys.readouterr().err
    assert re.search(r"\[#{30}\] 5/5 svc-04", err), err
    assert "1/5 svc-00" in err
    assert out.strip() == (
        "5 repos scanned: 5 done; "
        "linux/amd64: 3 ready, 0 build from source, 2 blocked; "
        "linux/arm64: 1 ready, 2 build from source, 2 blocked"
    )
    assert Scan.objects.filter(state=Scan.State.DONE).count() == 5
    assert Rollup.objects.filter(scope=Rollup.Scope.ORG).count() == 2  # today, per target


def test_scan_all_again_says_how_many_repos_were_unchanged(tmp_path, scan_index) -> None:
    repos = org_repos(tmp_path, 3)
    _run("--all")
    scan_index.clear_requests()

    out = _run("--all")

    assert out.startswith("3 repos scanned: 3 done (3 unchanged since their last scan); "), out
    assert scan_index.page_requests() == []
    assert Scan.objects.filter(unchanged=True).count() == len(repos)


def test_scan_named_repos_only(tmp_path, scan_index, capsys) -> None:
    org_repos(tmp_path, 3)

    out = _run("svc-01", "svc-02")

    assert out.startswith("2 repos scanned: 2 done;")
    assert sorted(Scan.objects.values_list("repo__name", flat=True)) == ["svc-01", "svc-02"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("svc-00", "nope", "also-nope"), "unknown repositories: nope, also-nope"),
        ((), "name repositories or pass --all"),
        (("svc-00", "--all"), "name repositories or pass --all"),
    ],
    ids=["unknown-names", "nothing", "names-and-all"],
)
def test_bad_selection_exits_2(tmp_path, args, message) -> None:
    org_repos(tmp_path, 1)

    with pytest.raises(CommandError) as excinfo:
        _run(*args)

    assert excinfo.value.returncode == 2
    assert message in str(excinfo.value)
    assert not Scan.objects.exists()


@pytest.mark.slow
def test_scan_all_through_a_real_worker_waits_for_every_scan(tmp_path, scan_index, celery_worker, capsys) -> None:
    org_repos(tmp_path, 6)

    out = _run("--all", "--timeout", "120")

    err = capsys.readouterr().err
    assert re.search(r"\[#{30}\] 6/6 0 running, 0 queued", err), err
    assert out.startswith("6 repos scanned: 6 done;")
    assert set(Scan.objects.values_list("state", flat=True)) == {Scan.State.DONE}


# -- in process: a transient failure never stops the run, a queued scan never stays stuck ------------


def _closed_port() -> int:
    """A loopback port nothing listens on: git's connection is refused (a transient failure)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_scan_all_in_process_fails_a_dead_remote_after_retries_and_goes_on(tmp_path, scan_index, capsys) -> None:
    port = _closed_port()
    dead = Repo.objects.create(name="aaa-dead", url=f"http://127.0.0.1:{port}/x.git", branch="main")
    org_repos(tmp_path, 2)  # svc-00, svc-01: scanned after the dead one

    out = _run("--all")

    assert out.startswith("3 repos scanned: 2 done, 1 failed;"), out
    scan = Scan.objects.get(repo=dead)
    assert (scan.state, scan.attempts) == (Scan.State.FAILED, 3)
    assert scan.error.startswith("gave up after 3 attempts in process: "), scan.error
    assert f"127.0.0.1:{port}" in scan.error and scan.finished_at is not None
    assert Scan.objects.filter(repo__name__startswith="svc-", state=Scan.State.DONE).count() == 2

    # The failed scan holds nothing up: the next request is a new scan that runs.
    assert _run("aaa-dead").startswith("1 repo scanned: 1 failed"), out
    assert Scan.objects.filter(repo=dead).count() == 2
    assert not Scan.objects.filter(state__in=(Scan.State.QUEUED, Scan.State.RUNNING)).exists()


def test_a_queued_scan_with_no_task_behind_it_runs_at_the_next_scan(tmp_path, scan_index) -> None:
    """What an older release (or a web process stopped before its deferred scan) left behind."""
    ((repo, _),) = org_repos(tmp_path, 1)
    stuck = Scan.objects.create(repo=repo, trigger="webhook")  # queued, and no task will ever run it

    out = _run(repo.name)

    stuck.refresh_from_db()
    assert stuck.state == Scan.State.DONE, stuck.error
    assert out.startswith("1 repo scanned: 1 done;"), out
    assert Scan.objects.filter(repo=repo).count() == 1  # it was run, not joined by a second scan


# -- with a broker, --no-wait returns before the index is warmed -----------------------------------


def test_no_wait_queues_the_whole_scan_and_asks_the_index_nothing(tmp_path, scan_index, settings) -> None:
    org_repos(tmp_path, 3)
    _run("--all")  # a first scan, so the next one has packages to warm
    scan_index.clear_requests()
    before = Scan.objects.count()
    celery_app.conf.task_always_eager = False  # a broker, and no worker listening in this test
    try:
        out = _run("--all", "--no-wait")
    finally:
        celery_app.conf.task_always_eager = True
    assert out.startswith("queued the scan of 3 repos: a worker warms the index")
    assert scan_index.requests == []  # warming is the worker's job, not this command's
    assert Scan.objects.count() == before  # nor are scans queued here: the worker's task does it


@pytest.mark.slow
def test_no_wait_then_the_worker_scans_every_repo(tmp_path, scan_index, celery_worker) -> None:
    org_repos(tmp_path, 4)
    assert _run("--all", "--no-wait").startswith("queued the scan of 4 repos")
    deadline = time.monotonic() + 120
    while Scan.objects.filter(state=Scan.State.DONE).count() < 4 and time.monotonic() < deadline:
        time.sleep(0.5)
    assert sorted(Scan.objects.filter(state=Scan.State.DONE).values_list("repo__name", flat=True)) == [
        "svc-00",
        "svc-01",
        "svc-02",
        "svc-03",
    ]
