"""Daily roll-ups per repo, team and organisation, from stored scan summaries."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from readiness.models import Repo, Rollup, Scan, Team
from readiness.models.rollups import repo_state
from readiness.services.rollups import rollup_days

pytestmark = pytest.mark.django_db

READY = {"wheel": 3, "sdist": 0, "none": 0, "unknown": 0, "n/a": 0, "blockers": 0, "ready": True}
SDIST = {"wheel": 2, "sdist": 1, "none": 0, "unknown": 0, "n/a": 0, "blockers": 0, "ready": False}
BLOCKED = {"wheel": 1, "sdist": 1, "none": 1, "unknown": 0, "n/a": 0, "blockers": 2, "ready": False}


@pytest.mark.parametrize(("summary", "state"), [(READY, "ready"), (SDIST, "sdist"), (BLOCKED, "blocked")])
def test_repo_state(summary, state) -> None:
    assert repo_state(summary) == state


def _scan(repo, arm, *, at, as_of=None, state=Scan.State.DONE):
    return Scan.objects.create(
        repo=repo, state=state, finished_at=at, as_of=as_of, summary={"linux/amd64": READY, "linux/arm64": arm}
    )


def _counts(**where):
    row = Rollup.objects.get(**where)
    return (row.repos, row.ready, row.builds_from_source, row.blocked, row.blockers)


def test_org_team_and_repo_rows_for_one_day() -> None:
    payments = Team.objects.create(name="payments")
    now = timezone.now()
    a = Repo.objects.create(name="a", url="file:///a", team=payments)
    b = Repo.objects.create(name="b", url="file:///b", team=payments)
    c = Repo.objects.create(name="c", url="file:///c")
    off = Repo.objects.create(name="off", url="file:///off", enabled=False)
    _scan(a, SDIST, at=now - dt.timedelta(days=3))
    _scan(a, READY, at=now)  # the latest finished scan counts
    _scan(b, BLOCKED, at=now)
    _scan(c, SDIST, at=now)
    _scan(off, BLOCKED, at=now)  # disabled repos are left out
    _scan(c, BLOCKED, at=now, state=Scan.State.FAILED)  # failed scans have no answers

    rollup_days()

    today = timezone.localdate()
    assert _counts(day=today, scope="org", target="linux/arm64") == (3, 1, 1, 1, 2)
    assert _counts(day=today, scope="org", target="linux/amd64") == (3, 3, 0, 0, 0)
    assert _counts(day=today, scope="team", team=payments, target="linux/arm64") == (2, 1, 0, 1, 2)
    assert _counts(day=today, scope="repo", repo=c, target="linux/arm64") == (1, 0, 1, 0, 0)
    assert not Rollup.objects.filter(repo=off).exists()


def test_rerunning_a_day_replaces_its_rows() -> None:
    repo = Repo.objects.create(name="a", url="file:///a")
    _scan(repo, SDIST, at=timezone.now())
    first = rollup_days()

    second = rollup_days()

    assert first == second == Rollup.objects.count() == 4  # org and repo, two targets


def test_backfilled_points_count_on_their_own_day() -> None:
    repo = Repo.objects.create(name="a", url="file:///a")
    start = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    _scan(repo, BLOCKED, at=timezone.now(), as_of=start)
    _scan(repo, READY, at=timezone.now(), as_of=start + dt.timedelta(days=7))

    rollup_days(since=dt.date(2023, 12, 31), until=dt.date(2024, 1, 10))

    arm = dict(Rollup.objects.filter(scope="org", target="linux/arm64").values_list("day", "ready"))
    assert dt.date(2023, 12, 31) not in arm  # before the first point: no data, not "0 ready"
    assert arm[dt.date(2024, 1, 1)] == 0 and arm[dt.date(2024, 1, 7)] == 0
    assert arm[dt.date(2024, 1, 8)] == 1 and arm[dt.date(2024, 1, 10)] == 1
