"""Registry authentication: ``WWW-Authenticate`` challenges, bearer tokens and basic credentials.

The distribution spec's token flow: a registry answers 401 with a challenge naming a token
realm; the client asks the realm for a token for ``repository:<name>:pull`` and retries. The
client (:mod:`scanners.registry.client`) does the requests; these are the values it keeps.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass

__all__ = ["Challenge", "Token", "basic_authorization", "parse_challenge"]


@dataclass(frozen=True, slots=True)
class Challenge:
    scheme: str  # "bearer" or "basic"
    params: dict[str, str]


@dataclass(frozen=True, slots=True)
class Token:
    value: str
    expires: float  # time.monotonic()


_CHALLENGE_PARAM = re.compile(r'([A-Za-z][A-Za-z0-9_-]*)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]+))')


def parse_challenge(header: str) -> Challenge | None:
    """``Bearer realm="…",service="…",scope="…"`` or ``Basic realm="…"``; ``None`` if neither."""
    scheme, _, rest = header.strip().partition(" ")
    scheme = scheme.lower()
    if scheme not in ("bearer", "basic"):
        return None
    params = {
        match[1].lower(): (match[2] if match[2] is not None else match[3]).replace('\\"', '"')
        for match in _CHALLENGE_PARAM.finditer(rest)
    }
    if scheme == "bearer" and not params.get("realm"):
        return None
    return Challenge(scheme, params)


def basic_authorization(pair: tuple[str, str]) -> str:
    return "Basic " + base64.b64encode(f"{pair[0]}:{pair[1]}".encode()).decode()
