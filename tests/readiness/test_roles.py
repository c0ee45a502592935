"""Roles are Django groups and every action checks its permission: each role, each action."""

from __future__ import annotations

import importlib

import pytest
from django.contrib.auth.models import Group
from django.test import Client

from readiness.access import ACTIONS, ROLES
from readiness.models import BlockerTriage, Campaign, UpstreamSuggestion
from tests.readiness.factories import make_user, seed_org

pytestmark = pytest.mark.django_db


def test_the_migration_makes_the_groups_access_describes():
    migration = importlib.import_module("readiness.migrations.0008_roles")
    expected = {role: sorted(ACTIONS[a][0].split(".", 1)[1] for a in actions) for role, actions in ROLES.items()}
    assert {role: sorted(codes) for role, codes in migration.ROLES.items()} == expected
    for role, codes in expected.items():
        group = Group.objects.get(name=role)
        assert sorted(group.permissions.values_list("codename", flat=True)) == codes


def _suggestion() -> int:
    return UpstreamSuggestion.objects.create(
        package="never-arm", platform_tags="manylinux_2_17_aarch64", title="t", body="b"
    ).pk


def _campaign() -> str:
    import datetime as dt

    from readiness.services.campaigns import campaign_create

    return campaign_create(name="arm64", targets=["linux/arm64"], due=dt.date(2027, 12, 31)).slug


def _subscription() -> int:
    from readiness.services.reports import subscribe_email

    return subscribe_email(email="someone@example.test", teams=[])[0].pk


# Each request that changes something: the action it needs, and the answer when allowed.
REQUESTS = {
    "scan": (lambda: "/repos/svc-0000/rescan/", {}, 302),
    "upstream": (lambda: f"/upstream/{_suggestion()}/mark/", {"status": "dismissed"}, 302),
    "triage": (
        lambda: "/repos/svc-0000/triage/",
        {"kind": "package", "subject": "grpcio", "target": "linux/arm64", "action": "acknowledge"},
        302,
    ),
    "subscriptions": (lambda: "/settings/email/subscribe/", {"email": "new@example.test", "scope": "org"}, 302),
    "campaigns": (lambda: "/campaigns/new/", {"name": "arm64", "targets": "linux/arm64", "due": "2027-12-31"}, 302),
    "campaign-edit": (
        lambda: f"/campaigns/{_campaign()}/edit/",
        {"name": "arm64 soon", "targets": "linux/arm64", "due": "2027-06-30"},
        302,
    ),
    "campaign-close": (lambda: f"/campaigns/{_campaign()}/close/", {}, 302),
    "unsubscribe-other": (lambda: f"/settings/email/{_subscription()}/unsubscribe/", {}, 302),
}
NEEDS = {"campaign-edit": "campaigns", "campaign-close": "campaigns", "unsubscribe-other": "subscriptions"}
WHO_MAY = {
    "viewer": set(),
    "engineer": {"scan", "upstream", "triage"},
    "manager": {"scan", "upstream", "triage", "subscriptions", "campaigns"},
    "superuser": set(ACTIONS),
}


@pytest.mark.parametrize("role", sorted(WHO_MAY))
@pytest.mark.parametrize("action", sorted(REQUESTS))
def test_each_role_may_do_exactly_its_actions(client, role, action, django_capture_on_commit_callbacks):
    seed_org(repos=1)
    if role == "superuser":
        from django.contrib.auth.models import User

        user = User.objects.create_superuser("root", "root@example.test", "pw")
    else:
        user = make_user(role, role=role)
    client.force_login(user)
    url, data, ok = REQUESTS[action]
    with django_capture_on_commit_callbacks(execute=False):  # a rescan is queued, not run
        response = client.post(url(), data)
    allowed = NEEDS.get(action, action) in WHO_MAY[role]
    if allowed:
        assert response.status_code == ok, response.content[:300]
    else:
        assert response.status_code == 403
        assert "your role does not allow you to" in response.content.decode().lower()
    if action == "triage":
        assert BlockerTriage.objects.exists() == allowed
    if action == "campaigns":
        assert Campaign.objects.exists() == allowed
    if action == "campaign-close":
        assert (Campaign.objects.get().closed_at is not None) == allowed
    if action == "campaign-edit":
        assert (Campaign.objects.get().name == "arm64 soon") == allowed


@pytest.mark.parametrize("action", sorted(REQUESTS))
def test_anonymous_visitors_are_sent_to_log_in(action):
    seed_org(repos=1)
    url, data, _ok = REQUESTS[action]
    response = Client().post(url(), data)
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_a_user_in_no_group_is_a_viewer(client):
    seed_org(repos=1)
    client.force_login(make_user("nobody"))
    assert client.get("/repos/svc-0000/").status_code == 200
    assert client.post("/repos/svc-0000/triage/", REQUESTS["triage"][1]).status_code == 403
