from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from readiness.access import viewer_required
from readiness.queries.trends import DEFAULT_PERIOD, PERIODS, parse_period, trends_page
from readiness.views._filters import page_filters

__all__ = ["trends"]


@viewer_required
def trends(request: HttpRequest) -> HttpResponse:
    filters = page_filters(request)
    asked = request.GET.get("period", "")
    weeks = parse_period(asked)
    bad_period = bool(asked) and weeks is None
    period = asked if weeks else DEFAULT_PERIOD
    page = trends_page(team=filters.team, weeks=weeks or parse_period(DEFAULT_PERIOD))
    return render(
        request,
        "readiness/trends.html",
        {
            **filters.context(),
            "page": page,
            "charts": page.charts(),
            "period": period,
            "periods": PERIODS,
            "bad_period": asked[:20] if bad_period else "",
            "nav": "trends",
        },
    )
