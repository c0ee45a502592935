"""The email settings page (own subscription; admins also subscribe others) and one-click unsubscribe."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from readiness.access import can, permission_required, viewer_required
from readiness.queries.api import api_tokens_of
from readiness.queries.weekly_report import email_settings_page
from readiness.services.reports import (
    UnknownTeams,
    subscribe_email,
    subscription_from_token,
    subscription_set,
    subscription_unsubscribe,
)

__all__ = [
    "email_settings",
    "email_settings_save",
    "email_subscribe_other",
    "email_unsubscribe_other",
    "settings_page",
    "unsubscribe",
]


def _teams(request: HttpRequest) -> list[str]:
    return request.POST.getlist("team") if request.POST.get("scope") == "teams" else []


@viewer_required
def email_settings(request: HttpRequest) -> HttpResponse:
    return settings_page(request)


def settings_page(request: HttpRequest, **extra) -> HttpResponse:
    """The settings page: the weekly email, and the user's API tokens (``extra``: a token just made)."""
    page = email_settings_page(user=request.user, is_admin=can(request.user, "subscriptions"))
    return render(
        request,
        "readiness/email_settings.html",
        {"page": page, "nav": "email", "tokens": api_tokens_of(request.user), **extra},
    )


@viewer_required
@require_POST
def email_settings_save(request: HttpRequest) -> HttpResponse:
    if request.POST.get("action") == "unsubscribe":
        sub = getattr(request.user, "report_subscription", None)
        if sub is not None:
            subscription_unsubscribe(subscription_id=sub.pk)
        messages.success(request, "You will not receive the weekly report any more.")
        return redirect("readiness:email-settings")
    teams = _teams(request)
    if request.POST.get("scope") == "teams" and not teams:
        messages.error(request, "Choose at least one team, or the whole organisation.")
        return redirect("readiness:email-settings")
    if not request.user.email:
        messages.error(request, "Your account has no email address: ask an admin to add one.")
        return redirect("readiness:email-settings")
    try:
        subscription_set(user=request.user, teams=teams)
    except UnknownTeams as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request, f"You will receive the weekly report for {', '.join(teams) or 'the whole organisation'}."
        )
    return redirect("readiness:email-settings")


@permission_required("subscriptions")
@require_POST
def email_subscribe_other(request: HttpRequest) -> HttpResponse:
    email = request.POST.get("email", "")
    teams = _teams(request)
    try:
        _, created = subscribe_email(email=email, teams=teams)
    except ValidationError:
        messages.error(request, f"“{email[:200]}” is not an email address.")
    except UnknownTeams as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"Subscribed {email}{' (new user)' if created else ''}.")
    return redirect("readiness:email-settings")


@permission_required("subscriptions")
@require_POST
def email_unsubscribe_other(request: HttpRequest, subscription_id: int) -> HttpResponse:
    subscription_unsubscribe(subscription_id=subscription_id)
    messages.success(request, "Unsubscribed.")
    return redirect("readiness:email-settings")


# No login and no CSRF token: the signed token is the credential, and mail clients' one-click
# button (RFC 8058 List-Unsubscribe-Post) POSTs without cookies. GET only shows a confirmation,
# so link scanners that prefetch URLs never unsubscribe anybody.
@csrf_exempt
@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    sub = subscription_from_token(token)
    if sub is None:
        return render(request, "readiness/unsubscribe.html", {"state": "invalid"}, status=400)
    if request.method == "POST":
        subscription_unsubscribe(subscription_id=sub.pk)
        return render(request, "readiness/unsubscribe.html", {"state": "done", "email": sub.user.email})
    return render(
        request,
        "readiness/unsubscribe.html",
        {"state": "confirm" if sub.active else "already", "email": sub.user.email},
    )
