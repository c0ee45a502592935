"""The unchanged shortcut: when a scan may reuse the previous scan's answer instead of analysing again.

A repo whose head is still the commit of its last complete answer, checked by the same analyser,
with no index page behind that answer changed since, would get the same answer again: the scan
then records "checked, nothing changed" and points at the earlier scan's rows. Single scans ask
here (:func:`head_is`, :func:`index_unchanged`); the organisation scan asks for many repos at
once and records them with :func:`scans_record_unchanged`, without a task each.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Mapping

from django.db import transaction
from django.utils import timezone

from readiness.models import IndexPage, Repo, Scan, Verdict
from readiness.services.credentials import clone_url
from readiness.services.index_cache import DatabaseIndexCache
from scanners import ANALYSER_VERSION
from scanners.git import GitError, RepoSnapshot, head_commit

__all__ = [
    "answer_complete",
    "answer_still_good",
    "head_is",
    "index_unchanged",
    "nothing_changed",
    "previous_done_scan",
    "scans_record_unchanged",
    "unchanged_fields",
]


def previous_done_scan(scan: Scan) -> Scan | None:
    return (
        Scan.objects.filter(repo_id=scan.repo_id, state=Scan.State.DONE)
        .exclude(id=scan.pk)
        .order_by("-finished_at")
        .first()
    )


def nothing_changed(previous: Scan, snapshot: RepoSnapshot, index) -> bool:
    """Same commit, same analyser, and no index page its answers came from changed since.

    "Since" is the change time of the pages the previous scan itself read (not its start
    time): a page first fetched during that scan is not news to the next one.
    """
    if not snapshot.commit or previous.commit != snapshot.commit:
        return False
    return index_unchanged(previous, index)


def head_is(scan: Scan, commit: str) -> bool:
    """Whether the repo's head is still ``commit``, from one ``ls-remote``; ``False`` when unsure."""
    if not commit:
        return False
    try:
        head = head_commit(clone_url(scan.repo), scan.ref or scan.repo.branch or None, timeout=60)
    except GitError:
        return False  # the full fetch will report the problem properly
    return head == commit


def answer_still_good(scan: Scan, names: Collection[str], changed_at: Mapping[str, dt.datetime | None]) -> bool:
    """The rule: ``scan``'s answer may be reused for its commit. Single and organisation scans both ask this.

    A complete answer (``done``) by this analyser at a known commit, and no index page behind it
    changed since. ``names``: the packages of the answer (its result scan's verdict rows);
    ``changed_at``: the change time of each one's cached index page, where there is one.
    """
    if not answer_complete(scan):
        return False
    if scan.index_changed_at is None:
        return not names  # nothing to compare with: analyse again rather than guess
    # A package with no cached page was answered from its lockfile's own file list.
    return all(changed_at.get(n) is None or changed_at[n] <= scan.index_changed_at for n in names)


def answer_complete(scan: Scan) -> bool:
    """The first half of :func:`answer_still_good`, the part that needs no query."""
    return scan.state == Scan.State.DONE and scan.analyser_version == ANALYSER_VERSION and bool(scan.commit)


def index_unchanged(previous: Scan, index) -> bool:
    """Whether :func:`answer_still_good` holds for ``previous`` now, its index pages revalidated first."""
    if not answer_complete(previous):
        return False  # before any query or index request
    names = list(Verdict.objects.filter(scan_id=previous.result_scan_id).values_list("package", flat=True).distinct())
    changed_at: dict[str, dt.datetime | None] = {}
    if names and previous.index_changed_at is not None:  # otherwise the rule needs no page
        if not isinstance(getattr(index, "cache", None), DatabaseIndexCache):
            return False  # nothing to compare with: analyse again rather than guess
        index.refresh(names)  # revalidates pages older than the cache period; fresh ones are not even loaded
        changed_at = dict(
            IndexPage.objects.filter(index_url=index.base_url, name__in=names).values_list("name", "changed_at")
        )
    return answer_still_good(previous, names, changed_at)


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
        index_changed_at=previous.index_changed_at,
    )


def scans_record_unchanged(*, previous: list[Scan], trigger: str) -> list[Scan]:
    """Record, without queuing anything, that these repos were checked and nothing changed.

    The organisation scan has already seen that each repo's head is still ``previous.commit``
    and that no index page behind the answer moved, so a task per repo would only repeat that.
    """
    now = timezone.now()
    scans = [Scan(repo_id=p.repo_id, trigger=trigger, started_at=now, **unchanged_fields(p)) for p in previous]
    with transaction.atomic():
        Scan.objects.bulk_create(scans)
        by_repo = {s.repo_id: s.pk for s in scans}
        Repo.objects.bulk_update(
            [Repo(id=repo_id, latest_scan_id=scan_id) for repo_id, scan_id in by_repo.items()], ["latest_scan"]
        )
    return scans
