"""History backfill: scan past commits so that trends exist from the first day."""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.db import IntegrityError, transaction

from readiness.clients import registry_client
from readiness.models import Repo, Scan
from readiness.services.credentials import clone_url
from readiness.services.rollups import rollup_days
from readiness.services.scans import ScanBusy, _Failed, scan_execute
from scanners.git import GitError, commits_by_date

__all__ = ["repo_backfill"]

log = logging.getLogger(__name__)


def repo_backfill(
    *, repo: Repo, since: dt.datetime, every: dt.timedelta, until: dt.datetime | None = None, index=None, registry=None
) -> list[Scan]:
    """One scan per point in time (the commit current then), oldest first; points already scanned are skipped.

    Scans are created already ``running`` and run here, one after another: the repo's
    one-running-scan constraint then also keeps a backfill and a live scan from overlapping.
    """
    settings.READINESS_GIT_CACHE_DIR.mkdir(parents=True, exist_ok=True)
    try:
        points = commits_by_date(
            clone_url(repo),
            repo.branch or None,
            since=since,
            every=every,
            until=until,
            cache_dir=settings.READINESS_GIT_CACHE_DIR,
        )
    except GitError as exc:
        raise _Failed(str(exc).replace(clone_url(repo), repo.url)) from None
    done_points = set(
        Scan.objects.filter(repo=repo, trigger="backfill", state__in=Scan.FINISHED_WITH_RESULTS).values_list(
            "as_of", flat=True
        )
    )
    scans = []
    # One registry client for every point: a base image (or an unreachable registry) is asked once.
    own_registry = registry is None
    if own_registry:
        registry = registry_client()
    try:
        for as_of, commit in points:
            if as_of in done_points:
                continue
            try:
                with transaction.atomic():
                    scan = Scan.objects.create(
                        repo=repo, trigger="backfill", ref=commit, as_of=as_of, state=Scan.State.RUNNING
                    )
            except IntegrityError:
                raise ScanBusy(f"{repo.name}: a scan is running; backfill it again when it has finished") from None
            scans.append(scan_execute(scan=scan, index=index, registry=registry))
    finally:
        if own_registry and registry is not None:
            registry.close()
    if points:
        rollup_days(since=points[0][0].date())
    return scans
