"""Make and revoke one's own API tokens, on the settings page. A new token is shown once, in the answer
to the form that made it: never in a redirect, a message cookie or a log."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from readiness.access import viewer_required
from readiness.services.api_tokens import token_create, token_revoke
from readiness.views.email_settings import settings_page

__all__ = ["api_token_create", "api_token_revoke"]


@viewer_required
@require_POST
def api_token_create(request: HttpRequest) -> HttpResponse:
    made = token_create(user=request.user, name=request.POST.get("name", ""))
    response = settings_page(request, new_token=made)
    response["Cache-Control"] = "no-store"  # the page holds the token: no cache keeps it
    return response


@viewer_required
@require_POST
def api_token_revoke(request: HttpRequest, token_id: int) -> HttpResponse:
    if token_revoke(token_id=token_id, user=request.user):
        messages.success(request, "Token revoked: requests with it are refused from now on.")
    else:
        messages.error(request, "No such active token of yours.")
    return redirect("readiness:email-settings")
