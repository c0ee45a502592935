"""A manager's path through the dashboard in a real browser: log in, read the overview (chart and
next actions), open the blocked repo, find the blocker's row and its fix, and rescan it; every page
fits a phone's width, and every overview count leads to exactly the repos it counts."""

from __future__ import annotations

import re

import pytest

from readiness.models import Repo, Scan
from tests.browser.conftest import ARTIFACTS
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
    make_user("boss", role="manager")
    Repo.objects.filter(name="svc-0000").update(url=str(tmp_path / "no-such-repo"))

    _log_in(page, live_server, "boss")
    # The trend chart is drawn by plotly (served from /static/vendor) as an SVG.
    page.wait_for_selector("#trend-chart svg.main-svg")
    top = page.locator("ol.actions li").first
    assert top.locator(".action-title").inner_text() == "upgrade grpcio to 1.60.0"
    assert top.locator(".unblocks").inner_text() == "4 repos · linux/arm64"
    screenshot("overview")

    page.click("text=Repositories")
    page.click("a[href^='/repos/svc-0000/']")
    page.wait_for_url(re.compile(r"/repos/svc-0000/$"))
    row = page.locator("table.problems tbody tr", has=page.locator("th", has_text="grpcio"))
    assert "none" in row.inner_text()
    assert "upgrade to 1.60.0" in row.inner_text()
    assert page.locator("details.healthy summary").inner_text().endswith("install from a wheel on every target")
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
    for chart in ("#chart-targets", "#chart-blockers"):
        page.wait_for_selector(f"{chart} svg.main-svg")
    assert page.locator("table.heatmap").count() == 2
    screenshot("trends")


PAGES = ["/", "/repos/", "/repos/svc-0000/", "/blockers/", "/trends/", "/upstream/"]


@pytest.mark.parametrize("width", [390, 1440])
def test_no_page_overflows_sideways(browser, live_server, width):
    """Wide tables scroll inside their own container: the page itself never scrolls sideways."""
    from readiness.services.upstream import upstream_refresh
    from scanners.project_metadata import ProjectMetadata

    seed_org(repos=12, weeks=4, teams=3)
    upstream_refresh(fetch_metadata=lambda name: ProjectMetadata(name, error="not asked in this test"))
    make_user("viewer")
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    try:
        _log_in(page, live_server, "viewer")
        for path in PAGES:
            page.goto(f"{live_server.url}{path}")
            page.wait_for_load_state("networkidle")
            scroll = page.evaluate("document.documentElement.scrollWidth")
            assert scroll <= width, f"{path} is {scroll} px wide at {width} px"
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / f"width-{width}{path.replace('/', '_')}.png"), full_page=True)
    finally:
        context.close()


def test_overview_counts_lead_to_exactly_the_repos_they_count(page, live_server):
    seed_org(repos=10, weeks=2)
    make_user("viewer")
    _log_in(page, live_server, "viewer")
    links = page.locator(".target-card .legend a")
    assert links.count() == 8
    expected = [(links.nth(i).get_attribute("href"), int(links.nth(i).inner_text().split()[0])) for i in range(8)]
    for href, count in expected:
        page.goto(f"{live_server.url}{href}")
        assert page.locator("table.repos tbody tr").count() == count, href
