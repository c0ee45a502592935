"""Scan services in process: real git repos, the real fixture index over HTTP, the real database.

``transaction=True`` everywhere: ``scan_request`` queues its task on commit, and the scan it
queues runs eagerly only once that commit really happens.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from readiness.models import Repo, Scan, ScanFile, Verdict
from readiness.queries.matrix import matrix_csv_rows, matrix_repos
from readiness.services.credentials import clone_url
from readiness.services.scans import ScanBusy, scan_claim, scan_execute, scan_request, scan_run, scans_reap_stale
from tests.readiness.scan_support import ORG_LAYOUTS, repo_row
from tests.scanners.git_helpers import commit_files, make_repo

pytestmark = pytest.mark.django_db(transaction=True)


def _cells(scan: Scan) -> dict[tuple[str, str], tuple[str, str]]:
    return {
        (package, target): (status, fix)
        for package, target, status, fix in Verdict.objects.filter(scan_id=scan.result_scan_id).values_list(
            "package", "target", "status", "fix_version"
        )
    }


# (layout, package, target, status, fix version): what the analyser answers from the fixture index.
EXPECTED_CELLS = [
    (0, "psutil", "linux/amd64", "wheel", ""),
    (0, "psutil", "linux/arm64", "sdist", "6.0.0"),
    (0, "six", "linux/arm64", "wheel", ""),
    (1, "filprofiler", "linux/amd64", "none", "2024.11.2"),
    (1, "filprofiler", "linux/arm64", "none", "2024.11.2"),
    (1, "numpy", "linux/arm64", "wheel", ""),
    (2, "psycopg2", "linux/amd64", "sdist", ""),
    (2, "psycopg2", "linux/arm64", "sdist", ""),
    (3, "pyyaml", "linux/arm64", "wheel", ""),
    (3, "orjson", "linux/amd64", "wheel", ""),
    (4, "psutil", "linux/arm64", "sdist", "6.0.0"),
    (4, "numpy", "linux/amd64", "wheel", ""),
]


@pytest.mark.parametrize(("layout", "package", "target", "status", "fix"), EXPECTED_CELLS)
def test_scan_records_each_cell(tmp_path, scan_index, layout, package, target, status, fix) -> None:
    path = make_repo(tmp_path, ORG_LAYOUTS[layout].files, name="svc")
    repo = repo_row("svc", path)

    scan = scan_request(repo=repo, trigger="manual")

    scan.refresh_from_db()
    assert scan.state == Scan.State.DONE, scan.error
    assert _cells(scan)[(package, target)] == (status, fix)


# (layout, python, libc, target origin): targets follow the primary Dockerfile, else the defaults.
@pytest.mark.parametrize(
    ("layout", "python", "libc", "origin"),
    [(0, "3.12", "glibc", "default"), (1, "3.11", "glibc", "Dockerfile:1"), (2, "3.12", "musl", "Dockerfile:1")],
)
def test_scan_stores_targets_summary_files_and_latest(tmp_path, scan_index, layout, python, libc, origin) -> None:
    path = make_repo(tmp_path, ORG_LAYOUTS[layout].files, name="svc")
    repo = repo_row("svc", path)

    scan = scan_request(repo=repo, trigger="manual")

    scan.refresh_from_db()
    repo.refresh_from_db()
    assert repo.latest_scan_id == scan.pk
    assert [(t["id"], t["python"], t["libc"], t["origin"]) for t in scan.targets] == [
        ("linux/amd64", python, libc, origin),
        ("linux/arm64", python, libc, origin),
    ]
    assert set(scan.summary) == {"linux/amd64", "linux/arm64"}
    for target, summary in scan.summary.items():
        counted = sum(summary[s] for s in ("wheel", "sdist", "none", "unknown", "n/a"))
        assert counted == len(ORG_LAYOUTS[layout].packages) == Verdict.objects.filter(scan=scan, target=target).count()
    assert scan.commit and scan.committed_at is not None and scan.finished_at >= scan.started_at
    assert set(ScanFile.objects.filter(scan=scan).values_list("path", flat=True)) == set(ORG_LAYOUTS[layout].files)


def test_unchanged_second_scan_reuses_the_rows(tmp_path, scan_index) -> None:
    path = make_repo(tmp_path, ORG_LAYOUTS[0].files, name="svc")
    repo = repo_row("svc", path)
    first = scan_request(repo=repo, trigger="manual")
    rows = Verdict.objects.count()
    scan_index.clear_requests()

    second = scan_request(repo=repo, trigger="manual")

    second.refresh_from_db()
    repo.refresh_from_db()
    assert (second.state, second.unchanged, second.results_from_id) == (Scan.State.DONE, True, first.pk)
    assert Verdict.objects.count() == rows
    assert Verdict.objects.filter(scan=second).count() == 0
    assert scan_index.page_requests() == []  # within the cache period the database answers
    assert repo.latest_scan_id == second.pk
    assert second.summary == Scan.objects.get(pk=first.pk).summary
    matrix = list(matrix_csv_rows(matrix_repos()))
    assert sorted(row[2:6] for row in matrix) == sorted(
        [p, v, t, s]
        for p, v, t, s in Verdict.objects.filter(scan=first).values_list("package", "version", "target", "status")
    )

    third = scan_request(repo=repo, trigger="manual")  # unchanged again: still points at the first rows
    third.refresh_from_db()
    assert (third.unchanged, third.results_from_id) == (True, first.pk)


def test_new_commit_is_analysed_again(tmp_path, scan_index) -> None:
    path = make_repo(tmp_path, ORG_LAYOUTS[0].files, name="svc")
    repo = repo_row("svc", path)
    first = scan_request(repo=repo, trigger="manual")
    commit = commit_files(
        path, {"requirements.txt": "psutil==6.0.0\nsix==1.16.0\n"}, date=dt.datetime(2024, 2, 1, tzinfo=dt.UTC)
    )

    second = scan_request(repo=repo, trigger="manual")

    second.refresh_from_db()
    assert (second.unchanged, second.results_from_id, second.commit) == (False, None, commit)
    assert first.pk != second.pk
    assert _cells(second)[("psutil", "linux/arm64")] == ("wheel", "")


def test_changed_index_page_makes_the_same_commit_analysed_again(tmp_path, scan_index, settings) -> None:
    settings.READINESS_INDEX_CACHE_SECONDS = 0  # every scan revalidates its pages
    path = make_repo(tmp_path, {"requirements.txt": "six==1.16.0\n"}, name="svc")
    repo = repo_row("svc", path)
    first = scan_request(repo=repo, trigger="manual")
    unchanged = scan_request(repo=repo, trigger="manual")
    page = scan_index.project_page("six")
    scan_index.add_project(
        "six", [{"filename": f["filename"]} for f in page["files"]] + [{"filename": "six-1.17.0-py2.py3-none-any.whl"}]
    )

    after_upload = scan_request(repo=repo, trigger="manual")

    unchanged.refresh_from_db()
    after_upload.refresh_from_db()
    assert (unchanged.unchanged, unchanged.results_from_id) == (True, first.pk)
    assert (after_upload.state, after_upload.unchanged, after_upload.results_from_id) == (Scan.State.DONE, False, None)
    assert Verdict.objects.filter(scan=after_upload).count() == 2


def test_index_down_gives_partial_then_recovery_fills_in(tmp_path, scan_index) -> None:
    path = make_repo(tmp_path, ORG_LAYOUTS[0].files, name="svc")
    repo = repo_row("svc", path)
    scan_index.stop()

    down = scan_request(repo=repo, trigger="manual")

    down.refresh_from_db()
    assert down.state == Scan.State.PARTIAL
    assert set(_cells(down).values()) == {("unknown", "")}
    assert "index: psutil:" in down.error and "index: six:" in down.error
    assert down.summary["linux/arm64"]["unknown"] == 2

    scan_index.start()
    # start() picks a new port; the repo's index is configured again, as an operator would.
    from django.conf import settings

    settings.READINESS_INDEX_URL = scan_index.url
    recovered = scan_request(repo=repo, trigger="manual")

    recovered.refresh_from_db()
    repo.refresh_from_db()
    assert (recovered.state, recovered.unchanged) == (Scan.State.DONE, False)
    assert _cells(recovered)[("psutil", "linux/arm64")] == ("sdist", "6.0.0")
    assert _cells(recovered)[("six", "linux/amd64")] == ("wheel", "")
    assert repo.latest_scan_id == recovered.pk


@pytest.mark.parametrize(
    ("files", "url", "state", "error"),
    [
        (None, "file:///nonexistent/repo.git", Scan.State.FAILED, "nonexistent"),
        ({"poetry.lock": "[[package]\nname = 'x'\n"}, None, Scan.State.PARTIAL, "poetry.lock"),
        (
            {"requirements.txt": "six==1.16.0\n", "pylock.toml": "not = [valid\n"},
            None,
            Scan.State.PARTIAL,
            "pylock.toml",
        ),
    ],
    ids=["bad-url", "malformed-poetry-lock", "malformed-pylock"],
)
def test_failure_in_one_repo_is_recorded_on_its_scan_only(tmp_path, scan_index, files, url, state, error) -> None:
    good = repo_row("good", make_repo(tmp_path, ORG_LAYOUTS[0].files, name="good"))
    bad_path = make_repo(tmp_path, files, name="bad") if files else tmp_path
    bad = repo_row("bad", bad_path, url=url)

    bad_scan = scan_request(repo=bad, trigger="manual")
    good_scan = scan_request(repo=good, trigger="manual")

    bad_scan.refresh_from_db()
    good_scan.refresh_from_db()
    assert bad_scan.state == state
    assert error in bad_scan.error
    assert good_scan.state == Scan.State.DONE and good_scan.error == ""
    assert Verdict.objects.filter(scan=good_scan).count() == 4
    if state == Scan.State.PARTIAL:
        assert ScanFile.objects.get(scan=bad_scan, path=error).error


def test_credentials_reference_is_added_to_the_clone_url_only(monkeypatch) -> None:
    monkeypatch.setenv("ACME_GIT_TOKEN", "s3cret")
    repo = Repo(name="x", url="https://git.example/acme/x.git", credentials_ref="ACME_GIT_TOKEN")

    assert clone_url(repo) == "https://x-access-token:s3cret@git.example/acme/x.git"
    assert clone_url(Repo(name="y", url="https://git.example/acme/y.git")) == "https://git.example/acme/y.git"


def test_two_requests_at_once_make_one_scan(tmp_path, scan_index) -> None:
    repo = repo_row("svc", make_repo(tmp_path, ORG_LAYOUTS[0].files, name="svc"))

    with transaction.atomic():  # both requests before either task runs (tasks run on commit)
        first = scan_request(repo=repo, trigger="webhook")
        second = scan_request(repo=repo, trigger="webhook")

    assert first.pk == second.pk
    assert Scan.objects.filter(repo=repo).count() == 1
    assert Scan.objects.get(repo=repo).state == Scan.State.DONE


@pytest.mark.parametrize("state", [Scan.State.QUEUED, Scan.State.RUNNING])
def test_database_refuses_a_second_queued_or_running_scan(tmp_path, state) -> None:
    repo = Repo.objects.create(name="svc", url="file:///x")
    Scan.objects.create(repo=repo, state=state)

    with pytest.raises(IntegrityError), transaction.atomic():
        Scan.objects.create(repo=repo, state=state)

    Scan.objects.create(repo=repo, state=Scan.State.DONE)  # finished scans are history: any number
    assert Scan.objects.filter(repo=repo).count() == 2


def test_claim_is_refused_while_another_scan_runs_and_a_second_delivery_does_nothing(tmp_path, scan_index) -> None:
    repo = repo_row("svc", make_repo(tmp_path, ORG_LAYOUTS[0].files, name="svc"))
    running = Scan.objects.create(
        repo=repo, state=Scan.State.RUNNING, started_at=timezone.now(), heartbeat_at=timezone.now()
    )
    queued = Scan.objects.create(repo=repo)

    with pytest.raises(ScanBusy):
        scan_claim(scan_id=queued.pk)

    Scan.objects.filter(pk=running.pk).update(state=Scan.State.FAILED)
    assert scan_run(scan_id=queued.pk).state == Scan.State.DONE
    assert scan_run(scan_id=queued.pk) is None  # acks_late redelivery: nothing to do
    assert Verdict.objects.filter(scan=queued).count() == 4


def test_in_process_a_scan_refused_by_a_running_one_is_tried_again_then_failed_not_left_queued(
    tmp_path, scan_index
) -> None:
    """No broker: nobody would retry it later, so it ends failed with the reason, and the caller goes on."""
    repo = repo_row("svc", make_repo(tmp_path, ORG_LAYOUTS[0].files, name="svc"))
    running = Scan.objects.create(
        repo=repo, state=Scan.State.RUNNING, started_at=timezone.now(), heartbeat_at=timezone.now()
    )

    scan = scan_request(repo=repo, trigger="manual")  # runs in process on commit; returns, never raises

    scan.refresh_from_db()
    assert (scan.state, scan.attempts) == (Scan.State.FAILED, 0)  # never claimed: the database refused it
    assert (
        scan.error
        == f"gave up after 3 attempts in process: another scan of the repository of scan {scan.pk} is running"
    )
    assert Scan.objects.get(pk=running.pk).state == Scan.State.RUNNING  # the running one is untouched
    assert not Verdict.objects.filter(scan=scan).exists()


def test_reaper_fails_a_lost_scan_and_queues_a_retry(tmp_path, scan_index) -> None:
    repo = repo_row("svc", make_repo(tmp_path, ORG_LAYOUTS[0].files, name="svc"))
    long_ago = timezone.now() - dt.timedelta(minutes=30)
    lost = Scan.objects.create(repo=repo, state=Scan.State.RUNNING, started_at=long_ago, heartbeat_at=long_ago)
    alive = repo_row("alive", make_repo(tmp_path, ORG_LAYOUTS[1].files, name="alive"))
    beating = Scan.objects.create(
        repo=alive, state=Scan.State.RUNNING, started_at=long_ago, heartbeat_at=timezone.now()
    )

    reaped = scans_reap_stale(older_than=dt.timedelta(minutes=10))

    lost.refresh_from_db()
    beating.refresh_from_db()
    assert reaped == [lost.pk]
    assert lost.state == Scan.State.FAILED and "worker lost" in lost.error
    assert beating.state == Scan.State.RUNNING
    retry = Scan.objects.get(repo=repo, trigger="retry")
    assert retry.state == Scan.State.DONE  # eager: the retry ran at once
    repo.refresh_from_db()
    assert repo.latest_scan_id == retry.pk


def test_a_reaped_scan_that_finishes_late_writes_nothing(tmp_path, scan_index) -> None:
    repo = repo_row("svc", make_repo(tmp_path, ORG_LAYOUTS[0].files, name="svc"))
    scan = Scan.objects.create(repo=repo)
    claimed = scan_claim(scan_id=scan.pk)
    Scan.objects.filter(pk=scan.pk).update(state=Scan.State.FAILED, error="worker lost")

    result = scan_execute(scan=claimed)

    assert result.state == Scan.State.FAILED
    assert Verdict.objects.filter(scan=scan).count() == 0
    repo.refresh_from_db()
    assert repo.latest_scan_id is None


def test_a_second_attempt_replaces_whatever_rows_the_scan_holds(tmp_path, scan_index) -> None:
    # A first attempt writes its rows with its final state or not at all, so it deletes nothing
    # first; a later attempt (a retried task) clears the scan's rows before writing its own.
    repo = repo_row("svc", make_repo(tmp_path, ORG_LAYOUTS[0].files, name="svc"))
    scan = Scan.objects.create(repo=repo, attempts=1)
    Verdict.objects.create(scan=scan, package="left-over", version="1.0", target="linux/arm64", status="none")
    claimed = scan_claim(scan_id=scan.pk)
    assert claimed is not None and claimed.attempts == 2

    result = scan_execute(scan=claimed)

    assert result.state == Scan.State.DONE
    packages = set(Verdict.objects.filter(scan=scan).values_list("package", flat=True))
    assert "left-over" not in packages and packages


def test_a_repo_without_a_lockfile_is_recorded_as_such_never_ready(tmp_path, scan_index) -> None:
    from readiness.models.rollups import repo_state

    path = make_repo(tmp_path, {"Dockerfile": "FROM python:3.12-slim\n", "README.md": "docs only\n"}, name="docs")
    repo = repo_row("docs", path)

    scan = scan_request(repo=repo, trigger="manual")

    scan.refresh_from_db()
    assert scan.state == Scan.State.DONE
    assert scan.error.startswith("no lockfile found (looked for requirements*.txt, ")
    for summary in scan.summary.values():
        assert (summary["no_lockfile"], summary["complete"], summary["ready"]) == (True, False, False)
        assert repo_state(summary) == "unknown"


def test_an_index_outage_leaves_repos_unknown_not_ready(tmp_path, scan_index) -> None:
    from readiness.models.rollups import repo_state

    path = make_repo(tmp_path, {"requirements.txt": "six==1.16.0\n"}, name="svc")
    repo = repo_row("svc", path)
    scan_index.stop()

    scan = scan_request(repo=repo, trigger="manual")

    scan.refresh_from_db()
    assert scan.state == Scan.State.PARTIAL
    arm64 = scan.summary["linux/arm64"]
    assert (arm64["unknown"], arm64["complete"], arm64["ready"]) == (1, False, False)
    assert "no_lockfile" not in arm64
    assert repo_state(arm64) == "unknown"
