"""Notification rules end to end: real scans (in process), the events they make, deliveries to
loopback Slack, Teams and webhook receivers (payload shapes as documented, HMAC checked), email
over real SMTP, idempotence, failures, secrets never shown, the admin's log and "send test"."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from readiness.admin_integrations import NotificationRuleForm
from readiness.models import NotificationDelivery, NotificationRule, Repo
from readiness.services.notifications import RuleError, deliveries_create, notify_scan, rule_add
from tests.readiness.factories import make_user
from tests.readiness.notify_support import BLOCKED, READY, rescan, switching_repo
from tests.support.chat_receivers import Receiver, slack_problems, teams_problems
from tests.support.smtp_server import SmtpServer

pytestmark = pytest.mark.django_db(transaction=True)

SECRET = "s3cret-signing-key"


@pytest.fixture
def receiver():
    servers: list[Receiver] = []

    def make(kind: str = "webhook", **kwargs) -> Receiver:
        server = Receiver(kind, secret=SECRET if kind == "webhook" else "", **kwargs).start()
        servers.append(server)
        return server

    yield make
    for s in servers:
        s.stop()


def _rule(event: str, channel: str, target: str, **kwargs) -> NotificationRule:
    return NotificationRule.objects.create(
        name=f"{event} to {channel}", event=event, channel=channel, target=target, secret=SECRET, **kwargs
    )


def test_a_repo_that_became_ready_is_sent_once_signed_with_its_package_and_fix(tmp_path, scan_index, receiver):
    hook = receiver("webhook")
    rule = _rule("repo-became-ready", "webhook", hook.url)
    repo, path = switching_repo(tmp_path, scan_index)
    first = rescan(repo)
    assert first.summary["linux/arm64"]["ready"] is False
    assert hook.received == []  # a first scan has nothing to compare with
    second = rescan(repo, path, READY)
    assert second.summary["linux/arm64"]["ready"] is True

    (got,) = hook.received
    body = got.json()
    assert hook.bad_signatures == 0
    expected = "sha256=" + hmac.new(SECRET.encode(), got.body, hashlib.sha256).hexdigest()
    assert got.headers["x-readiness-signature-256"] == expected
    assert got.headers["x-readiness-event"] == "repo-became-ready"
    assert got.headers["content-type"] == "application/json"
    (delivery,) = NotificationDelivery.objects.all()
    assert got.headers["x-readiness-delivery"] == str(delivery.delivery_id) == body["delivery_id"]
    assert body["event"] == "repo-became-ready"
    assert body["title"] == "billing is ready on linux/arm64"
    assert (body["repo"], body["team"], body["target"]) == ("billing", "payments", "linux/arm64")
    assert body["url"] == "http://localhost:8000/repos/billing/"
    assert body["items"] == [
        {"package": "never-arm", "version": "1.0", "target": "linux/arm64", "fix_version": "1.1", "fix": "now 1.1"}
    ]
    assert (delivery.rule, delivery.state, delivery.attempts, delivery.retried) == (rule, "sent", 1, False)
    assert delivery.event_key == f"repo-became-ready:{second.pk}:linux/arm64"

    # The task run again (a redelivery, a retry): nothing new is sent.
    assert notify_scan(scan_id=second.pk, previous_id=first.pk) == 0
    assert len(hook.received) == 1 and NotificationDelivery.objects.count() == 1
    # A rescan with nothing changed is no event either.
    rescan(repo)
    assert len(hook.received) == 1


def test_slack_and_teams_get_what_they_document_when_a_repo_becomes_blocked(tmp_path, scan_index, receiver):
    slack, teams = receiver("slack"), receiver("teams")
    _rule("repo-newly-blocked", "slack", slack.url)
    _rule("new-blocker", "teams", teams.url)
    repo, path = switching_repo(tmp_path, scan_index, first=READY)
    rescan(repo)
    rescan(repo, path, BLOCKED)

    (to_slack,) = slack.received
    message = to_slack.json()
    assert to_slack.status == 200 and slack_problems(message) == []
    assert message["text"] == "billing is blocked on linux/arm64: http://localhost:8000/repos/billing/"
    assert (
        message["blocks"][0]["text"]["text"]
        == "*<http://localhost:8000/repos/billing/|billing is blocked on linux/arm64>*"
    )
    assert message["blocks"][1]["text"]["text"] == "• never-arm 1.0 on linux/arm64: upgrade to 1.1"

    (to_teams,) = teams.received
    card_message = to_teams.json()
    assert to_teams.status == 202 and teams_problems(card_message) == []
    card = card_message["attachments"][0]["content"]
    assert card["body"][0]["text"] == "billing: 1 new blocker on linux/arm64"
    assert {"title": "Repo", "value": "billing"} in card["body"][1]["facts"]
    assert card["actions"][0]["url"] == "http://localhost:8000/repos/billing/"
    assert [d.state for d in NotificationDelivery.objects.all()] == ["sent", "sent"]


def test_scopes_pick_the_rules(tmp_path, scan_index, receiver):
    hook = receiver("webhook")
    other_team = _rule("repo-became-ready", "webhook", hook.url)
    other_team.teams.create(name="search")
    other_repo = _rule("repo-became-ready", "webhook", hook.url)
    other_repo.repos.add(Repo.objects.create(name="elsewhere", url="https://git.example.test/x.git"))
    repo, path = switching_repo(tmp_path, scan_index)
    mine = _rule("repo-became-ready", "webhook", hook.url)
    mine.repos.add(repo)
    rescan(repo)
    rescan(repo, path, READY)
    assert list(NotificationDelivery.objects.values_list("rule_id", flat=True)) == [mine.pk]
    assert len(hook.received) == 1


def test_a_failed_scan_is_an_event(tmp_path, receiver):
    hook = receiver("webhook")
    _rule("scan-failed", "webhook", hook.url)
    repo = Repo.objects.create(name="gone", url=(tmp_path / "missing").as_uri(), branch="main")
    scan = rescan(repo)
    assert scan.state == "failed"
    (got,) = hook.received
    assert got.json()["title"] == "The scan of gone failed" and got.json()["detail"]


def test_email_channel_over_smtp(tmp_path, scan_index, settings):
    with SmtpServer() as smtp:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", smtp.port, 5
        _rule("repo-became-ready", "email", "ops@example.test, lead@example.test")
        repo, path = switching_repo(tmp_path, scan_index)
        rescan(repo)
        rescan(repo, path, READY)
        (mail,) = smtp.messages
    assert mail["Subject"] == "[Arch Readiness] billing is ready on linux/arm64"
    assert sorted(smtp.recipients) == ["lead@example.test", "ops@example.test"]
    text = mail.get_body(("plain",)).get_content()
    assert "never-arm 1.0 on linux/arm64: now 1.1" in text and "http://localhost:8000/repos/billing/" in text


def test_a_refusing_or_absent_receiver_is_logged_without_the_secret_url(tmp_path, scan_index, receiver):
    refusing = receiver("webhook", statuses=(404,))
    _rule("repo-became-ready", "webhook", refusing.url)
    _rule("repo-became-ready", "slack", f"http://127.0.0.1:9/services/T0/B0/{'k' * 24}")  # nothing listens
    repo, path = switching_repo(tmp_path, scan_index)
    rescan(repo)
    rescan(repo, path, READY)
    refused, unreachable = NotificationDelivery.objects.order_by("rule_id")
    assert len(refusing.received) == 1  # a 404 is not retried
    assert (refused.state, refused.response_status, refused.attempts) == ("failed", 404, 1)
    assert refused.error.startswith(f"http://{refusing.address}/…: answered HTTP 404")
    # in process nobody waits for a later retry: the quick retries are made, then it is failed
    assert (unreachable.state, unreachable.attempts, unreachable.retried) == ("failed", 3, True)
    assert unreachable.error.startswith("http://127.0.0.1:9/…: ")
    for d in (refused, unreachable):
        assert "secret-path" not in d.error and "kkkk" not in d.error


def test_admin_masks_urls_and_sends_a_test(client, receiver):
    slack = receiver("slack")
    rule = _rule("repo-became-ready", "slack", slack.url)
    admin = make_user("root", staff=True)
    admin.is_superuser = True
    admin.save()
    client.force_login(admin)
    listing = client.get("/admin/readiness/notificationrule/").content.decode()
    assert f"http://{slack.address}/…" in listing and "secret-path" not in listing
    form = client.get(f"/admin/readiness/notificationrule/{rule.pk}/change/").content.decode()
    assert "secret-path" not in form and SECRET not in form
    response = client.post(
        "/admin/readiness/notificationrule/",
        {"action": "send_test", "_selected_action": [rule.pk]},
        follow=True,
    )
    assert "test sent" in response.content.decode()
    (got,) = slack.received
    assert slack_problems(got.json()) == [] and got.json()["text"].startswith("Test from Arch Readiness")
    (delivery,) = NotificationDelivery.objects.all()
    assert delivery.test and delivery.state == "sent"
    # the rule's page has a "Send test" button of its own
    assert f'action="/admin/readiness/notificationrule/{rule.pk}/send-test/"' in form
    response = client.post(f"/admin/readiness/notificationrule/{rule.pk}/send-test/", follow=True)
    assert response.redirect_chain[-1][0] == f"/admin/readiness/notificationrule/{rule.pk}/change/"
    assert "test sent" in response.content.decode() and len(slack.received) == 2
    assert client.get(f"/admin/readiness/notificationrule/{rule.pk}/send-test/").status_code == 405
    log = client.get("/admin/readiness/notificationdelivery/").content.decode()
    assert "repo-became-ready" in log and "secret-path" not in log
    # saving the form with the secret fields left empty keeps them
    client.post(
        f"/admin/readiness/notificationrule/{rule.pk}/change/",
        {"name": "renamed", "event": rule.event, "channel": "slack", "target": "", "secret": "", "enabled": "on"},
    )
    rule.refresh_from_db()
    assert (rule.name, rule.target, rule.secret) == ("renamed", slack.url, SECRET)


def test_the_admin_form_and_notify_add_refuse_the_same_targets(db):
    bad = {
        ("email", "ops@example.test; not-an-address"): "not an email address: not-an-address",
        ("email", " ; "): "the email channel needs addresses, comma-separated",
        ("slack", "ftp://hooks.example.test/x"): "a webhook URL starts with https://",
    }
    for (channel, target), message in bad.items():
        form = NotificationRuleForm({"name": "r", "event": "scan-failed", "channel": channel, "target": target})
        assert not form.is_valid() and message in " ".join(form.errors["target"]), (channel, target)
        with pytest.raises(RuleError, match=message):
            rule_add(name="r", event="scan-failed", channel=channel, target=target)
    assert not NotificationRule.objects.exists()
    good = {"name": "r", "event": "scan-failed", "channel": "email", "target": "ops@example.test; lead@example.test"}
    assert "target" not in NotificationRuleForm(good).errors
    assert rule_add(**good).target == "ops@example.test; lead@example.test"


def test_no_rule_no_work(tmp_path, scan_index, django_assert_num_queries):
    repo, path = switching_repo(tmp_path, scan_index)
    first = rescan(repo)
    second = rescan(repo, path, READY)
    with django_assert_num_queries(1):  # the enabled rules' events
        assert notify_scan(scan_id=second.pk, previous_id=first.pk) == 0
    assert deliveries_create([]) == []


def test_a_campaign_turning_at_risk_is_told_once(receiver):
    import datetime as dt

    from django.utils import timezone

    from readiness.models import Campaign
    from tests.readiness.factories import seed_org

    hook = receiver("webhook")
    seed_org(repos=6, packages=4)
    today = timezone.localdate()
    campaign = Campaign.objects.create(
        name="arm64 now", slug="arm64-now", targets=["linux/arm64"], start=today - dt.timedelta(days=30), due=today
    )
    _rule("campaign-at-risk", "webhook", hook.url, campaign=campaign)
    scan_id = Repo.objects.get(name="svc-0000").latest_scan_id
    assert notify_scan(scan_id=scan_id, previous_id=None) == 1
    (got,) = hook.received
    body = got.json()
    assert body["event"] == "campaign-at-risk" and body["campaign"] == "arm64 now"
    assert body["title"].startswith("Campaign “arm64 now”: at risk: ")
    assert body["url"] == "http://localhost:8000/campaigns/arm64-now/"
    assert body["items"] and all(
        i["fix"].endswith(("no progress yet",)) or "projected" in i["fix"] for i in body["items"]
    )
    # still at risk after the next scan: no second message
    assert notify_scan(scan_id=scan_id, previous_id=None) == 0
    assert len(hook.received) == 1


def test_an_upstream_suggestion_resolved_by_a_refresh_is_told(receiver):
    from readiness.models import UpstreamSuggestion
    from readiness.services.upstream import upstream_refresh

    hook = receiver("webhook")
    _rule("upstream-suggestion-resolved", "webhook", hook.url)
    UpstreamSuggestion.objects.create(
        package="old-blocker",
        platform_tags="manylinux_2_17_aarch64",
        targets=["linux/arm64"],
        title="aarch64 wheels",
        body="…",
    )
    assert upstream_refresh(fetch_metadata=lambda names: {}).resolved == 1
    (got,) = hook.received
    body = got.json()
    assert body["event"] == "upstream-suggestion-resolved"
    assert body["title"] == "old-blocker: no repo is blocked on linux/arm64 any more"
    assert body["url"] == "http://localhost:8000/upstream/"


def test_notify_command_adds_lists_tests_and_listens(receiver):
    import io
    import threading
    import time

    from django.core.management import call_command
    from django.core.management.base import CommandError

    from tests.support.smtp_server import free_port

    hook = receiver("webhook")
    out = io.StringIO()
    call_command(
        "notify", "add", "--channel", "webhook", "--url", hook.url, "--event", "all", "--secret", SECRET, stdout=out
    )
    assert out.getvalue().count("rule ") == 6 and "secret-path" not in out.getvalue()
    assert NotificationRule.objects.count() == 6
    listing = io.StringIO()
    call_command("notify", "list", stdout=listing)
    assert f"http://{hook.address}/…" in listing.getvalue() and "secret-path" not in listing.getvalue()
    rule = NotificationRule.objects.get(event="scan-failed")
    call_command("notify", "test", str(rule.pk), stdout=io.StringIO())
    (got,) = hook.received
    assert got.json()["event"] == "scan-failed" and hook.bad_signatures == 0
    with pytest.raises(CommandError, match="unknown teams or repos: nope"):
        call_command(
            "notify", "add", "--channel", "slack", "--url", hook.url, "--event", "new-blocker", "--team", "nope"
        )
    with pytest.raises(CommandError, match="starts with https://"):
        call_command("notify", "add", "--channel", "slack", "--url", "ftp://x", "--event", "new-blocker")

    # the local receiver: prints what arrives and checks the signature
    port = free_port()
    printed = io.StringIO()
    listener = threading.Thread(
        target=call_command,
        args=("notify", "listen", "--port", str(port), "--secret", SECRET, "--count", "1"),
        kwargs={"stdout": printed},
        daemon=True,  # a failing test must not leave pytest waiting on it
    )
    listener.start()
    deadline = time.monotonic() + 10
    while "listening" not in printed.getvalue() and time.monotonic() < deadline:
        time.sleep(0.05)
    rule.target = f"http://127.0.0.1:{port}/"
    rule.save()
    call_command("notify", "test", str(rule.pk), stdout=io.StringIO())
    listener.join(10)
    text = printed.getvalue()
    assert "scan-failed: Test from Arch Readiness: a scan failed (signature valid)" in text
    assert "  - grpcio 1.30.0 on linux/arm64: upgrade to 1.60.0" in text
