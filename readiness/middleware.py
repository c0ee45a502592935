"""The dashboard's own middleware: requests no view can take are refused, and every response
carries the Content-Security-Policy the pages are written to satisfy.

PostgreSQL text cannot hold a NUL byte: psycopg refuses ``"\\x00"`` in a parameter with an
error no view expects, so ``/repos/?q=%00`` used to answer 500. No page, filter or form of the
dashboard has a use for NUL, so a request carrying one anywhere a view reads (the path, a query
or form parameter name or value) is answered 400 with the dashboard's own page, whatever the
database: the same answer on SQLite as on PostgreSQL, and nothing else of the request is run.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.http.multipartparser import MultiPartParserError
from django.template.loader import render_to_string

__all__ = ["CONTENT_SECURITY_POLICY", "ContentSecurityPolicy", "RejectNulBytes"]


def _nul_in(params) -> bool:
    return any("\x00" in key or any("\x00" in v for v in values) for key, values in params.lists())


class RejectNulBytes:
    """The path and query string are checked before anything runs; a form body just before its
    view, where CSRF protection reads it anyway. Views exempt from CSRF (the GitHub webhook)
    read and check their own bodies, so theirs is never parsed here."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if "\x00" in request.path or _nul_in(request.GET):
            return _bad_request(request)
        return self.get_response(request)

    def process_view(self, request: HttpRequest, view_func, view_args, view_kwargs) -> HttpResponse | None:
        if request.method != "POST" or getattr(view_func, "csrf_exempt", False):
            return None
        try:
            return _bad_request(request) if _nul_in(request.POST) else None
        except MultiPartParserError:
            return _bad_request(request)


def _bad_request(request: HttpRequest) -> HttpResponse:
    return HttpResponseBadRequest(render_to_string("400.html", request=request))


# Every page's script comes from /static/ (plotly is vendored there); chart data travels in
# json_script blocks, which are data, not script. Plotly adds a <style> element at run time
# (its addStyleRule; plotly.js issue 2355 is still open), hence 'unsafe-inline' for styles
# only: a style cannot run script, and with it no chart draws under a strict style-src.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


class ContentSecurityPolicy:
    """Adds the Content-Security-Policy header to every response that has none of its own."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        return response
