"""The read API, ``/api/v1/``: JSON, read-only, authenticated by per-user tokens (``Authorization: Bearer …``).

Plain Django views over :mod:`readiness.queries.api`: six GET endpoints whose hardest document
(the ``archcheck/1`` matrix) the queries already write, so a framework's serializers would only
describe it a second time; the OpenAPI document (:mod:`readiness.openapi`) is the one
description, and the tests check every answer against it.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from readiness.openapi import openapi_document
from readiness.queries.api import (
    BadRequest,
    Page,
    PageRequest,
    api_blockers,
    api_campaign,
    api_campaigns,
    api_repo,
    api_repo_matrix,
    api_repos,
    api_upstream,
)
from readiness.services.api_tokens import token_authenticate

__all__ = ["blockers", "campaign", "campaigns", "openapi", "repo", "repo_matrix", "repos", "upstream"]

View = Callable[..., HttpResponse]


def _error(status: int, message: str, **headers: str) -> JsonResponse:
    response = JsonResponse({"error": message}, status=status)
    for name, value in headers.items():
        response[name] = value
    return response


def _api(view: View) -> View:
    """GET (and HEAD) only, a valid token, and every failure as a JSON error, never an HTML page."""

    @csrf_exempt  # no cookie is read: the token is the credential
    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if request.method not in ("GET", "HEAD"):
            return _error(405, "the API is read-only", Allow="GET, HEAD")
        scheme, _, secret = request.headers.get("Authorization", "").partition(" ")
        user = token_authenticate(secret.strip()) if scheme.lower() == "bearer" else None
        if user is None:
            return _error(
                401,
                "an API token is required: Authorization: Bearer <token> (make one on /settings/email/)"
                if not secret
                else "this API token is unknown or revoked",
                **{"WWW-Authenticate": 'Bearer realm="readiness"'},
            )
        request.user = user
        try:
            response = view(request, *args, **kwargs)
        except BadRequest as exc:
            return _error(400, str(exc))
        response["Cache-Control"] = "private, no-store"
        return response

    return wrapped


def _page(request: HttpRequest) -> PageRequest:
    return PageRequest.parse(request.GET.get("page"), request.GET.get("page_size"))


def _link(request: HttpRequest, number: int) -> str:
    query = request.GET.copy()
    query["page"] = str(number)
    return f"{settings.SITE_ROOT}{request.path}?{urlencode(sorted(query.items()))}"


def _paged(request: HttpRequest, page: Page) -> JsonResponse:
    number = page.request.number
    return JsonResponse(
        {
            "count": page.count,
            "page": number,
            "page_size": page.request.size,
            "next": _link(request, number + 1) if page.has_next else None,
            "previous": _link(request, number - 1) if number > 1 else None,
            "results": page.results,
        }
    )


def _team(request: HttpRequest) -> str | None:
    return request.GET.get("team") or None


@_api
def repos(request: HttpRequest) -> HttpResponse:
    return _paged(request, api_repos(team=_team(request), page=_page(request), site_root=settings.SITE_ROOT))


@_api
def repo(request: HttpRequest, name: str) -> HttpResponse:
    found = api_repo(name=name, site_root=settings.SITE_ROOT)
    return JsonResponse(found) if found is not None else _error(404, f"no repository named {name[:200]!r}")


@_api
def repo_matrix(request: HttpRequest, name: str) -> HttpResponse:
    document = api_repo_matrix(name=name)
    if document is None:
        return _error(404, f"no repository named {name[:200]!r}")
    if document is False:
        return _error(404, f"{name[:200]} has no finished scan yet")
    return JsonResponse(document)


@_api
def blockers(request: HttpRequest) -> HttpResponse:
    return _paged(request, api_blockers(team=_team(request), page=_page(request), site_root=settings.SITE_ROOT))


@_api
def campaigns(request: HttpRequest) -> HttpResponse:
    return _paged(request, api_campaigns(page=_page(request), site_root=settings.SITE_ROOT))


@_api
def campaign(request: HttpRequest, slug: str) -> HttpResponse:
    found = api_campaign(slug=slug, site_root=settings.SITE_ROOT)
    return JsonResponse(found) if found is not None else _error(404, f"no campaign {slug!r}")


@_api
def upstream(request: HttpRequest) -> HttpResponse:
    return _paged(request, api_upstream(status=request.GET.get("status", ""), page=_page(request)))


def openapi(request: HttpRequest) -> HttpResponse:
    """The API's description: public, like any API's documentation (it holds no data)."""
    response = JsonResponse(openapi_document(server=f"{settings.SITE_ROOT}/api/v1"))
    response["Access-Control-Allow-Origin"] = "*"  # so API tools in a browser can load it
    return response
