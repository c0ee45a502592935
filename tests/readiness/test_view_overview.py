"""The overview page: readiness per target, change since last week, trend chart, next actions."""

from __future__ import annotations

import pytest

from readiness.models import Repo, Team
from readiness.queries.overview import target_readiness
from tests.readiness.factories import seed_org, viewer_client  # noqa: F401  (fixture)

pytestmark = pytest.mark.django_db


def test_empty_database_explains_how_to_add_repos(viewer_client):
    response = viewer_client.get("/")
    assert response.status_code == 200
    assert b"No repositories yet" in response.content
    assert b"import_repos" in response.content


def test_repos_without_scans_say_how_to_scan(viewer_client):
    Repo.objects.create(name="fresh", url="/srv/git/fresh")
    response = viewer_client.get("/")
    assert b"No finished scan yet" in response.content
    assert b"Rescan now" in response.content


def test_readiness_counts_percentages_and_change_since_last_week(viewer_client):
    seed_org(repos=10, weeks=4)
    response = viewer_client.get("/")
    page = response.context["page"]
    arm = next(t for t in page.targets if t.target == "linux/arm64")
    amd = next(t for t in page.targets if t.target == "linux/amd64")
    # arm64: blocked when r is even (grpcio), r % 3 == 0 (filprofiler) or r % 4 == 0 (Dockerfile):
    # r in 0,2,3,4,6,8,9 -> 7; not blocked but psutil builds from source: 1,7 -> 2; ready: 5 -> 1.
    assert (arm.repos, arm.blocked, arm.builds_from_source, arm.ready) == (10, 7, 2, 1)
    assert (arm.blocked_pct, arm.builds_from_source_pct, arm.ready_pct) == (70.0, 20.0, 10.0)
    # The rollup of a week ago had repo 4 blocked on amd64 too (r % 3 == 1, fixed 1 + 4 % 4 weeks ago).
    assert (amd.repos, amd.ready, amd.last_week.ready, amd.ready_change) == (10, 10, 9, 1)
    assert arm.blocked_change == 0
    html = response.content.decode()
    assert '<strong class="figure">10 %</strong> ready' in html and "+1 this week" in html
    assert "10 of 10 repos" in html


def test_page_shows_chart_table_top_blocker_fix_and_recent_repos(viewer_client):
    seed_org(repos=6)
    html = viewer_client.get("/").content.decode()
    assert 'id="trend-chart"' in html and 'id="trend-data"' in html
    assert "/static/vendor/plotly.min.js" in html  # served locally, no CDN
    assert "The numbers behind the chart" in html
    assert 'href="/packages/grpcio/"' in html and "upgrade grpcio to 1.60.0" in html
    assert "ask upstream for filprofiler wheels" in html
    assert 'href="/repos/svc-0000/"' in html


def test_next_actions_merge_packages_and_dockerfiles_ranked_by_repos(viewer_client):
    seed_org(repos=12)
    actions = viewer_client.get("/").context["page"].next_actions
    assert [(a.title, len(a.repos)) for a in actions] == [
        ("upgrade grpcio to 1.60.0", 6),
        ("ask upstream for filprofiler wheels", 4),
        ("remove --platform=linux/amd64 from 3 Dockerfiles", 3),  # a Dockerfile blocker ranks with the rest
    ]
    assert actions[2].repo_names == ["svc-0000", "svc-0004", "svc-0008"]


@pytest.mark.parametrize("team", [None, "team-1"])
def test_every_count_links_to_exactly_the_repos_it_counts(viewer_client, team):
    import re
    from html import unescape

    seed_org(repos=10, teams=3)
    html = viewer_client.get("/" + (f"?team={team}" if team else "")).content.decode()
    links = re.findall(r'<a href="(/repos/\?[^"]*state=[^"]*)"><span class="swatch[^>]*></span>(\d+) ', html)
    assert len(links) == 8  # 4 states × 2 targets
    for href, count in links:
        page = viewer_client.get(unescape(href)).context["page"]
        assert len(page.rows) == int(count), href
        if team:
            assert "team=team-1" in href


def test_team_filter_is_applied_and_kept_in_links(viewer_client):
    seed_org(repos=9, teams=3)
    response = viewer_client.get("/?team=team-1")
    page = response.context["page"]
    assert page.repos == 3
    assert 'href="/repos/?team=team-1"' in response.content.decode()


def test_unknown_team_is_ignored_and_said(viewer_client):
    seed_org(repos=3)
    response = viewer_client.get("/?team=nope<b>")
    assert response.status_code == 200
    assert response.context["page"].repos == 3
    assert "There is no team named “nope&lt;b&gt;”" in response.content.decode()


@pytest.mark.parametrize(
    ("summaries", "expected"),
    [
        ([], {}),
        (
            [{"t": {"ready": True, "blockers": 0}}],
            {"t": {"repos": 1, "ready": 1, "sdist": 0, "blocked": 0, "unknown": 0}},
        ),
        (
            [{"t": {"ready": False, "blockers": 2}}, {"t": {"ready": False, "blockers": 0}}],
            {"t": {"repos": 2, "ready": 0, "sdist": 1, "blocked": 1, "unknown": 0}},
        ),
        # An incomplete answer is unknown, never ready: stored as such, or (older scans) an
        # "unknown" count next to a "ready" flag.
        (
            [
                {"t": {"ready": False, "blockers": 0, "complete": False, "unknown": 3}},
                {"t": {"ready": True, "blockers": 0, "unknown": 1}},
                {"t": {"ready": False, "blockers": 1, "complete": False, "unknown": 1}},
            ],
            {"t": {"repos": 3, "ready": 0, "sdist": 0, "blocked": 1, "unknown": 2}},
        ),
        ([{"t": "garbage"}, None], {}),
    ],
)
def test_target_readiness_counts(summaries, expected):
    assert target_readiness(summaries) == expected


@pytest.mark.parametrize("repos", [1, 50])
def test_query_count_does_not_grow_with_repos(viewer_client, django_assert_num_queries, repos):
    seed_org(repos=repos, packages=20)
    Team.objects.create(name="empty-team")
    # session, user, team list, repo summaries, rollups, next actions (blocking verdict rows, blocker
    # findings), recent repos, the active campaigns (none here), the blocked repos' triage (blocking
    # verdicts, blocking findings, triages)
    with django_assert_num_queries(12):
        response = viewer_client.get("/")
    assert response.status_code == 200


def test_a_rescan_that_found_nothing_new_keeps_the_repo_at_its_last_change(viewer_client):
    from readiness.models import Scan

    seed_org(repos=4, weeks=2)  # odd repos' latest scans are "unchanged", pointing at last week's
    recent = viewer_client.get("/").context["page"].recent
    assert [r.name for r in recent] == ["svc-0000", "svc-0002", "svc-0001", "svc-0003"]
    for r in recent:
        latest = Repo.objects.get(name=r.name).latest_scan
        answered_by = latest.results_from if latest.unchanged else latest
        assert r.finished_at == answered_by.finished_at
    assert Scan.objects.filter(unchanged=True, repo__name__in=["svc-0001", "svc-0003"]).count() == 2
