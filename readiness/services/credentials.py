"""Credentials: the one place a repo's token is joined to its URL.

A repo row stores only the *name* of the environment variable that holds its token
(``credentials_ref``), never the secret; :func:`clone_url` reads it when git is about to run, so
the token is in no row, no log line and no error message (callers replace the URL back).
"""

from __future__ import annotations

import os
from urllib.parse import urlsplit, urlunsplit

from readiness.models import Repo

__all__ = ["clone_url"]


def clone_url(repo: Repo) -> str:
    """The URL git is given: the token named by ``credentials_ref`` is added here and only here."""
    if not repo.credentials_ref:
        return repo.url
    token = os.environ.get(repo.credentials_ref, "")
    parts = urlsplit(repo.url)
    if not token or parts.scheme not in ("https", "http"):
        return repo.url
    host = parts.hostname or ""
    netloc = f"x-access-token:{token}@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))
