"""Pull-request webhook events: keep one check per open pull request, queue it, purge it on close.

Called by :mod:`readiness.services.webhooks` inside its delivery transaction, with the repo row
already matched and locked, so a redelivery (same delivery id) rolls all of this back, and
deliveries for one repo take turns. Nothing slow happens here: the check itself (git, index,
the Checks API) runs in :mod:`readiness.services.pull_request_checks` on a worker.

* ``pull_request`` ``opened``, ``synchronize``, ``reopened``, ``ready_for_review``: the row takes
  the new head and is queued with the coalescing countdown; events while it is still queued join
  it (the check fetches ``refs/pull/N/head`` when it runs, so it sees the newest push). Drafts
  wait until they are ready for review. ``closed``: the row goes (merged or not).
* ``check_suite`` / ``check_run`` ``rerequested`` ("Re-run" on GitHub): the pull requests of that
  head are checked again and their check run re-posted, updated in place.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.db.models import Q
from django.utils import timezone

from readiness.models import PullRequestCheck, Repo
from readiness.services.enqueue import CHECK_PULL_REQUEST, enqueue_on_commit, tasks_run_in_process
from scanners.check_run import CHECK_RUN_NAME

__all__ = ["PR_ACTIONS", "PullRequestOutcome", "check_rerequested", "pull_request_event", "pull_requests_purge_stale"]

STALE_AFTER = dt.timedelta(days=30)
"""A check no event touched for this long belongs to a pull request whose close was never delivered
(GitHub does not redeliver a failed delivery by itself); its next push would make it again."""

PR_ACTIONS = frozenset({"opened", "synchronize", "reopened", "ready_for_review"})


@dataclass(frozen=True, slots=True)
class PullRequestOutcome:
    """``outcome`` is a :class:`~readiness.models.WebhookDelivery.Outcome` value."""

    outcome: str
    detail: str


def pull_request_event(
    repo: Repo, action: str, payload: Mapping[str, Any], *, coalesce_seconds: float
) -> PullRequestOutcome:
    pr = payload.get("pull_request")
    if not isinstance(pr, Mapping):
        return PullRequestOutcome("invalid", "pull_request: missing")
    number = pr.get("number", payload.get("number"))
    if not isinstance(number, int) or isinstance(number, bool) or number <= 0:
        return PullRequestOutcome("invalid", "pull_request.number: missing or not a number")
    if action == "closed":
        deleted, _ = PullRequestCheck.objects.filter(repo=repo, number=number).delete()
        return PullRequestOutcome("updated" if deleted else "ignored", f"pull request #{number} closed: check purged")
    if action not in PR_ACTIONS:
        return PullRequestOutcome("ignored", f"pull_request {action or '(no action)'} does not change dependencies")
    if not repo.enabled or repo.archived:
        return PullRequestOutcome("ignored", f"repo {repo.name} is {'archived' if repo.archived else 'disabled'}")
    if pr.get("draft") is True:
        return PullRequestOutcome("ignored", f"pull request #{number} is a draft: checked when ready for review")
    head, base = _mapping(pr.get("head")), _mapping(pr.get("base"))
    head_sha = _text(head.get("sha"))
    if not head_sha:
        return PullRequestOutcome("invalid", "pull_request.head.sha: missing")
    repository = _mapping(payload.get("repository"))
    fields = {
        "title": _text(pr.get("title"))[:300],
        "html_url": _text(pr.get("html_url"))[:500],
        "author": _text(_mapping(pr.get("user")).get("login"))[:100],
        "head_ref": _text(head.get("ref"))[:300],
        "head_sha": head_sha[:64],
        "base_ref": _text(base.get("ref"))[:300],
        "base_sha": _text(base.get("sha"))[:64],
        "default_branch": _text(repository.get("default_branch"))[:300],
    }
    installation = _mapping(payload.get("installation")).get("id")
    if isinstance(installation, int) and not isinstance(installation, bool):
        fields["installation_id"] = installation
    check, _ = PullRequestCheck.objects.select_for_update().get_or_create(repo=repo, number=number, defaults=fields)
    return _queue(check, fields, reason=f"pull request #{number} {action}", coalesce_seconds=coalesce_seconds)


def check_rerequested(
    repo: Repo, event: str, action: str, payload: Mapping[str, Any], *, coalesce_seconds: float
) -> PullRequestOutcome:
    """A re-run asked on GitHub: check that head's pull requests again and post over the old run."""
    if action != "rerequested":
        return PullRequestOutcome("ignored", f"{event} {action or '(no action)'}: nothing to do")
    item = _mapping(payload.get(event))
    if event == "check_run" and item.get("name") != CHECK_RUN_NAME:
        return PullRequestOutcome("ignored", f"check run {_text(item.get('name'))!r} is not ours")
    head_sha = _text(item.get("head_sha")) or _text(_mapping(item.get("check_suite")).get("head_sha"))
    numbers = [
        p.get("number")
        for p in (item.get("pull_requests") or ())
        if isinstance(p, Mapping) and isinstance(p.get("number"), int)
    ]
    # Pull requests from forks are not listed in the payload: their head commit still finds them.
    query = Q(number__in=numbers) | (Q(head_sha=head_sha) if head_sha else Q(pk__in=()))
    checks = list(PullRequestCheck.objects.select_for_update().filter(query, repo=repo).order_by("number"))
    if not checks:
        return PullRequestOutcome("ignored", f"no open pull request checked at {head_sha[:12] or 'that head'}")
    details = [_queue(c, {"repost": True}, reason=f"re-run of #{c.number}", coalesce_seconds=0).detail for c in checks]
    return PullRequestOutcome("queued", "; ".join(details))


def pull_requests_purge_stale(*, now: dt.datetime | None = None) -> int:
    """Daily: delete the checks of pull requests not heard of for :data:`STALE_AFTER`, and those of
    disabled or archived repos (no event reaches them any more). The number deleted."""
    cutoff = (now or timezone.now()) - STALE_AFTER
    stale = Q(updated_at__lt=cutoff) | Q(repo__enabled=False) | Q(repo__archived=True)
    deleted, _ = PullRequestCheck.objects.filter(stale).delete()
    return deleted


def _queue(
    check: PullRequestCheck, fields: Mapping[str, Any], *, reason: str, coalesce_seconds: float
) -> PullRequestOutcome:
    if check.state == PullRequestCheck.State.QUEUED and check.requested_at is not None:
        PullRequestCheck.objects.filter(pk=check.pk).update(**fields, updated_at=timezone.now())
        return PullRequestOutcome("coalesced", f"{reason}; joins the queued check of #{check.number}")
    PullRequestCheck.objects.filter(pk=check.pk).update(
        **fields, state=PullRequestCheck.State.QUEUED, requested_at=timezone.now(), updated_at=timezone.now()
    )
    countdown = max(coalesce_seconds, 0)
    enqueue_on_commit(CHECK_PULL_REQUEST, (check.pk,), countdown=countdown)
    where = " in this web process (no broker configured)" if tasks_run_in_process() else ""
    return PullRequestOutcome("queued", f"{reason}; check queued, runs in {countdown:g} s{where}")


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""
