"""The Celery tasks on a real worker: ``celery -A readiness worker`` on Redis, PostgreSQL, real git.

These need ``DATABASE_URL`` (PostgreSQL) and ``CELERY_BROKER_URL`` (Redis); see conftest.py.
"""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.db import connection, transaction

from readiness.models import Repo, Scan, UpstreamRefreshPending, UpstreamSuggestion, Verdict
from readiness.services.scans import scan_request, scans_reap_stale
from readiness.tasks import scan_organisation
from tests.readiness.scan_support import ORG_LAYOUTS, org_repos, repo_row
from tests.scanners.git_helpers import make_repo

pytestmark = pytest.mark.slow


def _all_final(ids=None) -> bool:
    scans = Scan.objects.all() if ids is None else Scan.objects.filter(id__in=ids)
    return scans.exists() and not scans.exclude(state__in=Scan.FINAL_STATES).exists()


def test_worker_scans_twenty_repos_end_to_end(tmp_path, scan_index, celery_worker) -> None:
    repos = org_repos(tmp_path, 20)
    distinct = set().union(*(layout.packages for _, layout in repos))

    scan_organisation.delay(trigger="schedule")  # the fan-out task itself runs on the worker

    celery_worker.wait_for(lambda: Scan.objects.count() == 20 and _all_final(), "20 finished scans")
    assert set(Scan.objects.values_list("state", flat=True)) == {Scan.State.DONE}
    for repo, layout in repos:
        repo.refresh_from_db()
        scan = Scan.objects.get(repo=repo)
        assert repo.latest_scan_id == scan.pk
        assert set(Verdict.objects.filter(scan=scan).values_list("package", "target")) == {
            (p, t) for p in layout.packages for t in ("linux/amd64", "linux/arm64")
        }
        arm = scan.summary["linux/arm64"]
        assert sum(arm[s] for s in ("wheel", "sdist", "none", "unknown", "n/a")) == len(layout.packages)
    # Four repos share each layout: every repo of a layout gets the same answers.
    by_layout = {}
    for repo, layout in repos:
        cells = sorted(
            Verdict.objects.filter(scan__repo=repo).values_list("package", "version", "target", "status", "fix_version")
        )
        assert (
            by_layout.setdefault(
                layout.files["requirements.txt"] if "requirements.txt" in layout.files else repr(layout.files), cells
            )
            == cells
        )
    psutil_arm = set(
        Verdict.objects.filter(package="psutil", version="5.9.8", target="linux/arm64").values_list(
            "status", "fix_version"
        )
    )
    assert psutil_arm == {("sdist", "6.0.0")}
    assert set(Verdict.objects.filter(package="filprofiler").values_list("status", flat=True)) == {"none"}
    # Two worker processes, 20 repos, one request per distinct package (advisory locks in PostgreSQL).
    requested = sorted(r.path for r in scan_index.page_requests())
    assert len(requested) == len(distinct) == 8, requested


def test_worker_refreshes_upstream_suggestions_behind_the_scans(tmp_path, scan_index, celery_worker) -> None:
    scan_index.add_project(
        "never-arm", [{"filename": f"never_arm-{v}-cp311-cp311-manylinux_2_17_x86_64.whl"} for v in ("1.0", "1.1")]
    )
    for i in range(6):
        repo_row(
            f"svc-{i}",
            make_repo(tmp_path, {"requirements.txt": f"never-arm==1.{i % 2}\nsix==1.16.0\n"}, name=f"svc-{i}"),
        )

    scan_organisation.delay(trigger="schedule")

    celery_worker.wait_for(lambda: Scan.objects.count() == 6 and _all_final(), "6 finished scans")
    # Each scan marked never-arm pending; the refreshes queued behind the scans draft it from all six.
    celery_worker.wait_for(lambda: not UpstreamRefreshPending.objects.exists(), "the upstream refresh")
    celery_worker.wait_for(lambda: UpstreamSuggestion.objects.filter(repos_blocked=6).exists(), "6 repos")
    (suggestion,) = UpstreamSuggestion.objects.all()
    assert (suggestion.package, suggestion.versions, suggestion.status) == ("never-arm", ["1.0", "1.1"], "open")
    assert set(Scan.objects.values_list("state", flat=True)) == {Scan.State.DONE}


def test_worker_killed_mid_scan_leaves_no_half_scan_and_a_new_worker_completes_it(
    tmp_path, scan_index, celery_worker
) -> None:
    repo = repo_row("svc", make_repo(tmp_path, ORG_LAYOUTS[3].files, name="svc"))
    scan_index.delay(2.0)  # three packages: the scan sits in its index step for seconds

    scan = scan_request(repo=repo, trigger="manual")
    celery_worker.wait_for(lambda: len(scan_index.page_requests()) > 0, "the scan to ask the index")
    celery_worker.kill()

    scan.refresh_from_db()
    assert scan.state == Scan.State.RUNNING  # not shown as done: nothing was written
    assert Verdict.objects.filter(scan=scan).count() == 0
    assert scan.summary == {}

    assert scans_reap_stale(older_than=dt.timedelta(0)) == [scan.pk]
    scan.refresh_from_db()
    assert scan.state == Scan.State.FAILED and "worker lost" in scan.error
    retry = Scan.objects.get(repo=repo, trigger="retry")
    assert retry.state == Scan.State.QUEUED  # queued on the broker; no worker is running

    scan_index.delay(0)
    celery_worker.start()

    celery_worker.wait_for(lambda: Scan.objects.get(pk=retry.pk).state in Scan.FINAL_STATES, "the retry scan")
    retry.refresh_from_db()
    repo.refresh_from_db()
    assert retry.state == Scan.State.DONE
    assert Verdict.objects.filter(scan=retry).count() == 6
    assert repo.latest_scan_id == retry.pk
    assert Verdict.objects.filter(scan=scan).count() == 0


def test_two_requests_at_once_give_one_scan(tmp_path, scan_index, celery_worker) -> None:
    repo = repo_row("svc", make_repo(tmp_path, ORG_LAYOUTS[0].files, name="svc"))
    barrier = threading.Barrier(2)
    got: list[int] = []

    def request() -> None:
        try:
            barrier.wait()
            got.append(scan_request(repo=Repo.objects.get(pk=repo.pk), trigger="webhook").pk)
        finally:
            connection.close()

    threads = [threading.Thread(target=request) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert len(got) == 2 and got[0] == got[1]
    celery_worker.wait_for(lambda: _all_final(got), "the scan")
    assert Scan.objects.filter(repo=repo).count() == 1
    scan = Scan.objects.get(repo=repo)
    assert scan.state == Scan.State.DONE
    assert Verdict.objects.filter(scan=scan).count() == 4
    # The database, not luck: a second running scan of the repo is refused.
    from django.db import IntegrityError

    Scan.objects.create(repo=repo, state=Scan.State.RUNNING)
    with pytest.raises(IntegrityError), transaction.atomic():
        Scan.objects.create(repo=repo, state=Scan.State.RUNNING)
