from __future__ import annotations

from django.contrib.auth import get_user_model
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from readiness.access import viewer_required
from readiness.queries.blockers import BlockersPage, blockers_page
from readiness.queries.triage import TRIAGE_FILTERS
from readiness.views._filters import page_filters

__all__ = ["blockers"]


@viewer_required
def blockers(request: HttpRequest) -> HttpResponse:
    """``?triage=`` (untriaged, in-progress, accepted, mine) and ``?assignee=<username>`` narrow the
    list; an unknown triage value shows all, an unknown assignee nothing."""
    filters = page_filters(request)
    triage = request.GET.get("triage", "")
    if triage not in TRIAGE_FILTERS:
        triage = ""
    wanted = request.GET.get("assignee", "").strip()[:150]
    assignee = None
    if triage == "mine":
        assignee = request.user
    elif wanted:
        assignee = get_user_model().objects.filter(username=wanted).first()
    if wanted and assignee is None:
        page = BlockersPage(packages=(), findings=())  # nothing is assigned to an unknown name
    else:
        page = blockers_page(team=filters.team, triage="" if triage == "mine" else triage, assignee=assignee)
    return render(
        request,
        "readiness/blockers.html",
        {
            **filters.context(),
            "page": page,
            "nav": "blockers",
            "triage": triage,
            "triage_filters": TRIAGE_FILTERS,
            "assignee": wanted if triage != "mine" else "",
        },
    )
