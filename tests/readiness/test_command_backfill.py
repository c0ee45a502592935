"""``manage.py backfill``: one scan per week of a year of real, dated git history."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from readiness.models import Rollup, Scan, Verdict
from tests.readiness.scan_support import repo_row
from tests.scanners.git_helpers import commit_files, make_repo

pytestmark = pytest.mark.django_db(transaction=True)

WEEKS = 53  # a commit every week for a year: weeks 0..52


@pytest.fixture
def history(tmp_path, scan_index):
    """A repo with one commit per week (psutil 5.9.8 for the first half, 6.0.0 after), up to today."""
    start = dt.datetime.combine(timezone.now().date() - dt.timedelta(weeks=WEEKS - 1), dt.time.min, tzinfo=dt.UTC)
    path = make_repo(tmp_path, {}, name="svc")
    for week in range(WEEKS):
        psutil = "5.9.8" if week < 26 else "6.0.0"
        commit_files(
            path,
            {"requirements.txt": f"psutil=={psutil}\nsix==1.16.0\n# week {week}\n"},
            date=start + dt.timedelta(weeks=week),
        )
    return repo_row("svc", path), start


def _backfill(*args: str) -> str:
    out = io.StringIO()
    call_command("backfill", *args, stdout=out)
    return out.getvalue()


def test_one_point_per_week_with_rollups_and_a_rerun_adds_nothing(history) -> None:
    repo, start = history

    out = _backfill("svc", "--since", start.date().isoformat(), "--every", "week")

    scans = list(Scan.objects.filter(repo=repo).order_by("as_of"))
    assert out.strip() == f"backfilled {WEEKS} points across 1 repos"
    assert [s.as_of for s in scans] == [start + dt.timedelta(weeks=w) for w in range(WEEKS)]
    assert {(s.trigger, s.state) for s in scans} == {("backfill", Scan.State.DONE)}
    assert len({s.commit for s in scans}) == WEEKS
    arm = [s.summary["linux/arm64"] for s in scans]
    assert [a["sdist"] for a in arm] == [1] * 26 + [0] * 27  # psutil 6.0.0 has arm64 wheels
    repo.refresh_from_db()
    assert repo.latest_scan_id == scans[-1].pk  # the newest point is the current state
    days = set(
        Rollup.objects.filter(scope=Rollup.Scope.REPO, repo=repo, target="linux/arm64").values_list("day", flat=True)
    )
    assert {s.as_of.date() for s in scans} <= days
    first_week = Rollup.objects.get(scope=Rollup.Scope.ORG, target="linux/arm64", day=start.date())
    last_week = Rollup.objects.get(scope=Rollup.Scope.ORG, target="linux/arm64", day=scans[-1].as_of.date())
    assert (first_week.repos, first_week.ready, first_week.builds_from_source) == (1, 0, 1)
    assert (last_week.repos, last_week.ready, last_week.builds_from_source) == (1, 1, 0)
    assert not Rollup.objects.filter(day__lt=start.date()).exists()
    rows = Verdict.objects.count()

    again = _backfill("svc", "--since", start.date().isoformat(), "--every", "week")

    assert again.strip() == "backfilled 0 points across 1 repos"
    assert Scan.objects.count() == WEEKS and Verdict.objects.count() == rows


def test_until_limits_the_points(history) -> None:
    repo, start = history

    _backfill("svc", "--since", start.date().isoformat(), "--until", (start + dt.timedelta(weeks=3)).date().isoformat())

    assert Scan.objects.filter(repo=repo).count() == 4


def test_weeks_without_a_commit_reuse_the_previous_rows(tmp_path, scan_index) -> None:
    start = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    path = make_repo(tmp_path, {"requirements.txt": "six==1.16.0\n"}, date=start, name="quiet")
    repo = repo_row("quiet", path)

    _backfill("quiet", "--since", "2024-01-01", "--until", "2024-01-29")

    scans = list(Scan.objects.filter(repo=repo).order_by("as_of"))
    assert len(scans) == 5
    assert [s.unchanged for s in scans] == [False, True, True, True, True]
    assert {s.result_scan_id for s in scans} == {scans[0].pk}
    assert Verdict.objects.count() == 2


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("svc", "--since", "last year"), "expected YYYY-MM-DD"),
        (("nope", "--since", "2024-01-01"), "unknown repositories"),
    ],
)
def test_bad_input_exits_2(history, args, message) -> None:
    with pytest.raises(CommandError) as excinfo:
        _backfill(*args)

    assert excinfo.value.returncode == 2 and message in str(excinfo.value)


def test_a_repo_that_cannot_be_read_is_reported_and_the_others_backfilled(history, tmp_path, capsys) -> None:
    repo, start = history
    repo_row("gone", tmp_path, url="file:///nonexistent/gone.git")

    out = _backfill("gone", "svc", "--since", start.date().isoformat(), "--until", start.date().isoformat())

    assert "gone: " in capsys.readouterr().err
    assert out.strip() == "backfilled 1 points across 2 repos"
