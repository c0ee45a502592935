"""``POST /webhooks/github/`` over HTTP: signatures, content types, body size, each event's effect,
the admin log, and a push that ends as a finished scan made by a real Celery worker.
"""

from __future__ import annotations

import json
import time
from urllib.parse import urlencode

import pytest
from celery.signals import before_task_publish
from django.contrib.auth.models import User
from django.test import Client

from readiness.models import Repo, Scan, Verdict, WebhookDelivery
from tests.readiness.scan_support import ORG_LAYOUTS, repo_row
from tests.readiness.webhook_support import (
    SECRET,
    load,
    load_shared,
    needs_shared,
    post,
    push_payload,
    shared_names,
    sign,
)
from tests.scanners.git_helpers import commit_files, git, make_repo

URL = "/webhooks/github/"


@pytest.fixture(autouse=True)
def webhook_settings(settings):
    settings.GITHUB_WEBHOOK_SECRET = SECRET
    settings.READINESS_WEBHOOK_COALESCE_SECONDS = 30
    return settings


@pytest.fixture
def svc(db) -> Repo:
    return Repo.objects.create(name="svc", url="/srv/git/svc", branch="main", github_id=1, github_full_name="acme/svc")


def _nothing_stored() -> bool:
    return not WebhookDelivery.objects.exists() and not Scan.objects.exists()


# -- refusals --------------------------------------------------------------------------------------


def test_github_test_vector_passes_the_signature_check(client, webhook_settings, db) -> None:
    """GitHub's documented example body is not JSON: past the signature check it is refused as such."""
    webhook_settings.GITHUB_WEBHOOK_SECRET = "It's a Secret to Everybody"
    signature = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
    response = post(client, "push", b"Hello, World!", signature=signature)
    assert response.status_code == 400, response.content
    assert "not JSON" in response.json()["error"]
    forged = post(client, "push", b"Hello, World?", signature=signature)
    assert forged.status_code == 401


@pytest.mark.parametrize(
    ("kind", "signature"),
    [
        ("missing", None),
        ("empty", ""),
        ("other secret", "other-secret"),
        ("other body", "other-body"),
        ("sha1 scheme", "sha1"),
        ("garbage", "sha256=not-hex"),
    ],
)
def test_bad_signature_is_refused_and_nothing_stored(client, svc, caplog, kind, signature) -> None:
    payload = push_payload(github_id=1, full_name="acme/svc")
    body = json.dumps(payload).encode()
    header = {
        None: None,
        "": "",
        "other-secret": sign(body, "another secret"),
        "other-body": sign(body + b" ", SECRET),
        "sha1": "sha1=" + sign(body).removeprefix("sha256="),
    }.get(signature, signature)
    caplog.set_level("WARNING", logger="readiness.views.webhooks")

    response = post(client, "push", body, secret=None, signature=header)

    assert response.status_code == 401
    assert "X-Hub-Signature-256" in response.json()["error"]
    assert _nothing_stored()
    assert "signature" in caplog.text  # refused requests leave a log line, not a row


def test_replayed_delivery_does_nothing_new(client, svc) -> None:
    payload = push_payload(github_id=1, full_name="acme/svc")
    first = post(client, "push", payload, delivery="replayed-1")
    replay = post(client, "push", payload, delivery="replayed-1")
    assert (first.status_code, first.json()["outcome"]) == (202, "queued")
    assert (replay.status_code, replay.json()["outcome"]) == (200, "already seen")
    assert WebhookDelivery.objects.count() == 1 and Scan.objects.count() == 1


def test_no_secret_configured_refuses_everything(client, svc, webhook_settings, caplog) -> None:
    webhook_settings.GITHUB_WEBHOOK_SECRET = ""
    caplog.set_level("ERROR", logger="readiness.views.webhooks")
    response = post(client, "push", push_payload(github_id=1, full_name="acme/svc"), secret="")
    assert response.status_code == 503
    assert "GITHUB_WEBHOOK_SECRET" in response.json()["error"] and "GITHUB_WEBHOOK_SECRET" in caplog.text
    assert _nothing_stored()


@pytest.mark.parametrize("content_type", ["text/plain", "multipart/form-data; boundary=x", "application/xml", ""])
def test_other_content_types_are_refused(client, svc, content_type) -> None:
    response = post(client, "push", push_payload(github_id=1, full_name="acme/svc"), content_type=content_type)
    assert response.status_code == 415
    assert _nothing_stored()


def test_form_encoded_payload_is_accepted(client, svc) -> None:
    """GitHub's other content type: the JSON in a payload= field, the signature over the form body."""
    body = urlencode({"payload": json.dumps(push_payload(github_id=1, full_name="acme/svc"))}).encode()
    response = post(client, "push", body, content_type="application/x-www-form-urlencoded")
    assert (response.status_code, response.json()["outcome"]) == (202, "queued")
    assert Scan.objects.filter(repo=svc).count() == 1


@pytest.mark.parametrize(
    ("body", "content_type", "error_part"),
    [
        (b"{not json", "application/json", "not JSON"),
        (b"[1, 2]", "application/json", "expected a JSON object"),
        (b"\xff\xfe", "application/json", "not JSON"),
        (b"other=1", "application/x-www-form-urlencoded", "one payload= field"),
    ],
)
def test_signed_but_malformed_body_is_a_400(client, svc, body, content_type, error_part) -> None:
    response = post(client, "push", body, content_type=content_type)
    assert response.status_code == 400
    assert error_part in response.json()["error"]
    assert _nothing_stored()


@pytest.mark.parametrize(("limit", "size"), [(1000, 1001), (5_000_000, 5_000_001)])
def test_oversize_body_is_refused_before_reading(client, svc, webhook_settings, limit, size) -> None:
    webhook_settings.READINESS_WEBHOOK_MAX_BYTES = limit
    body = b'{"ref": "' + b"x" * (size - 11) + b'"}'
    assert len(body) == size
    response = post(client, "push", body)
    assert response.status_code == 413
    assert _nothing_stored()


def test_body_at_the_limit_is_read(client, svc, webhook_settings) -> None:
    payload = push_payload(github_id=1, full_name="acme/svc")
    body = json.dumps(payload).encode()
    webhook_settings.READINESS_WEBHOOK_MAX_BYTES = len(body)
    assert post(client, "push", body).status_code == 202


@pytest.mark.parametrize("missing", ["X-GitHub-Event", "X-GitHub-Delivery"])
def test_missing_github_headers(client, svc, missing) -> None:
    body = json.dumps(load("ping/payload")).encode()
    headers = {"X-GitHub-Event": "ping", "X-GitHub-Delivery": "d-1", "X-Hub-Signature-256": sign(body)}
    del headers[missing]
    response = client.post(URL, data=body, content_type="application/json", headers=headers)
    assert response.status_code == 400
    assert _nothing_stored()


def test_only_post(client, db) -> None:
    assert client.get(URL).status_code == 405


def test_no_csrf_token_needed(svc) -> None:
    strict = Client(enforce_csrf_checks=True)
    assert post(strict, "ping", load("ping/payload")).status_code == 200


# -- each event's effect ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("event", "payload", "status", "outcome", "scans"),
    [
        ("ping", load("ping/payload"), 200, "ok", 0),
        ("ping", load("ping/with-organization"), 200, "ok", 0),
        ("push", push_payload(github_id=1, full_name="acme/svc"), 202, "queued", 1),
        ("push", push_payload(github_id=1, full_name="acme/svc", modified=("docs/index.md",)), 202, "ignored", 0),
        ("push", push_payload(github_id=1, full_name="acme/svc", ref="refs/heads/feature"), 202, "ignored", 0),
        (
            "push",
            load("push/payload") | {"repository": load("push/payload")["repository"] | {"id": 1}},
            202,
            "ignored",
            0,
        ),
        ("push", load("push/with-organization"), 202, "unknown-repo", 0),
        ("repository", load("repository/created"), 202, "unknown-repo", 0),
        ("push", {"repository": {"id": 1}}, 400, "invalid", 0),
        ("star", {"action": "created"}, 202, "ignored", 0),
    ],
)
def test_event_effect(client, svc, event, payload, status, outcome, scans) -> None:
    response = post(client, event, payload)
    assert (response.status_code, response.json()["outcome"]) == (status, outcome), response.json()
    assert Scan.objects.count() == scans
    assert Repo.objects.count() == 1
    delivery = WebhookDelivery.objects.get()
    assert (delivery.event, delivery.outcome) == (event, outcome)


def test_burst_over_http_gives_one_scan(client, svc) -> None:
    outcomes = [
        post(client, "push", push_payload(github_id=1, full_name="acme/svc")).json()["outcome"] for _ in range(25)
    ]
    assert outcomes == ["queued"] + ["coalesced"] * 24
    assert Scan.objects.filter(repo=svc).count() == 1


def test_repository_archived_disables_the_repo(client, db) -> None:
    repo = Repo.objects.create(name="hello", url="https://github.com/RowanPike/Ledger-Sync.git")
    payload = load("repository/privatized")
    payload["action"] = "archived"
    payload["repository"]["archived"] = True
    response = post(client, "repository", payload)
    repo.refresh_from_db()
    assert (response.status_code, response.json()["outcome"]) == (202, "updated")
    assert (repo.archived, repo.enabled, repo.github_id) == (True, False, 581204377)


@needs_shared
@pytest.mark.parametrize("name", shared_names() or ["(no examples)"])
def test_every_github_example_is_answered(client, svc, name) -> None:
    """GitHub's published examples (third-party data, read from ``../shared``, never copied), signed
    and posted as GitHub would: acknowledged and logged, and nothing made for repositories nobody
    configured."""
    event = name.split("/")[0]
    response = post(client, event, load_shared(name))
    expected = {"ping": (200, "ok"), "push": (202, "unknown-repo"), "repository": (202, "unknown-repo")}
    expected |= dict.fromkeys(("pull_request", "check_suite", "check_run"), (202, "unknown-repo"))
    assert (response.status_code, response.json()["outcome"]) == expected.get(event, (202, "ignored")), response.json()
    assert Repo.objects.count() == 1 and Scan.objects.count() == 0
    assert WebhookDelivery.objects.get().event == event


@needs_shared
def test_github_push_example_queues_a_scan_of_the_repo_it_names(client, db) -> None:
    """GitHub's first-push-of-master example, for a repo configured by its clone URL."""
    repo = Repo.objects.create(name="hello", url="https://github.com/Codertocat/Hello-World.git")
    ping = post(client, "ping", load_shared("ping/payload"))
    response = post(client, "push", load_shared("push/with-new-branch"))
    assert "Anything added dilutes" in WebhookDelivery.objects.get(event="ping").detail and ping.status_code == 200
    assert (response.status_code, response.json()["outcome"]) == (202, "queued")
    repo.refresh_from_db()
    assert (repo.github_id, repo.github_full_name) == (186853002, "Codertocat/Hello-World")
    assert Scan.objects.filter(repo=repo, trigger="webhook").count() == 1


def test_admin_shows_the_delivery_log_read_only(client, svc) -> None:
    post(client, "push", push_payload(github_id=1, full_name="acme/svc"), delivery="delivery-abc")
    post(client, "ping", load("ping/payload"))
    admin = Client()
    admin.force_login(User.objects.create_superuser("root", "root@example.test", "pw"))

    page = admin.get("/admin/readiness/webhookdelivery/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "queued" in text and "svc" in text and "ping" in text
    delivery = WebhookDelivery.objects.get(delivery_id="delivery-abc")
    detail = admin.get(f"/admin/readiness/webhookdelivery/{delivery.pk}/change/")
    assert detail.status_code == 200 and "delivery-abc" in detail.content.decode()
    assert admin.get("/admin/readiness/webhookdelivery/add/").status_code == 403
    assert admin.post(f"/admin/readiness/webhookdelivery/{delivery.pk}/delete/", {"post": "yes"}).status_code == 403
    assert WebhookDelivery.objects.count() == 2


# -- end to end: webhook -> real Celery worker -> finished scan in PostgreSQL ----------------------


@pytest.mark.slow
def test_push_webhook_gives_a_finished_scan_on_a_real_worker(
    tmp_path, client, scan_index, celery_worker, webhook_settings
) -> None:
    webhook_settings.READINESS_WEBHOOK_COALESCE_SECONDS = 3
    path = make_repo(tmp_path, ORG_LAYOUTS[0].files, name="svc")  # psutil, six
    repo = repo_row("svc", path)
    Repo.objects.filter(pk=repo.pk).update(github_id=4242, github_full_name="acme/svc")
    published: list[dict] = []

    def on_publish(sender=None, headers=None, **kwargs):
        published.append(dict(headers or {}))

    before_task_publish.connect(on_publish)
    try:
        first_sha = git(path, "rev-parse", "HEAD")
        first = post(
            client, "push", push_payload(github_id=4242, full_name="acme/svc", after=first_sha), delivery="e2e-1"
        )
        # A second push lands while the first one's scan waits: the one scan must see it.
        second_sha = commit_files(path, {"requirements.txt": "psutil==5.9.8\nsix==1.16.0\nnumpy==1.26.4\n"})
        second = post(
            client, "push", push_payload(github_id=4242, full_name="acme/svc", after=second_sha), delivery="e2e-2"
        )
        replay = post(
            client, "push", push_payload(github_id=4242, full_name="acme/svc", after=second_sha), delivery="e2e-2"
        )
    finally:
        before_task_publish.disconnect(on_publish)

    assert [r.status_code for r in (first, second, replay)] == [202, 202, 200]
    assert [r.json()["outcome"] for r in (first, second, replay)] == ["queued", "coalesced", "already seen"]
    assert len(published) == 1 and published[0]["task"] == "readiness.tasks.scan_repository"
    assert published[0]["eta"]  # the task waits out the coalescing window on the worker

    scan = Scan.objects.get(repo=repo)
    deadline = time.monotonic() + 90
    while Scan.objects.get(pk=scan.pk).state not in Scan.FINAL_STATES and time.monotonic() < deadline:
        time.sleep(0.2)
    scan.refresh_from_db()
    assert scan.state == Scan.State.DONE, f"{scan.state} {scan.error}\n{celery_worker.output()[-3000:]}"
    assert (scan.trigger, scan.commit) == ("webhook", second_sha)  # the newest commit, not the first push's
    assert Scan.objects.filter(repo=repo).count() == 1
    assert set(Verdict.objects.filter(scan=scan).values_list("package", flat=True)) == {"psutil", "six", "numpy"}
    repo.refresh_from_db()
    assert repo.latest_scan_id == scan.pk
    assert list(WebhookDelivery.objects.order_by("received_at").values_list("delivery_id", "outcome", "scan_id")) == [
        ("e2e-1", "queued", scan.pk),
        ("e2e-2", "coalesced", scan.pk),
    ]
