"""Triage a blocker from the repository page (engineers and managers): one POST per change."""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from readiness.access import permission_required
from readiness.models import Repo, Team
from readiness.services.triage import BlockerKey, TriageError, triage_change

__all__ = ["repo_triage_change"]


@require_POST
@permission_required("triage")
def repo_triage_change(request: HttpRequest, name: str) -> HttpResponse:
    repo = get_object_or_404(Repo.objects.select_related("latest_scan"), name=name)
    post = request.POST
    key = BlockerKey(post.get("kind", ""), post.get("subject", "")[:200], post.get("target", "")[:64])
    try:
        triage_change(
            repo=repo,
            key=key,
            action=post.get("action", ""),
            user=request.user,
            assignee=_user(post.get("assignee", "")),
            team=_team(post.get("assignee_team", "")),
            until=_date(post.get("until", "")),
            reason=post.get("reason", ""),
            reason_text=post.get("reason_text", ""),
            note=post.get("note", ""),
        )
    except TriageError as exc:
        messages.error(request, f"{key.subject}: {exc}.")
    else:
        messages.success(
            request, f"{key.subject}{f' on {key.target}' if key.target else ''}: {post.get('action')} recorded."
        )
    team = post.get("team", "")
    url = reverse("readiness:repo", args=[repo.name])
    return redirect(url + ("?" + urlencode({"team": team}) if team else "") + "#triage")


def _user(username: str):
    if username == "":
        return None
    user = get_user_model().objects.filter(username=username, is_active=True).first()
    if user is None:
        raise TriageError(f"no active user {username[:150]!r}")
    return user


def _team(name: str) -> Team | None:
    if name == "":
        return None
    team = Team.objects.filter(name=name).first()
    if team is None:
        raise TriageError(f"no team {name[:100]!r}")
    return team


def _date(text: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text) if text else None
    except ValueError:
        raise TriageError(f"{text[:40]!r} is not a date (YYYY-MM-DD)") from None
