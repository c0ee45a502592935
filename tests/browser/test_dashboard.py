"""A manager's path through the dashboard in a real browser: log in, read the overview (chart and
top blocker), open the blocked repo, find the blocker's row and its fix, and rescan it."""

from __future__ import annotations

import re

import pytest

from readiness.models import Repo, Scan
from tests.readiness.factories import make_user, seed_org

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def _log_in(page, live_server, username: str) -> None:
    page.goto(f"{live_server.url}/")
    assert "/accounts/login/" in page.url  # anonymous visitors are sent to the login page
    page.fill("#id_username", username)
    page.fill("#id_password", "pw")
    page.click("form.login button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")


def test_overview_repo_blocker_and_rescan(page, live_server, screenshot, tmp_path):
    seed_org(repos=8, weeks=4)
    make_user("boss", staff=True)
    Repo.objects.filter(name="svc-0000").update(url=str(tmp_path / "no-such-repo"))

    _log_in(page, live_server, "boss")
    # The trend chart is drawn by plotly (served from /static/vendor) as an SVG.
    page.wait_for_selector("#trend-chart svg.main-svg")
    top = page.locator("table.blockers tbody tr").first
    assert top.locator("th").inner_text() == "grpcio"
    assert top.locator("td.fix").inner_text() == "upgrade to 1.60.0"
    screenshot("overview")

    page.click("text=Repositories")
    page.click("a[href^='/repos/svc-0000/']")
    page.wait_for_url(re.compile(r"/repos/svc-0000/$"))
    row = page.locator("table.matrix tbody tr", has=page.locator("th", has_text="grpcio"))
    assert "none" in row.inner_text()
    assert "upgrade to 1.60.0" in row.inner_text()
    screenshot("repo")

    page.click("form.rescan button")
    page.wait_for_url(re.compile(r"/repos/svc-0000/#scan$"))
    scan = Scan.objects.get(repo__name="svc-0000", trigger="manual")
    state = page.locator("#scan [data-state]")
    assert page.locator("#scan").inner_text().startswith(f"Scan #{scan.pk}")
    assert state.inner_text() == scan.state  # the URL is fake: the scan failed, and the page says so
    assert scan.state == Scan.State.FAILED
    screenshot("rescan")


def test_viewer_sees_no_rescan_button_and_the_trends_charts(page, live_server, screenshot):
    seed_org(repos=5, weeks=3)
    make_user("viewer")
    _log_in(page, live_server, "viewer")
    page.goto(f"{live_server.url}/repos/svc-0001/")
    assert page.locator("form.rescan").count() == 0
    page.goto(f"{live_server.url}/trends/?period=4w")
    for chart in ("#chart-targets", "#chart-teams", "#chart-blockers"):
        page.wait_for_selector(f"{chart} svg.main-svg")
    screenshot("trends")
