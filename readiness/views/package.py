from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from readiness.access import viewer_required
from readiness.queries.package import package_page
from readiness.queries.upstream import package_suggestions
from readiness.views._filters import page_filters
from scanners.build_deps import build_packages
from scanners.replacements import replacements_for

__all__ = ["package_detail"]


@viewer_required
def package_detail(request: HttpRequest, name: str) -> HttpResponse:
    filters = page_filters(request)
    page = package_page(name=name[:200], team=filters.team)
    # An unknown package is an empty state, not a 404: a link from an email may outlive the last
    # repo that locked it, and "no repo locks it now" is the answer the reader wants.
    build, deps = build_packages(page.name, package_manager="apt")
    context = {
        "page": page,
        "nav": "blockers",
        "suggestions": package_suggestions(name=page.name),
        "replacements": replacements_for(page.name),
        "build_packages": build,
        "build_source": deps.source if deps else "",
    }
    return render(request, "readiness/package.html", {**filters.context(), **context})
