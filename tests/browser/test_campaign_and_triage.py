"""A manager starts a campaign and an engineer triages a blocker, in a real browser, end to end."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from readiness.models import BlockerTriage, Campaign
from tests.browser.test_dashboard import _log_in
from tests.readiness.factories import make_user, seed_org

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_a_manager_starts_a_campaign_and_an_engineer_takes_a_blocker(page, live_server, screenshot):
    seed_org(repos=6, weeks=4)
    make_user("boss", role="manager")
    make_user("erin", role="engineer")
    due = dt.date.today() + dt.timedelta(days=90)

    _log_in(page, live_server, "boss")
    page.click("nav >> text=Campaigns")
    form = page.locator("form.campaign-form")
    form.locator("input[name=name]").fill("arm64 by end of quarter")
    form.locator("input[name=due]").fill(due.isoformat())
    form.locator("select[name=teams]").select_option(["team-0", "team-1"])
    form.locator("button[type=submit]").click()
    page.wait_for_url(re.compile(r"/campaigns/arm64-by-end-of-quarter/$"))
    page.wait_for_selector("#chart-burndown svg.main-svg")  # the burndown, drawn by plotly
    campaign = Campaign.objects.get()
    assert sorted(campaign.teams.values_list("name", flat=True)) == ["team-0", "team-1"]
    assert "teams team-0, team-1" in page.locator("p.meta").first.inner_text()
    assert page.locator(".campaign-headline .badge").inner_text() in ("on track", "at risk", "no trend yet")
    screenshot("campaign")

    page.click("text=Log out")
    _log_in(page, live_server, "erin")
    page.goto(f"{live_server.url}/repos/svc-0000/")
    blocker = page.locator("li.triage", has=page.locator(".triage-what", has_text="grpcio"))
    assert blocker.locator(".badge").inner_text() == "untriaged"
    blocker.locator("summary", has_text="Triage").click()
    blocker.locator("select[name=action]").select_option("assign")
    blocker.locator("select[name=assignee]").select_option("erin")
    blocker.locator("input[name=note]").fill("upgrading next sprint")
    blocker.locator("button[type=submit]").click()
    page.wait_for_url(re.compile(r"/repos/svc-0000/#triage$"))
    blocker = page.locator("li.triage", has=page.locator(".triage-what", has_text="grpcio"))
    assert blocker.locator(".badge").inner_text() == "assigned" and "→ erin" in blocker.inner_text()
    page.click("details.triage-history summary")
    assert "assigned to erin; upgrading next sprint" in page.locator("details.triage-history").inner_text()
    screenshot("triage")
    assert BlockerTriage.objects.get().assignee.username == "erin"

    page.goto(f"{live_server.url}/blockers/?triage=mine")
    assert page.locator("table.blockers tbody th a").all_inner_texts() == ["grpcio"]
