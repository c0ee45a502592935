"""Run one pull request's check: its head against its base branch, stored apart, posted to GitHub.

1. Claim the queued row (a conditional update: a second worker with the same id does nothing).
2. Fetch ``refs/pull/N/head`` (the newest push, whatever event queued the check) and the base
   commit; when no lockfile, requirements file, pyproject/Pipfile or Dockerfile differs between
   the two, stop: *skipped*, nothing posted (a README-only pull request costs two cheap fetches).
3. Check the head with the same engine and settings as a branch scan; the base is the latest
   scan of the base branch when the pull request targets the tracked branch (its stored rows,
   as ``archcheck/1``), else the base commit is checked too. :func:`scanners.compare.compare_reports`.
4. Store the comparison on the row (never a :class:`~readiness.models.Scan`: branch history,
   trends and readiness do not move) unless a newer event re-queued the row meanwhile.
5. Post the check run on the head commit, or update the one posted on that commit before: it is
   created *in progress* once the check knows it has work to do, and completed with the answer
   (or, should the check fail, as ``neutral`` with the reason: never left hanging).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Collection, Iterable, Mapping
from typing import Any

from django.conf import settings
from django.db.models import F, Q
from django.utils import timezone

from readiness import engine
from readiness.clients import http_client, http_deadline, metadata_reader, registry_client, shared_index_client
from readiness.models import Campaign, PullRequestCheck, Scan
from readiness.queries.campaigns import campaign_covers
from readiness.queries.links import site_url
from readiness.queries.matrix import matrix_documents
from readiness.services.credentials import clone_url
from readiness.services.github_app import GitHubAuth, GitHubChecks, GitHubChecksError
from scanners.check import check_snapshot, is_relevant_path
from scanners.check_run import CHECK_RUN_NAME, MAX_ANNOTATIONS, annotation_batches, check_run_output
from scanners.compare import compare_reports
from scanners.git import GitError, RepoSnapshot, fetch_snapshot
from scanners.http import one_line
from scanners.report import report_to_json

__all__ = [
    "MAX_POST_RETRIES",
    "fail_targets",
    "github_checks",
    "pull_request_check_run",
    "pull_request_post",
    "pull_request_repost",
    "pull_request_retry_countdown",
    "pull_request_unposted",
]

log = logging.getLogger(__name__)

State = PullRequestCheck.State
MAX_POST_RETRIES = 3  # a check run GitHub refused is posted again this many times, with backoff
_BATCHES_POSTED = "annotation_batches_posted"  # in ``comparison``: how far a refused post got
_ON_RUN = "annotations_on_run"  # in ``comparison``: those the updated run shows already (a re-run's)


def github_checks() -> GitHubChecks | None:
    """The Checks API client from settings; ``None`` when no App and no token is configured."""
    auth = GitHubAuth(
        app_id=settings.GITHUB_APP_ID, private_key=settings.GITHUB_APP_PRIVATE_KEY, token=settings.GITHUB_TOKEN
    )
    if not auth.configured:
        return None
    return GitHubChecks(base_url=settings.GITHUB_API_URL, auth=auth, http=http_client(), deadline=http_deadline())


def fail_targets(check: PullRequestCheck, targets: Iterable[Mapping[str, Any]]) -> Collection[str] | None:
    """The targets a new blocker fails this pull request on (READINESS_PR_FAIL_ON); ``None``: all.

    ``targets``: the head's targets (``archcheck/1``: id, CPython, libc). A target fails when an
    active campaign of the repo's team covers it, by the campaigns' own scope rule (a campaign for
    musl on arm64 does not fail a glibc image's new arm64 blocker).
    """
    if settings.READINESS_PR_FAIL_ON == "all":
        return None
    if settings.READINESS_PR_FAIL_ON == "never":
        return None  # with never_fail: reported as neutral
    campaigns = list(
        Campaign.objects.filter(closed_at__isnull=True)
        .filter(Q(teams__isnull=True) | Q(teams__id=check.repo.team_id))
        .distinct()
    )
    return sorted({str(t["id"]) for t in targets if any(campaign_covers(c, t) for c in campaigns)})


def pull_request_check_run(*, check_id: int) -> PullRequestCheck | None:
    """Claim, check and post one queued pull request. Harmless when called twice."""
    claimed = PullRequestCheck.objects.filter(pk=check_id, state=State.QUEUED).update(
        state=State.RUNNING, updated_at=timezone.now()
    )
    if not claimed:
        return None
    check = PullRequestCheck.objects.select_related("repo", "repo__latest_scan", "repo__team").get(pk=check_id)
    queued_head = check.head_sha
    started: list[str] = []  # the head commit an in-progress run was posted on

    def start(head_commit: str) -> None:
        started.append(head_commit)
        _post(check, head_commit, _started_body(check))

    try:
        result = _compare(check, start)
    except (GitError, _Failed) as exc:
        detail = one_line(str(exc).replace(clone_url(check.repo), check.repo.url))
        _finish(check, queued_head, state=State.FAILED, detail=detail)
        _unfinished(check, started, detail)
        return check
    except Exception as exc:  # recorded on the row, never lost
        log.exception("pull request check %s failed", check_id)
        detail = f"{type(exc).__name__}: {one_line(exc)}"
        _finish(check, queued_head, state=State.FAILED, detail=detail)
        _unfinished(check, started, detail)
        return check
    if result is None:
        _finish(
            check,
            queued_head,
            state=State.SKIPPED,
            detail="no lockfile, requirements, pyproject, Pipfile or Dockerfile changed",
        )
        return check
    head_commit, base_commit, head_targets, comparison = result
    targets = fail_targets(check, head_targets)
    output = check_run_output(
        comparison,
        fail_targets=targets,
        never_fail=settings.READINESS_PR_FAIL_ON == "never",
        base=f"`{check.base_ref or 'the base'}` @ `{(base_commit or '?')[:12]}`",
        dashboard_url=site_url(settings.SITE_ROOT, "repo", check.repo.name),
    )
    if not _finish(
        check,
        queued_head,
        state=State.DONE,
        checked_sha=head_commit,
        base_commit=base_commit or "",
        comparison={**comparison, "output": output, _ON_RUN: _already_on_run(check, head_commit)},
        conclusion=output["conclusion"],
        detail="",
    ):
        return check
    check.refresh_from_db()
    pull_request_post(check)
    return check


def pull_request_post(check: PullRequestCheck, *, resume: bool = False) -> bool:
    """Post (or update) the check run of a done check; ``False`` when GitHub refused it (recorded on
    the row, never raised). ``resume``: a retry, which sends only the annotation batches GitHub has
    not taken yet (it appends each update's annotations: sending one twice would show it twice).
    """
    if not check.comparison:
        return True
    output = check.comparison["output"]
    batches = annotation_batches(_to_post(check.comparison))
    text = {"title": output["title"], "summary": output["summary"]}
    start = 0
    if resume and check.check_run_id and check.posted_sha == check.checked_sha:
        start = min(int(check.comparison.get(_BATCHES_POSTED) or 0), len(batches))
    for i in range(start, len(batches)):
        if i == 0:
            body = {
                **_run_fields(check),
                "status": "completed",
                "conclusion": output["conclusion"],
                "completed_at": _now(),
                "output": {**text, "annotations": batches[0]},
            }
        else:  # GitHub appends each update's annotations to the run's
            body = {"output": {**text, "annotations": batches[i]}}
        if not _post(check, check.checked_sha, body):
            if i:  # a retry starts here
                PullRequestCheck.objects.filter(pk=check.pk, state=State.DONE, checked_sha=check.checked_sha).update(
                    comparison={**check.comparison, _BATCHES_POSTED: i}
                )
            return False
    return True


def pull_request_repost(*, check_id: int) -> None:
    """Post again a check whose run GitHub refused (the task's retry), updating the run in place: a
    done check's result, or a failed check's "could not finish" (else its run would hang in progress)."""
    check = _unposted().select_related("repo").filter(pk=check_id).first()
    if check is None:
        return  # posted meanwhile, or a newer event re-queued it: that check posts
    if check.state == State.DONE:
        pull_request_post(check, resume=True)
    else:
        _unfinished(check, [check.posted_sha], check.detail)


def pull_request_unposted(*, check_id: int) -> bool:
    """Whether GitHub refused the run of a finished check: the task retries the post."""
    return _unposted().filter(pk=check_id).exists()


def _unposted():
    """Done checks whose run was refused, and failed ones whose run on their head may hang in progress."""
    failed_on_posted_head = Q(state=State.FAILED, check_run_id__isnull=False, posted_sha=F("head_sha"))
    return PullRequestCheck.objects.filter(Q(state=State.DONE) | failed_on_posted_head).exclude(post_error="")


def pull_request_retry_countdown(retries: int) -> float:
    """Seconds before the post's retry number ``retries + 1``: READINESS_PR_POST_RETRY_SECONDS, doubling."""
    return float(settings.READINESS_PR_POST_RETRY_SECONDS * 2**retries)


def _to_post(comparison: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The annotations this result adds to its run: GitHub keeps those an earlier post of the same
    run gave (an update appends; nothing removes one), so a re-run sends only the others."""
    on_run = {_annotation_key(a) for a in comparison.get(_ON_RUN) or ()}
    return [a for a in comparison["output"]["annotations"] if _annotation_key(a) not in on_run]


def _already_on_run(check: PullRequestCheck, head_commit: str) -> list[dict[str, Any]]:
    """The annotations the run on ``head_commit`` shows already, from the row as it was before this check."""
    old = check.comparison
    if not old or not check.check_run_id or check.posted_sha != head_commit or check.checked_sha != head_commit:
        return []  # a new run, or one whose earlier result is unknown
    sent = _to_post(old)
    if check.post_error:
        sent = sent[: int(old.get(_BATCHES_POSTED) or 0) * MAX_ANNOTATIONS]
    shown = {_annotation_key(a): a for a in [*(old.get(_ON_RUN) or ()), *sent]}
    return list(shown.values())


def _annotation_key(annotation: Mapping[str, Any]) -> str:
    return json.dumps(annotation, sort_keys=True)


def _run_fields(check: PullRequestCheck) -> dict[str, Any]:
    return {
        "name": CHECK_RUN_NAME,
        "details_url": site_url(settings.SITE_ROOT, "repo", check.repo.name),
        "external_id": f"{check.repo_id}:{check.number}",
    }


def _now() -> str:
    return timezone.now().strftime("%Y-%m-%dT%H:%M:%SZ")


def _started_body(check: PullRequestCheck) -> dict[str, Any]:
    """Shown on the pull request while the head is checked (the same run is completed after)."""
    return {
        **_run_fields(check),
        "status": "in_progress",
        "started_at": _now(),
        "output": {
            "title": "Checking the dependencies",
            "summary": f"Checking each locked package on every target against `{check.base_ref or 'the base'}`.",
        },
    }


def _unfinished(check: PullRequestCheck, started: list[str], detail: str) -> None:
    """A run left in progress would hang on the pull request: complete it as neutral, saying why."""
    if not started:
        return
    body = {
        **_run_fields(check),
        "status": "completed",
        "conclusion": "neutral",
        "completed_at": _now(),
        "output": {"title": "The check could not finish", "summary": f"It is retried on the next push.\n\n{detail}"},
    }
    _post(check, started[-1], body)


def _post(check: PullRequestCheck, head_commit: str, body: dict[str, Any]) -> bool:
    """Create the run on ``head_commit``, or update the one already posted there (never a second one).

    ``False`` when GitHub refused it (recorded on the row); ``True`` when posted or nothing to post to.
    """
    client = github_checks()
    if client is None or not check.repo.github_full_name:
        return True
    full_name = check.repo.github_full_name
    fresh = PullRequestCheck.objects.filter(pk=check.pk).values("check_run_id", "posted_sha").first() or {}
    try:
        token = client.token_for(full_name, check.installation_id)
        if fresh.get("check_run_id") and fresh.get("posted_sha") == head_commit:
            answer = client.update_check_run(full_name, token, fresh["check_run_id"], body)
        else:
            answer = client.create_check_run(full_name, token, {**body, "head_sha": head_commit})
    except GitHubChecksError as exc:
        log.warning("check run of %s#%s not posted: %s", full_name, check.number, exc)
        PullRequestCheck.objects.filter(pk=check.pk).update(post_error=str(exc)[:1000], repost=False)
        return False
    check_run_id = answer.get("id") if isinstance(answer.get("id"), int) else fresh.get("check_run_id")
    PullRequestCheck.objects.filter(pk=check.pk).update(
        check_run_id=check_run_id, posted_sha=head_commit, post_error="", repost=False
    )
    return True


class _Failed(Exception):
    """A failure with a message meant for people."""


def _compare(
    check: PullRequestCheck, start: Callable[[str], None]
) -> tuple[str, str | None, list[Any], dict[str, Any]] | None:
    """(head commit, base commit, the head's targets, the comparison); ``None``: no dependency file changed."""
    head = _fetch(check, f"refs/pull/{check.number}/head")
    if head.commit is None:
        raise _Failed(f"refs/pull/{check.number}/head has no commit")
    base_snapshot = _fetch(check, check.base_sha or check.base_ref or None)
    if _dependency_files(head) == _dependency_files(base_snapshot):
        PullRequestCheck.objects.filter(pk=check.pk).update(checked_sha=head.commit)
        return None
    start(head.commit)
    index = shared_index_client()
    registry = registry_client()
    try:

        def run(snapshot: RepoSnapshot):
            return check_snapshot(
                snapshot,
                index=index,
                defaults=engine.target_defaults(),
                limits=engine.check_limits(),
                platforms=settings.READINESS_PLATFORMS,
                image_platforms=registry.platforms_many if registry is not None else None,
                read_metadata=metadata_reader(),
            )

        head_doc = report_to_json(run(head))
        base_doc = _base_scan_document(check)
        if base_doc is None:
            base_doc = report_to_json(run(base_snapshot))
        if registry is not None:
            registry.cache.flush()
    finally:
        index.close()
        if registry is not None:
            registry.close()
    comparison = compare_reports(base_doc, head_doc)
    return head.commit, base_doc.get("commit"), list(head_doc.get("targets") or ()), comparison


def _base_scan_document(check: PullRequestCheck) -> dict[str, Any] | None:
    """The latest scan of the base branch as ``archcheck/1``, when the PR targets the tracked branch."""
    repo = check.repo
    tracked = repo.branch or check.default_branch
    scan = repo.latest_scan
    if not tracked or check.base_ref != tracked or scan is None or scan.state not in Scan.FINISHED_WITH_RESULTS:
        return None
    if scan.ref or scan.as_of is not None:
        return None  # a scan of another ref or of a past point is not the branch now
    return matrix_documents([repo])[0]


def _fetch(check: PullRequestCheck, ref: str | None) -> RepoSnapshot:
    settings.READINESS_GIT_CACHE_DIR.mkdir(parents=True, exist_ok=True)
    return fetch_snapshot(
        clone_url(check.repo),
        ref,
        wanted=is_relevant_path,
        cache_dir=settings.READINESS_GIT_CACHE_DIR,
        max_file_bytes=settings.READINESS_MAX_FILE_BYTES,
    )


def _dependency_files(snapshot: RepoSnapshot) -> set[tuple[str, str | None]]:
    return {(f.path, f.blob_id) for f in snapshot.files} | {(f.path, None) for f in snapshot.skipped}


def _finish(check: PullRequestCheck, queued_head: str, *, state: str, **fields: Any) -> bool:
    """Store the result unless a newer event re-queued the row meanwhile (it will check again)."""
    return bool(
        PullRequestCheck.objects.filter(pk=check.pk, state=State.RUNNING, head_sha=queued_head).update(
            state=state, finished_at=timezone.now(), updated_at=timezone.now(), **fields
        )
    )
