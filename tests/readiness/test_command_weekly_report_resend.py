"""A report stuck in ``sending`` (its sender was killed mid-send) is shown, never retried by itself,
and sent again only on an operator's explicit ``weekly_report --resend ID``, through a real SMTP server."""

from __future__ import annotations

import datetime as dt
import io

import pytest
import time_machine
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command

from readiness.models import WeeklyReport
from readiness.services.reports import MAX_ATTEMPTS, STUCK_AFTER, report_claim, subscribe_email
from tests.readiness.factories import seed_org
from tests.readiness.test_service_reports import MONDAY_9, _point_mail_at
from tests.support.smtp_server import SmtpServer

pytestmark = pytest.mark.django_db


def _run(*args) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("weekly_report", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def _killed_mid_send(email: str = "a@example.test") -> WeeklyReport:
    """What a sender killed between claiming and recording leaves: a row in ``sending``."""
    sub, _ = subscribe_email(email=email)
    week = MONDAY_9.date()
    report = report_claim(subscription_id=sub.pk, week=week, now=MONDAY_9)
    assert report is not None and report.state == "sending"
    return report


def test_a_stuck_report_is_not_retried_but_listed_and_resent_on_request(settings, tmp_path):
    with SmtpServer() as server:
        _point_mail_at(settings, server.port)
        seed_org(repos=3)
        report = _killed_mid_send()
        later = MONDAY_9 + STUCK_AFTER + dt.timedelta(minutes=5)
        with time_machine.travel(later, tick=False):
            assert "sent 0, failed 0, skipped 0" in _run("--send")[0]  # never retried by itself
            assert server.recipients == []
            _, err = _run("--preview", "--out", str(tmp_path))
            assert f"report #{report.pk} (2025-W10 to a@example.test) has been stuck in 'sending'" in err
            assert f"weekly_report --resend {report.pk}" in err
            out, _ = _run("--resend", str(report.pk))
        assert out.strip() == f"report #{report.pk} sent to a@example.test"
        assert server.recipients == ["a@example.test"]
    report.refresh_from_db()
    assert (report.state, report.attempts) == ("sent", 2)


def test_resend_refuses_what_is_sent_in_flight_retried_or_unknown(settings):
    with SmtpServer() as server:
        _point_mail_at(settings, server.port)
        seed_org(repos=2)
        report = _killed_mid_send()
        with time_machine.travel(MONDAY_9 + dt.timedelta(minutes=2), tick=False):
            with pytest.raises(CommandError, match="is being sent right now"):
                _run("--resend", str(report.pk))
        WeeklyReport.objects.filter(pk=report.pk).update(state="failed", attempts=1)
        with pytest.raises(CommandError, match=r"retried by the next hourly run \(attempt 1 of 5\)"):
            _run("--resend", str(report.pk))
        WeeklyReport.objects.filter(pk=report.pk).update(attempts=MAX_ATTEMPTS)  # given up: resend is the way
        assert _run("--resend", str(report.pk))[0].startswith(f"report #{report.pk} sent to")
        with pytest.raises(CommandError, match="was sent at .*nothing to resend"):
            _run("--resend", str(report.pk))
        assert server.recipients == ["a@example.test"]
    with pytest.raises(CommandError, match="there is no weekly report #999999"):
        _run("--resend", "999999")


def test_resend_with_the_mail_server_down_says_so_and_records_it(settings):
    from tests.support.smtp_server import free_port

    _point_mail_at(settings, free_port())
    seed_org(repos=2)
    report = _killed_mid_send()
    with time_machine.travel(MONDAY_9 + 2 * STUCK_AFTER, tick=False):
        with pytest.raises(CommandError, match=f"report #{report.pk} failed again: .*Error"):
            _run("--resend", str(report.pk))
    assert WeeklyReport.objects.get(pk=report.pk).state == "failed"


def test_the_admin_filters_stuck_reports(client):
    _killed_mid_send("stuck@example.test")
    fresh = _killed_mid_send("fresh@example.test")
    WeeklyReport.objects.filter(pk=fresh.pk).update(claimed_at=dt.datetime.now(dt.UTC))
    client.force_login(User.objects.create_superuser("root", "r@example.test", "pw"))
    page = client.get("/admin/readiness/weeklyreport/?stuck=yes").content.decode()
    assert "stuck@example.test" in page and "fresh@example.test" not in page
    assert "stuck in sending" in client.get("/admin/readiness/weeklyreport/").content.decode()
