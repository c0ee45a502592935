"""Suggested upstream issues: drafted from the current blockers, deduplicated across the organisation.

A suggestion exists for every package that some repo's current results mark ``upstream``
(``none`` or ``sdist``, and no release of the package has a wheel for the target), unless a known
replacement or an upgrade of the dependency that pulls it in is the fix for that repo: the same
rule as ``archcheck``'s ``upstream`` advice, applied once by the engine and stored per verdict.
:func:`upstream_refresh` recomputes them set-based (GROUP BY over the current result scans, a
few queries whatever the organisation's size). A finished scan marks the packages it touched
pending (:func:`upstream_refresh_later`) and queues :func:`upstream_refresh_pending`, which takes
every pending package at once: in process that is right after the scan, with a worker it is the
next free slot, so the 500 scans of an organisation run cost a few refreshes, not 500 (each one
reads the whole organisation's blocked rows). Daily, all are refreshed (``refresh_upstream``
task), so that a package a repo dropped entirely is resolved too. Users' decisions (filed, dismissed) are never undone by
a refresh; a suggestion nobody is blocked by any more becomes ``resolved`` (the repos then show
the upgrade, as fix versions do).

Who may mark: any logged-in engineer may mark a suggestion filed or dismissed (filing an issue
upstream is ordinary engineering work, not configuration); the user and time are recorded.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections import defaultdict
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Min, TextField
from django.db.models.functions import Cast
from django.utils import timezone
from packaging.utils import canonicalize_name

from readiness import engine
from readiness.models import ProjectMetadata, UpstreamRefreshPending, UpstreamSuggestion, Verdict
from readiness.queries.scope import result_scan_ids
from readiness.services.advisory_locks import held, held_if_free
from readiness.services.enqueue import (
    NOTIFY_UPSTREAM_RESOLVED,
    REFRESH_UPSTREAM_PENDING,
    enqueue_on_commit,
    tasks_run_in_process,
)
from scanners import project_metadata as engine_metadata
from scanners.targets import Target
from scanners.upstream_issue import draft_upstream_issue, missing_platform_tags

__all__ = [
    "MarkError",
    "MetadataFetcher",
    "RefreshResult",
    "project_metadata_for",
    "upstream_mark",
    "upstream_refresh",
    "upstream_refresh_later",
    "upstream_refresh_pending",
]

log = logging.getLogger(__name__)

MetadataFetcher = Callable[[str], engine_metadata.ProjectMetadata]
"""``fetch(package) -> scanners.project_metadata.ProjectMetadata``; tests pass their own index's."""


@dataclass(frozen=True, slots=True)
class RefreshResult:
    created: int
    updated: int
    resolved: int


_DRAFT_FIELDS = (
    "repos_blocked",
    "versions",
    "pythons",
    "targets",
    "title",
    "body",
    "new_issue_url",
    "search_url",
    "tracker_url",
)


_METADATA_THREADS = 8
"""``.metadata`` files fetched at once: each is one small request, so a refresh that meets a few
hundred new packages (an organisation's first scan) waits for the slowest of eight, not for all
in a row; as :func:`scanners.project_metadata.metadata_reader` prefetches."""

_METADATA_CHUNK = 64
"""Packages whose cached index pages are loaded together: one query per chunk, and a bounded
number of pages (a popular project's page is megabytes) in memory at once."""


def _fetch_from_cache_or_index(names: list[str]) -> dict[str, engine_metadata.ProjectMetadata]:
    """Metadata for ``names``, read from the project pages in the shared index cache when they are
    there (they usually are: the scan just used them), so only the small ``.metadata`` files are
    fetched, several at a time. The threads only do HTTP: the database is read here, beforehand."""
    from readiness.clients import http_client, http_deadline
    from readiness.models import IndexPage

    url, http, deadline = engine.index_url(), http_client(), http_deadline()
    base = url if url.endswith("/") else url + "/"
    fetched: dict[str, engine_metadata.ProjectMetadata] = {}
    for start in range(0, len(names), _METADATA_CHUNK):
        chunk = names[start : start + _METADATA_CHUNK]
        pages = {
            page.name: page
            for page in IndexPage.objects.filter(index_url=base, name__in=chunk).only(
                "name", "body", "content_type", "page_url"
            )
        }

        def fetch(name: str, pages: dict[str, IndexPage] = pages) -> engine_metadata.ProjectMetadata:
            page = pages.get(name)
            if page is None:
                return engine_metadata.fetch_project_metadata(
                    name, index_url=url, http=http, timeout=15.0, deadline=deadline
                )
            return engine_metadata.metadata_from_page(
                name,
                body=bytes(page.body),
                content_type=page.content_type,
                page_url=page.page_url or f"{base}{name}/",
                http=http,
                timeout=15.0,
                deadline=deadline,
            )

        with ThreadPoolExecutor(max_workers=min(_METADATA_THREADS, len(chunk)), thread_name_prefix="metadata") as pool:
            fetched.update(zip(chunk, pool.map(fetch, chunk)))
    return fetched


def project_metadata_for(
    names: Iterable[str], *, fetch: MetadataFetcher | None = None, now: dt.datetime | None = None
) -> dict[str, ProjectMetadata]:
    """Cached project metadata for ``names``: one query, plus a fetch per package missing or older
    than ``READINESS_UPSTREAM_METADATA_SECONDS`` (failures are cached too, for the same period),
    all written back in one upsert.

    ``fetch`` (tests pass their own index's) is called once per package; without it the default
    reads the cached pages and fetches the ``.metadata`` files concurrently.
    """
    now = now or timezone.now()
    names = sorted({canonicalize_name(n) for n in names})
    rows = {m.package: m for m in ProjectMetadata.objects.filter(package__in=names)}
    cutoff = now - dt.timedelta(seconds=settings.READINESS_UPSTREAM_METADATA_SECONDS)
    stale = [n for n in names if n not in rows or rows[n].fetched_at < cutoff]
    if not stale:
        return rows
    fetched = {n: fetch(n) for n in stale} if fetch is not None else _fetch_from_cache_or_index(stale)
    fresh = [
        ProjectMetadata(
            package=name,
            # Cut to their columns: one odd project must not fail the statement for all the others.
            version=meta.version[:100],
            project_urls=[list(p) for p in meta.project_urls],
            home_page=meta.home_page[:1000],
            error=meta.error,
            fetched_at=now,
        )
        for name, meta in fetched.items()
    ]
    # One statement for every package: update_or_create per package was three queries each, and
    # a first scan meets hundreds of packages. Two refreshes upserting the same one both succeed.
    ProjectMetadata.objects.bulk_create(
        fresh,
        update_conflicts=True,
        unique_fields=["package"],
        update_fields=["version", "project_urls", "home_page", "error", "fetched_at"],
    )
    rows.update((row.package, row) for row in fresh)
    return rows


def _scan_target(scan_targets: str | None, target_id: str) -> Target | None:
    """The target ``target_id`` of a scan's stored target list (JSON text); ``None`` if absent or bad."""
    try:
        listed = json.loads(scan_targets or "[]")
    except ValueError:
        return None
    data = (
        next((t for t in listed if isinstance(t, dict) and t.get("id") == target_id), None)
        if isinstance(listed, list)
        else None
    )
    return _target(data) if data else None


def _target(data: dict) -> Target | None:
    try:
        return Target(
            platform=data["platform"],
            python=data["python"],
            libc=data.get("libc", "glibc"),
            libc_version=data.get("libc_version", ""),
            id=data.get("id", ""),
        )
    except (KeyError, TypeError, ValueError):
        return None


def upstream_refresh(
    *, packages: Iterable[str] | None = None, fetch_metadata: MetadataFetcher | None = None
) -> RefreshResult:
    """Recompute the suggestions of ``packages`` (all when ``None``) from the current results.

    Queries: the blocked (package, version, target, scan targets) groups; repos per package; the
    cached metadata (plus fetches of missing ones); the existing suggestions; then the writes.
    A refresh of all packages also takes every pending one (:func:`upstream_refresh_later`).
    """
    only = sorted({canonicalize_name(p) for p in packages}) if packages is not None else None
    if only == []:
        return RefreshResult(0, 0, 0)
    if only is not None:
        project_metadata_for(only, fetch=fetch_metadata)  # any fetching before the lock, not under it
    # One refresh at a time across workers: two scans finishing together would otherwise both
    # create the same new draft (a duplicate key) or write counts read before the other's commit.
    with held(_LOCK):
        if only is None:
            _take_pending()
        return _refresh(only, fetch_metadata)


def upstream_refresh_later(*, packages: Iterable[str]) -> int:
    """Mark ``packages`` pending and queue a refresh (on commit); the number newly marked.

    A package already pending is left alone: the refresh queued when it was marked has not
    taken it yet (a refresh takes its packages before it reads any row), so it will see this
    scan's rows too. With a broker the refresh waits ``READINESS_UPSTREAM_REFRESH_DELAY``
    seconds, and none is queued while one is: any package still pending shows a queued refresh
    that will take every pending package, ours included. An organisation scan's 500 scans then
    cost a refresh every few seconds, not one per finished scan (each over the organisation's
    rows: a quarter of a first organisation scan's CPU when every scan queued one).
    """
    names = sorted({canonicalize_name(p) for p in packages})
    if not names:
        return 0
    waiting = set(UpstreamRefreshPending.objects.filter(package__in=names).values_list("package", flat=True))
    new = [n for n in names if n not in waiting]
    if not new:
        return 0
    delay = settings.READINESS_UPSTREAM_REFRESH_DELAY
    in_process = tasks_run_in_process()
    # Read before ours are added: no pending row at all means no refresh is queued.
    oldest = None if in_process else UpstreamRefreshPending.objects.aggregate(t=Min("requested_at"))["t"]
    UpstreamRefreshPending.objects.bulk_create([UpstreamRefreshPending(package=n) for n in new], ignore_conflicts=True)
    # Pending longer than a queued refresh could take: its refresh was lost (a worker killed,
    # a refresh that failed and put its packages back), so this scan queues one.
    overdue = oldest is not None and oldest < timezone.now() - dt.timedelta(seconds=delay + REFRESH_OVERDUE_SECONDS)
    if in_process:
        enqueue_on_commit(REFRESH_UPSTREAM_PENDING)
    elif oldest is None or overdue:
        enqueue_on_commit(REFRESH_UPSTREAM_PENDING, countdown=delay)
    return len(new)


REFRESH_OVERDUE_SECONDS = 300


def upstream_refresh_pending(*, fetch_metadata: MetadataFetcher | None = None) -> RefreshResult:
    """Refresh every pending package at once; nothing to do when another refresh is running.

    One refresher at a time: a refresh queued behind a running one finds the lock taken and
    returns at once (rather than fetching the same metadata), leaving its packages to the holder.
    Packages are taken (their rows deleted) before any verdict is read, so a scan that marks one
    afterwards marks it anew: none is missed. What scans mark during a refresh is refreshed next:
    in process by this same call, with a broker by a refresh queued
    ``READINESS_UPSTREAM_REFRESH_DELAY`` seconds later, so that a worker does not spend an
    organisation scan refreshing back to back. A refresh that fails puts its packages back.
    """
    created = updated = resolved = 0
    in_process = tasks_run_in_process()
    while True:
        with held_if_free(_LOCK) as mine:
            if not mine:
                break  # the holder looks at what is pending when it is done
            while waiting := list(UpstreamRefreshPending.objects.values_list("package", flat=True)):
                project_metadata_for(waiting, fetch=fetch_metadata)  # a failure here leaves them pending
                taken = _take_pending()
                try:
                    result = _refresh(taken, fetch_metadata)
                except Exception:
                    UpstreamRefreshPending.objects.bulk_create(
                        [UpstreamRefreshPending(package=n) for n in taken], ignore_conflicts=True
                    )
                    raise
                created, updated, resolved = (
                    created + result.created,
                    updated + result.updated,
                    resolved + result.resolved,
                )
                if not in_process:
                    break
        # Marked while we refreshed, perhaps by a scan whose queued refresh found us holding the lock.
        if not UpstreamRefreshPending.objects.exists():
            break
        if not in_process:
            enqueue_on_commit(REFRESH_UPSTREAM_PENDING, countdown=settings.READINESS_UPSTREAM_REFRESH_DELAY)
            break
    return RefreshResult(created, updated, resolved)


_LOCK = "upstream-refresh"


def _take_pending() -> list[str]:
    """The pending packages, no longer pending. Called under the lock: nobody else deletes rows."""
    rows = list(UpstreamRefreshPending.objects.values_list("id", "package"))
    UpstreamRefreshPending.objects.filter(id__in=[i for i, _ in rows]).delete()
    return sorted({p for _, p in rows})


def _refresh(only: list[str] | None, fetch_metadata: MetadataFetcher | None) -> RefreshResult:
    blocked = Verdict.objects.filter(scan_id__in=result_scan_ids(team=None), upstream=True)
    if only is not None:
        blocked = blocked.filter(package__in=only)
    groups = (
        blocked.annotate(scan_targets=Cast("scan__targets", TextField()))
        .values("package", "version", "target", "scan_targets")
        .annotate(repos=Count("scan_id", distinct=True))
        .order_by()
    )
    gaps: dict[str, dict] = defaultdict(lambda: {"tags": set(), "pythons": set(), "versions": set(), "targets": set()})
    # Most scans share a few target lists: each (list, target id) is parsed and validated once.
    targets: dict[tuple[str, str], Target | None] = {}
    for row in groups:
        key = (row["scan_targets"], row["target"])
        if key not in targets:
            targets[key] = _scan_target(row["scan_targets"], row["target"])
        target = targets[key]
        if target is None:
            continue
        gap = gaps[row["package"]]
        gap["tags"].update(missing_platform_tags((target,)))
        gap["pythons"].add(".".join(target.python.split(".")[:2]))
        gap["versions"].add(row["version"])
        gap["targets"].add(target.id)
    repos = dict(
        blocked.values("package").annotate(n=Count("scan_id", distinct=True)).values_list("package", "n").order_by()
    )
    metadata = project_metadata_for(gaps, fetch=fetch_metadata)

    existing = UpstreamSuggestion.objects.all() if only is None else UpstreamSuggestion.objects.filter(package__in=only)
    by_key = {(s.package, s.platform_tags): s for s in existing}
    now = timezone.now()
    create, update, seen = [], [], set()
    for package, gap in sorted(gaps.items()):
        meta = metadata.get(package)
        draft = draft_upstream_issue(
            package=package,
            platform_tags=sorted(gap["tags"]),
            pythons=sorted(gap["pythons"]),
            repos_blocked=repos.get(package, 0),
            versions=sorted(gap["versions"]),
            project_urls=[tuple(p) for p in (meta.project_urls if meta else [])],
            home_page=meta.home_page if meta else None,
        )
        key = (package, " ".join(draft.platform_tags))
        seen.add(key)
        fields = dict(
            repos_blocked=draft.repos_blocked,
            versions=sorted(gap["versions"]),
            pythons=list(draft.pythons),
            targets=sorted(gap["targets"]),
            title=draft.title[:300],
            body=draft.body,
            new_issue_url=draft.new_issue_url,
            search_url=draft.search_url,
            tracker_url=draft.tracker.repo_url if draft.tracker else "",
        )
        suggestion = by_key.get(key)
        if suggestion is None:
            create.append(UpstreamSuggestion(package=package, platform_tags=key[1], **fields))
            continue
        reopened = suggestion.status == UpstreamSuggestion.Status.RESOLVED  # a repo went back to an old pin
        if not reopened and all(getattr(suggestion, name) == value for name, value in fields.items()):
            continue  # nothing to write: after a scan most drafts are as they were
        for name, value in fields.items():
            setattr(suggestion, name, value)
        if reopened:
            suggestion.status = UpstreamSuggestion.Status.OPEN
        suggestion.updated_at = now
        update.append(suggestion)

    resolved = 0
    with transaction.atomic():
        UpstreamSuggestion.objects.bulk_create(create)
        if update:
            UpstreamSuggestion.objects.bulk_update(update, [*_DRAFT_FIELDS, "status", "updated_at"])
        gone = [s for key, s in by_key.items() if key not in seen]
        # A draft nobody acted on whose gap changed shape (another target joined) is replaced by the new key.
        superseded = [s.pk for s in gone if s.package in gaps and s.status == UpstreamSuggestion.Status.OPEN]
        UpstreamSuggestion.objects.filter(pk__in=superseded).delete()
        to_resolve = [
            s.pk
            for s in gone
            if s.package not in gaps and s.status in (UpstreamSuggestion.Status.OPEN, UpstreamSuggestion.Status.FILED)
        ]
        if to_resolve:
            resolved = UpstreamSuggestion.objects.filter(pk__in=to_resolve).update(
                status=UpstreamSuggestion.Status.RESOLVED,
                repos_blocked=0,
                updated_at=now,
                status_changed_at=now,
                status_changed_by=None,
            )
            enqueue_on_commit(NOTIFY_UPSTREAM_RESOLVED, (to_resolve,))  # rules told of each, once
    return RefreshResult(created=len(create), updated=len(update), resolved=resolved)


class MarkError(ValueError):
    """A mark a user cannot make (unknown status, a bad upstream URL)."""


def upstream_mark(*, suggestion_id: int, status: str, user, upstream_url: str = "") -> UpstreamSuggestion:
    """Mark a suggestion ``filed`` (with the upstream issue's URL), ``dismissed`` or back to ``open``.

    :raises MarkError: for another status, or a filed mark whose URL is not http(s).
    :raises UpstreamSuggestion.DoesNotExist: for an unknown id.
    """
    allowed = {UpstreamSuggestion.Status.FILED, UpstreamSuggestion.Status.DISMISSED, UpstreamSuggestion.Status.OPEN}
    if status not in allowed:
        raise MarkError(f"status must be filed, dismissed or open, not {status!r}")
    upstream_url = upstream_url.strip()
    if upstream_url and not upstream_url.lower().startswith(("https://", "http://")):
        raise MarkError("the upstream URL must start with https://")
    with transaction.atomic():
        suggestion = UpstreamSuggestion.objects.select_for_update().get(pk=suggestion_id)
        suggestion.status = status
        suggestion.upstream_url = upstream_url[:1000] if status == UpstreamSuggestion.Status.FILED else ""
        suggestion.status_changed_at = timezone.now()
        suggestion.status_changed_by = user if getattr(user, "is_authenticated", False) else None
        suggestion.save(
            update_fields=["status", "upstream_url", "status_changed_at", "status_changed_by", "updated_at"]
        )
    return suggestion
