from __future__ import annotations

from urllib.parse import urlencode

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from readiness.access import permission_required, viewer_required
from readiness.models import BlockerTriage, Repo
from readiness.queries.badges import repo_badges
from readiness.queries.pull_requests import open_pull_requests
from readiness.queries.repo import repo_page, scan_status
from readiness.services.scans import scan_request
from readiness.views._filters import page_filters

__all__ = ["repo_detail", "repo_rescan", "repo_scan_status"]


@viewer_required
def repo_detail(request: HttpRequest, name: str) -> HttpResponse:
    filters = page_filters(request)
    page = repo_page(name=name)
    if page is None:
        raise Http404("no repository with this name")
    return render(
        request,
        "readiness/repo.html",
        {
            **filters.context(),
            "page": page,
            "nav": "repos",
            "reasons": BlockerTriage.Reason.choices,
            "pull_requests": open_pull_requests(repo_name=name),
            "badges": repo_badges(
                name=page.name, public=page.public, platforms=settings.READINESS_PLATFORMS, site_root=settings.SITE_ROOT
            ),
        },
    )


@require_POST
@permission_required("scan")
def repo_rescan(request: HttpRequest, name: str) -> HttpResponse:
    repo = get_object_or_404(Repo, name=name)
    scan_request(repo=repo, trigger="manual")
    team = request.POST.get("team", "")
    url = reverse("readiness:repo", args=[repo.name])
    return redirect(url + ("?" + urlencode({"team": team}) if team else "") + "#scan")


@viewer_required
def repo_scan_status(request: HttpRequest, name: str) -> HttpResponse:
    status = scan_status(name=name)
    if status is None:
        raise Http404("no scan of this repository")
    return JsonResponse(status)
