from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from readiness.access import viewer_required
from readiness.queries.campaigns import campaign_statuses
from readiness.queries.overview import overview_page
from readiness.views._filters import page_filters

__all__ = ["overview"]


@viewer_required
def overview(request: HttpRequest) -> HttpResponse:
    filters = page_filters(request)
    page = overview_page(team=filters.team)
    return render(
        request,
        "readiness/overview.html",
        {
            **filters.context(),
            "page": page,
            "trend_chart": page.trend_chart(),
            "nav": "overview",
            # The active campaigns covering this view (the team's, or all): one line each.
            "campaigns": campaign_statuses(teams=[filters.team] if filters.team else None),
        },
    )
