"""/settings/email/: own subscription, admins subscribe others; one-click unsubscribe by signed token."""

from __future__ import annotations

import pytest
from django.test import Client

from readiness.models import Subscription
from readiness.services.reports import subscribe_email, subscription_set, unsubscribe_token
from tests.readiness.factories import admin_client_, make_user, seed_org, viewer_client  # noqa: F401  (fixtures)

pytestmark = pytest.mark.django_db

URL = "/settings/email/"


def test_login_required(client):
    response = client.get(URL)
    assert response.status_code == 302 and response.url.startswith("/accounts/login/")


def test_nav_has_an_email_link(viewer_client):
    assert b'href="/settings/email/" aria-current="page">Settings</a>' in viewer_client.get(URL).content


@pytest.mark.parametrize(
    ("data", "scope", "teams"),
    [({"scope": "org"}, "org", []), ({"scope": "teams", "team": ["team-1", "team-2"]}, "teams", ["team-1", "team-2"])],
)
def test_viewer_subscribes_themself(viewer_client, data, scope, teams):
    seed_org(repos=3)
    response = viewer_client.post(URL + "save/", data, follow=True)
    sub = Subscription.objects.get(user__username="viewer")
    assert (sub.scope, sorted(t.name for t in sub.teams.all()), sub.active) == (scope, teams, True)
    assert b"You will receive the weekly report" in response.content
    assert b"You receive the report for" in response.content


def test_viewer_unsubscribes_themself(viewer_client):
    viewer_client.post(URL + "save/", {"scope": "org"})
    viewer_client.post(URL + "save/", {"action": "unsubscribe"})
    assert not Subscription.objects.get().active
    assert b"You do not receive the weekly report" in viewer_client.get(URL).content


def test_teams_scope_without_a_team_is_refused(viewer_client):
    response = viewer_client.post(URL + "save/", {"scope": "teams"}, follow=True)
    assert b"Choose at least one team" in response.content and not Subscription.objects.exists()


@pytest.mark.parametrize("path", [URL + "save/", URL + "subscribe/", URL + "1/unsubscribe/"])
def test_changes_need_post(admin_client_, path):
    assert admin_client_.get(path).status_code == 405


def test_changes_need_the_csrf_token(db):
    client = Client(enforce_csrf_checks=True)
    client.force_login(make_user("viewer"))
    assert client.post(URL + "save/", {"scope": "org"}).status_code == 403
    assert not Subscription.objects.exists()


def test_viewer_cannot_subscribe_others_nor_see_them(viewer_client):
    subscribe_email(email="other@example.test")
    assert viewer_client.post(URL + "subscribe/", {"email": "x@example.test", "scope": "org"}).status_code == 403
    sub = Subscription.objects.get()
    assert viewer_client.post(URL + f"{sub.pk}/unsubscribe/").status_code == 403
    assert Subscription.objects.filter(active=True).count() == 1
    assert b"other@example.test" not in viewer_client.get(URL).content


def test_admin_subscribes_and_unsubscribes_others(admin_client_):
    seed_org(repos=3)
    response = admin_client_.post(
        URL + "subscribe/", {"email": "lead@example.test", "scope": "teams", "team": ["team-0"]}, follow=True
    )
    assert b"Subscribed lead@example.test (new user)" in response.content
    sub = Subscription.objects.get(user__email="lead@example.test")
    assert [t.name for t in sub.teams.all()] == ["team-0"]
    assert b"lead@example.test</th><td>team-0</td>" in response.content
    admin_client_.post(URL + f"{sub.pk}/unsubscribe/")
    sub.refresh_from_db()
    assert not sub.active


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"email": "nope", "scope": "org"}, "is not an email address"),
        ({"email": "a@example.test", "scope": "teams", "team": "zzz"}, "unknown team"),
    ],
)
def test_admin_bad_input_is_explained(admin_client_, data, message):
    response = admin_client_.post(URL + "subscribe/", data, follow=True)
    assert message in response.content.decode() and not Subscription.objects.exists()


@pytest.mark.parametrize("subscriptions", [1, 20])
def test_query_count_is_constant(admin_client_, django_assert_num_queries, subscriptions):
    seed_org(repos=3)
    for i in range(subscriptions):
        subscribe_email(email=f"u{i}@example.test", teams=["team-0", "team-1"])
    # session, user, the user's permissions (own and groups'), then the page: team names,
    # subscriptions (+ last report), their teams; the user's API tokens.
    with django_assert_num_queries(8):
        assert admin_client_.get(URL).status_code == 200


def test_unsubscribe_link_confirms_on_get_and_unsubscribes_on_post(client, db):
    sub = subscription_set(user=make_user("alice"))
    path = f"/email/unsubscribe/{unsubscribe_token(sub.pk)}/"
    page = client.get(path)
    assert (
        page.status_code == 200
        and b"Stop sending the weekly readiness report to <strong>alice@example.test</strong>" in page.content
    )
    sub.refresh_from_db()
    assert sub.active
    done = Client(enforce_csrf_checks=True).post(path)  # one-click: no session, no CSRF token
    assert done.status_code == 200 and b"will not receive the weekly report" in done.content
    sub.refresh_from_db()
    assert not sub.active
    assert b"does not receive" in client.get(path).content


@pytest.mark.parametrize("token", ["garbage", unsubscribe_token(1)[:-2] + "xx"], ids=["garbage", "forged-signature"])
def test_bad_unsubscribe_token_is_a_400_with_a_way_out(client, db, token):
    response = client.post(f"/email/unsubscribe/{token}/")
    assert response.status_code == 400 and b"not valid" in response.content
