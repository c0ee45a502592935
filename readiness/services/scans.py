"""Scans: request one, run one, write its results. Every write to a scan happens here.

A scan is requested by creating its row (state ``queued``) and queuing the task on commit
(through :mod:`readiness.services.enqueue`, by the task's name: tasks import services); it
is run by claiming the row with a conditional update, so a task delivered twice (``acks_late``
after a lost worker) finds nothing to do. Results are written in one transaction together
with the final state: a scan is never shown ``done`` with half of its rows.

This module is the state machine (queued → running → done, partial or failed) and the writing
of results. When the previous answer may be reused instead is :mod:`readiness.services.unchanged`;
the URL git is given, token included, is :mod:`readiness.services.credentials`.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Iterable

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from readiness import engine
from readiness.clients import http_client, metadata_reader, registry_client, shared_index_client
from readiness.models import Repo, Scan, ScanFile, ScanFinding, Verdict
from readiness.services.bulk_insert import insert_rows
from readiness.services.credentials import clone_url
from readiness.services.enqueue import SCAN_REPOSITORY, enqueue_on_commit, tasks_run_in_process
from readiness.services.notifications import notify_after_scan
from readiness.services.scan_rows import ScanRows, scan_rows
from readiness.services.triage import current_blockers, triage_sync
from readiness.services.unchanged import (
    head_is,
    index_unchanged,
    nothing_changed,
    point_unchanged,
    previous_done_scan,
    previous_point,
    provenance_json,
    unchanged_fields,
)
from readiness.services.upstream import upstream_refresh_later
from scanners import ANALYSER_VERSION
from scanners.check import LOCKFILE_NAMES, CheckReport, check_snapshot, is_relevant_path
from scanners.git import GitError, RepoSnapshot, fetch_snapshot
from scanners.index_as_of import IndexAsOf
from scanners.report import target_json

__all__ = [
    "ScanBusy",
    "TransientScanError",
    "scan_claim",
    "scan_execute",
    "scan_give_up",
    "scan_request",
    "scan_run",
    "scan_run_in_process",
    "scans_reap_stale",
]

log = logging.getLogger(__name__)

VERDICT_BATCH = 5000
HEARTBEAT_EVERY = dt.timedelta(seconds=5)
# In process (no broker) a transient failure is tried again at once, a few times, briefly: the
# caller waits, and a remote that is down for minutes is the next run's business.
IN_PROCESS_ATTEMPTS = 3
IN_PROCESS_PAUSE = 1.0  # seconds before the second attempt, doubled for each later one


class ScanBusy(Exception):
    """Another scan of the same repo is running; try again later."""


class TransientScanError(Exception):
    """A failure that may go away (network, git server): the task retries with backoff."""


def scan_request(
    *, repo: Repo, trigger: str, ref: str = "", countdown: float | None = None, deep: bool = False
) -> Scan:
    """Queue a scan of ``repo``; if one is already queued, that one is returned (no second scan).

    ``countdown``: seconds the task waits before it runs. Webhooks use it so that a burst of
    pushes finds this scan still queued and collapses into it.

    In process (no broker), a queued scan found here without a ``countdown`` is run now: the
    caller wants a scan now, and nothing else may ever run that one (its process exited before
    its deferred run, or an older release left it queued). Running it twice is harmless: only
    one run can claim it.
    """
    # The queued scan that made our insert fail may be claimed before we read it: then the
    # insert can succeed on the next attempt. Three attempts cover any realistic interleaving.
    for _attempt in range(3):
        with transaction.atomic():
            try:
                with transaction.atomic():
                    scan = Scan.objects.create(repo=repo, trigger=trigger, ref=ref, deep=deep)
            except IntegrityError:
                existing = Scan.objects.filter(repo=repo, state=Scan.State.QUEUED).first()
                if existing is not None:
                    if countdown is None and tasks_run_in_process():
                        enqueue_on_commit(SCAN_REPOSITORY, (existing.id,))
                    return existing
                continue
            enqueue_on_commit(SCAN_REPOSITORY, (scan.id,), countdown=countdown)
            return scan
    raise ScanBusy(f"could not queue a scan of {repo.name}: scans of it keep being queued and claimed")


def scan_run_in_process(*, scan_id: int, attempts: int = IN_PROCESS_ATTEMPTS) -> None:
    """Claim and run a queued scan here and now, to a final state: the task's body without a broker.

    A worker retries a transient failure minutes later, through the broker; in process there is
    nobody to retry later, and raising would stop the caller (``scan --all`` would never reach
    its next repo). So a transient failure, or another scan of the repo still running, is tried
    again after a short pause, and after ``attempts`` the scan is failed with the reason.
    """
    for attempt in range(1, attempts + 1):
        try:
            scan_run(scan_id=scan_id)
            return
        except (ScanBusy, TransientScanError) as exc:
            if attempt == attempts:
                scan_give_up(scan_id=scan_id, error=f"gave up after {attempts} attempts in process: {exc}")
                return
            log.info("scan %s, attempt %s of %s: %s; trying again", scan_id, attempt, attempts, exc)
            time.sleep(IN_PROCESS_PAUSE * 2 ** (attempt - 1))


def scan_claim(*, scan_id: int) -> Scan | None:
    """Move a queued scan to running. ``None`` when it is not queued any more (done, or taken).

    Raises :class:`ScanBusy` when another scan of the repo is running: the database's
    one-running-scan-per-repo constraint refuses the update.
    """
    now = timezone.now()
    try:
        with transaction.atomic():
            claimed = Scan.objects.filter(id=scan_id, state=Scan.State.QUEUED).update(
                state=Scan.State.RUNNING, started_at=now, heartbeat_at=now, step="fetching", attempts=F("attempts") + 1
            )
    except IntegrityError:
        raise ScanBusy(f"another scan of the repository of scan {scan_id} is running") from None
    if not claimed:
        return None
    return Scan.objects.select_related("repo").get(id=scan_id)


def scan_run(*, scan_id: int, index=None) -> Scan | None:
    """Claim and run a queued scan. Harmless when called twice for the same id."""
    scan = scan_claim(scan_id=scan_id)
    if scan is None:
        log.info("scan %s is not queued any more; nothing to do", scan_id)
        return None
    return scan_execute(scan=scan, index=index)


def scan_execute(*, scan: Scan, index=None, registry=None, snapshot: RepoSnapshot | None = None) -> Scan:
    """Run a claimed (``running``) scan to a final state, recording any failure on the scan.

    ``index`` and ``registry`` clients may be shared by a caller that runs many scans in one
    process (backfill, the demo): they remember every project and image they asked about,
    failures included, so each is asked once per run rather than once per scan.
    """
    own_index = index is None
    if own_index:
        index = shared_index_client()
    own_registry = registry is None
    if own_registry:
        registry = registry_client()
    try:
        deep = scan.deep or settings.READINESS_DEEP_CHECK
        # A deep scan reads wheels the previous answer never opened, and a past point (backfill)
        # is decided against the index as it was then: neither is ever "unchanged".
        previous = None if deep or scan.as_of is not None else previous_done_scan(scan)
        # Ask the remote for its head first (no fetch): an unchanged repo stops here.
        if (
            snapshot is None
            and previous is not None
            and head_is(scan, previous.commit)
            and index_unchanged(previous, index)
        ):
            return _finish_unchanged(scan, previous)
        if snapshot is None:
            snapshot = _fetch(scan)
        _heartbeat(scan, step="analysing", force=True)
        if previous is not None and nothing_changed(previous, snapshot, index):
            return _finish_unchanged(scan, previous)
        if scan.as_of is not None and not deep:
            point = previous_point(scan)
            if point is not None and point_unchanged(point, scan, snapshot, index):
                return _finish_unchanged(scan, point)
        source = index if scan.as_of is None else IndexAsOf(index, scan.as_of)
        report = check_snapshot(
            snapshot,
            index=source,
            defaults=engine.target_defaults(),
            limits=engine.check_limits(),
            platforms=settings.READINESS_PLATFORMS,
            progress=lambda step, done, total: _heartbeat(scan, step=step, progress=int(100 * done / max(total, 1))),
            deep_check=_deep_checker() if deep else None,
            image_platforms=registry.platforms_many if registry is not None else None,
            read_metadata=metadata_reader(),
        )
        if registry is not None:
            registry.cache.flush()
        provenance = provenance_json(index, report)
        if isinstance(source, IndexAsOf):
            # Files the index gave no upload time were counted as present that day: say how many.
            provenance["as_of"] = {"moment": source.moment.isoformat(), "undated_files": source.undated}
        return _finish_with_report(scan, report, snapshot=snapshot, provenance=provenance)
    except TransientScanError as exc:
        _requeue_or_fail(scan, str(exc))
        raise
    except _Failed as exc:
        _finish_failed(scan, str(exc))
        return scan
    except Exception as exc:  # one repo's failure is recorded on its scan, never lost
        log.exception("scan %s of %s failed", scan.pk, scan.repo.name)
        _finish_failed(scan, f"{type(exc).__name__}: {exc}")
        return scan
    finally:
        if own_index:
            index.close()
        if own_registry and registry is not None:
            registry.close()


def _deep_checker():
    """Reads wheels with HTTP range requests, on the worker's shared HTTP client."""
    from scanners.deep_check import deep_check_wheel

    http = http_client()
    return lambda f: deep_check_wheel(f, http=http)


def _fetch(scan: Scan) -> RepoSnapshot:
    repo = scan.repo
    settings.READINESS_GIT_CACHE_DIR.mkdir(parents=True, exist_ok=True)
    try:
        return fetch_snapshot(
            clone_url(repo),
            scan.ref or repo.branch or None,
            wanted=is_relevant_path,
            cache_dir=settings.READINESS_GIT_CACHE_DIR,
            max_file_bytes=settings.READINESS_MAX_FILE_BYTES,
        )
    except GitError as exc:
        message = str(exc).replace(clone_url(repo), repo.url)
        if exc.transient:
            raise TransientScanError(message) from None
        raise _Failed(message) from None


class _Failed(Exception):
    """A permanent failure with a message meant for people (bad ref, unknown repo)."""


def _heartbeat(scan: Scan, *, step: str, progress: int | None = None, force: bool = False) -> None:
    now = timezone.now()
    if not force and scan.heartbeat_at and now - scan.heartbeat_at < HEARTBEAT_EVERY:
        return
    scan.heartbeat_at = now
    scan.step = step
    fields = {"heartbeat_at": now, "step": step}
    if progress is not None:
        scan.progress = fields["progress"] = progress
    Scan.objects.filter(id=scan.pk, state=Scan.State.RUNNING).update(**fields)


def _finish_unchanged(scan: Scan, previous: Scan) -> Scan:
    with transaction.atomic():
        Scan.objects.filter(id=scan.pk, state=Scan.State.RUNNING).update(**unchanged_fields(previous))
        _point_repo_at(scan)
    scan.refresh_from_db()
    return scan


def _finish_with_report(scan: Scan, report: CheckReport, *, snapshot: RepoSnapshot, provenance: dict) -> Scan:
    now = timezone.now()
    rows = scan_rows(scan.pk, report)
    previous_result_id = _result_scan_of(scan.repo.latest_scan_id)
    # A row left out (a value longer than its column) makes the stored answer incomplete.
    state = Scan.State.PARTIAL if report.partial or rows.problems else Scan.State.DONE
    with transaction.atomic():
        # The final state is written first and only if the scan is still ours: a scan the
        # reaper gave up on (and queued again) is not finished behind its back. The update
        # also locks the row until the rows below are committed with it.
        finished = Scan.objects.filter(id=scan.pk, state=Scan.State.RUNNING).update(
            state=state,
            finished_at=now,
            heartbeat_at=now,
            step="",
            progress=100,
            commit=report.commit or "",
            committed_at=snapshot.committed_at,
            analyser_version=ANALYSER_VERSION,
            targets=[target_json(t) for t in report.targets],
            summary=_summary_json(report, rows),
            error="\n".join([*_errors(report), *rows.problems])[:10_000],
            provenance=provenance,
        )
        if not finished:
            log.warning("scan %s is no longer running (reaped?); its results are dropped", scan.pk)
            scan.refresh_from_db()
            return scan
        if scan.attempts > 1:
            # Rows of an earlier, interrupted attempt of this scan are replaced, never mixed in (a
            # first attempt has none: three queries fewer for nearly every scan).
            Verdict.objects.filter(scan_id=scan.pk).delete()
            ScanFile.objects.filter(scan_id=scan.pk).delete()
            ScanFinding.objects.filter(scan_id=scan.pk).delete()
        insert_rows(ScanFile, rows.files)
        insert_rows(ScanFinding, rows.findings)
        insert_rows(Verdict, rows.verdicts, batch_size=VERDICT_BATCH)
        _point_repo_at(scan)
        if scan.as_of is None:  # a past point (backfill) is not the repo's current state
            triage_sync(scan.repo_id, current_blockers(rows.verdicts, rows.findings))
            notify_after_scan(scan_id=scan.pk, previous_id=scan.repo.latest_scan_id)  # the answer before this one
    _refresh_upstream(report, previous_result_id=previous_result_id)
    scan.refresh_from_db()
    return scan


def _result_scan_of(scan_id: int | None) -> int | None:
    """The scan holding the rows of ``scan_id``'s answer (itself, or the one it reused)."""
    row = Scan.objects.filter(pk=scan_id).values_list("results_from_id", "id").first() if scan_id else None
    return (row[0] or row[1]) if row else None


def _refresh_upstream(report: CheckReport, *, previous_result_id: int | None) -> None:
    """Mark for a refresh the suggestions this scan may change; a failure here never fails the scan.

    Only a package this repo is blocked on upstream, now or in its previous answer, can have a
    suggestion this scan changes: a new blocked repo counts, and a repo that dropped a package (or
    now has a fix for it) takes it out of the suggestions at once. Every other package's
    suggestion is as before (and the daily refresh recomputes them all). Refreshing all 150
    packages of every scan instead cost a quarter of a scan's time; the refresh itself runs
    after the scan, for every scan that finished meanwhile at once.
    """
    try:
        packages = {r.package.name for r in report.packages if any(a.kind == "upstream" for a in r.advice)}
        if previous_result_id is not None:
            packages |= set(
                Verdict.objects.filter(scan_id=previous_result_id, upstream=True).values_list("package", flat=True)
            )
        upstream_refresh_later(packages=packages)
    except Exception:  # noqa: BLE001 - advice is secondary to the scan's own results
        log.exception("marking upstream suggestions for a refresh after a scan failed")


def _errors(report: CheckReport) -> Iterable[str]:
    if not report.has_lockfile:
        yield f"no lockfile found (looked for {', '.join(LOCKFILE_NAMES)})"
    for name, error in sorted(report.index_errors.items()):
        yield f"index: {name}: {error}"
    yield from report.problems


def _summary_json(report: CheckReport, rows: ScanRows) -> dict:
    """What the scan stores per target; ``no_lockfile`` says the repo had nothing to check (not ready).

    A target missing a row that could not be stored is not ``complete`` (so never ``ready``):
    its counts are the analyser's, but the answer on record lacks that package or file.
    """
    summary = {tid: s.to_dict() for tid, s in report.summary.items()}
    for tid, s in summary.items():
        if not report.has_lockfile:
            s["no_lockfile"] = True
        if rows.all_incomplete or tid in rows.incomplete_targets:
            s["complete"] = False
            s["ready"] = False
    return summary


def _point_repo_at(scan: Scan) -> None:
    """The repo's current state is its latest finished scan (a backfilled past point never replaces it)."""
    scan.refresh_from_db(fields=["finished_at", "as_of", "state"])
    if scan.state not in Scan.FINISHED_WITH_RESULTS:
        return
    if scan.as_of is not None:
        # Backfill: only becomes current when the repo has nothing newer.
        newer = Scan.objects.filter(
            repo_id=scan.repo_id, state__in=Scan.FINISHED_WITH_RESULTS, as_of__isnull=True
        ).exists()
        if newer:
            return
    Repo.objects.filter(id=scan.repo_id).update(latest_scan_id=scan.pk)


def _finish_failed(scan: Scan, error: str) -> None:
    if (
        Scan.objects.filter(id=scan.pk)
        .exclude(state__in=Scan.FINAL_STATES)
        .update(state=Scan.State.FAILED, finished_at=timezone.now(), error=error[:10_000], step="")
    ):
        notify_after_scan(scan_id=scan.pk, previous_id=None)
    scan.refresh_from_db()


def _requeue_or_fail(scan: Scan, error: str) -> None:
    """A transient failure: back to ``queued`` for the task's retry, unless another scan is queued now."""
    try:
        with transaction.atomic():
            Scan.objects.filter(id=scan.pk, state=Scan.State.RUNNING).update(
                state=Scan.State.QUEUED, error=error, step=""
            )
    except IntegrityError:
        _finish_failed(scan, f"{error} (a newer scan is queued)")


def scan_give_up(*, scan_id: int, error: str) -> None:
    """Fail a scan that is still queued or running after its task ran out of retries.

    Without this a scan whose last retry hit a transient error would stay ``queued`` for ever
    and block every later request for its repo (one queued scan per repo).
    """
    if (
        Scan.objects.filter(id=scan_id)
        .exclude(state__in=Scan.FINAL_STATES)
        .update(state=Scan.State.FAILED, finished_at=timezone.now(), error=error[:10_000], step="")
    ):
        notify_after_scan(scan_id=scan_id, previous_id=None)


def scans_reap_stale(*, older_than: dt.timedelta) -> list[int]:
    """Fail running scans whose worker stopped sending heartbeats, and queue a fresh scan for each repo.

    A worker killed mid-scan leaves its scan ``running`` with no rows written (results are
    written in one transaction at the end); the retry scan completes the work.
    """
    cutoff = timezone.now() - older_than
    stale = list(
        Scan.objects.filter(state=Scan.State.RUNNING)
        .filter(Q(heartbeat_at__lt=cutoff) | Q(heartbeat_at__isnull=True))
        .select_related("repo")
    )
    reaped = []
    for scan in stale:
        updated = Scan.objects.filter(id=scan.pk, state=Scan.State.RUNNING, heartbeat_at=scan.heartbeat_at).update(
            state=Scan.State.FAILED,
            finished_at=timezone.now(),
            error=f"worker lost: no heartbeat since {scan.heartbeat_at:%Y-%m-%d %H:%M:%S} UTC",
            step="",
        )
        if updated:
            reaped.append(scan.pk)
            if scan.repo.enabled and scan.as_of is None:
                scan_request(repo=scan.repo, trigger="retry", ref=scan.ref)
    return reaped
