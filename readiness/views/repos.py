from __future__ import annotations

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from readiness.access import viewer_required
from readiness.queries.repos import STATES, repos_page
from readiness.views._filters import page_filters

__all__ = ["repo_list"]

PER_PAGE = 50


@viewer_required
def repo_list(request: HttpRequest) -> HttpResponse:
    filters = page_filters(request)
    q = request.GET.get("q", "").strip()[:200]
    state = request.GET.get("state", "")
    state = state if state in STATES else ""
    page = repos_page(
        team=filters.team,
        q=q,
        state=state,
        sort=request.GET.get("sort", "name"),
        target=request.GET.get("target", "")[:64],
    )
    paginator = Paginator(page.rows, PER_PAGE)
    # get_page() turns a bad or out-of-range ?page= into the first or last page instead of an error.
    rows = paginator.get_page(request.GET.get("page"))
    return render(
        request,
        "readiness/repos.html",
        {**filters.context(), "page": page, "rows": rows, "q": q, "state": state, "states": STATES, "nav": "repos"},
    )
