"""``manage.py subscribe EMAIL [--team T ...]``."""

from __future__ import annotations

import io

import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command

from readiness.models import Subscription
from tests.readiness.factories import seed_org

pytestmark = pytest.mark.django_db


def _run(*args) -> str:
    out = io.StringIO()
    call_command("subscribe", *args, stdout=out)
    return out.getvalue()


@pytest.mark.parametrize(
    ("args", "scope", "teams", "says"),
    [
        ((), "org", [], "subscribed to the whole organisation (user created)"),
        (("--team", "team-1"), "teams", ["team-1"], "subscribed to team-1 (user created)"),
        (
            ("--team", "team-2", "--team", "team-0"),
            "teams",
            ["team-0", "team-2"],
            "subscribed to team-0, team-2 (user created)",
        ),
    ],
)
def test_subscribes_and_creates_the_user(args, scope, teams, says):
    seed_org(repos=3)
    assert says in _run("em@example.test", *args)
    sub = Subscription.objects.get()
    assert (sub.user.email, sub.scope, sorted(t.name for t in sub.teams.all()), sub.active) == (
        "em@example.test",
        scope,
        teams,
        True,
    )
    assert not sub.user.has_usable_password()


def test_running_again_updates_and_reactivates_without_a_second_user():
    seed_org(repos=3)
    _run("em@example.test", "--team", "team-1")
    Subscription.objects.update(active=False)
    out = _run("em@example.test")
    assert "(user created)" not in out
    assert User.objects.count() == 1
    assert list(Subscription.objects.values_list("scope", "active")) == [("org", True)]


def test_existing_user_with_that_address_is_reused():
    User.objects.create_user("alice", "alice@example.test", "pw")
    _run("ALICE@example.test")
    assert Subscription.objects.get().user.username == "alice"


@pytest.mark.parametrize(
    ("args", "error"),
    [(("not-an-address",), "is not an email address"), (("x@example.test", "--team", "nope"), "unknown team")],
)
def test_bad_input_is_a_clear_error_and_writes_nothing(args, error):
    with pytest.raises(CommandError, match=error):
        _run(*args)
    assert not User.objects.exists() and not Subscription.objects.exists()
