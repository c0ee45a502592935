"""``manage.py backfill``: one scan per week of a year of real, dated git history."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from readiness.models import Rollup, Scan, Verdict
from readiness.services.scans import scan_execute
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
    assert out.strip() == f"backfilled {WEEKS} points across 1 repo"
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

    assert again.strip() == "backfilled 0 points across 1 repo"
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
    assert out.strip() == "backfilled 1 point across 2 repos"


def test_each_point_is_decided_against_the_index_as_it_was_that_day(tmp_path, scan_index) -> None:
    """An arm64 wheel uploaded on 1 March: the points before it build the sdist, those after install the wheel."""
    scan_index.add_project(
        "latewheel",
        [
            {"filename": "latewheel-1.0.tar.gz", "upload-time": "2024-01-03T09:00:00Z"},
            {
                "filename": "latewheel-1.0-cp39-abi3-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
                "upload-time": "2024-01-03T09:05:00Z",
            },
            {
                "filename": "latewheel-1.0-cp39-abi3-manylinux_2_17_aarch64.manylinux2014_aarch64.whl",
                "upload-time": "2024-03-01T12:00:00Z",
            },
        ],
    )
    start = dt.datetime(2024, 1, 8, tzinfo=dt.UTC)
    path = make_repo(tmp_path, {"requirements.txt": "latewheel==1.0\n"}, date=start, name="late")
    repo = repo_row("late", path)

    _backfill("late", "--since", "2024-01-08", "--until", "2024-03-25")

    scans = list(Scan.objects.filter(repo=repo).order_by("as_of"))
    arm = {
        s.as_of.date().isoformat(): (s.summary["linux/arm64"]["sdist"], s.summary["linux/arm64"]["wheel"])
        for s in scans
    }
    before = ["2024-01-08", "2024-01-15", "2024-01-22", "2024-01-29", "2024-02-05", "2024-02-12", "2024-02-19"]
    after = ["2024-03-04", "2024-03-11", "2024-03-18", "2024-03-25"]
    assert arm == {**dict.fromkeys([*before, "2024-02-26"], (1, 0)), **dict.fromkeys(after, (0, 1))}
    # One commit all along: a point reuses the one before unless a file it read appeared in between.
    assert [s.unchanged for s in scans] == [False] + [True] * 7 + [False] + [True] * 3
    assert Rollup.objects.get(scope=Rollup.Scope.ORG, target="linux/arm64", day=dt.date(2024, 2, 26)).ready == 0
    assert Rollup.objects.get(scope=Rollup.Scope.ORG, target="linux/arm64", day=dt.date(2024, 3, 4)).ready == 1

    # The latest point is the repo's state until a live scan: a live scan never reuses it, since
    # a point was decided against the index as it was then, not as it is now.
    scan = Scan.objects.create(repo=repo, trigger="manual", state=Scan.State.RUNNING)
    live = scan_execute(scan=scan)
    assert (live.state, live.unchanged, live.as_of) == (Scan.State.DONE, False, None)


def test_files_without_an_upload_time_are_counted_as_present_and_the_command_says_so(
    tmp_path, scan_index, capsys
) -> None:
    scan_index.add_project(
        "undated", [{"filename": "undated-2.0.tar.gz"}, {"filename": "undated-2.0-py3-none-any.whl"}]
    )
    path = make_repo(tmp_path, {"requirements.txt": "undated==2.0\n"}, date=dt.datetime(2024, 1, 1, tzinfo=dt.UTC))
    repo_row("old", path)

    _backfill("old", "--since", "2024-01-01", "--until", "2024-01-01")

    (scan,) = Scan.objects.filter(repo__name="old")
    assert scan.summary["linux/arm64"]["wheel"] == 1
    assert scan.provenance["as_of"] == {"moment": "2024-01-01T00:00:00+00:00", "undated_files": 2}
    assert "note: the index gave no upload time for 2 files" in capsys.readouterr().err
