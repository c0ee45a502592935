"""Campaigns: create, edit and close them (managers, or ``manage.py campaign``).

A campaign names the targets it is about, its scope (the whole organisation or some teams),
a start and a due date. Closing keeps it and its history; nothing is ever deleted here.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import slugify

from readiness.models import Campaign, Team

__all__ = ["CampaignError", "campaign_close", "campaign_create", "campaign_update"]

_TARGET_RE = re.compile(r"^linux/[a-z0-9_]+(?:/v\d)?$")
_PYTHON_RE = re.compile(r"^3\.\d{1,2}$")


class CampaignError(ValueError):
    """A campaign that cannot be saved as asked (no target, due before start, an unknown team)."""


def _checked(
    *, name: str, targets: Sequence[str], start: dt.date, due: dt.date, teams: Sequence[str], python: str, libc: str
) -> tuple[str, list[str], list[Team]]:
    name = name.strip()
    if not name:
        raise CampaignError("a campaign needs a name")
    cleaned = sorted({t.strip() for t in targets if t.strip()})
    if not cleaned:
        raise CampaignError("a campaign needs at least one target, such as linux/arm64")
    bad = [t for t in cleaned if not _TARGET_RE.fullmatch(t)]
    if bad:
        raise CampaignError(f"not a target: {', '.join(bad)} (targets look like linux/arm64)")
    if due < start:
        raise CampaignError(f"the due date {due} is before the start {start}")
    if python and not _PYTHON_RE.fullmatch(python):
        raise CampaignError(f"CPython {python!r}: give a series such as 3.12")
    if libc not in ("", "glibc", "musl"):
        raise CampaignError(f"libc {libc!r}: glibc or musl")
    found = list(Team.objects.filter(name__in=teams))
    missing = sorted(set(teams) - {t.name for t in found})
    if missing:
        raise CampaignError(f"no team {', '.join(missing)}")
    return name[:200], cleaned, found


def campaign_create(
    *,
    name: str,
    targets: Sequence[str],
    due: dt.date,
    start: dt.date | None = None,
    teams: Sequence[str] = (),
    python: str = "",
    libc: str = "",
    description: str = "",
    user=None,
) -> Campaign:
    """A new campaign; its slug comes from the name (``-2``, ``-3`` … when taken)."""
    start = start or timezone.localdate()
    name, cleaned, found = _checked(
        name=name, targets=targets, start=start, due=due, teams=teams, python=python, libc=libc
    )
    base = slugify(name)[:90] or "campaign"
    for n in range(1, 100):
        slug = base if n == 1 else f"{base}-{n}"
        try:
            with transaction.atomic():
                campaign = Campaign.objects.create(
                    name=name,
                    slug=slug,
                    targets=cleaned,
                    python=python,
                    libc=libc,
                    start=start,
                    due=due,
                    description=description.strip()[:5000],
                    created_by=user if getattr(user, "is_authenticated", False) else None,
                )
                campaign.teams.set(found)
            return campaign
        except IntegrityError:
            continue  # the slug is taken: the next number
    raise CampaignError(f"too many campaigns named {name!r}")


def campaign_update(
    campaign: Campaign,
    *,
    name: str,
    targets: Sequence[str],
    start: dt.date,
    due: dt.date,
    teams: Sequence[str] = (),
    python: str = "",
    libc: str = "",
    description: str = "",
) -> Campaign:
    """Change what a campaign is about (its slug stays: links to it keep working)."""
    name, cleaned, found = _checked(
        name=name, targets=targets, start=start, due=due, teams=teams, python=python, libc=libc
    )
    with transaction.atomic():
        campaign.name, campaign.targets, campaign.start, campaign.due = name, cleaned, start, due
        campaign.python, campaign.libc, campaign.description = python, libc, description.strip()[:5000]
        campaign.save()
        campaign.teams.set(found)
    return campaign


def campaign_close(slug: str) -> Campaign:
    """Close a campaign (kept, with its history); closing twice changes nothing.

    :raises Campaign.DoesNotExist: for an unknown slug.
    """
    campaign = Campaign.objects.get(slug=slug)
    if campaign.closed_at is None:
        campaign.closed_at = timezone.now()
        campaign.save(update_fields=["closed_at", "updated_at"])
    return campaign
