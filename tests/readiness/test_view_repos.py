"""The repositories page: team, readiness per target, blockers, last scan; filter, sort, search, pages."""

from __future__ import annotations

import pytest

from readiness.models import Repo
from tests.readiness.factories import seed_org, viewer_client  # noqa: F401  (fixture)

pytestmark = pytest.mark.django_db


def _names(response) -> list[str]:
    return [r.name for r in response.context["rows"]]


def test_empty_database(viewer_client):
    response = viewer_client.get("/repos/")
    assert response.status_code == 200
    assert b"No repositories yet" in response.content


def test_rows_show_team_states_blockers_and_last_scan(viewer_client):
    seed_org(repos=4)
    response = viewer_client.get("/repos/")
    html = response.content.decode()
    assert _names(response) == ["svc-0000", "svc-0001", "svc-0002", "svc-0003"]
    row = response.context["rows"][0]
    # repo 0: grpcio + filprofiler none on arm64, plus the Dockerfile blocker
    assert (row.team, row.states, row.blockers) == ("team-0", {"linux/amd64": "ready", "linux/arm64": "blocked"}, 3)
    assert "builds from source" in html and "<time" in html


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("?q=0001", ["svc-0001"]),
        ("?q=SVC-000", ["svc-0000", "svc-0001", "svc-0002", "svc-0003", "svc-0004", "svc-0005"]),
        ("?team=team-1", ["svc-0001", "svc-0004"]),
        ("?state=ready", ["svc-0005"]),
        ("?state=sdist", ["svc-0001"]),
        ("?state=blocked&team=team-0", ["svc-0000", "svc-0003"]),
        ("?state=unscanned", ["never-scanned"]),
        ("?sort=-name&team=team-2", ["svc-0005", "svc-0002"]),
        ("?sort=blockers&q=svc", ["svc-0001", "svc-0005", "svc-0002", "svc-0003", "svc-0004", "svc-0000"]),
        ("?sort=target:linux/arm64&q=svc", ["svc-0000", "svc-0002", "svc-0003", "svc-0004", "svc-0001", "svc-0005"]),
        ("?sort=-target:linux/arm64&q=svc", ["svc-0005", "svc-0001", "svc-0004", "svc-0003", "svc-0002", "svc-0000"]),
        # odd input is ignored, never an error
        ("?sort=password&state=bogus&q=svc", ["svc-0000", "svc-0001", "svc-0002", "svc-0003", "svc-0004", "svc-0005"]),
        (
            "?sort=target:linux/s390x&q=svc&page=abc",
            ["svc-0000", "svc-0001", "svc-0002", "svc-0003", "svc-0004", "svc-0005"],
        ),
        ("?team=unknown&q=never", ["never-scanned"]),
    ],
)
def test_filter_sort_search(viewer_client, query, expected):
    seed_org(repos=6)
    Repo.objects.create(name="never-scanned", url="/srv/git/x")
    response = viewer_client.get("/repos/" + query)
    assert response.status_code == 200
    assert _names(response) == expected


def test_sort_links_keep_the_team_and_toggle_direction(viewer_client):
    seed_org(repos=3)
    html = viewer_client.get("/repos/?team=team-0&sort=name").content.decode()
    assert 'href="?team=team-0&amp;sort=-name"' in html
    assert 'href="?team=team-0&amp;sort=blockers"' in html


def test_pagination_keeps_filters(viewer_client):
    seed_org(repos=120, packages=4, rollups=False)
    response = viewer_client.get("/repos/?sort=-name&page=2")
    assert len(response.context["rows"]) == 50
    assert _names(response)[0] == "svc-0069"
    assert 'href="?sort=-name&amp;page=3"' in response.content.decode()
    assert viewer_client.get("/repos/?page=999").context["rows"].number == 3


def test_no_match_explains(viewer_client):
    seed_org(repos=2)
    assert "No repository matches “zzz”" in viewer_client.get("/repos/?q=zzz").content.decode()


@pytest.mark.parametrize("repos", [1, 50])
def test_query_count_does_not_grow_with_repos(viewer_client, django_assert_num_queries, repos):
    seed_org(repos=repos, packages=20)
    # session, user, team list, repos with their latest summary
    with django_assert_num_queries(4):
        response = viewer_client.get("/repos/?sort=-target:linux/arm64")
    assert len(response.context["rows"]) == min(repos, 50)
    with django_assert_num_queries(4):  # the target filter works on the same row per repo
        response = viewer_client.get("/repos/?target=linux/arm64&state=blocked")
    assert response.context["page"].target == "linux/arm64"


def test_target_filter_counts_the_state_on_that_target_only(viewer_client):
    seed_org(repos=10)
    # arm64 blocked: r even (grpcio), r % 3 == 0 (filprofiler), r % 4 == 0 (pinned): 0,2,3,4,6,8,9.
    arm = viewer_client.get("/repos/?target=linux/arm64&state=blocked").context["page"]
    assert [r.name for r in arm.rows] == [f"svc-{i:04d}" for i in (0, 2, 3, 4, 6, 8, 9)]
    amd = viewer_client.get("/repos/?target=linux/amd64&state=ready").context["page"]
    assert len(amd.rows) == 10
    ignored = viewer_client.get("/repos/?target=linux/sparc&state=blocked").context["page"]
    assert ignored.target == "" and len(ignored.rows) == 7  # an unknown target: the worst state overall


def test_unknown_state_filter(viewer_client):
    seed_org(repos=3, weeks=1)
    scan = Repo.objects.get(name="svc-0001").latest_scan
    scan.summary = {t: {**s, "complete": False, "ready": False, "blockers": 0} for t, s in scan.summary.items()}
    scan.save(update_fields=["summary"])
    page = viewer_client.get("/repos/?state=unknown").context["page"]
    assert [r.name for r in page.rows] == ["svc-0001"]
    assert page.rows[0].states == {"linux/amd64": "unknown", "linux/arm64": "unknown"}
    assert (
        '<option value="unknown" selected>unknown</option>'
        in viewer_client.get("/repos/?state=unknown").content.decode()
    )
