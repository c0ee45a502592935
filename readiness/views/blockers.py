from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from readiness.access import viewer_required
from readiness.queries.blockers import blockers_page
from readiness.queries.triage import TRIAGE_FILTERS
from readiness.views._filters import page_filters

__all__ = ["blockers"]


@viewer_required
def blockers(request: HttpRequest) -> HttpResponse:
    """``?triage=`` (untriaged, in-progress, accepted, mine) narrows the list; an unknown value shows all."""
    filters = page_filters(request)
    triage = request.GET.get("triage", "")
    if triage not in TRIAGE_FILTERS:
        triage = ""
    mine = triage == "mine"
    page = blockers_page(team=filters.team, triage="" if mine else triage, assignee=request.user if mine else None)
    return render(
        request,
        "readiness/blockers.html",
        {**filters.context(), "page": page, "nav": "blockers", "triage": triage, "triage_filters": TRIAGE_FILTERS},
    )
