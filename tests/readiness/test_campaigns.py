"""Campaigns: where one stands, its burndown and projection, teams at risk, CSV, command and pages."""

from __future__ import annotations

import datetime as dt
import io

import pytest
import time_machine
from django.core.management import call_command
from django.core.management.base import CommandError

from readiness.models import Campaign, Repo, Rollup, Scan, Team
from readiness.queries.campaigns import campaign_csv, campaign_page, campaign_statuses
from readiness.services.campaigns import CampaignError, campaign_close, campaign_create
from readiness.services.rollups import rollup_row
from tests.readiness.factories import make_user

pytestmark = pytest.mark.django_db

TODAY = dt.date(2027, 2, 1)
START = TODAY - dt.timedelta(days=28)
ARM = "linux/arm64"
NOON = dt.datetime(2027, 2, 1, 12, 0, tzinfo=dt.UTC)


def _summary(state: str) -> dict:
    return {
        "wheel": 10,
        "sdist": 1 if state == "sdist" else 0,
        "none": 1 if state == "blocked" else 0,
        "unknown": 0,
        "n/a": 0,
        "blockers": 1 if state == "blocked" else 0,
        "ready": state == "ready",
        "complete": True,
    }


def _repo(name: str, team: Team, *, now: str, then: str, python: str = "3.12", libc: str = "glibc") -> Repo:
    repo = Repo.objects.create(name=name, url=f"https://git.example.test/{name}.git", team=team)
    targets = [{"id": ARM, "platform": ARM, "python": python, "libc": libc}]
    scan = Scan.objects.create(repo=repo, state="done", summary={ARM: _summary(now)}, targets=targets, finished_at=NOON)
    Repo.objects.filter(pk=repo.pk).update(latest_scan=scan)
    for day, state in ((START, then), (TODAY - dt.timedelta(days=1), now)):
        counts = {"repos": 1, state: 1, "blockers": int(state == "blocked")}
        rollup_row(day, Rollup.Scope.REPO, ARM, counts, repo_id=repo.pk, team_id=team.pk).save()
    return repo


@pytest.fixture
def org():
    a, b = Team.objects.create(name="a"), Team.objects.create(name="b")
    # Four weeks ago 4 of 6 repos were blocked (a: 3, b: 1); now 2 (both in a).
    _repo("a-1", a, now="blocked", then="blocked")
    _repo("a-2", a, now="blocked", then="blocked")
    _repo("a-3", a, now="ready", then="blocked")
    _repo("a-4", a, now="sdist", then="sdist")
    _repo("b-1", b, now="ready", then="blocked")
    _repo("b-2", b, now="ready", then="ready", libc="musl")
    return a, b


def _create(**kwargs) -> Campaign:
    return campaign_create(
        name="arm64 by end of quarter", targets=[ARM], start=START, due=TODAY + dt.timedelta(days=14), **kwargs
    )


def test_where_a_campaign_stands_and_when_it_will_be_done(org):
    campaign = _create()
    page = campaign_page(slug=campaign.slug, today=TODAY)
    assert page.now == {"ready": 3, "sdist": 1, "blocked": 2, "unknown": 0}
    assert page.at_start == {"ready": 1, "sdist": 1, "blocked": 4, "unknown": 0}
    assert page.burndown == [(START, 4), (TODAY - dt.timedelta(days=1), 2), (TODAY, 2)]
    # 2 fewer in 28 days: the last 2 take another 28 days, two weeks after the due date.
    assert page.status.word == "at risk" and page.status.projected == TODAY + dt.timedelta(days=28)
    assert page.status.text == "at risk: projected 2027-03-01, due 2027-02-15"
    assert [(t.team, t.blocked, t.blocked_then, t.at_risk) for t in page.team_progress] == [
        ("a", 2, 3, True),  # one fewer in 28 days: done in 56 more, after the due date
        ("b", 0, 1, False),
    ]
    assert page.blocked_triage == {"untriaged": 2, "in-progress": 0, "accepted": 0}
    chart = page.chart()
    assert chart["ideal"] == {"x": [START.isoformat(), "2027-02-15"], "y": [4, 0]}
    assert chart["projected"] == {"x": ["2027-02-01", "2027-03-01"], "y": [2, 0]}


def test_scope_by_team_and_by_libc(org):
    only_b = _create(teams=["b"])
    assert campaign_page(slug=only_b.slug, today=TODAY).status.word == "done"
    musl = campaign_create(name="alpine on arm", targets=[ARM], libc="musl", start=START, due=TODAY)
    page = campaign_page(slug=musl.slug, today=TODAY)
    assert [r.name for r in page.repos] == ["b-2"]


def test_on_track_past_due_and_closed(org):
    on_track = campaign_create(name="relaxed", targets=[ARM], start=START, due=TODAY + dt.timedelta(days=60))
    assert campaign_page(slug=on_track.slug, today=TODAY).status.word == "on track"
    late = campaign_create(name="late", targets=[ARM], start=START, due=TODAY - dt.timedelta(days=1))
    assert (
        campaign_page(slug=late.slug, today=TODAY).status.text
        == "past due since 2027-01-31: 2 of 6 repos still blocked"
    )
    campaign_close(late.slug)
    assert campaign_page(slug=late.slug, today=TODAY).status.word == "closed"
    assert [s.campaign.slug for s in campaign_statuses(today=TODAY)] == [on_track.slug]  # active ones


def test_bad_campaigns_are_refused(org):
    for kwargs, words in [
        ({"targets": []}, "at least one target"),
        ({"targets": ["arm64"]}, "not a target"),
        ({"teams": ["nobody"]}, "no team nobody"),
        ({"python": "3"}, "a series such as 3.12"),
    ]:
        with pytest.raises(CampaignError, match=words):
            campaign_create(**{"name": "x", "targets": [ARM], "start": START, "due": TODAY, **kwargs})
    with pytest.raises(CampaignError, match="before the start"):
        campaign_create(name="x", targets=[ARM], start=TODAY, due=START)
    assert _create().slug == "arm64-by-end-of-quarter" and _create().slug == "arm64-by-end-of-quarter-2"


def test_the_csv_has_every_repo_and_the_burndown_and_is_spreadsheet_safe(org):
    Repo.objects.filter(name="a-1").update(name="=HYPERLINK(1)")
    campaign = _create()
    rows = list(campaign_csv(slug=campaign.slug, today=TODAY))
    assert rows[0][:3] == ["row", "day", "repo"]
    repos = {r[2]: r for r in rows if r[0] == "repo"}
    assert repos["'=HYPERLINK(1)"][4:7] == ["blocked", "untriaged", "blocked"]
    assert [r[1:] for r in rows if r[0] == "burndown"][0] == [START.isoformat(), "", "", "", "", "", 4, 4.0, ""]
    assert rows[1][0] == "status" and rows[1][-1] == "at risk: projected 2027-03-01, due 2027-02-15"
    assert [r[3:5] + [r[7]] for r in rows if r[0] == "team"] == [["a", "at risk", 2], ["b", "done", 0]]


def test_the_command_creates_lists_and_closes():
    Team.objects.create(name="payments")
    out = io.StringIO()
    with time_machine.travel(NOON, tick=False):
        call_command(
            "campaign", "create", "arm64 Q1", "--target", ARM, "--due", "2027-03-31", "--team", "payments", stdout=out
        )
        call_command("campaign", "list", stdout=out)
        call_command("campaign", "close", "arm64-q1", stdout=out)
    lines = out.getvalue().splitlines()
    assert lines[0] == "created arm64-q1: arm64 Q1, due 2027-03-31"
    assert lines[1].startswith("arm64-q1") and "no repository in scope" in lines[1]
    assert lines[2] == "closed arm64-q1"
    with pytest.raises(CommandError, match="no campaign"):
        call_command("campaign", "close", "nope")
    with pytest.raises(CommandError, match="not a date"):
        call_command("campaign", "create", "x", "--target", ARM, "--due", "soon")


@time_machine.travel(NOON, tick=False)
def test_pages_for_every_role(client, org):
    campaign = _create()
    client.force_login(make_user("vic", role="viewer"))
    page = client.get(f"/campaigns/{campaign.slug}/").content.decode()
    assert "At risk: projected 2027-03-01, due 2027-02-15." in page
    assert "<strong>2</strong> untriaged" in page
    assert "Edit the campaign" not in page and "Create the campaign" not in client.get("/campaigns/").content.decode()
    assert client.post("/campaigns/new/", {"name": "x", "targets": ARM, "due": "2027-12-31"}).status_code == 403
    client.force_login(make_user("max", role="manager"))
    response = client.post(
        "/campaigns/new/", {"name": "Musl move", "targets": ARM, "libc": "musl", "due": "2027-12-31"}
    )
    assert response.status_code == 302 and response["Location"] == "/campaigns/musl-move/"
    assert Campaign.objects.get(slug="musl-move").libc == "musl"
    bad = client.post("/campaigns/new/", {"name": "x", "targets": ARM, "due": "never"}, follow=True)
    assert "not a date" in bad.content.decode()
    client.post("/campaigns/musl-move/close/")
    assert Campaign.objects.get(slug="musl-move").closed_at is not None
    assert client.get("/campaigns/nope/").status_code == 404
    csv = client.get(f"/campaigns/{campaign.slug}/campaign.csv")
    assert csv["Content-Type"].startswith("text/csv") and b"burndown" in b"".join(csv.streaming_content)


@time_machine.travel(NOON, tick=False)
@pytest.mark.parametrize("extra", [0, 40])
def test_the_campaign_page_costs_the_same_queries_whatever_the_size(client, org, django_assert_num_queries, extra):
    a = Team.objects.get(name="a")
    for i in range(extra):
        _repo(f"x-{i}", a, now="blocked" if i % 2 else "ready", then="blocked")
    campaign = _create()
    client.force_login(make_user("vic", role="viewer"))
    # session, user, the campaign, its teams, the repos in scope, the blocked repos' triage (3), the
    # roll-ups, the start day and its rows (2), the next actions (2), the team list, the user's
    # permissions (may they edit? 2)
    with django_assert_num_queries(16):
        assert client.get(f"/campaigns/{campaign.slug}/").status_code == 200


def test_the_weekly_email_opens_with_the_campaigns_of_the_subscribers_scope(org):
    from readiness.emails import weekly_report_render
    from readiness.queries.weekly_report import weekly_report

    _create()
    campaign_create(name="team b only", targets=[ARM], teams=["b"], start=START, due=TODAY + dt.timedelta(days=60))
    org_wide = weekly_report(teams=None, week=TODAY, today=TODAY, site_root="https://readiness.example.test")
    team_a = weekly_report(teams=["a"], week=TODAY, today=TODAY, site_root="https://readiness.example.test")
    assert [c.name for c in org_wide.campaigns] == ["arm64 by end of quarter", "team b only"]
    assert [c.name for c in team_a.campaigns] == ["arm64 by end of quarter"]  # b's campaign is not a's business
    email = weekly_report_render(team_a)
    head = email.text.split("\n== ", 1)[0]
    assert (
        "Campaigns:\n- arm64 by end of quarter: at risk: projected 2027-03-01, due 2027-02-15\n"
        "  team a: at risk, 2 blocked, projected 2027-03-29\n" in head
    )
    assert "https://readiness.example.test/campaigns/arm64-by-end-of-quarter/" in head
    assert "at risk: projected 2027-03-01" in email.html


def test_a_repo_is_judged_on_the_campaign_targets_it_is_blocked_on():
    from readiness.services.triage import BlockerKey, triage_change
    from tests.readiness.factories import seed_org

    seed_org(repos=3)  # svc-0002: only grpcio blocks it, and only on linux/arm64
    repo = Repo.objects.select_related("latest_scan").get(name="svc-0002")
    user = make_user("erin", role="engineer")
    triage_change(repo=repo, key=BlockerKey("package", "grpcio", ARM), action="accept", user=user, reason="amd64-only")
    campaign = campaign_create(name="both", targets=["linux/amd64", ARM], due=dt.date.today() + dt.timedelta(days=30))
    page = campaign_page(slug=campaign.slug)
    # Ready on amd64, so nothing there is untriaged: its one blocker is accepted.
    assert page.triage_of[repo.pk] == "accepted"
