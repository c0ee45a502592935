"""/export/trends.csv: the rollups behind the trends page's charts."""

from __future__ import annotations

import csv
import io

import pytest
from django.utils import timezone

from tests.readiness.factories import seed_org, viewer_client  # noqa: F401  (fixture)

pytestmark = pytest.mark.django_db


def _rows(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))


def test_org_and_team_rows(viewer_client):
    seed_org(repos=6, weeks=2, teams=2)
    rows = _rows(viewer_client.get("/export/trends.csv?period=2w"))
    assert rows[0] == [
        "day",
        "scope",
        "team",
        "target",
        "repos",
        "ready",
        "builds_from_source",
        "blocked",
        "unknown",
        "blockers",
    ]
    today = timezone.localdate().isoformat()
    assert [today, "org", "", "linux/amd64", "6", "6", "0", "0", "0", "0"] in rows
    assert [today, "team", "team-1", "linux/amd64", "3", "3", "0", "0", "0", "0"] in rows
    assert len(rows) == 1 + 15 * 2 + 15 * 2 * 2  # 15 days × (2 org targets + 2 teams × 2 targets)


@pytest.mark.parametrize(("query", "days"), [("?period=1w", 8), ("?period=bogus", 15), ("", 15)])
def test_period(viewer_client, query, days):
    seed_org(repos=2, weeks=2, teams=1)
    rows = _rows(viewer_client.get("/export/trends.csv" + query))[1:]
    assert len({r[0] for r in rows}) == days


def test_team_filter(viewer_client):
    seed_org(repos=4, weeks=1, teams=2)
    rows = _rows(viewer_client.get("/export/trends.csv?team=team-0"))[1:]
    assert {(r[1], r[2]) for r in rows} == {("team", "team-0")}


@pytest.mark.parametrize("repos", [1, 50])
def test_query_count_does_not_grow_with_repos(viewer_client, django_assert_num_queries, repos):
    seed_org(repos=repos, packages=3, weeks=2)
    # session, user, team list, org rollups, team rollups
    with django_assert_num_queries(5):
        assert len(_rows(viewer_client.get("/export/trends.csv"))) > 1
