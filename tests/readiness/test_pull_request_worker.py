"""A pull request's check through the real path: signed delivery → queued check → a real Celery
worker (or, without a broker, the web process's timer thread) → the check run on the loopback API."""

from __future__ import annotations

import time

import pytest

from readiness.models import PullRequestCheck, Repo, Scan
from readiness.services.github_app import forget_tokens
from readiness.services.scans import scan_request
from tests.readiness.scan_support import repo_row
from tests.readiness.test_pull_request_checks import _KEY, APP_ID, BASE, FULL_NAME, GITHUB_ID, PEM, SLIM_310, open_pr
from tests.readiness.webhook_support import SECRET
from tests.scanners.git_helpers import git, make_repo
from tests.support.github_api_server import GitHubApiServer

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def _wait(predicate, what: str, *, timeout: float = 120):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := predicate():
            return value
        time.sleep(0.2)
    raise AssertionError(f"not {what} after {timeout} s")


@pytest.fixture
def api(settings):
    with GitHubApiServer(token=None) as server:
        server.checks.app_id, server.checks.public_key = APP_ID, _KEY.public_key()
        settings.GITHUB_API_URL = server.url
        settings.GITHUB_APP_ID, settings.GITHUB_APP_PRIVATE_KEY, settings.GITHUB_TOKEN = APP_ID, PEM, ""
        settings.GITHUB_WEBHOOK_SECRET = SECRET
        settings.READINESS_PR_FAIL_ON = "all"
        forget_tokens()
        yield server
        forget_tokens()


def _repo(tmp_path) -> tuple[Repo, object]:
    path = make_repo(tmp_path, {"requirements.txt": BASE, "Dockerfile": SLIM_310}, name="billing")
    repo = repo_row("billing-api", path)
    repo.github_id, repo.github_full_name = GITHUB_ID, FULL_NAME
    repo.save()
    return repo, path


def _posted_run(api, head: str) -> dict:
    # Created in progress first, completed when the check has its answer.
    runs = _wait(
        lambda: [r for r in api.checks.check_runs.values() if r["head_sha"] == head and r["status"] == "completed"],
        "completed",
    )
    assert len(runs) == 1
    return runs[0]


def _scanned_repo_on_a_github_worker(celery_worker, api, tmp_path, **env):
    """Restart the worker as the loopback GitHub's App (failing PRs on every target), then scan the
    repo's branch on it: the pull request is then compared with a stored scan. The repo's path."""
    celery_worker.stop()
    celery_worker.env.update(
        GITHUB_API_URL=api.url, GITHUB_APP_ID=APP_ID, GITHUB_APP_PRIVATE_KEY=PEM, READINESS_PR_FAIL_ON="all", **env
    )
    celery_worker.start()
    repo, path = _repo(tmp_path)
    scan = scan_request(repo=repo, trigger="manual")
    _wait(lambda: Scan.objects.get(pk=scan.pk).state == Scan.State.DONE, "scanned")
    return path


def test_a_real_worker_checks_the_pull_request_and_posts_the_run(client, tmp_path, api, celery_worker, settings):
    settings.READINESS_WEBHOOK_COALESCE_SECONDS = 1
    path = _scanned_repo_on_a_github_worker(celery_worker, api, tmp_path, SITE_ROOT="https://readiness.example.test")

    response, head = open_pr(client, path, 7, {"requirements.txt": BASE + "filprofiler==2022.5.0\n"})
    assert response.status_code == 202 and response.json()["outcome"] == "queued"
    run = _posted_run(api, head)
    assert run["conclusion"] == "failure"
    assert run["output"]["annotations"][0]["start_line"] == 3
    assert run["details_url"] == "https://readiness.example.test/repos/billing-api/"
    # The row records the run after GitHub answered: wait for that write too.
    check = _wait(lambda: PullRequestCheck.objects.filter(number=7, check_run_id__isnull=False).first(), "recorded")
    assert (check.state, check.checked_sha, check.check_run_id) == ("done", head, run["id"])
    assert Scan.objects.count() == 1  # the worker stored no scan for the pull request


def test_without_a_broker_the_web_process_checks_after_answering(client, tmp_path, api, scan_index, settings):
    settings.READINESS_WEBHOOK_COALESCE_SECONDS = 0
    settings.SITE_ROOT = "https://readiness.example.test"
    repo, path = _repo(tmp_path)
    response, head = open_pr(client, path, 8, {"requirements.txt": BASE + "filprofiler==2022.5.0\n"})
    assert response.json()["detail"].endswith("in this web process (no broker configured)")
    run = _posted_run(api, head)
    # No scan of the branch yet: the base commit was checked too, and only the new package counts.
    assert run["output"]["title"] == "1 new arm64 blocker"
    assert PullRequestCheck.objects.get(number=8).base_commit == git(path, "rev-parse", "main")
    assert repo.scans.count() == 0


def test_a_refused_run_is_posted_again_by_the_tasks_retry_then_given_up(client, tmp_path, api, celery_worker, settings):
    settings.READINESS_WEBHOOK_COALESCE_SECONDS = 0
    path = _scanned_repo_on_a_github_worker(celery_worker, api, tmp_path, READINESS_PR_POST_RETRY_SECONDS="1")

    # GitHub fails the completing update twice over (each time after the client's two quick retries).
    api.fail(502, method="PATCH", times=6)
    _, head = open_pr(client, path, 7, {"requirements.txt": BASE + "filprofiler==2022.5.0\n"})
    run = _posted_run(api, head)
    check = _wait(lambda: PullRequestCheck.objects.filter(number=7, post_error="").first(), "posted")
    assert check.check_run_id == run["id"] and run["conclusion"] == "failure"
    assert len(api.checks.check_runs) == 1  # the same run, updated: never a second one
    updates = [r for r in api.requests if r.method == "PATCH" and r.path.endswith(f"/check-runs/{run['id']}")]
    assert [r.body["status"] for r in updates] == ["completed"] * 7  # 3 refused, 3 refused, 1 taken
    assert len(run["output"]["annotations"]) == 1
    assert [r.path for r in api.requests if r.method == "POST" and "/check-runs" in r.path] == [
        f"/repos/{FULL_NAME}/check-runs"
    ]

    # Refused for good (a 422 is not retried by the client): the task tries 1 + 3 times, then stops.
    api.fail(422, method="PATCH", times=100)
    _, head = open_pr(client, path, 8, {"requirements.txt": BASE + "lxml==5.1.0\n"})
    _wait(lambda: "not posted after 3 retries" in celery_worker.output(), "given up")
    check = PullRequestCheck.objects.get(number=8)
    assert check.state == "done" and "422" in check.post_error
    refused = [r for r in api.requests if r.method == "PATCH" and r.path.endswith(f"/check-runs/{check.check_run_id}")]
    assert [r.body["status"] for r in refused] == ["completed"] * 4
