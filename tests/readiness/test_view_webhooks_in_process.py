"""Webhook pushes without a broker (tasks in process): the reply comes at once, a burst gives one
scan, and that scan runs after the replies, in the web process, once the coalescing window is over.

Real PostgreSQL with committed transactions (the deferred scan runs on its own thread and
connection), a real git repository, the fixture index over HTTP, signed deliveries through the
Django test client.
"""

from __future__ import annotations

import time

import pytest
from django.utils import timezone

from readiness.models import Scan, Verdict, WebhookDelivery
from readiness.services.enqueue import tasks_run_in_process
from tests.readiness.scan_support import ORG_LAYOUTS, repo_row
from tests.readiness.webhook_support import SECRET, post, push_payload
from tests.scanners.git_helpers import make_repo

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

WINDOW = 5  # seconds: far longer than five local requests take


def _wait_final(scan_id: int, *, timeout: float = 120) -> Scan:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        scan = Scan.objects.get(pk=scan_id)
        if scan.is_final:
            return scan
        time.sleep(0.2)
    raise AssertionError(f"scan {scan_id} not finished after {timeout} s: {Scan.objects.get(pk=scan_id)}")


def test_a_burst_of_pushes_answers_at_once_and_gives_one_scan_run_after_the_replies(
    tmp_path, client, scan_index, settings
) -> None:
    settings.GITHUB_WEBHOOK_SECRET = SECRET
    settings.READINESS_WEBHOOK_COALESCE_SECONDS = WINDOW
    assert tasks_run_in_process()
    repo = repo_row("svc", make_repo(tmp_path, ORG_LAYOUTS[0].files, name="svc"))
    repo.github_id, repo.github_full_name = 1, "acme/svc"
    repo.save()

    replies = []
    for _ in range(5):
        response = post(client, "push", push_payload(github_id=1, full_name="acme/svc"))
        replies.append((response.status_code, response.json()))
        # Answered with the scan still waiting: nothing of it ran inside the request.
        assert Scan.objects.get(repo=repo).state == Scan.State.QUEUED
    answered_at = timezone.now()

    assert [(status, body["outcome"]) for status, body in replies] == [(202, "queued")] + [(202, "coalesced")] * 4
    scan_id = replies[0][1]["scan"]
    assert {body["scan"] for _, body in replies} == {scan_id}
    assert replies[0][1]["detail"].endswith(
        f"scan #{scan_id} queued, runs in {WINDOW} s in this web process (no broker configured)"
    ), replies[0][1]
    assert WebhookDelivery.objects.count() == 5

    scan = _wait_final(scan_id)
    assert scan.state == Scan.State.DONE, scan.error
    assert scan.started_at >= answered_at  # run after every reply, on the timer
    assert (scan.trigger, scan.attempts) == ("webhook", 1)
    assert Scan.objects.filter(repo=repo).count() == 1
    assert Verdict.objects.filter(scan=scan).count() == 4  # psutil and six, two targets
