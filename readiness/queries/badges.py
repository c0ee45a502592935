"""README badges: a repo's state on one platform, who may read it, and the Markdown to paste.

A badge is readable without login when the repo is marked public, or with the repo's badge token
(``?token=``): an HMAC of the repo's name under the site's secret key, so it opens that one badge
and nothing else, needs no storage, and changes when ``SECRET_KEY`` does (which revokes them all).
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from urllib.parse import quote

from django.utils.crypto import salted_hmac

from readiness.models import Repo
from readiness.models.rollups import repo_state
from readiness.queries.links import site_url

__all__ = ["BadgeState", "RepoBadge", "badge_state", "badge_token", "badge_token_valid", "repo_badges"]

_ORDER = {"blocked": 0, "unknown": 1, "sdist": 2, "ready": 3}


@dataclass(frozen=True, slots=True)
class BadgeState:
    """``state``: ready, blocked, sdist or unknown; ``public`` says whether anybody may see it."""

    label: str
    state: str
    blockers: int
    public: bool

    @property
    def message(self) -> str:
        if self.state == "blocked":
            return f"{self.blockers} blocker{'s' if self.blockers != 1 else ''}"
        return {"ready": "ready", "sdist": "builds from source"}.get(self.state, "unknown")


@dataclass(frozen=True, slots=True)
class RepoBadge:
    platform: str
    path: str  # the image on this site (the page shows it from wherever it is served)
    image: str  # the same at SITE_ROOT, for READMEs
    markdown: str


def platform_slug(platform: str) -> str:
    """``linux/arm64`` → ``linux-arm64`` (a URL's last segment)."""
    return platform.replace("/", "-")


def badge_token(name: str) -> str:
    return salted_hmac("readiness.badge", name, algorithm="sha256").hexdigest()[:32]


def badge_token_valid(name: str, token: str) -> bool:
    return bool(token) and hmac.compare_digest(badge_token(name), token)


def badge_state(*, name: str, platform: str) -> BadgeState | None:
    """The repo's state on the platform (its worst target there), ``None`` for an unknown repo. 1 query.

    ``platform`` is as the URL writes it (``linux-arm64``). A platform the latest scan did not
    check, or a repo never scanned, is ``unknown``.
    """
    repo = Repo.objects.select_related("latest_scan").filter(name=name).first()
    if repo is None:
        return None
    wanted, label = platform, platform
    states: list[tuple[str, int]] = []
    scan = repo.latest_scan
    if scan is not None:
        platforms = {t["id"]: t.get("platform", t["id"]) for t in scan.targets if isinstance(t, dict) and "id" in t}
        for target, summary in (scan.summary or {}).items():
            target_platform = platforms.get(target, target)
            if isinstance(summary, dict) and platform_slug(target_platform) == wanted:
                label = target_platform
                states.append((repo_state(summary), int(summary.get("blockers") or 0)))
    if not states:
        return BadgeState(label=label.replace("-", "/", 1), state="unknown", blockers=0, public=repo.public)
    state = min((s for s, _ in states), key=_ORDER.__getitem__)
    return BadgeState(label=label, state=state, blockers=max(b for _, b in states), public=repo.public)


def repo_badges(*, name: str, public: bool, platforms: list[str], site_root: str) -> list[RepoBadge]:
    """The badge of each platform with the Markdown that links it to the repo's page (no query)."""
    query = "" if public else f"?token={badge_token(name)}"
    page = site_url(site_root, "repo", name)
    out = []
    for platform in platforms:
        path = f"/badge/{quote(name)}/{platform_slug(platform)}.svg{query}"
        out.append(
            RepoBadge(platform, path, site_root + path, f"[![{platform} readiness]({site_root + path})]({page})")
        )
    return out
