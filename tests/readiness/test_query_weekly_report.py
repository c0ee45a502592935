"""The weekly report's content: numbers per target, changes since last week, blockers, links; query count."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from readiness.models import Repo, Scan, Team
from readiness.queries.weekly_report import weekly_report, weekly_report_section
from tests.readiness.factories import seed_org

pytestmark = pytest.mark.django_db

ROOT = "http://readiness.test"


def _block_repo_on_arm(name: str) -> None:
    """Repo ``name`` (ready on arm64 until now) gets a blocker in its latest scan: newly blocked."""
    scan = Scan.objects.get(pk=Repo.objects.get(name=name).latest_scan_id)
    scan.summary = {
        **scan.summary,
        "linux/arm64": {**scan.summary["linux/arm64"], "none": 1, "blockers": 1, "ready": False},
    }
    scan.save(update_fields=["summary"])


def test_numbers_per_target_and_change_since_last_week():
    seed_org(repos=10, weeks=4)
    s = weekly_report_section(team=None, today=timezone.localdate(), site_root=ROOT)
    arm, amd = (next(t for t in s.targets if t.target == name) for name in ("linux/arm64", "linux/amd64"))
    # Same fixture as the overview test: arm64 7 blocked, 2 from source, 1 ready; amd64 10 ready, 9 a week ago.
    assert (arm.now.repos, arm.now.ready, arm.now.builds_from_source, arm.now.blocked) == (10, 1, 2, 7)
    assert (amd.now.ready, amd.now.last_week.ready, amd.ready_change_label, amd.pct_change_label) == (
        10,
        9,
        "+1 repo",
        "+10 pts",
    )
    assert (arm.ready_change_label, arm.blocked_change_label) == ("±0 repos", "±0")
    assert s.headline is arm
    assert s.compared_with == timezone.localdate() - dt.timedelta(days=7)
    # 4 weeks of history, one point a week, the newest equal to today's rollup.
    assert len(arm.spark) == 5 and arm.spark[-1][1] == 10.0
    assert len(amd.spark_text) == 5


def test_became_ready_and_newly_blocked_repos_with_links():
    seed_org(repos=10, weeks=4)
    _block_repo_on_arm("svc-0005")
    s = weekly_report_section(team=None, today=timezone.localdate(), site_root=ROOT)
    # svc-0004 had one more blocker on every target until a week ago (factories docstring).
    assert [(r.name, r.targets) for r in s.became_ready] == [("svc-0004", ("linux/amd64",))]
    assert [(r.name, r.targets, r.url) for r in s.newly_blocked] == [
        ("svc-0005", ("linux/arm64",), f"{ROOT}/repos/svc-0005/")
    ]
    assert (s.became_ready_total, s.newly_blocked_total) == (1, 1)


def test_next_actions_and_upstream_candidates_link_to_the_team_pages():
    from readiness.services.upstream import upstream_refresh
    from scanners.project_metadata import ProjectMetadata

    seed_org(repos=12)
    upstream_refresh(fetch_metadata=lambda name: ProjectMetadata(name, error="not asked in this test"))
    s = weekly_report_section(team="team-1", today=timezone.localdate(), site_root=ROOT)
    # team-1 = repos 1, 4, 7, 10: grpcio blocks 4 and 10, 4 has a pinned Dockerfile; filprofiler
    # blocks none of them (r % 3 == 0). The same actions as the team's overview, in its order.
    assert [(a.title, a.repos) for a in s.next_actions] == [
        ("upgrade grpcio to 1.60.0", 2),
        ("remove --platform=linux/amd64 from 1 Dockerfile", 1),
    ]
    assert s.next_actions[0].url == f"{ROOT}/packages/grpcio/?team=team-1"
    assert s.next_actions[1].url == f"{ROOT}/blockers/?team=team-1"
    assert s.actions_total == 2
    assert s.ask_upstream == ()
    org = weekly_report_section(team=None, today=timezone.localdate(), site_root=ROOT)
    assert [(u.package, u.version, u.targets, u.repos) for u in org.ask_upstream] == [
        ("filprofiler", "2022.5.0", ("linux/arm64",), 4)
    ]
    assert org.ask_upstream[0].url == f"{ROOT}/packages/filprofiler/"
    assert s.links == {
        "overview": f"{ROOT}/?team=team-1",
        "blockers": f"{ROOT}/blockers/?team=team-1",
        "trends": f"{ROOT}/trends/?team=team-1",
        "upstream": f"{ROOT}/upstream/?team=team-1",
        "repos": f"{ROOT}/repos/?team=team-1",
    }


def test_empty_organisation_gives_an_empty_section():
    s = weekly_report_section(team=None, today=timezone.localdate(), site_root=ROOT)
    assert (s.repos, s.targets, s.next_actions, s.compared_with, s.headline) == (0, (), (), None, None)


@pytest.mark.parametrize("repos", [1, 50])
def test_query_count_does_not_depend_on_the_size(repos, django_assert_num_queries):
    seed_org(repos=repos, weeks=3)
    # 1 repos+summaries, 2 rollup series, 3 repo rollups a week ago, 4-5 next actions (blocking
    # verdict rows, blocker findings), 6 upstream.
    with django_assert_num_queries(6):
        s = weekly_report_section(team="team-0", today=timezone.localdate(), site_root=ROOT)
    assert s.repos == len(range(0, repos, 3))


def test_sections_are_built_once_per_scope_per_run():
    seed_org(repos=6)
    cache: dict = {}
    campaigns: dict = {}
    week = timezone.localdate()
    with CaptureQueriesContext(connection) as first:
        a = weekly_report(
            teams=["team-1", "team-0"], week=week, today=week, site_root=ROOT, cache=cache, campaigns_cache=campaigns
        )
    with CaptureQueriesContext(connection) as second:
        b = weekly_report(
            teams=["team-0"], week=week, today=week, site_root=ROOT, cache=cache, campaigns_cache=campaigns
        )
    with CaptureQueriesContext(connection) as third:
        weekly_report(
            teams=["team-0", "team-1"], week=week, today=week, site_root=ROOT, cache=cache, campaigns_cache=campaigns
        )
    assert [s.team for s in a.sections] == ["team-0", "team-1"]
    assert b.sections[0] is a.sections[0]
    # 6 per scope (see above) and the campaigns of the subscriber's teams (1: none here); the second
    # subscriber's sections are cached, its campaigns (another scope) are one query; the third's none.
    assert (len(first), len(second), len(third)) == (13, 1, 0)
    assert Team.objects.count() == 3


@pytest.mark.parametrize("team", [None, "team-2"])
def test_the_email_shows_the_overviews_next_actions(team):
    from readiness.queries.overview import overview_page

    seed_org(repos=12, weeks=2)
    overview = overview_page(team=team)
    section = weekly_report_section(team=team, today=timezone.localdate(), site_root=ROOT)
    assert section.next_actions
    assert [(a.title, a.repos) for a in section.next_actions] == [
        (a.title, len(a.repos)) for a in overview.next_actions[:5]
    ]
