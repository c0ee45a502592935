"""Triage of blockers on real scans of real git repos: kept across rescans, resolved when the
blocker goes, reopened when it returns or a snooze ends; every change in the history."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from readiness.models import BlockerTriage, Team, TriageEvent
from readiness.services.scans import scan_request
from readiness.services.triage import BlockerKey, TriageError, triage_change, triage_wake_snoozed
from tests.readiness.factories import make_user
from tests.readiness.scan_support import repo_row
from tests.scanners.git_helpers import commit_files, make_repo

pytestmark = pytest.mark.django_db(transaction=True)

NEVER_ARM = [{"filename": "never_arm-1.0-cp312-cp312-manylinux_2_17_x86_64.whl"}]
SLIM = "FROM python:3.12-slim\nRUN pip install -r requirements.txt\n"
BLOCKER = BlockerKey("package", "never-arm", "linux/arm64")
TODAY = dt.date(2027, 1, 11)


@pytest.fixture
def index(scan_index, settings):
    settings.READINESS_INDEX_CACHE_SECONDS = 0
    scan_index.add_project("never-arm", NEVER_ARM)
    return scan_index


def _scan(repo):
    scan = scan_request(repo=repo, trigger="manual")
    scan.refresh_from_db()
    assert scan.state == "done", scan.error
    repo.refresh_from_db()
    return scan


@pytest.fixture
def blocked(tmp_path, index):
    path = make_repo(tmp_path, {"requirements.txt": "never-arm==1.0\nsix==1.16.0\n", "Dockerfile": SLIM}, name="svc")
    repo = repo_row("svc", path)
    _scan(repo)
    return path, repo


def test_a_triage_survives_rescans_resolves_and_reopens(blocked):
    path, repo = blocked
    alice = make_user("alice", role="engineer")
    triage_change(repo=repo, key=BLOCKER, action="assign", user=alice, assignee=alice, note="I'll look")
    commit_files(path, {"requirements.txt": "never-arm==1.0\nsix==1.16.0\n# touched\n"})
    _scan(repo)  # a new commit, analysed again: the triage is the same
    t = BlockerTriage.objects.get()
    assert (t.state, t.assignee, t.subject, t.target) == ("assigned", alice, "never-arm", "linux/arm64")

    commit_files(path, {"requirements.txt": "six==1.16.0\n"})  # the dependency is dropped
    _scan(repo)
    t.refresh_from_db()
    assert t.state == "resolved"

    commit_files(path, {"requirements.txt": "never-arm==1.0\nsix==1.16.0\n"})  # and back
    _scan(repo)
    t.refresh_from_db()
    assert t.state == "open" and t.assignee == alice
    history = list(t.events.values_list("action", "state", "user__username", "note"))
    assert history == [
        ("returned", "open", None, "the blocker is back (it was assigned before it went away)"),
        ("resolved", "resolved", None, "the blocker is gone"),
        ("assign", "assigned", "alice", "assigned to alice; I'll look"),
    ]


def test_a_source_build_without_a_compiler_is_the_packages_blocker(tmp_path, index):
    index.add_project("src-only", [{"filename": "src_only-1.0.tar.gz"}])
    path = make_repo(tmp_path, {"requirements.txt": "src-only==1.0\n", "Dockerfile": SLIM}, name="svc")
    repo = repo_row("svc", path)
    _scan(repo)  # python:3.12-slim has no compiler: building src-only fails on both targets
    user = make_user("eve", role="engineer")
    with pytest.raises(TriageError, match="no current blocker"):  # the finding is the package's
        triage_change(repo=repo, key=BlockerKey("finding", "no-compiler-for-sdist"), action="acknowledge", user=user)
    key = BlockerKey("package", "src-only", "linux/arm64")
    triage_change(repo=repo, key=key, action="accept", user=user, reason="fix-elsewhere")
    commit_files(path, {"Dockerfile": "FROM python:3.12\nRUN pip install -r requirements.txt\n"})
    _scan(repo)  # the full image has gcc: the source build is no blocker any more
    assert BlockerTriage.objects.get().state == "resolved"


def test_accept_needs_a_reason_and_other_needs_words(blocked):
    _path, repo = blocked
    user = make_user("bob", role="engineer")
    with pytest.raises(TriageError, match="accept with a reason"):
        triage_change(repo=repo, key=BLOCKER, action="accept", user=user)
    with pytest.raises(TriageError, match="say why"):
        triage_change(repo=repo, key=BLOCKER, action="accept", user=user, reason="other")
    t = triage_change(repo=repo, key=BLOCKER, action="accept", user=user, reason="amd64-only")
    assert (t.state, t.get_reason_display()) == ("accepted", "service is amd64-only by design")
    assert TriageEvent.objects.get().note == "accepted: service is amd64-only by design"


def test_only_current_blockers_can_be_triaged(blocked):
    _path, repo = blocked
    user = make_user("carol", role="engineer")
    for key in (BlockerKey("package", "six", "linux/arm64"), BlockerKey("package", "never-arm", "linux/s390x")):
        with pytest.raises(TriageError, match="no current blocker"):
            triage_change(repo=repo, key=key, action="acknowledge", user=user)
    with pytest.raises(TriageError, match="a person or a team"):
        triage_change(repo=repo, key=BLOCKER, action="assign", user=user)
    team = Team.objects.create(name="payments")
    t = triage_change(repo=repo, key=BLOCKER, action="assign", user=user, team=team)
    assert t.assignee_team == team and not BlockerTriage.objects.exclude(pk=t.pk).exists()


def test_a_snooze_ends_on_its_date(blocked):
    _path, repo = blocked
    user = make_user("dan", role="engineer")
    with time_machine.travel(dt.datetime(2027, 1, 11, 9, 0, tzinfo=dt.UTC), tick=False):
        with pytest.raises(TriageError, match="after today"):
            triage_change(repo=repo, key=BLOCKER, action="snooze", user=user, until=TODAY)
        with pytest.raises(TriageError, match="at most a year"):
            triage_change(repo=repo, key=BLOCKER, action="snooze", user=user, until=TODAY + dt.timedelta(days=400))
        t = triage_change(repo=repo, key=BLOCKER, action="snooze", user=user, until=TODAY + dt.timedelta(days=7))
        assert t.effective_state() == "snoozed"
        assert triage_wake_snoozed() == 0
    with time_machine.travel(dt.datetime(2027, 1, 18, 23, 0, tzinfo=dt.UTC), tick=False):
        assert BlockerTriage.objects.get().effective_state() == "snoozed"  # the last day of the snooze
    with time_machine.travel(dt.datetime(2027, 1, 19, 0, 30, tzinfo=dt.UTC), tick=False):
        t.refresh_from_db()
        assert t.effective_state() == "open"  # pages see it open at once
        assert triage_wake_snoozed() == 1  # and the hourly task writes it down
    t.refresh_from_db()
    assert (t.state, t.snoozed_until) == ("open", None)
    assert t.events.first().note == "the snooze until 2027-01-18 ended"
