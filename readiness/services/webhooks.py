"""GitHub webhooks: verify a delivery, decide what it means, record it, queue the work.

The view hands over a body whose signature it has already checked (:func:`webhook_signature_valid`)
and the parsed payload; :func:`webhook_receive` does the rest in one transaction:

* the delivery row is written under a unique ``X-GitHub-Delivery`` in the same transaction as
  the work: a redelivery hits the constraint and everything it did is rolled back (no second
  scan, no second repo update);
* ``push`` to the tracked branch that touches a dependency file (or whose payload cannot tell)
  asks for a scan with a countdown of the coalescing window. Every push of a burst finds that scan
  still queued and joins it (the database allows one queued scan per repo), and the scan asks
  the remote for the branch head when it runs, so it sees the newest commit, never a stale sha;
* ``pull_request``, ``check_suite`` and ``check_run`` events keep one check per open pull request
  (:mod:`readiness.services.pull_requests`), apart from the branch's scans;
* ``repository`` events keep the repo record in step with GitHub (names, URL, archived, deleted,
  default branch). Repos are never created from a webhook and never deleted with their history.

Nothing slow happens here (no git, no index): the request answers in milliseconds and the scan
runs on a Celery worker, or without a broker on a timer thread of the web process once the
coalescing window is over (:mod:`readiness.services.enqueue`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from readiness.models import Repo, Scan, WebhookDelivery
from readiness.services.enqueue import tasks_run_in_process
from readiness.services.pull_requests import check_rerequested, pull_request_event
from readiness.services.scans import scan_request
from readiness.services.signatures import webhook_signature, webhook_signature_valid
from scanners.check import is_relevant_path

__all__ = [
    "PushDecision",
    "WebhookPayloadError",
    "WebhookResult",
    "push_decision",
    "repo_for_repository",
    "webhook_receive",
    "webhook_signature",
    "webhook_signature_valid",
]

log = logging.getLogger(__name__)

Outcome = WebhookDelivery.Outcome

# GitHub lists at most 20 commits in a push payload: with 20 the list may be cut short, so the
# files it names are not the whole change.
PUSH_COMMITS_LISTED_MAX = 20
_URL_KEYS = ("clone_url", "ssh_url", "git_url", "html_url", "svn_url")


class WebhookPayloadError(ValueError):
    """A signed payload without a field we need; the message names the key path (``repository.id``)."""


@dataclass(frozen=True, slots=True)
class PushDecision:
    """Whether a push needs a scan, and the sentence that says why (shown in the delivery log)."""

    scan: bool
    reason: str


@dataclass(frozen=True, slots=True)
class WebhookResult:
    """What one delivery did. ``duplicate``: already seen, nothing was done or stored."""

    outcome: str
    detail: str
    repo_id: int | None = None
    scan_id: int | None = None
    duplicate: bool = False


def push_decision(payload: Mapping[str, Any], *, tracked_branch: str) -> PushDecision:
    """Whether a ``push`` payload needs a scan of a repo that tracks ``tracked_branch``.

    Scans when a dependency file is among the commits' added, modified or removed paths, and
    whenever the payload cannot tell: a forced push (history rewritten), a new branch, a commit
    list that is missing, empty or possibly cut short, or a commit without its path lists.
    Tags, other branches and branch deletions never scan.

    Raises :class:`WebhookPayloadError` when ``ref`` is missing or not text.
    """
    ref = _field(payload, "ref", str)
    if ref.startswith("refs/tags/"):
        return PushDecision(False, f"tag push ({ref.removeprefix('refs/tags/')})")
    if not ref.startswith("refs/heads/"):
        return PushDecision(False, f"push to {ref}, not a branch")
    branch = ref.removeprefix("refs/heads/")
    if not tracked_branch:
        return PushDecision(True, f"push to {branch}; the payload names no default branch, so scanning anyway")
    if branch != tracked_branch:
        return PushDecision(False, f"push to branch {branch}, not the tracked branch {tracked_branch}")
    if payload.get("deleted") is True:
        return PushDecision(False, f"branch {branch} was deleted")
    if payload.get("forced") is True:
        return PushDecision(True, f"forced push to {branch}: history was rewritten")
    if payload.get("created") is True:
        return PushDecision(True, f"branch {branch} was created: every file is new")
    commits = payload.get("commits")
    if not isinstance(commits, list) or not commits:
        return PushDecision(True, f"push to {branch} lists no commits: cannot tell which files changed")
    if len(commits) >= PUSH_COMMITS_LISTED_MAX:
        return PushDecision(True, f"push to {branch} lists {len(commits)} commits (GitHub cuts the list at 20)")
    for index, commit in enumerate(commits):
        if not isinstance(commit, Mapping):
            return PushDecision(True, f"commits[{index}] is not an object: cannot tell which files changed")
        for key in ("added", "modified", "removed"):
            paths = commit.get(key)
            if not isinstance(paths, list):
                return PushDecision(True, f"commits[{index}].{key} is missing: cannot tell which files changed")
            for path in paths:
                if isinstance(path, str) and is_relevant_path(path):
                    return PushDecision(True, f"{path} {key} in {str(commit.get('id', ''))[:12] or 'a commit'}")
    return PushDecision(False, f"no lockfile, requirements file or Dockerfile changed in {len(commits)} commit(s)")


def repo_for_repository(
    repository: Mapping[str, Any], *, old_full_names: Iterable[str] = (), lock: bool = False
) -> Repo | None:
    """The configured repo a payload's ``repository`` object names, or ``None``.

    By GitHub id first (it survives renames and transfers), then by full name (GitHub names
    are case-insensitive; ``old_full_names`` adds the names before a rename), then by any of
    its URL forms (HTTPS, SSH, git://, web), with and without ``.git``. ``lock``: lock the row
    until the transaction ends (``SELECT … FOR UPDATE``).
    """
    repos = Repo.objects.select_for_update() if lock else Repo.objects.all()
    github_id = repository.get("id")
    has_id = isinstance(github_id, int) and not isinstance(github_id, bool)
    if has_id:
        repo = repos.filter(github_id=github_id).first()
        if repo is not None:
            return repo
    names = [n for n in (repository.get("full_name"), *old_full_names) if isinstance(n, str) and n]
    by_name = Q()
    for name in names:
        by_name |= Q(github_full_name__iexact=name)
    urls = _url_forms(repository)
    query = by_name | Q(url__in=urls) if urls else by_name
    if not query:
        return None
    candidates = repos.filter(query)
    if has_id:
        # The id is unique, so a row holding another id is another repository that had this name.
        candidates = candidates.filter(github_id__isnull=True)
    return candidates.order_by("id").first()


def webhook_receive(
    *, event: str, delivery_id: str, payload: Mapping[str, Any], coalesce_seconds: float
) -> WebhookResult:
    """Record one verified delivery and act on it; a delivery id seen before does nothing.

    ``coalesce_seconds``: how long a queued scan waits for more pushes before it runs.
    """
    action = payload.get("action")
    action = action[:60] if isinstance(action, str) else ""
    repository = payload.get("repository")
    full_name = repository.get("full_name") if isinstance(repository, Mapping) else None
    try:
        with transaction.atomic():
            result = _handle(event, action, payload, coalesce_seconds=coalesce_seconds)
            # Last, with its final values (one write): a redelivery's row breaks the unique
            # constraint and the whole transaction, scan and repo changes included, rolls back.
            WebhookDelivery.objects.create(
                delivery_id=delivery_id,
                event=event[:60],
                action=action,
                outcome=result.outcome,
                detail=result.detail,
                repo_id=result.repo_id,
                scan_id=result.scan_id,
                github_full_name=full_name[:300] if isinstance(full_name, str) else "",
            )
    except IntegrityError:
        if not WebhookDelivery.objects.filter(delivery_id=delivery_id).exists():
            raise
        log.info("webhook delivery %s (%s) already seen: nothing done", delivery_id, event)
        return WebhookResult(
            outcome="already seen", detail=f"delivery {delivery_id} was received before", duplicate=True
        )
    return result


def _handle(event: str, action: str, payload: Mapping[str, Any], *, coalesce_seconds: float) -> WebhookResult:
    try:
        if event == "ping":
            return _ping(payload)
        if event == "push":
            return _push(payload, coalesce_seconds=coalesce_seconds)
        if event == "repository":
            return _repository(action, payload, coalesce_seconds=coalesce_seconds)
        if event in ("pull_request", "check_suite", "check_run"):
            return _pull_request(event, action, payload, coalesce_seconds=coalesce_seconds)
    except WebhookPayloadError as exc:
        log.warning("webhook %s: %s", event, exc)
        return WebhookResult(Outcome.INVALID, str(exc))
    return WebhookResult(Outcome.IGNORED, f"event {event!r} does not affect scans")


def _ping(payload: Mapping[str, Any]) -> WebhookResult:
    repository = payload.get("repository")
    repo = repo_for_repository(repository) if isinstance(repository, Mapping) else None
    zen = payload.get("zen")
    return WebhookResult(
        Outcome.OK, f"pong: {zen}" if isinstance(zen, str) else "pong", repo_id=repo.pk if repo else None
    )


def _push(payload: Mapping[str, Any], *, coalesce_seconds: float) -> WebhookResult:
    repository = _field(payload, "repository", Mapping)
    repo = _known_repo(repository)
    if repo is None:
        return _unknown(repository)
    if not repo.enabled or repo.archived:
        return WebhookResult(
            Outcome.IGNORED, f"repo {repo.name} is {'archived' if repo.archived else 'disabled'}", repo_id=repo.pk
        )
    default_branch = repository.get("default_branch")
    tracked = repo.branch or (default_branch if isinstance(default_branch, str) else "")
    decision = push_decision(payload, tracked_branch=tracked)
    if not decision.scan:
        return WebhookResult(Outcome.IGNORED, decision.reason, repo_id=repo.pk)
    return _queue_scan(repo, reason=decision.reason, coalesce_seconds=coalesce_seconds)


def _pull_request(event: str, action: str, payload: Mapping[str, Any], *, coalesce_seconds: float) -> WebhookResult:
    """Pull-request checks (readiness.services.pull_requests), for a configured repo."""
    repository = _field(payload, "repository", Mapping)
    repo = _known_repo(repository)
    if repo is None:
        return _unknown(repository)
    if event == "pull_request":
        done = pull_request_event(repo, action, payload, coalesce_seconds=coalesce_seconds)
    else:
        done = check_rerequested(repo, event, action, payload, coalesce_seconds=coalesce_seconds)
    return WebhookResult(done.outcome, done.detail, repo_id=repo.pk)


def _queue_scan(repo: Repo, *, reason: str, coalesce_seconds: float) -> WebhookResult:
    """Join the repo's queued scan, or queue one that waits ``coalesce_seconds`` for more pushes.

    The scan asks for no ref: it fetches the branch head when it runs, which is the newest
    commit of the burst, not the one this delivery named.
    """
    # The repo row is locked (see _known_repo): deliveries for one repo take turns, so this
    # read sees the scan a concurrent delivery queued and the log says "coalesced", not "queued".
    queued = Scan.objects.filter(repo=repo, state=Scan.State.QUEUED).only("id").first()
    if queued is not None:
        return WebhookResult(
            Outcome.COALESCED, f"{reason}; joins queued scan #{queued.pk}", repo_id=repo.pk, scan_id=queued.pk
        )
    asked_at = timezone.now()
    # Always a countdown, 0 included: without a broker the scan then runs on a timer thread
    # after this request has answered, never inside it.
    scan = scan_request(repo=repo, trigger="webhook", countdown=max(coalesce_seconds, 0))
    # scan_request returns the queued scan another request made a moment ago, if any.
    outcome = Outcome.QUEUED if scan.requested_at >= asked_at else Outcome.COALESCED
    where = " in this web process (no broker configured)" if tasks_run_in_process() else ""
    verb = (
        f"scan #{scan.pk} queued, runs in {coalesce_seconds:g} s{where}"
        if outcome == Outcome.QUEUED
        else f"joins queued scan #{scan.pk}"
    )
    return WebhookResult(outcome, f"{reason}; {verb}", repo_id=repo.pk, scan_id=scan.pk)


def _repository(action: str, payload: Mapping[str, Any], *, coalesce_seconds: float) -> WebhookResult:
    repository = _field(payload, "repository", Mapping)
    old_names = _old_full_names(action, payload, repository)
    repo = _known_repo(repository, old_full_names=old_names)
    if repo is None:
        return _unknown(repository)
    full_name = _field(repository, "full_name", str, path="repository.full_name")
    if action in ("renamed", "transferred"):
        return _moved(repo, repository, full_name=full_name, old_full_names=old_names, action=action)
    if action == "archived":
        changed = _save(repo, archived=True, enabled=False)
        return _updated(repo, changed, "archived on GitHub: disabled, history kept")
    if action == "unarchived":
        # Re-enable only what archiving disabled: a repo switched off by hand stays off.
        changed = _save(repo, archived=False, enabled=True) if repo.archived else _save(repo, archived=False)
        return _updated(repo, changed, "unarchived on GitHub" + (": enabled again" if "enabled" in changed else ""))
    if action == "deleted":
        changed = _save(repo, enabled=False)
        return _updated(repo, changed, "deleted on GitHub: disabled, history kept")
    if action == "edited":
        return _edited(repo, repository, payload, coalesce_seconds=coalesce_seconds)
    if action == "privatized":
        if not repo.credentials_ref and repo.managed_by.startswith("github:"):
            # What the next GitHub import would do: private repos clone with the import's token.
            changed = _save(repo, credentials_ref="GITHUB_TOKEN")
            return _updated(repo, changed, "now private: clones with the GITHUB_TOKEN token")
        if not repo.credentials_ref:
            return WebhookResult(
                Outcome.IGNORED, "now private: set a credentials_ref or its scans will fail", repo_id=repo.pk
            )
        return WebhookResult(Outcome.IGNORED, "now private: already clones with credentials", repo_id=repo.pk)
    if action == "publicized":
        return WebhookResult(Outcome.IGNORED, "now public: nothing to change", repo_id=repo.pk)
    return WebhookResult(
        Outcome.IGNORED, f"repository {action or '(no action)'} does not affect scans", repo_id=repo.pk
    )


def _moved(
    repo: Repo, repository: Mapping[str, Any], *, full_name: str, old_full_names: list[str], action: str
) -> WebhookResult:
    """A rename or transfer: new full name, and the URL if it was one of GitHub's URLs of the old name.

    ``Repo.name`` stays: it is the dashboard's stable URL and what emails link to.
    """
    old = repo.github_full_name or (old_full_names[0] if old_full_names else "")
    fields: dict[str, Any] = {"github_full_name": full_name}
    if old and old.lower() != full_name.lower():
        renamed = _renamed_urls(repository, old=old, new=full_name)
        if repo.url in renamed:
            fields["url"] = renamed[repo.url]
    changed = _save(repo, **fields)
    detail = f"{action}: {old or '?'} → {full_name}" + ("; url updated" if "url" in changed else "")
    return _updated(repo, changed, detail)


def _edited(
    repo: Repo, repository: Mapping[str, Any], payload: Mapping[str, Any], *, coalesce_seconds: float
) -> WebhookResult:
    changes = payload.get("changes")
    changes = changes if isinstance(changes, Mapping) else {}
    if "default_branch" not in changes:
        names = ", ".join(sorted(str(k) for k in changes)) or "nothing listed"
        return WebhookResult(Outcome.IGNORED, f"edited ({names}): nothing the scans use", repo_id=repo.pk)
    new = _field(repository, "default_branch", str, path="repository.default_branch")
    old = changes["default_branch"].get("from") if isinstance(changes["default_branch"], Mapping) else None
    if repo.branch and repo.branch != old:
        return WebhookResult(
            Outcome.IGNORED, f"default branch is now {new}; the repo tracks {repo.branch}", repo_id=repo.pk
        )
    if repo.branch:
        _save(repo, branch=new)
    detail = f"default branch {old or '?'} → {new}"
    if not repo.enabled or repo.archived:
        return WebhookResult(Outcome.UPDATED, detail, repo_id=repo.pk)
    scanned = _queue_scan(repo, reason=detail, coalesce_seconds=coalesce_seconds)
    return WebhookResult(Outcome.UPDATED, scanned.detail, repo_id=repo.pk, scan_id=scanned.scan_id)


def _known_repo(repository: Mapping[str, Any], *, old_full_names: Iterable[str] = ()) -> Repo | None:
    """The matched repo, locked until the delivery is recorded; a match by name or URL learns its
    GitHub id, so later renames still match."""
    repo = repo_for_repository(repository, old_full_names=old_full_names, lock=True)
    github_id = repository.get("id")
    if repo is not None and repo.github_id is None and isinstance(github_id, int) and not isinstance(github_id, bool):
        fields: dict[str, Any] = {"github_id": github_id}
        if not repo.github_full_name and isinstance(repository.get("full_name"), str):
            fields["github_full_name"] = repository["full_name"]
        _save(repo, **fields)
    return repo


def _unknown(repository: Mapping[str, Any]) -> WebhookResult:
    name = repository.get("full_name") or repository.get("id") or "?"
    log.info("webhook for %s: no configured repo matches; acknowledged, not created", name)
    return WebhookResult(Outcome.UNKNOWN_REPO, f"no configured repo matches {name}")


def _updated(repo: Repo, changed: list[str], detail: str) -> WebhookResult:
    if not changed:
        return WebhookResult(Outcome.IGNORED, f"{detail} (already so)", repo_id=repo.pk)
    return WebhookResult(Outcome.UPDATED, f"{detail} [{', '.join(changed)}]", repo_id=repo.pk)


def _save(repo: Repo, **fields: Any) -> list[str]:
    """Set the fields that differ and save only those; the names of the changed ones."""
    changed = [name for name, value in fields.items() if getattr(repo, name) != value]
    for name in changed:
        setattr(repo, name, fields[name])
    if changed:
        repo.save(update_fields=[*changed, "updated_at"])
    return changed


def _old_full_names(action: str, payload: Mapping[str, Any], repository: Mapping[str, Any]) -> list[str]:
    """The full name before a rename or transfer, from ``changes`` (GitHub gives the old parts only)."""
    changes = payload.get("changes")
    full_name = repository.get("full_name")
    if not isinstance(changes, Mapping) or not isinstance(full_name, str) or "/" not in full_name:
        return []
    owner, name = full_name.split("/", 1)
    if action == "renamed":
        old = _dig(changes, "repository", "name", "from")
        return [f"{owner}/{old}"] if isinstance(old, str) and old else []
    if action == "transferred":
        previous = _dig(changes, "owner", "from")
        if isinstance(previous, Mapping):
            for kind in ("organization", "user"):
                login = _dig(previous, kind, "login")
                if isinstance(login, str) and login:
                    return [f"{login}/{name}"]
    return []


def _url_forms(repository: Mapping[str, Any]) -> list[str]:
    """Every URL a configured repo may hold for this repository, with and without ``.git``."""
    forms: list[str] = []
    for key in _URL_KEYS:
        url = repository.get(key)
        if isinstance(url, str) and url:
            base = url.rstrip("/").removesuffix(".git")
            forms += [base, base + ".git", base + "/"]
    return list(dict.fromkeys(forms))


def _renamed_urls(repository: Mapping[str, Any], *, old: str, new: str) -> dict[str, str]:
    """Old URL form → the same form of the new name, for each URL the payload gives."""
    mapping: dict[str, str] = {}
    for new_url in _url_forms(repository):
        index = new_url.lower().rfind(new.lower())
        if index < 0:
            continue
        old_url = new_url[:index] + old + new_url[index + len(new) :]
        mapping[old_url] = new_url
    return mapping


def _dig(mapping: Mapping[str, Any], *keys: str) -> Any:
    value: Any = mapping
    for key in keys:
        if not isinstance(value, Mapping):
            return None
        value = value.get(key)
    return value


def _field(mapping: Mapping[str, Any], key: str, kind: type, *, path: str | None = None) -> Any:
    value = mapping.get(key)
    if not isinstance(value, kind):
        name = "an object" if kind is Mapping else kind.__name__
        found = "missing" if value is None else f"{type(value).__name__}, expected {name}"
        raise WebhookPayloadError(f"{path or key}: {found}")
    return value
