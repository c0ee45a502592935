"""The filters every page shares: ``?team=<name>``, kept in every link.

An unknown team is ignored (the page shows the whole organisation) and the page says so,
rather than silently showing an empty dashboard or a 404 for a typo in a bookmarked link.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from readiness.queries.scope import team_names

__all__ = ["Filters", "page_filters", "render_team_page"]


@dataclass(frozen=True, slots=True)
class Filters:
    team: str | None
    teams: tuple[str, ...]
    unknown_team: str = ""

    @property
    def query(self) -> str:
        """``?team=…`` (or empty) to append to links that take no other parameter."""
        return "?" + urlencode({"team": self.team}) if self.team else ""

    def context(self) -> dict:
        return {
            "team": self.team or "",
            "teams": self.teams,
            "unknown_team": self.unknown_team,
            "team_query": self.query,
        }


def page_filters(request: HttpRequest) -> Filters:
    """Read ``?team=``. 1 query (the team list, also shown in the page's team selector)."""
    teams = tuple(team_names())
    wanted = request.GET.get("team", "").strip()
    if not wanted:
        return Filters(team=None, teams=teams)
    if wanted in teams:
        return Filters(team=wanted, teams=teams)
    return Filters(team=None, teams=teams, unknown_team=wanted[:100])


def render_team_page(
    request: HttpRequest, template: str, *, nav: str, page: Callable[[str | None], object]
) -> HttpResponse:
    """``template`` with ``page(team)`` for the ``?team=`` filter as ``page``, the filters and the nav item."""
    filters = page_filters(request)
    return render(request, template, {**filters.context(), "page": page(filters.team), "nav": nav})
