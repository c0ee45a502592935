"""/export/blockers.csv: one row per (repo, blocker), with the next action that fixes it."""

from __future__ import annotations

import csv
import io

import pytest

from tests.readiness.factories import seed_org, viewer_client  # noqa: F401  (fixture)

pytestmark = pytest.mark.django_db

HEADER = ["repo", "team", "target", "blocker", "where", "action_kind", "action"]


def _rows(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))


def test_one_row_per_repo_and_blocker_with_its_action(viewer_client):
    seed_org(repos=12)
    rows = _rows(viewer_client.get("/export/blockers.csv"))
    assert rows[0] == HEADER
    # grpcio blocks the even repos, filprofiler every third, a pinned Dockerfile every fourth.
    assert len(rows) - 1 == 6 + 4 + 3
    assert rows[1:4] == [
        [
            "svc-0000",
            "team-0",
            "",
            "platform-pinned",
            "Dockerfile:1",
            "platform-pin",
            "remove --platform=linux/amd64 from 3 Dockerfiles",
        ],
        [
            "svc-0000",
            "team-0",
            "linux/arm64",
            "filprofiler==2022.5.0",
            "uv.lock",
            "upstream",
            "ask upstream for filprofiler wheels",
        ],
        ["svc-0000", "team-0", "linux/arm64", "grpcio==1.30.0", "uv.lock", "upgrade", "upgrade grpcio to 1.60.0"],
    ]
    assert {r[0] for r in rows[1:] if r[3] == "grpcio==1.30.0"} == {f"svc-{i:04d}" for i in range(0, 12, 2)}


def test_team_filter_and_empty(viewer_client):
    seed_org(repos=6, teams=2)
    rows = _rows(viewer_client.get("/export/blockers.csv?team=team-1"))[1:]
    assert rows and {r[1] for r in rows} == {"team-1"}
    assert _rows(viewer_client.get("/export/blockers.csv?team=team-1&x=<")) != []


@pytest.mark.parametrize("repos", [1, 50])
def test_query_count_does_not_grow_with_repos(viewer_client, django_assert_num_queries, repos):
    seed_org(repos=repos, packages=5)
    # session, user, team list, blocking verdict rows, blocker findings
    with django_assert_num_queries(5):
        rows = _rows(viewer_client.get("/export/blockers.csv"))
    assert len(rows) > 1
