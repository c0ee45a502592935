"""Triage of blockers: acknowledge, assign, snooze, accept (won't fix) or reopen; kept across rescans.

A blocker is a (repo, package, target) whose current verdict is ``none``, or ``sdist`` where
the image has no compiler (the ``no-compiler-for-sdist`` finding names the package), or another
Dockerfile finding of severity ``blocker`` (keyed on its rule, target ``""``). People change a triage with
:func:`triage_change`; every change is a :class:`~readiness.models.TriageEvent` saying who,
when and why. Scans keep triage true with :func:`triage_sync`: a triage whose blocker is gone is
``resolved``, and a resolved one whose blocker is back is ``open`` again. A snooze ends on its
own date (pages read :meth:`~readiness.models.BlockerTriage.effective_state`); the daily
:func:`triage_wake_snoozed` writes that down in the history.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from readiness.models import BlockerTriage, Repo, ScanFinding, Team, TriageEvent, Verdict
from scanners.rules import blocking

__all__ = [
    "ACTIONS",
    "BlockerKey",
    "TriageError",
    "current_blockers",
    "triage_change",
    "triage_sync",
    "triage_wake_snoozed",
]

State = BlockerTriage.State
Reason = BlockerTriage.Reason

ACTIONS = ("acknowledge", "assign", "snooze", "accept", "reopen")
"""What a person may do to a blocker, each leading to one state."""

_STATE_OF = {
    "acknowledge": State.ACKNOWLEDGED,
    "assign": State.ASSIGNED,
    "snooze": State.SNOOZED,
    "accept": State.ACCEPTED,
    "reopen": State.OPEN,
}
MAX_SNOOZE = dt.timedelta(days=366)


class TriageError(ValueError):
    """A change that cannot be made (no such blocker, a snooze in the past, accept without a reason)."""


@dataclass(frozen=True, slots=True)
class BlockerKey:
    """What a triage is about: the same blocker in every scan."""

    kind: str
    subject: str
    target: str = ""


def triage_change(
    *,
    repo: Repo,
    key: BlockerKey,
    action: str,
    user,
    assignee=None,
    team: Team | None = None,
    until: dt.date | None = None,
    reason: str = "",
    reason_text: str = "",
    note: str = "",
    today: dt.date | None = None,
) -> BlockerTriage:
    """Apply ``action`` to the blocker ``key`` of ``repo`` and record it; returns the triage.

    :raises TriageError: the repo's current results have no such blocker, or the action's
        details are missing or wrong (an assignment to nobody, a snooze date not in the future
        or more than a year away, an acceptance without a reason from the list).
    """
    if action not in ACTIONS:
        raise TriageError(f"unknown action {action!r}: expected one of {', '.join(ACTIONS)}")
    today = today or timezone.localdate()
    note = note.strip()[:2000]
    details = _details(
        action, assignee=assignee, team=team, until=until, reason=reason, reason_text=reason_text, today=today
    )
    if not _is_current_blocker(repo, key):
        raise TriageError(
            f"{repo.name} has no current blocker {key.subject}{f' on {key.target}' if key.target else ''}"
        )
    with transaction.atomic():
        triage, _ = BlockerTriage.objects.select_for_update().get_or_create(
            repo=repo, kind=key.kind, subject=key.subject, target=key.target
        )
        triage.state = _STATE_OF[action]
        if action == "assign":
            triage.assignee, triage.assignee_team = assignee, team
        triage.snoozed_until = until if action == "snooze" else None  # any other change ends a snooze
        if action == "accept":
            triage.reason, triage.reason_text = reason, reason_text.strip()[:500]
        elif action == "reopen":
            triage.reason, triage.reason_text = "", ""
        triage.state_before_resolved = ""
        triage.save()
        TriageEvent.objects.create(
            triage=triage,
            user=user if getattr(user, "is_authenticated", False) else None,
            action=action,
            state=triage.state,
            note="; ".join(p for p in (details, note) if p),
        )
    return triage


def _details(action: str, *, assignee, team, until, reason: str, reason_text: str, today: dt.date) -> str:
    """The words the history shows for the change, after checking its details."""
    if action == "assign":
        if assignee is None and team is None:
            raise TriageError("assign to a person or a team")
        who = [str(getattr(assignee, "username", assignee))] if assignee is not None else []
        who += [f"team {team.name}"] if team is not None else []
        return "assigned to " + " and ".join(who)
    if action == "snooze":
        if until is None or until <= today:
            raise TriageError("snooze until a date after today")
        if until - today > MAX_SNOOZE:
            raise TriageError("snooze for at most a year: a longer wait is a decision, so accept it instead")
        return f"snoozed until {until.isoformat()}"
    if action == "accept":
        if reason not in Reason.values:
            raise TriageError(f"accept with a reason: {', '.join(str(r.label) for r in Reason)}")
        if reason == Reason.OTHER and not reason_text.strip():
            raise TriageError("say why when the reason is 'other'")
        label = str(Reason(reason).label)
        return f"accepted: {label}" + (f" ({reason_text.strip()[:500]})" if reason_text.strip() else "")
    return ""


def _is_current_blocker(repo: Repo, key: BlockerKey) -> bool:
    scan = repo.latest_scan
    if scan is None:
        return False
    result_id = scan.results_from_id or scan.pk
    if key.kind not in BlockerTriage.Kind.values:
        return False
    verdicts = Verdict.objects.filter(scan_id=result_id, status__in=[Verdict.Status.NONE, Verdict.Status.SDIST])
    findings = ScanFinding.objects.filter(scan_id__in={scan.pk, result_id}, severity="blocker")
    if key.kind == BlockerTriage.Kind.PACKAGE:
        verdicts = verdicts.filter(package=key.subject, target=key.target)
    else:
        findings = findings.filter(rule=key.subject)
        verdicts = verdicts.none()
    return key in current_blockers(list(verdicts), list(findings))


def current_blockers(verdicts: Iterable[Verdict], findings: Iterable[ScanFinding]) -> set[BlockerKey]:
    """The blocker keys of a scan's rows: each package that is ``none`` on a target, or ``sdist``
    on it with no compiler in the image (its ``no-compiler-for-sdist`` finding), and every other
    blocking finding's rule."""
    packages, rules = blocking(
        ((v.package, v.target, v.status) for v in verdicts), ((f.rule, f.severity, f.message) for f in findings)
    )
    keys = {BlockerKey(BlockerTriage.Kind.PACKAGE, package, target) for package, target in packages}
    return keys | {BlockerKey(BlockerTriage.Kind.FINDING, rule) for rule in rules}


def triage_sync(repo_id: int, blockers: set[BlockerKey]) -> tuple[int, int]:
    """After a scan became the repo's current answer: resolve the triages whose blocker is gone and
    reopen the resolved ones whose blocker is back. ``(resolved, reopened)``; 1 query when nothing changes."""
    triages = list(BlockerTriage.objects.filter(repo_id=repo_id))
    resolved = reopened = 0
    now = timezone.now()
    for t in triages:
        present = BlockerKey(t.kind, t.subject, t.target) in blockers
        if t.state != State.RESOLVED and not present:
            t.state_before_resolved, t.state = t.state, State.RESOLVED
            t.save(update_fields=["state", "state_before_resolved", "updated_at"])
            TriageEvent.objects.create(triage=t, at=now, action="resolved", state=t.state, note="the blocker is gone")
            resolved += 1
        elif t.state == State.RESOLVED and present:
            before = (
                str(State(t.state_before_resolved).label).lower() if t.state_before_resolved in State.values else ""
            )
            t.state, t.state_before_resolved, t.snoozed_until = State.OPEN, "", None
            t.save(update_fields=["state", "state_before_resolved", "snoozed_until", "updated_at"])
            note = "the blocker is back" + (f" (it was {before} before it went away)" if before else "")
            TriageEvent.objects.create(triage=t, at=now, action="returned", state=t.state, note=note)
            reopened += 1
    return resolved, reopened


def triage_wake_snoozed(*, today: dt.date | None = None) -> int:
    """Daily: open again every snooze whose date has passed, with a line in its history."""
    today = today or timezone.localdate()
    woken = 0
    with transaction.atomic():
        for t in BlockerTriage.objects.select_for_update().filter(state=State.SNOOZED, snoozed_until__lt=today):
            until = t.snoozed_until
            t.state, t.snoozed_until = State.OPEN, None
            t.save(update_fields=["state", "snoozed_until", "updated_at"])
            TriageEvent.objects.create(
                triage=t, action="snooze-ended", state=t.state, note=f"the snooze until {until} ended"
            )
            woken += 1
    return woken
