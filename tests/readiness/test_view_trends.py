"""The trends page: readiness per target and per team, blockers opened/closed per week, period."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from readiness.models import Scan
from readiness.queries.trends import parse_period, trends_page
from tests.readiness.factories import seed_org, viewer_client  # noqa: F401  (fixture)

pytestmark = pytest.mark.django_db


def test_empty_database_explains(viewer_client):
    response = viewer_client.get("/trends/")
    assert response.status_code == 200
    assert b"No daily roll-ups" in response.content


def test_charts_and_tables(viewer_client):
    seed_org(repos=6, weeks=4)
    response = viewer_client.get("/trends/")
    html = response.content.decode()
    for chart in ("chart-targets", "chart-blockers", "trends-data"):
        assert f'id="{chart}"' in html
    page = response.context["page"]
    assert [s.name for s in page.targets] == ["linux/amd64", "linux/arm64"]
    assert len(page.targets[0].points) == 4 * 7 + 1
    assert {s.name for s in page.teams} == {f"team-{k} · {t}" for k in range(3) for t in ("linux/amd64", "linux/arm64")}
    charts = response.context["charts"]
    assert charts["targets"][0]["y"][-1] == 100.0  # amd64 is ready everywhere today
    # Teams: one team × week heat map per target (legible at 20 teams, where 40 lines are not).
    maps = page.heatmaps
    assert [m.target for m in maps] == ["linux/amd64", "linux/arm64"]
    assert [team for team, _points in maps[0].rows] == ["team-0", "team-1", "team-2"]
    assert len(maps[0].weeks) == 5 and all(len(points) == 5 for _team, points in maps[0].rows)
    assert html.count('<table class="heatmap">') == 2 and 'class="heat-4"' in html


def test_blockers_closed_per_week(viewer_client):
    # repos with r % 3 == 1 lose one blocker (per target) 1 + r % weeks weeks ago:
    # weeks=4, repos 1, 4, 7 -> 2, 1 and 4 weeks ago.
    seed_org(repos=9, weeks=4)
    page = trends_page(team=None, weeks=4)
    today = timezone.localdate()
    closed = {w.week: w.closed for w in page.blockers}
    assert all(w.opened == 0 for w in page.blockers)
    assert closed == {
        today - dt.timedelta(weeks=3): 2,
        today - dt.timedelta(weeks=2): 0,
        today - dt.timedelta(weeks=1): 2,
        today: 2,
    }
    html = viewer_client.get("/trends/?period=4w").content.decode()
    assert '<th scope="col">closed</th>' in html


@pytest.mark.parametrize(
    ("query", "weeks", "notice"),
    [
        ("", 12, False),
        ("?period=4w", 4, False),
        ("?period=52w", 52, False),
        ("?period=lots", 12, True),
        ("?period=0w", 12, True),
        ("?period=-3w", 12, True),
    ],
)
def test_period(viewer_client, query, weeks, notice):
    seed_org(repos=2, weeks=2)
    response = viewer_client.get("/trends/" + query)
    assert response.status_code == 200
    assert response.context["page"].weeks == weeks
    assert ("is not a period" in response.content.decode()) is notice


@pytest.mark.parametrize(
    ("value", "weeks"), [("12w", 12), ("1w", 1), ("156w", 156), ("157w", None), ("12", None), (None, None), ("w", None)]
)
def test_parse_period(value, weeks):
    assert parse_period(value) == weeks


def test_team_filter(viewer_client):
    seed_org(repos=6, weeks=2)
    page = viewer_client.get("/trends/?team=team-0").context["page"]
    assert page.targets[0].points[-1].repos == 2
    assert {s.team for s in page.teams} == {"team-0"}


@pytest.mark.parametrize("repos", [1, 50])
def test_query_count_does_not_grow_with_repos(viewer_client, django_assert_num_queries, repos):
    seed_org(repos=repos, packages=5, weeks=3)
    # session, user, team list, target series, team series, weekly blockers, any backfilled point
    with django_assert_num_queries(7):
        assert viewer_client.get("/trends/?period=4w").status_code == 200


def test_a_footnote_says_how_backfilled_points_were_decided_when_there_are_any(viewer_client):
    org = seed_org(repos=2, weeks=3)
    assert 'id="backfill-note"' not in viewer_client.get("/trends/").content.decode()

    Scan.objects.filter(pk=org.latest["svc-0000"].pk).update(
        trigger="backfill", as_of=timezone.now() - dt.timedelta(weeks=2)
    )
    html = viewer_client.get("/trends/").content.decode()
    assert 'id="backfill-note"' in html
    assert "analysed against the package index as it was then" in html
    assert "yanks are applied as they stand today, because the index records no yank date" in html
