"""/export/matrix.csv and /export/matrix.json: streamed, team-filtered, the rows the pages show."""

from __future__ import annotations

import csv
import io
import json

import pytest
from django.http import StreamingHttpResponse

from tests.readiness.factories import seed_org, viewer_client  # noqa: F401  (fixture)

pytestmark = pytest.mark.django_db


def _body(response) -> str:
    assert isinstance(response, StreamingHttpResponse)
    return b"".join(response.streaming_content).decode()


def test_csv_columns_and_rows(viewer_client):
    seed_org(repos=2, packages=4, weeks=2)
    response = viewer_client.get("/export/matrix.csv")
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="matrix.csv"'
    rows = list(csv.reader(io.StringIO(_body(response))))
    assert rows[0] == ["repo", "team", "package", "version", "target", "status", "file", "fix_version"]
    assert len(rows) == 1 + 2 * 4 * 2
    assert ["svc-0000", "team-0", "grpcio", "1.30.0", "linux/arm64", "none", "", "1.60.0"] in rows
    # svc-0001's latest scan is unchanged: its rows come from the scan it points at
    assert ["svc-0001", "team-1", "psutil", "5.9.8", "linux/arm64", "sdist", "psutil-5.9.8.tar.gz", "5.9.9"] in rows


def test_csv_team_filter(viewer_client):
    seed_org(repos=4, packages=2)
    response = viewer_client.get("/export/matrix.csv?team=team-1")
    rows = list(csv.reader(io.StringIO(_body(response))))[1:]
    assert {r[0] for r in rows} == {"svc-0001"}
    assert response["Content-Disposition"] == 'attachment; filename="matrix-team-1.csv"'


def test_json_documents(viewer_client):
    seed_org(repos=2, packages=3)
    docs = json.loads(_body(viewer_client.get("/export/matrix.json")))
    assert [(d["schema"], d["name"], d["team"]) for d in docs] == [
        ("archcheck/1", "svc-0000", "team-0"),
        ("archcheck/1", "svc-0001", "team-1"),
    ]
    grpcio = next(p for p in docs[0]["packages"] if p["name"] == "grpcio")
    assert grpcio["results"]["linux/arm64"]["status"] == "none"
    assert docs[0]["dockerfiles"][0]["findings"][0]["rule"] == "platform-pinned"


def test_empty_exports(viewer_client):
    assert (
        _body(viewer_client.get("/export/matrix.csv")) == "repo,team,package,version,target,status,file,fix_version\r\n"
    )
    assert json.loads(_body(viewer_client.get("/export/matrix.json"))) == []


@pytest.mark.parametrize("repos", [1, 50])
def test_query_count_does_not_grow_with_repos(viewer_client, django_assert_num_queries, repos):
    seed_org(repos=repos, packages=5)
    # session, user, team list, repos, verdict rows (streamed with iterator())
    with django_assert_num_queries(5):
        assert len(_body(viewer_client.get("/export/matrix.csv")).splitlines()) == 1 + repos * 10
    # session, user, team list, repos, verdict rows, findings
    with django_assert_num_queries(6):
        assert len(json.loads(_body(viewer_client.get("/export/matrix.json")))) == repos
