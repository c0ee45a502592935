"""Who may do what. Viewers (any logged-in user) browse; admins (``is_staff``) configure repos
and trigger scans.

Kept in one module so every view states its access with one decorator and the rule is read in
one place, as in healthchecks' ``_get_rw_check_for_user``.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse

__all__ = ["admin_required", "can_trigger_scans", "viewer_required"]

View = Callable[..., HttpResponse]


def can_trigger_scans(user) -> bool:
    """Admins configure repos and trigger scans; everybody else only browses."""
    return bool(user.is_authenticated and user.is_active and user.is_staff)


def viewer_required(view: View) -> View:
    """Any logged-in user; anonymous visitors go to the login page and come back."""
    return login_required(view)


def admin_required(view: View) -> View:
    """Logged in (else the login page) and an admin (else 403: the viewer knows they lack the role)."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not can_trigger_scans(request.user):
            raise PermissionDenied("only admins can trigger scans")
        return view(request, *args, **kwargs)

    return login_required(wrapped)
