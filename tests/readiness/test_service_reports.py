"""Weekly reports through a real SMTP server: content of the MIME message, exactly once, retries."""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo

import pytest
import time_machine

from readiness.models import Subscription, WeeklyReport
from readiness.services.reports import (
    MAX_ATTEMPTS,
    ReportSchedule,
    UnknownTeams,
    report_claim,
    reports_send_due,
    subscribe_email,
    subscription_from_token,
    subscription_set,
    unsubscribe_token,
)
from readiness.tasks import send_weekly_reports
from tests.readiness.factories import make_user, seed_org
from tests.support.smtp_server import SmtpServer, free_port

pytestmark = pytest.mark.django_db

UTC = dt.UTC
MONDAY_9 = dt.datetime(2025, 3, 3, 9, 0, tzinfo=UTC)  # ISO week 2025-W10
ROOT = "http://readiness.test"


@pytest.fixture
def smtp(settings):
    server = SmtpServer().start()
    _point_mail_at(settings, server.port)
    yield server
    server.stop()


def _point_mail_at(settings, port: int) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = port
    settings.EMAIL_TIMEOUT = 5
    settings.SITE_ROOT = ROOT
    settings.READINESS_REPORT_DAY = "monday"
    settings.READINESS_REPORT_HOUR = 8
    settings.READINESS_REPORT_TIMEZONE = "UTC"


@pytest.fixture
def org():
    from readiness.services.upstream import upstream_refresh
    from scanners.project_metadata import ProjectMetadata

    with time_machine.travel(MONDAY_9, tick=False):
        seeded = seed_org(repos=10, weeks=4)
        # The drafted upstream issues the email lists (issue 5), without asking any index.
        upstream_refresh(fetch_metadata=lambda name: ProjectMetadata(name, error="not asked in this test"))
        return seeded


# -- schedule --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("now", "day", "hour", "tz", "due"),
    [
        (MONDAY_9, 0, 8, "UTC", dt.date(2025, 3, 3)),
        (dt.datetime(2025, 3, 3, 7, 59, tzinfo=UTC), 0, 8, "UTC", None),
        (dt.datetime(2025, 3, 3, 8, 0, tzinfo=UTC), 0, 8, "UTC", dt.date(2025, 3, 3)),
        (dt.datetime(2025, 3, 9, 23, 0, tzinfo=UTC), 0, 8, "UTC", dt.date(2025, 3, 3)),  # late in the week: still due
        (dt.datetime(2025, 3, 4, 7, 0, tzinfo=UTC), 1, 8, "UTC", None),  # Tuesday 07:00, due Tuesdays at 08:00
        # 07:30 UTC on Monday is 08:30 in Berlin (CET, UTC+1): due there, not yet in UTC.
        (dt.datetime(2025, 3, 3, 7, 30, tzinfo=UTC), 0, 8, "Europe/Berlin", dt.date(2025, 3, 3)),
        # 23:30 UTC on Sunday is already Monday 08:30 in Tokyo: Tokyo's week 10.
        (dt.datetime(2025, 3, 2, 23, 30, tzinfo=UTC), 0, 8, "Asia/Tokyo", dt.date(2025, 3, 3)),
        (dt.datetime(2025, 3, 3, 9, 0, tzinfo=UTC), 0, 8, "America/New_York", None),  # 04:00 in New York
    ],
)
def test_due_week(now, day, hour, tz, due):
    assert ReportSchedule(day=day, hour=hour, tz=zoneinfo.ZoneInfo(tz)).due_week(now) == due


# -- content, through SMTP -------------------------------------------------------------------------


def test_report_arrives_with_subject_both_parts_numbers_links_and_unsubscribe(smtp, org, client):
    subscribe_email(email="cto@example.test")
    subscribe_email(email="lead@example.test", teams=["team-1"])
    with time_machine.travel(MONDAY_9, tick=False):
        result = reports_send_due()
    assert result.counts() == {"sent": 2, "failed": 0, "skipped": 0}
    assert sorted(smtp.recipients) == ["cto@example.test", "lead@example.test"]
    msg = next(m for m in smtp.messages if m["To"] == "cto@example.test")

    assert msg["Subject"].strip() == "Arch readiness 2025-W10: linux/arm64 10.0% ready (±0 repos)"
    assert msg.get_content_type() == "multipart/alternative"
    text = msg.get_body(("plain",)).get_content()
    html = msg.get_body(("html",)).get_content()
    # arm64: 1 of 10 ready, 2 build from source, 7 blocked; amd64: 10 of 10, one more than a week ago.
    assert "- linux/arm64: 1/10 ready (10.0%, ±0 repos, ±0 pts); 2 build from source; 7 blocked (±0)" in text
    assert "- linux/amd64: 10/10 ready (100.0%, +1 repo, +10 pts)" in text
    assert "- svc-0004 on linux/amd64: http://readiness.test/repos/svc-0004/" in text
    assert "1. upgrade grpcio to 1.60.0 (5 repos on linux/arm64)" in text
    assert "- filprofiler 2022.5.0 on linux/arm64, 4 repos: http://readiness.test/packages/filprofiler/" in text
    assert "Dashboard: http://readiness.test/" in text
    for fact in (
        "10.0%",
        "1/10 repos",
        "svc-0004",
        "grpcio",
        "upgrade grpcio to 1.60.0",
        "filprofiler",
        "Became ready (1)",
        "Newly blocked (0)",
    ):
        assert fact in html, fact
    assert 'class="bar-ready" style="width:10.0%' in html and 'class="bar-blocked" style="width:70.0%' in html
    hrefs = re.findall(r'href="([^"]+)"', html)
    assert hrefs and all(h.startswith(f"{ROOT}/") for h in hrefs)
    assert f"{ROOT}/packages/grpcio/" in hrefs and f"{ROOT}/blockers/" in hrefs and f"{ROOT}/settings/email/" in hrefs
    assert "<link" not in html and "<script" not in html and "<img" not in html  # nothing external

    team_msg = next(m for m in smtp.messages if m["To"] == "lead@example.test")
    assert team_msg["Subject"].strip().endswith(", team team-1")
    assert "== Team team-1: 3 repos, 3 scanned ==" in team_msg.get_body(("plain",)).get_content()
    assert f"{ROOT}/blockers/?team=team-1" in team_msg.get_body(("html",)).get_content()

    # One-click unsubscribe (RFC 8058): the header's URL works with a bare POST, no cookie, no CSRF token.
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    url = re.fullmatch(r"<(.+)>", "".join(msg["List-Unsubscribe"].split())).group(1)  # long headers are folded
    assert url.startswith(f"{ROOT}/email/unsubscribe/") and url in text
    path = url.removeprefix(ROOT)
    assert b"Stop sending" in client.get(path).content
    assert Subscription.objects.get(user__email="cto@example.test").active  # GET alone never unsubscribes
    assert client.post(path).status_code == 200
    assert not Subscription.objects.get(user__email="cto@example.test").active


def test_two_beat_firings_and_a_later_hour_send_one_email_per_subscription(smtp, org):
    subscribe_email(email="cto@example.test")
    subscribe_email(email="lead@example.test", teams=["team-0", "team-2"])
    with time_machine.travel(dt.datetime(2025, 3, 3, 7, 0, tzinfo=UTC), tick=False):
        assert send_weekly_reports() == {"sent": 0, "failed": 0, "skipped": 0}  # before 08:00: not due
    with time_machine.travel(MONDAY_9, tick=False):
        assert send_weekly_reports() == {"sent": 2, "failed": 0, "skipped": 0}
        assert send_weekly_reports() == {"sent": 0, "failed": 0, "skipped": 0}
    with time_machine.travel(dt.datetime(2025, 3, 5, 14, 0, tzinfo=UTC), tick=False):
        assert send_weekly_reports()["sent"] == 0
    assert sorted(smtp.recipients) == ["cto@example.test", "lead@example.test"]
    assert list(WeeklyReport.objects.order_by().values_list("state", "attempts", "week").distinct()) == [
        ("sent", 1, dt.date(2025, 3, 3))
    ]
    lead = next(m for m in smtp.messages if m["To"] == "lead@example.test").get_body(("plain",)).get_content()
    assert "== Team team-0:" in lead and "== Team team-2:" in lead
    with time_machine.travel(MONDAY_9 + dt.timedelta(weeks=1), tick=False):
        assert send_weekly_reports()["sent"] == 2  # next ISO week: a new report
    assert len(smtp.messages) == 4


def test_smtp_down_records_the_failure_and_a_later_run_sends_once(settings, org):
    port = free_port()
    _point_mail_at(settings, port)  # nothing listens there: connection refused
    subscribe_email(email="cto@example.test")
    with time_machine.travel(MONDAY_9, tick=False):
        assert reports_send_due().counts() == {"sent": 0, "failed": 1, "skipped": 0}
    report = WeeklyReport.objects.get()
    assert (report.state, report.attempts, report.sent_at) == ("failed", 1, None)
    assert "refused" in report.error.lower() or "errno" in report.error.lower()
    with SmtpServer(port=port) as server, time_machine.travel(MONDAY_9 + dt.timedelta(hours=1), tick=False):
        assert send_weekly_reports() == {"sent": 1, "failed": 0, "skipped": 0}
        assert send_weekly_reports() == {"sent": 0, "failed": 0, "skipped": 0}
        assert server.recipients == ["cto@example.test"]
    report.refresh_from_db()
    assert (report.state, report.attempts, report.error, report.to) == ("sent", 2, "", "cto@example.test")
    assert report.sent_at == MONDAY_9 + dt.timedelta(hours=1)


def test_a_report_that_keeps_failing_is_given_up_after_max_attempts(settings, org):
    _point_mail_at(settings, free_port())
    subscribe_email(email="cto@example.test")
    with time_machine.travel(MONDAY_9, tick=False):
        results = [reports_send_due().counts()["failed"] for _ in range(MAX_ATTEMPTS + 2)]
    assert results == [1] * MAX_ATTEMPTS + [0, 0]
    assert WeeklyReport.objects.get().attempts == MAX_ATTEMPTS


# -- claiming --------------------------------------------------------------------------------------


def test_claim_is_exclusive_and_only_failed_rows_are_claimed_again():
    sub = subscription_set(user=make_user("alice"))
    week = dt.date(2025, 3, 3)
    first = report_claim(subscription_id=sub.pk, week=week)
    assert first is not None and first.state == "sending"
    assert report_claim(subscription_id=sub.pk, week=week) is None  # being sent (or died mid-send): never twice
    WeeklyReport.objects.filter(pk=first.pk).update(state="failed")
    again = report_claim(subscription_id=sub.pk, week=week)
    assert (again.pk, again.attempts, again.state) == (first.pk, 2, "sending")
    WeeklyReport.objects.filter(pk=first.pk).update(state="sent")
    assert report_claim(subscription_id=sub.pk, week=week) is None


def test_inactive_subscriptions_and_users_without_an_address_get_nothing(smtp, org):
    subscribe_email(email="gone@example.test")
    Subscription.objects.update(active=False)
    subscription_set(user=make_user("noaddress"))
    from django.contrib.auth.models import User

    User.objects.filter(username="noaddress").update(email="")
    with time_machine.travel(MONDAY_9, tick=False):
        assert reports_send_due().counts() == {"sent": 0, "failed": 0, "skipped": 0}
    assert smtp.messages == []


# -- subscriptions ---------------------------------------------------------------------------------


def test_subscribe_email_creates_a_user_once_and_updates_teams(org):
    sub, created = subscribe_email(email="Lead@Example.test", teams=["team-1"])
    assert created and not sub.user.has_usable_password()
    assert (sub.scope, [t.name for t in sub.teams.all()]) == ("teams", ["team-1"])
    sub2, created2 = subscribe_email(email="lead@example.test")
    assert (sub2.pk, created2, sub2.scope, sub2.teams.count()) == (sub.pk, False, "org", 0)


def test_unknown_team_is_refused_before_anything_is_written(org):
    with pytest.raises(UnknownTeams, match=r"unknown team\(s\): nope \(known teams: team-0, team-1, team-2\)"):
        subscribe_email(email="x@example.test", teams=["team-1", "nope"])
    assert not Subscription.objects.exists()


@pytest.mark.parametrize(
    "token",
    ["", "garbage", "eyJzIjoxfQ:1tZ:forged", unsubscribe_token(10**9)],
    ids=["empty", "garbage", "forged", "no-such-subscription"],
)
def test_bad_or_stale_tokens_name_no_subscription(token):
    assert subscription_from_token(token) is None


def test_names_are_escaped_in_html_and_left_alone_in_subject_and_text(smtp):
    from readiness.models import Team

    Team.objects.create(name="R&D <ops>")
    seed_org(repos=2, teams=1, prefix="x<y>")
    from readiness.models import Repo

    Repo.objects.update(team=Team.objects.get(name="R&D <ops>"))
    subscribe_email(email="lead@example.test", teams=["R&D <ops>"])
    with time_machine.travel(MONDAY_9 + dt.timedelta(weeks=200), tick=False):
        assert reports_send_due().counts()["sent"] == 1
    msg = smtp.messages[0]
    assert msg["Subject"].strip().endswith(", team R&D <ops>")
    assert "== Team R&D <ops>: 2 repos" in msg.get_body(("plain",)).get_content()
    html = msg.get_body(("html",)).get_content()
    assert "Team R&amp;D &lt;ops&gt;" in html and "<ops>" not in html
    assert "?team=R%26D+%3Cops%3E" in html
