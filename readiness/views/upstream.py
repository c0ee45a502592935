"""The upstream page and the filed/dismissed marks. Engineers and managers may mark a suggestion:
filing an issue upstream is everyday engineering work (see readiness.services.upstream)."""

from __future__ import annotations

from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from readiness.access import permission_required, viewer_required
from readiness.models import UpstreamSuggestion
from readiness.queries.upstream import upstream_suggestions
from readiness.services.upstream import MarkError, upstream_mark
from readiness.views._filters import render_team_page

__all__ = ["upstream", "upstream_mark_view"]


@viewer_required
def upstream(request: HttpRequest) -> HttpResponse:
    return render_team_page(
        request, "readiness/upstream.html", nav="upstream", page=lambda team: upstream_suggestions(team=team)
    )


@permission_required("upstream")
@require_POST
def upstream_mark_view(request: HttpRequest, pk: int) -> HttpResponse:
    suggestion = get_object_or_404(UpstreamSuggestion, pk=pk)
    try:
        upstream_mark(
            suggestion_id=suggestion.pk,
            status=request.POST.get("status", ""),
            user=request.user,
            upstream_url=request.POST.get("upstream_url", ""),
        )
    except MarkError as exc:
        return HttpResponseBadRequest(str(exc))
    team = request.POST.get("team", "")
    return redirect(
        reverse("readiness:upstream")
        + ("?" + urlencode({"team": team}) if team else "")
        + f"#suggestion-{suggestion.pk}"
    )
