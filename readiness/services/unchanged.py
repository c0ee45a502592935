"""The unchanged shortcut: when a scan may reuse the previous scan's answer instead of analysing again.

An answer depends on the repo's files at its commit, on the analyser, on the index pages and
metadata it read and on its base images' registry answers (its *provenance*, recorded by
:mod:`scanners.check.provenance` and stored by :func:`provenance_json`). A repo whose head is
still the commit of its last complete answer, checked by the same analyser, none of whose pages
has changed since it read them, none of whose missing metadata has turned up and none of whose
base images has a new digest or a lookup to retry, would get the same answer again: the scan then records
"checked, nothing changed" and points at the earlier scan's rows. This holds for every lockfile
format alike: a poetry or uv lock that lists its own files simply depends on fewer pages (only
those read for advice), so it is compared on fewer. Single scans ask here (:func:`head_is`,
:func:`index_unchanged`); the organisation scan asks for many repos at once
(:func:`current_inputs`) and records them with :func:`scans_record_unchanged`, without a task each.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.db.models import OuterRef, Q, Subquery
from django.utils import timezone

from readiness.models import CoreMetadata, ImagePlatformsCache, IndexPage, Repo, Scan
from readiness.services.bulk_insert import insert_instances
from readiness.services.credentials import clone_url
from readiness.services.index_cache import DatabaseIndexCache
from readiness.services.metadata_cache import metadata_key
from scanners import ANALYSER_VERSION
from scanners.check import CheckReport
from scanners.git import GitError, RepoSnapshot, head_commit

__all__ = [
    "CurrentInputs",
    "answer_complete",
    "answer_still_good",
    "current_inputs",
    "head_is",
    "index_unchanged",
    "nothing_changed",
    "point_unchanged",
    "previous_done_scan",
    "previous_point",
    "provenance_json",
    "scans_record_unchanged",
    "unchanged_fields",
]


def provenance_json(index, report: CheckReport) -> dict:
    """What ``report``'s answer read, as stored on its scan: each page with the change time it had then.

    A page the index could not give (``changed_at`` null) is recorded too: advice went without
    it, and the answer is good again only while the index still has none. ``{}`` (never reused)
    when the index keeps no shared pages to compare with later.
    """
    cache = getattr(index, "cache", None)
    if not isinstance(cache, DatabaseIndexCache):
        return {}
    pages = report.provenance.pages
    changed = cache.changed_at(index.base_url, pages)
    return {
        "pages": {
            name: {"used_for": use, "changed_at": changed[name].isoformat() if name in changed else None}
            for name, use in pages.items()
        },
        "missing_metadata": sorted({k for f in report.provenance.missing_metadata if (k := metadata_key(f))}),
        # Images a registry was asked about (not scratch, not an unparsable reference): their digest,
        # or that the answer could not be had.
        "images": {
            reference: {
                "key": [answer.registry, answer.repository, answer.digest or answer.tag],
                "digest": answer.resolved_digest,
                "failed": answer.error is not None,
            }
            for reference, answer in report.provenance.images.items()
            if answer.registry and (answer.digest or answer.tag)
        },
    }


ImageKey = tuple[str, str, str]  # (registry, repository, tag or digest), as the registry cache keys it


@dataclass(frozen=True)
class ImageNow:
    """What the registry cache holds now for one image: its digest, and whether a failure is remembered."""

    digest: str | None
    failure_remembered: bool


@dataclass(frozen=True)
class CurrentInputs:
    """The state now of what some answers read: each page's change time, the metadata found since,
    and the registry cache's entry of each base image."""

    changed_at: Mapping[str, dt.datetime]
    metadata_found: Collection[str]
    images: Mapping[ImageKey, ImageNow] = field(default_factory=dict)


def current_inputs(scans: Iterable[Scan], index) -> CurrentInputs | None:
    """The pages and metadata the answers of ``scans`` read, as they are now (pages revalidated first).

    Two queries and one request per stale page, whatever the number of scans: every distinct page
    is asked once. ``None`` when pages are needed and ``index`` keeps none to compare with.
    """
    names: set[str] = set()
    missing: set[str] = set()
    images: set[ImageKey] = set()
    for scan in scans:
        if answer_complete(scan):
            names.update(scan.provenance.get("pages", ()))
            missing.update(scan.provenance.get("missing_metadata", ()))
            images.update(tuple(i["key"]) for i in scan.provenance.get("images", {}).values())
    changed_at: dict[str, dt.datetime] = {}
    if names:
        if not isinstance(getattr(index, "cache", None), DatabaseIndexCache):
            return None
        index.refresh(names)  # revalidates pages older than the cache period; fresh ones are not even loaded
        changed_at = dict(
            IndexPage.objects.filter(index_url=index.base_url, name__in=names).values_list("name", "changed_at")
        )
    found = set(CoreMetadata.objects.filter(key__in=missing).values_list("key", flat=True)) if missing else set()
    return CurrentInputs(changed_at, frozenset(found), _images_now(images))


def _images_now(keys: set[ImageKey]) -> dict[ImageKey, ImageNow]:
    """The registry cache's entries for ``keys`` and their hosts' breakers (1 query, none without keys)."""
    if not keys:
        return {}
    match = Q()
    for registry, repository, reference in keys | {(k[0], "", "") for k in keys}:
        match |= Q(registry=registry, repository=repository, reference=reference)
    rows = {(r.registry, r.repository, r.reference): r for r in ImagePlatformsCache.objects.filter(match)}
    since = timezone.now() - dt.timedelta(seconds=settings.READINESS_REGISTRY_FAILURE_SECONDS)

    def remembered(row) -> bool:
        return row is not None and row.failed_at is not None and row.failed_at > since

    out = {}
    for key in keys:
        row = rows.get(key)
        host_down = remembered(rows.get((key[0], "", "")))
        failed = host_down or (remembered(row) and row.fetched_at is None)
        out[key] = ImageNow(digest=(row.digest or None) if row is not None else None, failure_remembered=failed)
    return out


def answer_still_good(scan: Scan, now: CurrentInputs) -> bool:
    """The rule: ``scan``'s answer may be reused for its commit. Single and organisation scans both ask this.

    A complete answer (``done``) by this analyser at a known commit, every index page it read
    still as it read it, and none of the metadata it lacked found since. An answer with no
    recorded provenance (stored before it was kept, or without a shared index cache) is
    analysed again rather than guessed at.
    """
    if not answer_complete(scan) or scan.as_of is not None:
        return False  # a backfilled point was decided against the index as it was then, not now
    pages = scan.provenance.get("pages")
    if pages is None:
        return False
    for name, use in pages.items():
        recorded = use["changed_at"]
        if now.changed_at.get(name) != (dt.datetime.fromisoformat(recorded) if recorded else None):
            return False
    if any(key in now.metadata_found for key in scan.provenance.get("missing_metadata", ())):
        return False
    return all(_image_unchanged(image, now.images) for image in scan.provenance.get("images", {}).values())


def _image_unchanged(recorded: dict, now: Mapping[ImageKey, ImageNow]) -> bool:
    """A base image's answer holds: a failure while it is still remembered, a digest while no other is known."""
    current = now.get(tuple(recorded["key"]))  # type: ignore[arg-type]
    if recorded["failed"]:
        # The registry would be asked again now (the failure is forgotten, or an answer came in).
        return current is not None and current.failure_remembered
    return current is None or current.digest is None or recorded["digest"] in (None, current.digest)


def answer_complete(scan: Scan) -> bool:
    """The first half of :func:`answer_still_good`, the part that needs no query."""
    return scan.state == Scan.State.DONE and scan.analyser_version == ANALYSER_VERSION and bool(scan.commit)


def previous_done_scan(scan: Scan) -> Scan | None:
    return (
        # A backfilled point was decided against the index as it was then: never today's answer.
        Scan.objects.filter(repo_id=scan.repo_id, state=Scan.State.DONE, as_of__isnull=True)
        .exclude(id=scan.pk)
        .order_by("-finished_at")
        .first()
    )


def nothing_changed(previous: Scan, snapshot: RepoSnapshot, index) -> bool:
    """Same commit, same analyser, and nothing its answer read has changed since."""
    if not snapshot.commit or previous.commit != snapshot.commit:
        return False
    return index_unchanged(previous, index)


def previous_point(scan: Scan) -> Scan | None:
    """The repo's backfilled point just before ``scan``'s (both have ``as_of``), if it is done."""
    return (
        Scan.objects.filter(repo_id=scan.repo_id, state=Scan.State.DONE, as_of__lt=scan.as_of)
        .order_by("-as_of")
        .first()
    )


def point_unchanged(previous: Scan, scan: Scan, snapshot: RepoSnapshot, index) -> bool:
    """Whether the earlier point ``previous``'s answer holds for the point ``scan``: backfill's reuse.

    Both are decided against the index as it was at their ``as_of``: the answer is the same when
    the commit and analyser are, no file of a page the answer read was uploaded in between, and
    none of the metadata it lacked has been found since. One index fetch of those pages (cached).
    """
    if not answer_complete(previous) or previous.as_of is None or scan.as_of is None:
        return False
    if not snapshot.commit or snapshot.commit != previous.commit or "pages" not in previous.provenance:
        return False
    start, end = previous.as_of, scan.as_of
    names = list(previous.provenance["pages"])
    for result in (index.fetch_many(names) if names else {}).values():
        if result.files is None:
            return False  # the page cannot be read now: decide afresh
        if any(f.upload_time is not None and start < f.upload_time <= end for f in result.files.files):
            return False
    missing = previous.provenance.get("missing_metadata", ())
    return not (missing and CoreMetadata.objects.filter(key__in=missing).exists())


def head_is(scan: Scan, commit: str) -> bool:
    """Whether the repo's head is still ``commit``, from one ``ls-remote``; ``False`` when unsure."""
    if not commit:
        return False
    try:
        head = head_commit(clone_url(scan.repo), scan.ref or scan.repo.branch or None, timeout=60)
    except GitError:
        return False  # the full fetch will report the problem properly
    return head == commit


def index_unchanged(previous: Scan, index) -> bool:
    """Whether :func:`answer_still_good` holds for ``previous`` now, its index pages revalidated first."""
    if not answer_complete(previous) or "pages" not in previous.provenance:
        return False  # before any query or index request
    now = current_inputs([previous], index)
    return now is not None and answer_still_good(previous, now)


def unchanged_fields(previous: Scan) -> dict:
    """A finished scan that reuses ``previous``'s answer: nothing it depends on has moved."""
    now = timezone.now()
    return dict(
        state=Scan.State.DONE,
        finished_at=now,
        heartbeat_at=now,
        step="",
        progress=100,
        commit=previous.commit,
        committed_at=previous.committed_at,
        analyser_version=ANALYSER_VERSION,
        targets=previous.targets,
        summary=previous.summary,
        unchanged=True,
        results_from_id=previous.result_scan_id,
        provenance=previous.provenance,
    )


def scans_record_unchanged(*, previous: list[Scan], trigger: str) -> list[Scan]:
    """Record, without queuing anything, that these repos were checked and nothing changed.

    The organisation scan has already seen that each repo's head is still ``previous.commit``
    and that nothing its answer read has moved, so a task per repo would only repeat that.
    """
    now = timezone.now()
    scans = [Scan(repo_id=p.repo_id, trigger=trigger, started_at=now, **unchanged_fields(p)) for p in previous]
    with transaction.atomic():
        insert_instances(Scan, scans)
        # Each repo points at its new scan: one UPDATE whatever the number (bulk_update would
        # compile a CASE of 500 branches).
        Repo.objects.filter(id__in=[s.repo_id for s in scans]).update(
            latest_scan_id=Subquery(
                Scan.objects.filter(repo_id=OuterRef("pk"), id__in=[s.pk for s in scans]).values("id")[:1]
            )
        )
    return scans
