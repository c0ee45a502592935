"""``/badge/<repo>/<platform>.svg``: a README badge (ready / N blockers / builds from source / unknown).

Readable by anybody when the repo is public, with the repo's badge token (``?token=``), or by a
logged-in user; anything else gets the same 404 as an unknown repo, so a badge URL never tells
whether a private repo exists. Cached for five minutes (shared caches only for public repos, as
image proxies in front of README pages do), with an ETag for cheap revalidation.
"""

from __future__ import annotations

import hashlib

from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.utils.cache import get_conditional_response
from django.views.decorators.http import require_safe

from readiness.queries.badges import BadgeState, badge_state, badge_token_valid

__all__ = ["badge", "badge_svg"]

MAX_AGE = 300
_COLOURS = {"ready": "#2e7d32", "blocked": "#c62828", "sdist": "#b26a00", "unknown": "#616161"}
_LABEL_COLOUR = "#444d56"


def _text_width(text: str) -> int:
    # Verdana 11px averages ~6.5 px a character (shields.io's measure); wide enough for digits and capitals.
    return int(len(text) * 6.5) + 10


def badge_svg(state: BadgeState) -> str:
    label, message = state.label, state.message
    left, right = _text_width(label), _text_width(message)
    return render_to_string(
        "readiness/badge.svg",
        {
            "label": label,
            "message": message,
            "left": left,
            "right": right,
            "width": left + right,
            "label_x": left * 5,  # text is drawn at scale(.1): ten times the centre
            "message_x": (left + right / 2) * 10,
            "label_length": (left - 10) * 10,
            "message_length": (right - 10) * 10,
            "colour": _COLOURS[state.state],
            "label_colour": _LABEL_COLOUR,
        },
    )


@require_safe
def badge(request: HttpRequest, name: str, platform: str) -> HttpResponse:
    state = badge_state(name=name, platform=platform)
    allowed = state is not None and (
        state.public or badge_token_valid(name, request.GET.get("token", "")) or request.user.is_authenticated
    )
    if state is None or not allowed:
        response = HttpResponse("no such badge\n", status=404, content_type="text/plain; charset=utf-8")
        response["Cache-Control"] = "no-store"
        return response
    body = badge_svg(state).encode()
    etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    scope = "public" if state.public else "private"
    response = HttpResponse(body, content_type="image/svg+xml; charset=utf-8")
    response["ETag"] = etag
    response["Cache-Control"] = f"{scope}, max-age={MAX_AGE}"
    response["Vary"] = "Cookie"
    # Django's conditional GET: If-None-Match as RFC 9110 reads it (lists, W/ tags, "*"), a 304
    # carrying the same ETag, Cache-Control and Vary.
    return get_conditional_response(request, etag=etag, response=response)
