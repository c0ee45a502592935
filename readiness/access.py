"""Who may do what: roles are Django groups, and views check permissions, never ``is_staff``.

* **viewer** (any logged-in user, in the group or not): reads every page and export;
* **engineer**: also triages blockers, marks upstream suggestions and requests rescans;
* **manager**: also runs campaigns and manages other people's email subscriptions;
* superusers may do everything; ``is_staff`` only opens the Django admin.

The groups are made by a migration (``0008_roles``) from the same table as :data:`ROLES`. Kept in
one module so every view states its access with one decorator and the rule is read in one place,
as in healthchecks' ``_get_rw_check_for_user``.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse

__all__ = ["ACTIONS", "ROLES", "Allowed", "can", "permission_required", "permissions_context", "viewer_required"]

View = Callable[..., HttpResponse]

ACTIONS = {
    "scan": ("readiness.request_scan", "request rescans"),
    "upstream": ("readiness.mark_upstream", "mark upstream suggestions"),
    "triage": ("readiness.triage_blocker", "triage blockers"),
    "campaigns": ("readiness.manage_campaign", "run campaigns"),
    "subscriptions": ("readiness.manage_subscriptions", "manage other people's subscriptions"),
}
"""What a view may require: the permission, and the words for a refusal."""

ROLES = {
    "viewer": (),
    "engineer": ("scan", "upstream", "triage"),
    "manager": ("scan", "upstream", "triage", "campaigns", "subscriptions"),
}


def can(user, action: str) -> bool:
    """Whether ``user`` may do ``action`` (a key of :data:`ACTIONS`)."""
    permission, _words = ACTIONS[action]
    return bool(user.is_authenticated and user.is_active and user.has_perm(permission))


class Allowed:
    """What the user may do, for templates (``{% if may.triage %}``), asked only when a template asks:
    a page that offers no action costs no permission query."""

    def __init__(self, user) -> None:
        self._user = user

    def __getitem__(self, action: str) -> bool:
        if action not in ACTIONS:
            raise KeyError(action)
        return can(self._user, action)

    def __getattr__(self, action: str) -> bool:
        try:
            return self[action]
        except KeyError:
            raise AttributeError(action) from None


def permissions_context(request: HttpRequest) -> dict[str, Allowed]:
    """Template context processor: ``may``."""
    return {"may": Allowed(request.user)}


def viewer_required(view: View) -> View:
    """Any logged-in user; anonymous visitors go to the login page and come back."""
    return login_required(view)


def permission_required(action: str) -> Callable[[View], View]:
    """Logged in (else the login page) and allowed ``action`` (else 403, which says what is missing)."""
    _permission, words = ACTIONS[action]

    def decorate(view: View) -> View:
        @wraps(view)
        def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if not can(request.user, action):
                raise PermissionDenied(f"your role does not allow you to {words}: ask a manager")
            return view(request, *args, **kwargs)

        return login_required(wrapped)

    return decorate
