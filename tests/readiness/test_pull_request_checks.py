"""Pull-request checks end to end: signed deliveries, real git repos with ``refs/pull/N/head``,
the fixture index, and the loopback GitHub API recording the App's token and check-run requests.

The webhook queues the check on commit; these tests run the queued check themselves
(``pull_request_check_run``), as the worker would, so each step can be looked at.
"""

from __future__ import annotations

import datetime as dt
import json

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.utils import timezone

from readiness.models import Campaign, PullRequestCheck, Repo, Scan, WebhookDelivery
from readiness.services.github_app import forget_tokens
from readiness.services.pull_request_checks import (
    pull_request_check_run,
    pull_request_post,
    pull_request_repost,
    pull_request_retry_countdown,
    pull_request_unposted,
)
from readiness.services.scans import scan_request, scan_run
from scanners.check_run import check_run_output
from scanners.compare import compare_reports
from tests.readiness.scan_support import repo_row
from tests.readiness.webhook_support import SECRET, load, load_shared, needs_shared, post
from tests.scanners.git_helpers import commit_files, git, make_repo
from tests.scanners.test_compare import doc, package
from tests.support.github_api_server import GitHubApiServer

pytestmark = pytest.mark.django_db

APP_ID = "123"
_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
PEM = _KEY.private_bytes(
    serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
).decode()
FULL_NAME = "Northwind-Apps/Billing-Api"
GITHUB_ID = 603918245
SLIM_310 = "FROM python:3.10-slim\nCOPY requirements.txt .\nRUN pip install -r requirements.txt\n"
BASE = "six==1.16.0\npsutil==5.9.8\n"


@pytest.fixture
def api(settings):
    with GitHubApiServer(token=None) as server:
        server.checks.app_id = APP_ID
        server.checks.public_key = _KEY.public_key()
        settings.GITHUB_API_URL = server.url
        settings.GITHUB_APP_ID, settings.GITHUB_APP_PRIVATE_KEY, settings.GITHUB_TOKEN = APP_ID, PEM, ""
        forget_tokens()
        yield server
        forget_tokens()


@pytest.fixture
def wire(settings, scan_index, tmp_path):
    """``wire(files)``: a repo on ``main`` configured for the webhook, its branch scanned once."""
    settings.GITHUB_WEBHOOK_SECRET = SECRET
    settings.READINESS_WEBHOOK_COALESCE_SECONDS = 0
    settings.SITE_ROOT = "https://readiness.example.test"

    def wire(files):
        path = make_repo(tmp_path, files, name="billing")
        repo = repo_row("billing-api", path)
        repo.github_id, repo.github_full_name = GITHUB_ID, FULL_NAME
        repo.save()
        scan = scan_request(repo=repo, trigger="manual")
        assert scan_run(scan_id=scan.pk).state == Scan.State.DONE
        return repo, path

    return wire


@pytest.fixture
def campaign(db):
    today = dt.date.today()
    return Campaign.objects.create(
        name="arm64 by Q2", slug="arm64", targets=["linux/arm64"], start=today, due=today + dt.timedelta(days=90)
    )


def open_pr(client, path, number, files, *, action="opened", delivery=None, branch=None):
    """Commit ``files`` on a branch off main, point ``refs/pull/N/head`` at it, deliver the event."""
    main = git(path, "rev-parse", "main")
    branch = branch or f"pr-{number}"
    git(path, "checkout", "--quiet", "-B", branch, "main")
    head = commit_files(path, files, f"change for #{number}")
    git(path, "update-ref", f"refs/pull/{number}/head", head)
    git(path, "checkout", "--quiet", "main")
    payload = load("pull_request/opened")
    payload.update(action=action, number=number)
    pr = payload["pull_request"]
    pr["number"] = number
    pr["head"].update(ref=branch, sha=head)
    pr["base"].update(ref="main", sha=main)
    response = post(client, "pull_request", payload, delivery=delivery)
    return response, head


def run_check(number: int) -> PullRequestCheck:
    check = PullRequestCheck.objects.get(number=number)
    assert check.state == PullRequestCheck.State.QUEUED
    pull_request_check_run(check_id=check.pk)
    check.refresh_from_db()
    return check


def test_a_pr_adding_filprofiler_gets_a_failing_check_with_an_annotation_on_its_line(client, api, wire, campaign):
    repo, path = wire({"requirements.txt": BASE, "Dockerfile": SLIM_310})
    scans_before = Scan.objects.count()
    response, head = open_pr(client, path, 7, {"requirements.txt": BASE + "filprofiler==2022.5.0\n"})
    assert response.status_code == 202, response.json()
    assert response.json()["outcome"] == "queued"

    check = run_check(7)
    assert check.state == "done" and check.checked_sha == head and check.conclusion == "failure"
    assert check.comparison["counts"]["new-blocker"] == 1

    (run,) = api.checks.check_runs.values()
    assert (run["name"], run["head_sha"], run["status"], run["conclusion"]) == (
        "Arch readiness",
        head,
        "completed",
        "failure",
    )
    assert run["output"]["title"] == "1 new arm64 blocker"
    summary = run["output"]["summary"]
    assert "| filprofiler 2022.5.0 | linux/arm64 | none | `requirements.txt:3` | upgrade to 2024.11.2" in summary
    assert "https://readiness.example.test/repos/billing-api/" in summary
    assert run["details_url"] == "https://readiness.example.test/repos/billing-api/"
    (annotation,) = run["output"]["annotations"]
    assert annotation["path"] == "requirements.txt"
    assert (annotation["start_line"], annotation["end_line"], annotation["annotation_level"]) == (3, 3, "failure")
    assert "2024.11.2" in annotation["message"]

    # The App's JWT bought one installation token, and the check run was posted with it.
    token_requests = [r for r in api.requests if r.path == "/app/installations/4242/access_tokens"]
    assert len(token_requests) == 1
    claims = jwt.decode(
        token_requests[0].headers["authorization"].removeprefix("Bearer "),
        _KEY.public_key(),
        algorithms=["RS256"],
        leeway=60,
    )
    assert claims["iss"] == APP_ID
    (posted,) = [r for r in api.requests if r.path == f"/repos/{FULL_NAME}/check-runs"]
    assert posted.method == "POST" and posted.headers["authorization"] == f"Bearer {api.checks.issued[0]}"
    assert posted.headers["x-github-api-version"] == "2022-11-28"

    # Stored apart: no scan was added and the branch's state did not move.
    assert Scan.objects.count() == scans_before
    repo.refresh_from_db()
    assert repo.latest_scan.trigger == "manual"


def test_a_pyyaml_bump_gets_success_with_one_resolved(client, api, wire, campaign):
    _, path = wire({"requirements.txt": "PyYAML==5.3.1\n", "Dockerfile": SLIM_310.replace("3.10", "3.9")})
    open_pr(client, path, 8, {"requirements.txt": "PyYAML==5.4.1\n"})
    check = run_check(8)
    assert check.conclusion == "success"
    (run,) = api.checks.check_runs.values()
    assert run["conclusion"] == "success"
    assert run["output"]["title"] == "No new blockers: 1 resolved"
    assert "**1 resolved**" in run["output"]["summary"]
    assert "- pyyaml 5.3.1 → 5.4.1 on linux/amd64, linux/arm64: sdist → wheel" in run["output"]["summary"]
    assert run["output"]["annotations"] == []


def test_a_pr_touching_only_the_readme_gets_no_scan(client, api, wire):
    _, path = wire({"requirements.txt": BASE, "Dockerfile": SLIM_310})
    open_pr(client, path, 9, {"README.md": "# Billing API\n"})
    check = run_check(9)
    assert check.state == "skipped" and check.comparison is None
    assert "no lockfile" in check.detail
    assert api.checks.check_runs == {}
    assert not [r for r in api.requests if "check-runs" in r.path]


def test_rerun_reposts_in_place_and_the_token_is_reused(client, api, wire, campaign):
    _, path = wire({"requirements.txt": BASE, "Dockerfile": SLIM_310})
    _, head = open_pr(client, path, 7, {"requirements.txt": BASE + "filprofiler==2022.5.0\n"})
    first = run_check(7)
    suite = load("check_suite/rerequested")
    suite["check_suite"].update(head_sha=head, after=head)
    suite["check_suite"]["pull_requests"][0]["head"]["sha"] = head
    response = post(client, "check_suite", suite)
    assert response.status_code == 202 and response.json()["outcome"] == "queued", response.json()
    second = run_check(7)
    assert second.check_run_id == first.check_run_id
    assert len(api.checks.check_runs) == 1  # updated, never a second run
    methods = [r.method for r in api.requests if "check-runs" in r.path]
    assert methods == ["POST", "PATCH", "PATCH", "PATCH"]  # in progress, completed; again on the re-run
    assert {r.path for r in api.requests if r.method == "PATCH"} == {
        f"/repos/{FULL_NAME}/check-runs/{first.check_run_id}"
    }
    statuses = [r.body["status"] for r in api.requests if "check-runs" in r.path]
    assert statuses == ["in_progress", "completed", "in_progress", "completed"]
    assert api.checks.check_runs[first.check_run_id]["status"] == "completed"
    assert len(api.checks.issued) == 1  # cached until it expires
    # GitHub appends an update's annotations to the run's: the re-run sent none it had already.
    assert len(api.checks.check_runs[first.check_run_id]["output"]["annotations"]) == 1
    assert [len(r.body["output"].get("annotations", ())) for r in api.requests if "check-runs" in r.path] == [
        0,
        1,
        0,
        0,
    ]
    assert second.comparison["annotations_on_run"] == first.comparison["output"]["annotations"]


def test_events_coalesce_per_pr_redeliveries_do_nothing_and_close_purges(client, api, wire):
    _, path = wire({"requirements.txt": BASE, "Dockerfile": SLIM_310})
    first, _ = open_pr(client, path, 7, {"requirements.txt": BASE + "six==1.16.0\n"}, delivery="d-1")
    again, _ = open_pr(client, path, 7, {"requirements.txt": BASE + "six==1.16.0\n"}, delivery="d-1")
    assert again.status_code == 200 and again.json()["outcome"] == "already seen"
    pushed, head = open_pr(client, path, 7, {"requirements.txt": BASE + "lxml==5.1.0\n"}, action="synchronize")
    assert pushed.json()["outcome"] == "coalesced"
    assert PullRequestCheck.objects.get(number=7).head_sha == head  # the check will fetch the newest head
    assert WebhookDelivery.objects.filter(event="pull_request").count() == 2

    payload = load("pull_request/opened")
    payload.update(action="closed", number=7)
    payload["pull_request"].update(number=7, state="closed", merged=True)
    closed = post(client, "pull_request", payload)
    assert closed.json()["outcome"] == "updated" and "purged" in closed.json()["detail"]
    assert not PullRequestCheck.objects.exists()


def test_drafts_wait_and_unknown_repos_are_acknowledged(client, api, wire):
    _, path = wire({"requirements.txt": BASE})
    payload = load("pull_request/opened")
    payload["pull_request"]["draft"] = True
    response = post(client, "pull_request", payload)
    assert response.json()["outcome"] == "ignored" and "draft" in response.json()["detail"]
    payload["repository"].update(id=1, full_name="someone/else", clone_url="https://example.test/else.git")
    payload["repository"].update(ssh_url="", git_url="", html_url="", svn_url="")
    assert post(client, "pull_request", payload).json()["outcome"] == "unknown-repo"
    assert not PullRequestCheck.objects.exists()


def test_with_a_token_instead_of_an_app_and_the_never_fail_policy(client, api, wire, settings, campaign):
    settings.GITHUB_APP_ID, settings.GITHUB_APP_PRIVATE_KEY, settings.GITHUB_TOKEN = "", "", "ghp_plain"
    settings.READINESS_PR_FAIL_ON = "never"
    api.checks.token = "ghp_plain"
    _, path = wire({"requirements.txt": BASE, "Dockerfile": SLIM_310})
    open_pr(client, path, 7, {"requirements.txt": BASE + "filprofiler==2022.5.0\n"})
    check = run_check(7)
    assert check.conclusion == "neutral" and check.post_error == ""
    (run,) = api.checks.check_runs.values()
    assert run["conclusion"] == "neutral"
    assert run["output"]["annotations"][0]["annotation_level"] == "warning"
    assert api.checks.issued == []
    assert all(r.headers["authorization"] == "Bearer ghp_plain" for r in api.requests)


def test_without_a_campaign_a_new_blocker_passes_and_a_refused_post_is_recorded(client, api, wire):
    _, path = wire({"requirements.txt": BASE, "Dockerfile": SLIM_310})
    open_pr(client, path, 7, {"requirements.txt": BASE + "filprofiler==2022.5.0\n"})
    api.checks.public_key = rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key()  # wrong key
    check = run_check(7)
    assert check.state == "done" and check.conclusion == "success"  # no active campaign targets arm64
    assert check.comparison["output"]["title"] == "1 new arm64 blocker"
    assert "No active campaign covers this repository" in check.comparison["output"]["summary"]
    assert "401" in check.post_error and "JSON web token" in check.post_error
    assert PEM not in check.post_error
    assert api.checks.check_runs == {}
    json.dumps(check.comparison)  # stored as plain JSON


@needs_shared
def test_github_pull_request_examples_for_a_configured_repo(client, settings, db) -> None:
    """GitHub's published examples (read from ``../shared``, never copied), signed and posted."""
    settings.GITHUB_WEBHOOK_SECRET = SECRET
    repo = Repo.objects.create(name="hello", url="https://github.com/Codertocat/Hello-World.git")
    opened = post(client, "pull_request", load_shared("pull_request/opened"))
    assert (opened.status_code, opened.json()["outcome"]) == (202, "queued"), opened.json()
    check = PullRequestCheck.objects.get(repo=repo)
    assert (check.number, check.head_ref, check.base_ref, check.installation_id) == (2, "changes", "master", 1)
    assert post(client, "pull_request", load_shared("pull_request/synchronize")).json()["outcome"] == "coalesced"
    assert post(client, "pull_request", load_shared("pull_request/labeled")).json()["outcome"] == "ignored"
    assert post(client, "check_suite", load_shared("check_suite/rerequested")).json()["outcome"] in (
        "queued",
        "coalesced",
    )
    # Another App's check run, re-run (on another repository in GitHub's example: configure it too).
    Repo.objects.create(name="gh-hello", url="http://github.com/github/hello-world.git")
    theirs = post(client, "check_run", load_shared("check_run/rerequested")).json()
    assert theirs["outcome"] == "ignored" and "'randscape' is not ours" in theirs["detail"]
    closed = post(client, "pull_request", load_shared("pull_request/closed"))
    assert closed.json()["outcome"] == "updated"
    assert not PullRequestCheck.objects.exists()
    assert Scan.objects.count() == 0


def test_a_head_that_cannot_be_fetched_fails_with_a_reason_and_posts_nothing(client, api, wire):
    _, path = wire({"requirements.txt": BASE})
    payload = load("pull_request/opened")
    payload["pull_request"]["base"]["sha"] = git(path, "rev-parse", "main")  # no refs/pull/7/head in the repo
    assert post(client, "pull_request", payload).status_code == 202
    check = run_check(7)
    assert check.state == "failed" and "refs/pull/7/head" in check.detail
    assert api.checks.check_runs == {}


def test_rerunning_our_check_run_of_a_fork_finds_the_pull_request_by_its_head(client, api, wire, campaign):
    _, path = wire({"requirements.txt": BASE, "Dockerfile": SLIM_310})
    _, head = open_pr(client, path, 7, {"requirements.txt": BASE + "filprofiler==2022.5.0\n"})
    first = run_check(7)
    suite = load("check_suite/rerequested")
    run = {  # GitHub's check_run object; a fork's pull requests are not listed in it
        "id": first.check_run_id,
        "name": "Arch readiness",
        "head_sha": head,
        "status": "completed",
        "conclusion": "failure",
        "pull_requests": [],
        "check_suite": {"id": suite["check_suite"]["id"], "head_sha": head},
    }
    payload = {key: suite[key] for key in ("repository", "organization", "sender", "installation")}
    response = post(client, "check_run", {"action": "rerequested", "check_run": run, **payload})
    assert response.json()["outcome"] == "queued", response.json()
    assert run_check(7).check_run_id == first.check_run_id
    assert len(api.checks.check_runs) == 1


def test_stale_checks_and_those_of_disabled_repos_are_purged(db):
    from readiness.services.pull_requests import pull_requests_purge_stale

    live = Repo.objects.create(name="live", url="https://example.test/live.git")
    off = Repo.objects.create(name="off", url="https://example.test/off.git", enabled=False)
    fresh = PullRequestCheck.objects.create(repo=live, number=1)
    old = PullRequestCheck.objects.create(repo=live, number=2)
    PullRequestCheck.objects.filter(pk=old.pk).update(updated_at=timezone.now() - dt.timedelta(days=31))
    PullRequestCheck.objects.create(repo=off, number=3)
    assert pull_requests_purge_stale() == 2
    assert list(PullRequestCheck.objects.values_list("pk", flat=True)) == [fresh.pk]


def test_a_dockerfile_pinned_to_amd64_is_annotated_on_its_line(client, api, wire, campaign):
    _, path = wire({"requirements.txt": "six==1.16.0\n", "Dockerfile": SLIM_310})
    pinned = "# the build image\n" + SLIM_310.replace("FROM ", "FROM --platform=linux/amd64 ", 1)
    open_pr(client, path, 12, {"Dockerfile": pinned})
    check = run_check(12)
    assert check.conclusion == "failure"
    (change,) = check.comparison["finding_changes"]
    assert (change["rule"], change["kind"], change["targets"]) == ("platform-pinned", "new-blocker", ["linux/arm64"])
    (run,) = api.checks.check_runs.values()
    (annotation,) = run["output"]["annotations"]
    assert (annotation["path"], annotation["start_line"], annotation["annotation_level"]) == (
        "Dockerfile",
        2,
        "failure",
    )
    assert annotation["title"] == "platform-pinned blocks linux/arm64"


def done_check(settings, after, *, number=21):
    """A checked pull request whose comparison is ``after`` against an empty base, ready to post."""
    settings.SITE_ROOT = "https://readiness.example.test"
    repo = Repo.objects.create(
        name="billing-api", url="https://example.test/billing.git", github_id=GITHUB_ID, github_full_name=FULL_NAME
    )
    comparison = compare_reports(doc(), after)
    output = check_run_output(comparison, fail_targets=None, base="`main` @ `c0ffee`")
    return PullRequestCheck.objects.create(
        repo=repo,
        number=number,
        state=PullRequestCheck.State.DONE,
        head_sha="ab" * 20,
        checked_sha="ab" * 20,
        base_ref="main",
        installation_id=4242,
        comparison={**comparison, "output": output},
        conclusion=output["conclusion"],
    )


def test_more_than_fifty_annotations_go_in_updates_of_fifty(api, settings):
    check = done_check(settings, doc(*[package(f"p{i:03}", "1.0", arm64="none", line=i + 1) for i in range(120)]))
    pull_request_post(check)
    check.refresh_from_db()
    assert check.post_error == "" and check.check_run_id
    runs = [r for r in api.requests if "/check-runs" in r.path]
    assert [(r.method, len(r.body["output"]["annotations"])) for r in runs] == [
        ("POST", 50),
        ("PATCH", 50),
        ("PATCH", 20),
    ]
    assert {r.path for r in runs[1:]} == {f"/repos/{FULL_NAME}/check-runs/{check.check_run_id}"}
    assert runs[0].body["status"] == "completed" and "status" not in runs[1].body  # completed once
    assert all(r.body["output"]["title"] == "120 new arm64 blockers" for r in runs)  # GitHub requires it
    (run,) = api.checks.check_runs.values()
    assert [a["start_line"] for a in run["output"]["annotations"]] == list(range(1, 121))  # all, once each
    assert "not shown" not in run["output"]["summary"]


def test_annotations_past_the_cap_are_counted_in_the_summary(api, settings):
    check = done_check(settings, doc(*[package(f"p{i:03}", "1.0", arm64="none", line=i + 1) for i in range(503)]))
    pull_request_post(check)
    (run,) = api.checks.check_runs.values()
    assert len(run["output"]["annotations"]) == 500
    assert len([r for r in api.requests if "/check-runs" in r.path]) == 10
    assert "3 annotations are not shown on the changed lines (at most 500 are posted)" in run["output"]["summary"]


@pytest.mark.parametrize(
    ("python", "libc", "conclusion"),
    [
        ("", "musl", "success"),  # "arm64 on Alpine": the python:3.10-slim (glibc) image is not in it
        ("3.12", "", "success"),  # another CPython series
        ("3.10", "glibc", "failure"),  # the image's own: the campaign covers it
    ],
)
def test_a_campaign_narrowed_by_python_or_libc_fails_only_the_images_it_covers(
    client, api, wire, campaign, python, libc, conclusion
):
    campaign.python, campaign.libc = python, libc
    campaign.save()
    _, path = wire({"requirements.txt": BASE, "Dockerfile": SLIM_310})
    open_pr(client, path, 7, {"requirements.txt": BASE + "filprofiler==2022.5.0\n"})
    check = run_check(7)
    assert check.comparison["counts"]["new-blocker"] == 1
    assert check.conclusion == conclusion
    (run,) = api.checks.check_runs.values()
    (annotation,) = run["output"]["annotations"]
    assert annotation["annotation_level"] == conclusion.replace("success", "warning")
    summary = run["output"]["summary"]
    if conclusion == "failure":
        assert "targets of active campaigns: linux/arm64." in summary
    else:
        assert "No active campaign covers this repository" in summary


def test_a_refused_update_is_resumed_where_it_stopped_never_sending_an_annotation_twice(api, settings):
    check = done_check(settings, doc(*[package(f"p{i:03}", "1.0", arm64="none", line=i + 1) for i in range(120)]))
    api.fail(502, method="PATCH", times=3)  # the second batch, and the client's two quick retries
    assert pull_request_post(check) is False
    check.refresh_from_db()
    assert "PATCH" in check.post_error and "502" in check.post_error
    assert check.comparison["annotation_batches_posted"] == 1
    assert pull_request_unposted(check_id=check.pk)

    pull_request_repost(check_id=check.pk)  # what the task's retry runs
    check.refresh_from_db()
    assert check.post_error == "" and not pull_request_unposted(check_id=check.pk)
    (run,) = api.checks.check_runs.values()  # the same run, updated
    assert run["status"] == "completed"
    assert [a["start_line"] for a in run["output"]["annotations"]] == list(range(1, 121))  # each once
    accepted = [r for r in api.requests if "/check-runs" in r.path][-2:]
    assert [len(r.body["output"]["annotations"]) for r in accepted] == [50, 20]
    assert all(r.method == "PATCH" and "status" not in r.body for r in accepted)

    pull_request_repost(check_id=check.pk)  # posted: a stray retry sends nothing
    assert len(api.checks.check_runs[run["id"]]["output"]["annotations"]) == 120


def test_a_refused_create_is_retried_as_a_create_and_a_requeued_check_is_left_to_its_own_post(api, settings):
    check = done_check(settings, doc(package("filprofiler", "2022.5.0", arm64="none", line=2)))
    api.fail(422, method="POST", times=1)  # the installation token: nothing posted
    assert pull_request_post(check) is False
    assert api.checks.check_runs == {}
    pull_request_repost(check_id=check.pk)
    check.refresh_from_db()
    (run,) = api.checks.check_runs.values()
    assert (check.post_error, check.check_run_id, run["status"]) == ("", run["id"], "completed")
    assert pull_request_retry_countdown(0) == 60 and pull_request_retry_countdown(2) == 240

    PullRequestCheck.objects.filter(pk=check.pk).update(post_error="refused", state=PullRequestCheck.State.QUEUED)
    sent = len(api.requests)
    pull_request_repost(check_id=check.pk)  # a newer push re-queued it: its own check posts
    assert len(api.requests) == sent and not pull_request_unposted(check_id=check.pk)


def test_a_failed_checks_refused_completion_is_retried_so_the_run_never_hangs(api, settings):
    check = done_check(settings, doc(package("filprofiler", "2022.5.0", arm64="none", line=2)))
    assert pull_request_post(check)
    (run,) = api.checks.check_runs.values()
    # A re-run started the run again on the same head, then failed, and GitHub refused the completion.
    PullRequestCheck.objects.filter(pk=check.pk).update(
        state=PullRequestCheck.State.FAILED, detail="index unreachable", post_error="PATCH: GitHub answered 502"
    )
    api.checks.check_runs[run["id"]]["status"] = "in_progress"
    assert pull_request_unposted(check_id=check.pk)
    pull_request_repost(check_id=check.pk)
    assert (run["status"], run["conclusion"], run["output"]["title"]) == (
        "completed",
        "neutral",
        "The check could not finish",
    )
    assert "index unreachable" in run["output"]["summary"]
    assert not pull_request_unposted(check_id=check.pk) and len(api.checks.check_runs) == 1

    # A failed check that never posted on its head (a newer push) leaves the older head's run alone.
    PullRequestCheck.objects.filter(pk=check.pk).update(head_sha="cd" * 20, post_error="refused")
    assert not pull_request_unposted(check_id=check.pk)
