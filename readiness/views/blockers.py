from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from readiness.access import viewer_required
from readiness.queries.blockers import blockers_page
from readiness.views._filters import page_filters

__all__ = ["blockers"]


@viewer_required
def blockers(request: HttpRequest) -> HttpResponse:
    filters = page_filters(request)
    return render(
        request,
        "readiness/blockers.html",
        {**filters.context(), "page": blockers_page(team=filters.team), "nav": "blockers"},
    )
