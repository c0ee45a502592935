"""Absolute links to the dashboard's pages, for what is read outside it: the weekly email, chat
messages and webhooks, the API, badges' Markdown and GitHub check runs.

One rule, Django's own URLs: a repo name is quoted as the repo page's route expects (names may
hold "/", spaces or "#"), so every link to a page is the link the dashboard itself would make.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.urls import reverse

__all__ = ["site_url"]


def site_url(site_root: str, name: str, *args: str, team: str | None = None) -> str:
    """``site_root`` + the path of the page ``readiness:<name>`` with ``args``, and ``?team=`` when given."""
    query = "?" + urlencode({"team": team}) if team else ""
    return f"{site_root}{reverse(f'readiness:{name}', args=args)}{query}"
