"""Organisation-wide scans: warm the index once, settle unchanged repos at once, queue the rest."""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor

from readiness.clients import shared_index_client
from readiness.models import Repo, Scan
from readiness.services.credentials import clone_url
from readiness.services.scans import scan_request
from readiness.services.unchanged import answer_still_good, current_inputs, scans_record_unchanged
from scanners.git import GitError, head_commit

log = logging.getLogger(__name__)

HEAD_CHECK_THREADS = 8


def organisation_scan(*, trigger: str = "schedule", repos: list[Repo] | None = None, deep: bool = False) -> list[Scan]:
    """Scan every enabled repo (or ``repos``): warm the index, record unchanged repos, queue the others.

    Warming revalidates every distinct index page the repos' latest answers read, once: a page
    read by 800 repos then costs one index request, not 800, and a poetry or uv lock that lists
    its own files adds only the pages it read for advice. Pages new since then are still fetched
    once each, because the shared PostgreSQL cache serialises fetches of the same package across
    workers. A repo whose head has not moved and nothing of whose answer has changed
    (:func:`~readiness.services.unchanged.answer_still_good`) is recorded as checked-and-unchanged
    here, without a task: on a quiet night that is most of the organisation.
    """
    targets = list(repos) if repos is not None else list(Repo.objects.filter(enabled=True))
    latest = {s.repo_id: s for s in Scan.objects.filter(id__in=[r.latest_scan_id for r in targets if r.latest_scan_id])}
    unchanged: list[Scan] = []
    if not deep:  # a deep scan reads wheels no earlier answer opened: never "unchanged"
        with shared_index_client() as index:
            now = current_inputs(latest.values(), index)
        if now is not None:
            candidates = [latest[r.pk] for r in targets if r.pk in latest and answer_still_good(latest[r.pk], now)]
            unchanged = _heads_unmoved(candidates, {r.pk: r for r in targets})
    scans = scans_record_unchanged(previous=unchanged, trigger=trigger) if unchanged else []
    settled = {s.repo_id for s in unchanged}
    scans.extend(scan_request(repo=repo, trigger=trigger, deep=deep) for repo in targets if repo.pk not in settled)
    return scans


def _heads_unmoved(candidates: list[Scan], repos: dict[int, Repo]) -> list[Scan]:
    """The candidates whose branch head is still their scanned commit (``git ls-remote``, in parallel)."""

    def unmoved(scan: Scan) -> bool:
        repo = repos[scan.repo_id]
        try:
            return head_commit(clone_url(repo), repo.branch or None, timeout=60) == scan.commit
        except GitError as exc:
            log.info("%s: cannot ask for its head (%s); scanning it fully", repo.name, exc)
            return False

    if not candidates:
        return []
    with ThreadPoolExecutor(max_workers=HEAD_CHECK_THREADS, thread_name_prefix="heads") as pool:
        return [scan for scan, same in zip(candidates, pool.map(unmoved, candidates)) if same]
