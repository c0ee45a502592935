"""Which scoped rules an organisation-wide event reaches: an ``upstream-suggestion-resolved`` goes
to the rules whose teams, repos or campaign hold a repo locking the suggestion's package, in a
number of queries that does not grow with the organisation."""

from __future__ import annotations

import datetime as dt

import pytest

from readiness.models import Campaign, NotificationDelivery, NotificationRule, Repo, Team, UpstreamSuggestion, Verdict
from readiness.services.notifications import notify_upstream_resolved
from tests.readiness.factories import seed_org

pytestmark = pytest.mark.django_db  # deliveries are queued on commit, which never comes: nothing is sent


def _rule(name: str, *, teams=(), repos=(), campaign: Campaign | None = None) -> NotificationRule:
    rule = NotificationRule.objects.create(
        name=name,
        event="upstream-suggestion-resolved",
        channel="webhook",
        target="http://hooks.example.test/readiness",
        secret="k",
        campaign=campaign,
    )
    rule.teams.set(teams)
    rule.repos.set(repos)
    return rule


def _campaign(slug: str, *, teams, targets=("linux/arm64",), closed: bool = False) -> Campaign:
    today = dt.date.today()
    campaign = Campaign.objects.create(
        name=slug,
        slug=slug,
        targets=list(targets),
        start=today - dt.timedelta(days=30),
        due=today + dt.timedelta(days=30),
        closed_at=dt.datetime.now(dt.UTC) if closed else None,
    )
    campaign.teams.set(teams)
    return campaign


def _resolved(package: str) -> UpstreamSuggestion:
    return UpstreamSuggestion.objects.create(
        package=package,
        platform_tags="manylinux_2_17_aarch64",
        status="resolved",
        targets=["linux/arm64"],
        title="aarch64 wheels",
        body="…",
    )


def test_scoped_rules_hear_of_a_resolved_package_their_repos_lock():
    seed_org(repos=4, packages=6, teams=2)  # team-0: svc-0000, svc-0002; team-1: svc-0001, svc-0003
    # filprofiler stays locked by svc-0000 only
    Verdict.objects.filter(package="filprofiler").exclude(scan__repo__name="svc-0000").delete()
    team0, team1 = Team.objects.get(name="team-0"), Team.objects.get(name="team-1")
    r0, r1 = Repo.objects.get(name="svc-0000"), Repo.objects.get(name="svc-0001")
    told = {
        "organisation": _rule("organisation"),
        "team-0": _rule("team-0", teams=[team0]),
        "repo svc-0000": _rule("repo svc-0000", repos=[r0]),
        "team-1 or svc-0000": _rule("team-1 or svc-0000", teams=[team1, team0], repos=[r0]),
        "campaign of team-0": _rule("campaign of team-0", campaign=_campaign("c0", teams=[team0])),
        "campaign of all teams": _rule("campaign of all teams", campaign=_campaign("call", teams=[])),
    }
    not_told = {
        "team-1": _rule("team-1", teams=[team1]),
        "repo svc-0001": _rule("repo svc-0001", repos=[r1]),
        "team-1 and svc-0000": _rule("team-1 and svc-0000", teams=[team1], repos=[r0]),
        "campaign of team-1": _rule("campaign of team-1", campaign=_campaign("c1", teams=[team1])),
        "closed campaign": _rule("closed campaign", campaign=_campaign("cx", teams=[team0], closed=True)),
        "amd64 campaign": _rule("amd64 campaign", campaign=_campaign("ca", teams=[team0], targets=["linux/amd64"])),
    }
    suggestion = _resolved("filprofiler")
    assert notify_upstream_resolved(suggestion_ids=[suggestion.pk]) == len(told)
    got = set(NotificationDelivery.objects.values_list("rule__name", flat=True))
    assert got == set(told) and not got & set(not_told)
    # a package no current repo locks any more reaches the unscoped rules only
    dropped = _resolved("no-longer-locked")
    assert notify_upstream_resolved(suggestion_ids=[dropped.pk]) == 1
    assert NotificationDelivery.objects.filter(event_key__contains=f":{dropped.pk}:").get().rule.name == "organisation"


@pytest.mark.parametrize("repos", [2, 40])
def test_matching_scoped_rules_costs_the_same_whatever_the_organisation(django_assert_num_queries, repos):
    seed_org(repos=repos, packages=6, teams=2)
    team0 = Team.objects.get(name="team-0")
    _rule("team-0", teams=[team0])
    _rule("repo svc-0001", repos=[Repo.objects.get(name="svc-0001")])
    _rule("campaign", campaign=_campaign("c0", teams=[team0]))
    suggestions = [_resolved("filprofiler").pk, _resolved("grpcio").pk]
    # rule check, suggestions, their repos, rules + their teams, repos, campaigns' teams; then per
    # delivery (3 rules x 2 suggestions) a savepoint, the insert and its release
    with django_assert_num_queries(7 + 6 * 3):
        assert notify_upstream_resolved(suggestion_ids=suggestions) == 6
