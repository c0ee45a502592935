"""``manage.py weekly_report``: --preview writes the HTML and prints the text; --send is idempotent."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import pytest
import time_machine
from django.core.management import CommandError, call_command

from readiness.models import WeeklyReport
from readiness.services.reports import subscribe_email
from tests.readiness.factories import seed_org
from tests.readiness.test_service_reports import MONDAY_9, _point_mail_at
from tests.support.smtp_server import SmtpServer, free_port

pytestmark = pytest.mark.django_db


def _run(*args) -> str:
    out = io.StringIO()
    call_command("weekly_report", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


@pytest.mark.parametrize(
    ("team", "title", "link"),
    [
        (None, "== Whole organisation: 10 repos", "/blockers/"),
        ("team-2", "== Team team-2: 3 repos", "/blockers/?team=team-2"),
    ],
)
def test_preview_writes_html_and_prints_text(tmp_path, settings, team, title, link):
    settings.SITE_ROOT = "http://readiness.test"
    seed_org(repos=10, weeks=4)
    out = _run("--preview", "--out", str(tmp_path), *(["--team", team] if team else []))
    html_path = Path(next(line for line in out.splitlines() if line.startswith("HTML: ")).removeprefix("HTML: "))
    assert html_path.parent == tmp_path and html_path.suffix == ".html"
    html = html_path.read_text()
    assert html.startswith("<!doctype html>") and f'href="http://readiness.test{link}"' in html
    assert title in out and "Next actions (" in out and "Subject: Arch readiness" in out
    assert WeeklyReport.objects.count() == 0  # a preview sends and records nothing


def test_preview_of_an_unknown_team_is_an_error_naming_the_teams(tmp_path):
    seed_org(repos=3)
    with pytest.raises(CommandError, match="unknown team.*nope.*known teams: team-0, team-1, team-2"):
        _run("--preview", "--team", "nope", "--out", str(tmp_path))


def test_send_twice_in_the_same_week_sends_once(settings):
    with SmtpServer() as server:
        _point_mail_at(settings, server.port)
        with time_machine.travel(MONDAY_9, tick=False):
            seed_org(repos=4)
            subscribe_email(email="a@example.test")
            subscribe_email(email="b@example.test", teams=["team-1"])
            assert "sent 2, failed 0, skipped 0" in _run("--send")
        with time_machine.travel(MONDAY_9 + dt.timedelta(days=2), tick=False):
            assert "sent 0, failed 0, skipped 0" in _run("--send")
        assert sorted(server.recipients) == ["a@example.test", "b@example.test"]


def test_send_with_the_mail_server_down_fails_loudly_and_records_it(settings):
    _point_mail_at(settings, free_port())
    with time_machine.travel(MONDAY_9, tick=False):
        seed_org(repos=2)
        subscribe_email(email="a@example.test")
        with pytest.raises(CommandError, match="1 report.*failed.*retried by the next run"):
            _run("--send")
    assert WeeklyReport.objects.get().state == "failed"


def test_send_before_the_scheduled_hour_sends_nothing(settings):
    _point_mail_at(settings, free_port())
    subscribe_email(email="a@example.test")
    with time_machine.travel(MONDAY_9 - dt.timedelta(hours=2), tick=False):
        assert _run("--send") == ""
    assert not WeeklyReport.objects.exists()


def test_preview_and_send_are_exclusive():
    with pytest.raises(CommandError):
        _run("--preview", "--send")
