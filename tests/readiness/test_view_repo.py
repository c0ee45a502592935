"""The repository page: matrix, Dockerfile findings, history, and "rescan now" for admins."""

from __future__ import annotations

import pytest

from readiness.models import Repo, Scan
from tests.readiness.factories import admin_client_, seed_org, viewer_client  # noqa: F401  (fixtures)

pytestmark = pytest.mark.django_db


def test_unknown_repo_is_404(viewer_client):
    assert viewer_client.get("/repos/nope/").status_code == 404
    assert viewer_client.get("/repos/nope/scan.json").status_code == 404


def test_matrix_findings_and_history(viewer_client):
    seed_org(repos=1, weeks=3)
    response = viewer_client.get("/repos/svc-0000/")
    page = response.context["page"]
    html = response.content.decode()
    assert page.targets == ("linux/amd64", "linux/arm64")
    # blocked rows first: the blocker's row shows its status, fix version and lockfile
    assert [(r.package, r.worst) for r in page.matrix[:3]] == [
        ("filprofiler", "none"),
        ("grpcio", "none"),
        ("pkg-004", "wheel"),
    ]
    first = page.matrix[1]
    assert (first.package, first.worst, first.fix_version, first.lockfile, first.direct) == (
        "grpcio",
        "none",
        "1.60.0",
        "uv.lock",
        True,
    )
    assert [c.status for c in first.cells] == ["wheel", "none"]
    assert "upgrade to <strong>1.60.0</strong>" in html
    assert "transitive" in html and "direct" in html
    # Problems first, with their reason; the healthy packages behind a count, file names secondary.
    assert [r.package for r in page.problems] == ["filprofiler", "grpcio"]
    assert "none for linux/arm64" in html  # the reason the factory stores
    assert f"{len(page.healthy)} packages install from a wheel on every target</summary>" in html
    assert "pkg_004-x-cp312-cp312-manylinux_2_17_x86_64.whl" in html
    assert [(f.path, f.line, f.rule) for f in page.findings] == [("Dockerfile", 1, "platform-pinned")]
    assert len(page.history) == 3
    assert "Rescan now" not in html  # viewers browse only


def test_unchanged_latest_scan_shows_the_rows_it_points_at(viewer_client):
    seed_org(repos=2, weeks=2)
    repo = Repo.objects.get(name="svc-0001")
    assert repo.latest_scan.results_from_id is not None
    page = viewer_client.get("/repos/svc-0001/").context["page"]
    assert len(page.matrix) == 12
    assert page.history[0].unchanged


def test_repo_never_scanned_explains(viewer_client):
    Repo.objects.create(name="fresh", url="/srv/git/fresh")
    html = viewer_client.get("/repos/fresh/").content.decode()
    assert "No finished scan of this repository yet" in html and "Never scanned" in html


def test_viewer_cannot_trigger_a_scan(viewer_client):
    seed_org(repos=1)
    assert viewer_client.post("/repos/svc-0000/rescan/").status_code == 403
    assert not Scan.objects.filter(trigger="manual").exists()


def test_rescan_is_post_only(admin_client_):
    seed_org(repos=1)
    assert admin_client_.get("/repos/svc-0000/rescan/").status_code == 405


def test_rescan_needs_a_csrf_token(db, client):
    from tests.readiness.factories import make_user

    seed_org(repos=1)
    csrf_client = type(client)(enforce_csrf_checks=True)
    csrf_client.force_login(make_user("boss", role="manager"))
    assert csrf_client.post("/repos/svc-0000/rescan/").status_code == 403
    assert not Scan.objects.filter(trigger="manual").exists()


def test_admin_rescan_queues_a_scan_and_the_page_shows_it(admin_client_, tmp_path, django_capture_on_commit_callbacks):
    """The task runs eagerly on commit; the repo URL does not exist, so the new scan fails and says why."""
    seed_org(repos=1)
    Repo.objects.filter(name="svc-0000").update(url=str(tmp_path / "missing-repo"))
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = admin_client_.post("/repos/svc-0000/rescan/", {"team": "team-0"})
    assert len(callbacks) == 1
    assert response.status_code == 302
    assert response["Location"] == "/repos/svc-0000/?team=team-0#scan"
    scan = Scan.objects.get(trigger="manual")
    assert scan.state == Scan.State.FAILED
    page = admin_client_.get(response["Location"])
    html = page.content.decode()
    assert f"Scan #{scan.pk}" in html and "failed" in html
    status = admin_client_.get("/repos/svc-0000/scan.json").json()
    assert (status["id"], status["state"], status["final"]) == (scan.pk, "failed", True)


def test_queued_scan_shows_progress_poll_and_refresh_link(admin_client_):
    seed_org(repos=1)
    repo = Repo.objects.get(name="svc-0000")
    scan = Scan.objects.create(repo=repo, state=Scan.State.RUNNING, step="analysing", progress=40)
    html = admin_client_.get("/repos/svc-0000/").content.decode()
    assert 'data-status-url="/repos/svc-0000/scan.json"' in html
    assert '<progress max="100" value="40"' in html and "analysing" in html
    assert "/static/js/repo.js" in html
    assert admin_client_.get("/repos/svc-0000/scan.json").json() == {
        "id": scan.pk,
        "state": "running",
        "final": False,
        "step": "analysing",
        "progress": 40,
        "requested_at": scan.requested_at.isoformat(),
        "finished_at": None,
        "error": "",
    }


@pytest.mark.parametrize("packages", [1, 50])
def test_query_count_does_not_grow_with_packages(viewer_client, django_assert_num_queries, packages):
    seed_org(repos=2, packages=packages, weeks=2)
    # session, user, the user's permissions (own and groups': may they rescan or triage?), team
    # list, repo + latest scan, verdict rows, findings, triages, triage history, users to assign
    # to, scan history, open pull requests
    with django_assert_num_queries(13):
        response = viewer_client.get("/repos/svc-0001/")
    assert len(response.context["page"].matrix) == packages


@pytest.mark.parametrize("repos", [1, 50])
def test_query_count_does_not_grow_with_repos(viewer_client, django_assert_num_queries, repos):
    seed_org(repos=repos, packages=10)
    with django_assert_num_queries(13):
        assert viewer_client.get("/repos/svc-0000/").status_code == 200


def test_an_incomplete_answer_is_unknown_and_a_missing_lockfile_is_said(viewer_client):
    seed_org(repos=2, weeks=1)
    incomplete = Repo.objects.get(name="svc-0001").latest_scan
    incomplete.summary = {
        t: {**s, "unknown": 4, "complete": False, "ready": False, "blockers": 0} for t, s in incomplete.summary.items()
    }
    incomplete.save(update_fields=["summary"])
    html = viewer_client.get("/repos/svc-0001/").content.decode()
    assert html.count('class="badge state-unknown"') == 2
    assert "(4 packages could not be checked)" in html
    assert "No lockfile was found" not in html

    empty = Repo.objects.get(name="svc-0000").latest_scan
    empty.summary = {
        t: {
            "wheel": 0,
            "sdist": 0,
            "none": 0,
            "unknown": 0,
            "n/a": 0,
            "blockers": 0,
            "ready": False,
            "complete": False,
            "no_lockfile": True,
        }
        for t in empty.summary
    }
    empty.save(update_fields=["summary"])
    html = viewer_client.get("/repos/svc-0000/").content.decode()
    assert "No lockfile was found in this repository" in html
    assert 'class="badge state-ready"' not in html


def test_consecutive_unchanged_scans_fold_into_one_history_line(viewer_client):
    from readiness.queries.repo import UnchangedRun

    seed_org(repos=2, weeks=1)
    repo = Repo.objects.get(name="svc-0000")
    for _ in range(4):
        Scan.objects.create(
            repo=repo,
            state=Scan.State.DONE,
            unchanged=True,
            trigger="schedule",
            finished_at=repo.latest_scan.finished_at,
            commit=repo.latest_scan.commit,
        )
    response = viewer_client.get("/repos/svc-0000/")
    items = response.context["page"].history_items
    assert isinstance(items[0], UnchangedRun) and len(items[0].scans) == 4
    assert not isinstance(items[1], UnchangedRun)
    assert "unchanged since" in response.content.decode() and ", 4 scans</td>" in response.content.decode()
