"""/export/blockers.csv: the blockers page's groups, one row per (package, version, target, fix)."""

from __future__ import annotations

import csv
import io

import pytest

from tests.readiness.factories import seed_org, viewer_client  # noqa: F401  (fixture)

pytestmark = pytest.mark.django_db


def _rows(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))


def test_rows_ranked_with_fixes(viewer_client):
    seed_org(repos=12)
    assert _rows(viewer_client.get("/export/blockers.csv")) == [
        ["package", "version", "target", "repos", "fix_version", "fix"],
        ["grpcio", "1.30.0", "linux/arm64", "6", "1.60.0", "upgrade to 1.60.0"],
        ["filprofiler", "2022.5.0", "linux/arm64", "4", "", "ask upstream for a wheel for linux/arm64"],
    ]


def test_team_filter_and_empty(viewer_client):
    seed_org(repos=6, teams=2)
    assert [r[0] for r in _rows(viewer_client.get("/export/blockers.csv?team=team-1"))[1:]] == ["filprofiler"]
    assert _rows(viewer_client.get("/export/blockers.csv?team=team-1&x=<")) != []


@pytest.mark.parametrize("repos", [1, 50])
def test_query_count_does_not_grow_with_repos(viewer_client, django_assert_num_queries, repos):
    seed_org(repos=repos, packages=5)
    # session, user, team list, ranked packages, their groups, the chains that pull them in
    with django_assert_num_queries(6):
        assert len(_rows(viewer_client.get("/export/blockers.csv"))) == 3  # header, grpcio, filprofiler (repo 0 has both)
