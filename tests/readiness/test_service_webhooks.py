"""The webhook service on the project's own payloads (and GitHub's published examples, where
``../shared`` has them): decisions, repo matching, repo updates, deduplication and coalescing,
against the real database.

The database tests are not transactional on purpose: ``scan_request`` queues its task on commit,
which never happens here, so the scans a burst asks for stay ``queued`` to be counted.
"""

from __future__ import annotations

import copy
import uuid

import pytest

from readiness.models import Repo, Scan, WebhookDelivery
from readiness.services.webhooks import (
    PushDecision,
    push_decision,
    repo_for_repository,
    webhook_receive,
    webhook_signature,
    webhook_signature_valid,
)
from scanners.check import is_relevant_path
from tests.readiness.webhook_support import load, load_shared, needs_shared, push_payload

GITHUB_VECTOR = (
    "It's a Secret to Everybody",
    b"Hello, World!",
    "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17",
)
LEDGER_ID = 581204377  # RowanPike/Ledger-Sync in the push, privatized and publicized fixtures
BILLING_ID = 603918245  # Northwind-Apps/Billing-Api in the ping, created, renamed, transferred and edited fixtures


def _receive(event: str, payload: dict, *, delivery: str | None = None, window: float = 30):
    return webhook_receive(
        event=event, delivery_id=delivery or str(uuid.uuid4()), payload=payload, coalesce_seconds=window
    )


# -- signatures ------------------------------------------------------------------------------------


def test_github_documented_test_vector() -> None:
    secret, body, signature = GITHUB_VECTOR
    assert webhook_signature(secret=secret, body=body) == signature
    assert webhook_signature_valid(secret=secret, body=body, signature=signature)


@pytest.mark.parametrize(
    ("secret", "body", "signature"),
    [
        ("It's a Secret to Everybody", b"Hello, World!", None),  # missing
        ("It's a Secret to Everybody", b"Hello, World!", ""),
        ("It's a Secret to Everybody", b"Hello, World!!", GITHUB_VECTOR[2]),  # body changed
        ("another secret", b"Hello, World!", GITHUB_VECTOR[2]),  # secret changed
        ("It's a Secret to Everybody", b"Hello, World!", GITHUB_VECTOR[2].removeprefix("sha256=")),  # no scheme
        ("It's a Secret to Everybody", b"Hello, World!", "sha1=" + GITHUB_VECTOR[2].removeprefix("sha256=")),
        ("It's a Secret to Everybody", b"Hello, World!", GITHUB_VECTOR[2].upper()),
        ("It's a Secret to Everybody", b"Hello, World!", GITHUB_VECTOR[2][:-1] + "f"),  # last digit forged
        ("It's a Secret to Everybody", b"Hello, World!", "sha256=\u00e9\u00e9"),  # not ASCII: refused, no crash
        ("", b"Hello, World!", webhook_signature(secret="", body=b"Hello, World!")),  # no secret verifies nothing
    ],
)
def test_signature_refused(secret, body, signature) -> None:
    assert webhook_signature_valid(secret=secret, body=body, signature=signature) is False


# -- which pushes scan -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "relevant"),
    [
        ("requirements.txt", True),
        ("requirements/prod.txt", True),
        ("services/api/requirements-dev.txt", True),
        ("poetry.lock", True),
        ("uv.lock", True),
        ("Pipfile.lock", True),
        ("pylock.toml", True),
        ("Dockerfile", True),
        ("docker/api.Dockerfile", True),
        ("pyproject.toml", True),
        ("backend/Pipfile", True),
        ("README.md", False),
        ("src/app.py", False),
        ("requirements.in", False),
        ("docs/pyproject.toml.md", False),
    ],
)
def test_dependency_paths(path, relevant) -> None:
    assert is_relevant_path(path) is relevant


def _push(**changes) -> dict:
    payload = push_payload(github_id=1, full_name="acme/svc")
    commits = changes.pop("commits", None)
    payload.update(changes)
    if commits is not None:
        payload["commits"] = commits
    return payload


def _commit(added=(), modified=(), removed=()) -> dict:
    return {"id": "c0ffee" * 6 + "abcd", "added": list(added), "modified": list(modified), "removed": list(removed)}


@pytest.mark.parametrize(
    ("payload", "tracked", "scan", "reason_part"),
    [
        (_push(), "main", True, "requirements.txt modified"),
        (
            _push(commits=[_commit(added=["README.md"]), _commit(removed=["docker/Dockerfile"])]),
            "main",
            True,
            "docker/Dockerfile removed",
        ),
        (_push(commits=[_commit(added=["uv.lock"])]), "main", True, "uv.lock added"),
        (_push(commits=[_commit(modified=["pyproject.toml"])]), "main", True, "pyproject.toml modified"),
        (_push(commits=[_commit(modified=["src/app.py", "README.md"])]), "main", False, "no lockfile"),
        (_push(ref="refs/heads/feature"), "main", False, "not the tracked branch main"),
        (_push(ref="refs/heads/release"), "release", True, "requirements.txt"),  # a repo configured on another branch
        (load("push/payload"), "main", False, "tag push (v1.4.0)"),  # a deleted tag
        (_push(ref="refs/pull/1/merge"), "main", False, "not a branch"),
        (_push(deleted=True, commits=[]), "main", False, "was deleted"),
        (_push(forced=True, commits=[_commit(modified=["README.md"])]), "main", True, "forced push"),
        (load("push/with-new-branch"), "main", True, "was created"),  # the first push of main
        (_push(commits=[]), "main", True, "lists no commits"),
        (_push(commits=None) | {"commits": None}, "main", True, "lists no commits"),
        (_push(commits=[_commit(modified=["src/a.py"])] * 20), "main", True, "cuts the list at 20"),
        (_push(commits=[{"id": "abc"}]), "main", True, "commits[0].added is missing"),
        (_push(commits=["not an object"]), "main", True, "commits[0] is not an object"),
        (_push(), "", True, "names no default branch"),
    ],
)
def test_push_decision(payload, tracked, scan, reason_part) -> None:
    decision = push_decision(payload, tracked_branch=tracked)
    assert isinstance(decision, PushDecision)
    assert decision.scan is scan
    assert reason_part in decision.reason


@needs_shared
@pytest.mark.parametrize(
    ("name", "tracked", "scan", "reason_part"),
    [
        ("push/payload", "master", False, "tag push (simple-tag)"),  # GitHub's example: a deleted tag
        ("push/with-new-branch", "master", True, "was created"),  # GitHub's example: first push of master
    ],
)
def test_push_decision_on_github_examples(name, tracked, scan, reason_part) -> None:
    decision = push_decision(load_shared(name), tracked_branch=tracked)
    assert isinstance(decision, PushDecision)
    assert decision.scan is scan
    assert reason_part in decision.reason


# -- matching repos --------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    "fields",
    [
        {"github_id": LEDGER_ID},
        {"github_full_name": "RowanPike/Ledger-Sync"},
        {"github_full_name": "rowanpike/ledger-sync"},  # GitHub names are case-insensitive
        {"url": "https://github.com/RowanPike/Ledger-Sync.git"},
        {"url": "https://github.com/RowanPike/Ledger-Sync"},
        {"url": "git@github.com:RowanPike/Ledger-Sync.git"},
        {"url": "git@github.com:RowanPike/Ledger-Sync"},
        {"url": "git://github.com/RowanPike/Ledger-Sync.git"},
    ],
)
def test_repo_matched(fields) -> None:
    Repo.objects.create(
        name="decoy", url="https://github.com/RowanPike/Other.git", github_id=7, github_full_name="RowanPike/Other"
    )
    repo = Repo.objects.create(name="hello", **{"url": "/srv/git/hello", **fields})
    assert repo_for_repository(load("push/payload")["repository"]) == repo


@pytest.mark.django_db
def test_repo_matched_by_id_before_name_and_a_row_with_another_id_is_not_this_repo() -> None:
    by_name = Repo.objects.create(name="old-row", url="/x", github_full_name="RowanPike/Ledger-Sync", github_id=99)
    assert repo_for_repository(load("push/payload")["repository"]) is None  # same name, another GitHub repo
    by_id = Repo.objects.create(name="right", url="/y", github_id=LEDGER_ID)
    assert repo_for_repository(load("push/payload")["repository"]) == by_id != by_name


@pytest.mark.django_db
def test_match_by_url_learns_the_github_id() -> None:
    repo = Repo.objects.create(name="hello", url="https://github.com/RowanPike/Ledger-Sync.git")
    payload = load("push/with-new-branch")
    result = _receive("push", payload)
    repo.refresh_from_db()
    assert (repo.github_id, repo.github_full_name) == (LEDGER_ID, "RowanPike/Ledger-Sync")
    assert result.outcome == "queued" and result.repo_id == repo.pk


# -- push: queue, coalesce, ignore -----------------------------------------------------------------


@pytest.mark.django_db
def test_burst_of_pushes_gives_one_scan_of_the_branch_head() -> None:
    repo = Repo.objects.create(name="svc", url="/srv/git/svc", branch="main", github_id=1, github_full_name="acme/svc")
    results = [_receive("push", push_payload(github_id=1, full_name="acme/svc", after=f"{i:040x}")) for i in range(10)]

    assert [r.outcome for r in results] == ["queued"] + ["coalesced"] * 9
    scan = Scan.objects.get(repo=repo)
    assert {r.scan_id for r in results} == {scan.pk}
    # No commit pinned: the scan fetches the head when it runs, the newest commit of the burst.
    assert (scan.state, scan.trigger, scan.ref) == (Scan.State.QUEUED, "webhook", "")
    assert list(WebhookDelivery.objects.values_list("outcome", flat=True).distinct().order_by("outcome")) == [
        "coalesced",
        "queued",
    ]
    assert WebhookDelivery.objects.filter(repo=repo, scan=scan).count() == 10


@pytest.mark.django_db
def test_push_after_the_scan_started_queues_the_next_one() -> None:
    repo = Repo.objects.create(name="svc", url="/srv/git/svc", github_id=1)
    first = _receive("push", push_payload(github_id=1, full_name="acme/svc"))
    Scan.objects.filter(pk=first.scan_id).update(state=Scan.State.RUNNING)  # a worker claimed it

    second = _receive("push", push_payload(github_id=1, full_name="acme/svc"))

    assert second.outcome == "queued" and second.scan_id != first.scan_id
    assert Scan.objects.filter(repo=repo).count() == 2


@pytest.mark.django_db
def test_redelivery_does_nothing_new() -> None:
    Repo.objects.create(name="svc", url="/srv/git/svc", github_id=1)
    payload = push_payload(github_id=1, full_name="acme/svc")
    first = _receive("push", payload, delivery="d-1")
    again = _receive("push", payload, delivery="d-1")

    assert (first.outcome, first.duplicate) == ("queued", False)
    assert (again.outcome, again.duplicate, again.scan_id) == ("already seen", True, None)
    assert WebhookDelivery.objects.count() == 1 and Scan.objects.count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("repo_fields", "payload", "outcome", "detail_part"),
    [
        ({}, push_payload(github_id=1, full_name="acme/svc", modified=("src/app.py",)), "ignored", "no lockfile"),
        (
            {},
            push_payload(github_id=1, full_name="acme/svc", ref="refs/heads/feature"),
            "ignored",
            "not the tracked branch",
        ),
        ({"enabled": False}, push_payload(github_id=1, full_name="acme/svc"), "ignored", "is disabled"),
        ({"archived": True}, push_payload(github_id=1, full_name="acme/svc"), "ignored", "is archived"),
        ({}, push_payload(github_id=2, full_name="acme/other"), "unknown-repo", "acme/other"),
        ({}, {"ref": "refs/heads/main"}, "invalid", "repository: missing"),
        ({}, push_payload(github_id=1, full_name="acme/svc") | {"ref": 5}, "invalid", "ref: int, expected str"),
    ],
)
def test_push_without_scan(repo_fields, payload, outcome, detail_part) -> None:
    Repo.objects.create(name="svc", url="/srv/git/svc", github_id=1, **repo_fields)
    result = _receive("push", payload)
    assert result.outcome == outcome and detail_part in result.detail
    assert Scan.objects.count() == 0
    assert Repo.objects.count() == 1  # unknown repos are never created
    assert WebhookDelivery.objects.get().outcome == outcome


@pytest.mark.django_db
def test_ping_and_other_events() -> None:
    repo = Repo.objects.create(name="hello", url="/x", github_id=BILLING_ID)
    ping = _receive("ping", load("ping/payload"))
    org_ping = _receive("ping", load("ping/with-organization"))  # an organisation hook: no repository
    other = _receive("issues", {"action": "opened"})
    assert (ping.outcome, ping.repo_id) == ("ok", repo.pk) and "Small steps, merged often." in ping.detail
    assert (org_ping.outcome, org_ping.repo_id) == ("ok", None)
    assert other.outcome == "ignored" and "'issues'" in other.detail
    assert WebhookDelivery.objects.filter(event="issues", action="opened").exists()


# -- repository events -----------------------------------------------------------------------------


def _derived(action: str, **repository) -> dict:
    """The privatized fixture with another action: archived, unarchived and deleted payloads have the same shape."""
    payload = load("repository/privatized")
    payload["action"] = action
    payload["repository"].update(repository)
    return payload


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("before", "payload", "after", "outcome"),
    [
        # renamed: Repo.name stays (stable dashboard URL); full name and GitHub URL follow.
        (
            {
                "github_id": BILLING_ID,
                "github_full_name": "Northwind-Apps/Old-Name",
                "url": "https://github.com/Northwind-Apps/Old-Name.git",
            },
            load("repository/renamed"),
            {
                "name": "svc",
                "github_full_name": "Northwind-Apps/Billing-Api",
                "url": "https://github.com/Northwind-Apps/Billing-Api.git",
            },
            "updated",
        ),
        (
            {
                "github_id": BILLING_ID,
                "github_full_name": "Northwind-Apps/Old-Name",
                "url": "git@github.com:Northwind-Apps/Old-Name.git",
            },
            load("repository/renamed"),
            {"github_full_name": "Northwind-Apps/Billing-Api", "url": "git@github.com:Northwind-Apps/Billing-Api.git"},
            "updated",
        ),
        # a URL that is not GitHub's (a mirror) is left alone
        (
            {
                "github_id": BILLING_ID,
                "github_full_name": "Northwind-Apps/Old-Name",
                "url": "https://mirror.example/old.git",
            },
            load("repository/renamed"),
            {"github_full_name": "Northwind-Apps/Billing-Api", "url": "https://mirror.example/old.git"},
            "updated",
        ),
        # found by its old name (no id yet): the rename's "from" names it
        (
            {
                "github_full_name": "Northwind-Apps/Billing-Service",
                "url": "https://github.com/Northwind-Apps/Billing-Service",
            },
            load("repository/renamed"),
            {
                "github_id": BILLING_ID,
                "github_full_name": "Northwind-Apps/Billing-Api",
                "url": "https://github.com/Northwind-Apps/Billing-Api",
            },
            "updated",
        ),
        (
            {
                "github_full_name": "tallis-okafor/Billing-Api",
                "url": "https://github.com/tallis-okafor/Billing-Api.git",
            },
            load("repository/transferred"),
            {
                "github_id": BILLING_ID,
                "github_full_name": "Northwind-Apps/Billing-Api",
                "url": "https://github.com/Northwind-Apps/Billing-Api.git",
            },
            "updated",
        ),
        (
            {"github_id": LEDGER_ID},
            _derived("archived", archived=True),
            {"archived": True, "enabled": False},
            "updated",
        ),
        (
            {"github_id": LEDGER_ID, "archived": True, "enabled": False},
            _derived("unarchived"),
            {"archived": False, "enabled": True},
            "updated",
        ),
        (
            {"github_id": LEDGER_ID, "enabled": False},
            _derived("unarchived"),
            {"archived": False, "enabled": False},
            "ignored",
        ),
        ({"github_id": LEDGER_ID}, _derived("deleted"), {"enabled": False, "github_id": LEDGER_ID}, "updated"),
        (
            {"github_id": LEDGER_ID, "managed_by": "github:RowanPike"},
            load("repository/privatized"),
            {"credentials_ref": "GITHUB_TOKEN"},
            "updated",
        ),
        ({"github_id": LEDGER_ID}, load("repository/privatized"), {"credentials_ref": ""}, "ignored"),
        (
            {"github_id": LEDGER_ID, "credentials_ref": "TOKEN"},
            load("repository/publicized"),
            {"credentials_ref": "TOKEN"},
            "ignored",
        ),
        ({"github_id": BILLING_ID, "branch": "main"}, load("repository/edited"), {"branch": "main"}, "ignored"),
    ],
)
def test_repository_event_updates_the_repo(before, payload, after, outcome) -> None:
    Repo.objects.create(name="svc", url=before.pop("url", "/srv/git/svc"), **before)
    result = _receive("repository", payload)
    repo = Repo.objects.get()
    assert result.outcome == outcome, result.detail
    assert {k: getattr(repo, k) for k in after} == after
    assert Scan.objects.count() == 0
    delivery = WebhookDelivery.objects.get()
    assert (delivery.event, delivery.action, delivery.repo_id, delivery.outcome) == (
        "repository",
        payload["action"],
        repo.pk,
        outcome,
    )


@pytest.mark.django_db
@pytest.mark.parametrize(("branch", "after", "scans"), [("master", "main", 1), ("", "", 1), ("release", "release", 0)])
def test_default_branch_edit_follows_and_rescans(branch, after, scans) -> None:
    """The fixture moves the default branch from master to main."""
    Repo.objects.create(name="svc", url="/x", github_id=BILLING_ID, branch=branch)
    result = _receive("repository", load("repository/edited.with-default_branch-edit"))
    repo = Repo.objects.get()
    assert repo.branch == after
    assert Scan.objects.filter(repo=repo, trigger="webhook", ref="").count() == scans
    assert result.outcome == ("updated" if scans else "ignored")


@pytest.mark.django_db
def test_repository_created_for_an_unknown_repo_is_acknowledged_not_created(caplog) -> None:
    caplog.set_level("INFO", logger="readiness.services.webhooks")
    result = _receive("repository", load("repository/created"))
    assert result.outcome == "unknown-repo"
    assert Repo.objects.count() == 0
    assert WebhookDelivery.objects.get().github_full_name == "Northwind-Apps/Billing-Api"
    assert "Northwind-Apps/Billing-Api" in caplog.text and "not created" in caplog.text


@pytest.mark.django_db
def test_deleted_repo_keeps_its_history() -> None:
    repo = Repo.objects.create(name="svc", url="/x", github_id=LEDGER_ID)
    Scan.objects.create(repo=repo, state=Scan.State.DONE)
    _receive("repository", _derived("deleted"))
    repo.refresh_from_db()
    assert repo.enabled is False and repo.scans.count() == 1
    # later pushes to it (a restored repo) are logged but scan nothing while it is disabled
    assert _receive("push", copy.deepcopy(load("push/with-new-branch"))).outcome == "ignored"


@pytest.mark.django_db(transaction=True)
def test_the_same_delivery_twice_at_once_is_recorded_once(settings) -> None:
    """Two requests racing with one delivery id: the unique constraint, not luck, keeps one."""
    import threading

    from django.db import connection

    if connection.vendor == "sqlite":
        pytest.skip("concurrent writers need PostgreSQL")
    repo = Repo.objects.create(name="hello", url="/x", github_id=BILLING_ID)
    barrier = threading.Barrier(2)
    results = []

    def deliver() -> None:
        try:
            barrier.wait()
            results.append(_receive("ping", load("ping/payload"), delivery="same-id"))
        finally:
            connection.close()

    threads = [threading.Thread(target=deliver) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(r.duplicate for r in results) == [False, True]
    assert list(WebhookDelivery.objects.values_list("delivery_id", "outcome", "repo_id")) == [
        ("same-id", "ok", repo.pk)
    ]
