from __future__ import annotations

from django.http import HttpRequest, HttpResponse

from readiness.access import viewer_required
from readiness.queries.blockers import blockers_page
from readiness.views._filters import render_team_page

__all__ = ["blockers"]


@viewer_required
def blockers(request: HttpRequest) -> HttpResponse:
    return render_team_page(
        request, "readiness/blockers.html", nav="blockers", page=lambda team: blockers_page(team=team)
    )
