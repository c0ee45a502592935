"""The weekly email's HTML part, as received by a real SMTP server, rendered by chromium: a screenshot.

No stylesheet, script or image: what the browser shows is what inline-styled tables give a mail client.
"""

from __future__ import annotations

import pytest
import time_machine

from readiness.services.reports import reports_send_due, subscribe_email
from tests.readiness.factories import seed_org
from tests.readiness.test_service_reports import MONDAY_9, _point_mail_at
from tests.support.smtp_server import SmtpServer

# Transactional like the live_server tests: the ORM runs beside Playwright's event loop, and a
# test-wide transaction would leave its connection open past the test database's teardown.
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def test_weekly_email_html_renders_bars_and_sparklines(page, screenshot, settings):
    with SmtpServer() as server:
        _point_mail_at(settings, server.port)
        with time_machine.travel(MONDAY_9, tick=False):
            seed_org(repos=40, weeks=12)
            subscribe_email(email="lead@example.test", teams=["team-0", "team-1"])
            assert reports_send_due().counts()["sent"] == 1
        html = server.messages[0].get_body(("html",)).get_content()
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.set_viewport_size({"width": 700, "height": 900})
    page.set_content(html)
    path = screenshot("weekly-email")
    assert path.stat().st_size > 10_000
    assert requests == []  # nothing fetched from anywhere
    assert page.locator("h2").all_inner_texts() == ["Team team-0", "Team team-1"]
    # The stacked bar's parts have the widths of their shares (160 px table: 70 % blocked is ~112 px).
    bars = page.locator("table.bar")
    assert bars.count() == 4
    widths = {part: page.locator(f"td.bar-{part}").first.bounding_box()["width"] for part in ("ready", "blocked")}
    assert all(w > 5 for w in widths.values())
    total = bars.first.bounding_box()["width"]
    assert 150 <= total <= 170
    # 12 weeks of history: 13 weekly bars per target, the newest drawn in the darker colour.
    assert page.locator("table.spark").first.locator("td").count() == 13
