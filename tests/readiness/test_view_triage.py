"""Triage through the repository page: engineers change it, viewers see it, the page says what happened."""

from __future__ import annotations

import pytest

from readiness.models import BlockerTriage, Team, Verdict
from tests.readiness.factories import make_user, seed_org

pytestmark = pytest.mark.django_db

URL = "/repos/svc-0000/triage/"
GRPCIO = {"kind": "package", "subject": "grpcio", "target": "linux/arm64"}


@pytest.fixture
def engineer(client):
    client.force_login(make_user("erin", role="engineer"))
    return client


def test_an_engineer_assigns_and_accepts_and_the_page_shows_it(engineer):
    seed_org(repos=2)
    Team.objects.get_or_create(name="team-0")
    response = engineer.post(
        URL, {**GRPCIO, "action": "assign", "assignee": "erin", "note": "upgrading", "team": "team-0"}
    )
    assert response.status_code == 302 and response["Location"] == "/repos/svc-0000/?team=team-0#triage"
    engineer.post(
        URL,
        {
            "kind": "package",
            "subject": "filprofiler",
            "target": "linux/arm64",
            "action": "accept",
            "reason": "fix-elsewhere",
        },
    )
    page = engineer.get("/repos/svc-0000/").content.decode()
    version = Verdict.objects.filter(package="grpcio").values_list("version", flat=True).first()
    assert f"grpcio {version} on linux/arm64" in page
    assert page.count('class="badge triage-state-assigned"') == 1 and '→ <a href="/blockers/?assignee=erin"' in page
    assert 'class="badge triage-state-accepted"' in page and "fix planned elsewhere" in page
    assert "assigned to erin; upgrading" in page  # the history
    assert set(BlockerTriage.objects.values_list("subject", "state")) == {
        ("grpcio", "assigned"),
        ("filprofiler", "accepted"),
    }


def test_a_refused_change_says_why_and_changes_nothing(engineer):
    seed_org(repos=2)
    for data, words in [
        ({**GRPCIO, "action": "snooze", "until": "not-a-date"}, "is not a date"),
        ({**GRPCIO, "action": "assign", "assignee": "nobody"}, "no active user"),
        ({**GRPCIO, "action": "accept", "reason": "other"}, "say why"),
        ({**GRPCIO, "subject": "six", "action": "acknowledge"}, "no current blocker"),
        ({**GRPCIO, "action": "explode"}, "unknown action"),
    ]:
        response = engineer.post(URL, data, follow=True)
        assert response.status_code == 200 and words in response.content.decode(), words
    assert not BlockerTriage.objects.exists()


def test_a_viewer_sees_the_triage_but_has_no_form_and_is_refused(client):
    seed_org(repos=2)
    client.force_login(make_user("vic", role="viewer"))
    page = client.get("/repos/svc-0000/").content.decode()
    assert "Blockers and triage" in page and "untriaged" in page and 'name="action"' not in page
    assert client.post(URL, {**GRPCIO, "action": "acknowledge"}).status_code == 403
    assert not BlockerTriage.objects.exists()


def test_triage_needs_a_csrf_token(client):
    seed_org(repos=1)
    csrf_client = type(client)(enforce_csrf_checks=True)
    csrf_client.force_login(make_user("erin", role="engineer"))
    assert csrf_client.post(URL, {**GRPCIO, "action": "acknowledge"}).status_code == 403
    assert not BlockerTriage.objects.exists()


@pytest.mark.parametrize("triaged", [1, 30])
def test_the_repo_page_costs_the_same_queries_however_much_is_triaged(engineer, django_assert_num_queries, triaged):
    seed_org(repos=1, packages=40)
    for i in range(triaged):
        engineer.post(URL, {**GRPCIO, "action": "acknowledge" if i % 2 else "assign", "assignee": "erin"})
    with django_assert_num_queries(13):  # 12, and the open pull requests (issue 18)
        assert engineer.get("/repos/svc-0000/").status_code == 200


def test_the_blockers_page_filters_by_triage_and_mine(engineer, django_assert_num_queries):
    seed_org(repos=6)  # grpcio blocks svc-0000, -0002, -0004 on arm64; filprofiler svc-0000, -0003
    engineer.post(URL, {**GRPCIO, "action": "assign", "assignee": "erin"})
    engineer.post(URL, {**GRPCIO, "subject": "filprofiler", "action": "accept", "reason": "amd64-only"})

    def listed(query: str) -> dict[str, int]:
        page = engineer.get(f"/blockers/{query}").context["page"]
        return {p.package: p.repos for p in page.packages}

    everything = listed("")
    assert everything["grpcio"] == 3 and everything["filprofiler"] == 2
    assert listed("?triage=mine") == {"grpcio": 1}
    assert listed("?triage=in-progress") == {"grpcio": 1}
    assert listed("?triage=accepted") == {"filprofiler": 1}
    untriaged = listed("?triage=untriaged")
    assert untriaged["grpcio"] == 2 and untriaged["filprofiler"] == 1
    assert listed("?triage=bogus") == everything  # an unknown filter shows everything
    assert listed("?assignee=erin") == {"grpcio": 1} and listed("?assignee=nobody") == {}
    assert listed("?assignee=erin&triage=accepted") == {}
    html = engineer.get("/blockers/?triage=accepted&team=team-0").content.decode()
    assert 'aria-current="page" href="?triage=accepted&amp;team=team-0"' in html
    with django_assert_num_queries(7):  # session, user, team list, the page's 4: nothing per triage
        engineer.get("/blockers/?triage=untriaged")


def test_the_overview_shows_blocked_repos_by_triage(engineer):
    # Blocked on arm64: svc-0000 (grpcio, filprofiler, a pinned FROM), svc-0002, svc-0003, svc-0004.
    seed_org(repos=6)
    engineer.post(URL, {**GRPCIO, "action": "assign", "assignee": "erin"})
    engineer.post(URL, {**GRPCIO, "subject": "filprofiler", "action": "accept", "reason": "amd64-only"})
    engineer.post(URL, {"kind": "finding", "subject": "platform-pinned", "target": "", "action": "acknowledge"})
    engineer.post(
        "/repos/svc-0003/triage/", {**GRPCIO, "subject": "filprofiler", "action": "accept", "reason": "false-positive"}
    )
    cards = {t.target: t for t in engineer.get("/").context["page"].targets}
    # svc-0000: one blocker in progress, one accepted: in progress; svc-0003: accepted (decided, not ready).
    assert cards["linux/arm64"].blocked_triage == (("untriaged", 2), ("in-progress", 1), ("accepted", 1))
    assert cards["linux/amd64"].blocked_triage == ()
    html = engineer.get("/").content.decode()
    assert "2 untriaged</a> · 1 in progress · 1 accepted (won't fix)" in html


@pytest.mark.parametrize("repos", [1, 50])
def test_the_filtered_blockers_page_costs_the_same_for_1_and_50_repos(engineer, django_assert_num_queries, repos):
    seed_org(repos=repos)
    engineer.post(URL, {**GRPCIO, "action": "assign", "assignee": "erin"})
    for query in ("?triage=untriaged", "?triage=mine", "?assignee=erin&triage=in-progress"):
        # session, user, team list, the page's 4 (and the assignee's row for ?assignee=)
        with django_assert_num_queries(8 if "assignee=" in query else 7):
            assert engineer.get(f"/blockers/{query}").status_code == 200


def test_a_missing_compiler_is_triaged_on_its_package_and_filtered_so(engineer):
    from readiness.models import Repo, ScanFinding

    seed_org(repos=2)  # svc-0001 builds psutil from source on arm64
    repo = Repo.objects.get(name="svc-0001")
    ScanFinding.objects.create(
        scan_id=repo.latest_scan.results_from_id or repo.latest_scan_id,
        path="Dockerfile",
        line=1,
        rule="no-compiler-for-sdist",
        severity="blocker",
        message="psutil==5.9.8 has no wheel for this image, so pip builds it from source, but python:3.12-slim has no C compiler",
    )
    page = engineer.get("/repos/svc-0001/").content.decode()
    assert "on linux/arm64: builds from source, no compiler" in page
    response = engineer.post(
        "/repos/svc-0001/triage/",
        {
            "kind": "package",
            "subject": "psutil",
            "target": "linux/arm64",
            "action": "accept",
            "reason": "fix-elsewhere",
        },
    )
    assert response.status_code == 302 and BlockerTriage.objects.get().state == "accepted"

    def rules(query: str) -> dict[str, int]:
        return {f.rule: f.repos for f in engineer.get(f"/blockers/{query}").context["page"].findings}

    assert rules("?triage=accepted") == {"no-compiler-for-sdist": 1}
    assert "no-compiler-for-sdist" not in rules("?triage=untriaged")
