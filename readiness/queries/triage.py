"""Triage as pages read it: each current blocker of a repo with its triage, and the history.

Queries of :func:`repo_triage` (3, whatever the number of blockers): the repo's triages, their
latest events, and the people a blocker can be assigned to.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db.models import Case, Exists, F, OuterRef, Q, QuerySet, Value, When
from django.db.models.functions import Left, StrIndex
from django.utils import timezone

from readiness.models import BlockerTriage, ScanFinding, TriageEvent, Verdict
from readiness.queries.scope import result_scan_ids
from scanners.rules import blocking

__all__ = [
    "TRIAGE_FILTERS",
    "BlockerRow",
    "TRIAGE_CLASSES",
    "blocked_repo_triage",
    "blocked_triage",
    "HistoryRow",
    "RepoTriage",
    "repo_triage",
    "triage_label",
    "with_triage",
]

TRIAGE_FILTERS = {
    "": "all",
    "untriaged": "untriaged",
    "in-progress": "in progress",
    "accepted": "accepted",
    "mine": "assigned to me",
}
"""The blockers page's ``?triage=`` values, with their words."""

HISTORY = 30
State = BlockerTriage.State


@dataclass(frozen=True, slots=True)
class BlockerRow:
    """One current blocker of the repo and what people decided about it."""

    kind: str  # "package" or "finding"
    subject: str
    target: str
    what: str  # the words the page shows ("never-arm 1.0 on linux/arm64")
    state: str  # the effective state: open (untriaged), acknowledged, assigned, snoozed, accepted
    detail: str = ""  # a finding's message, shown under it
    assignee: str = ""
    team: str = ""
    snoozed_until: dt.date | None = None
    reason: str = ""

    @property
    def anchor(self) -> str:
        return "blocker-" + "-".join(p for p in (self.kind, self.subject, self.target.replace("/", "-")) if p)

    @property
    def label(self) -> str:
        return triage_label(self.state)


@dataclass(frozen=True, slots=True)
class HistoryRow:
    at: dt.datetime
    user: str  # "" for a scan or the hourly task
    subject: str
    target: str
    action: str
    note: str


@dataclass(frozen=True, slots=True)
class RepoTriage:
    blockers: tuple[BlockerRow, ...]
    history: tuple[HistoryRow, ...]
    assignees: tuple[str, ...]  # usernames a blocker can be assigned to

    @property
    def untriaged(self) -> int:
        return sum(1 for b in self.blockers if b.state == State.OPEN)


def triage_label(state: str) -> str:
    """The words for a state: "untriaged" for open ones, the state itself otherwise."""
    return "untriaged" if state == State.OPEN else state


def repo_triage(
    *, repo_id: int, blockers: Iterable[tuple[str, str, str, str, str]], today: dt.date | None = None
) -> RepoTriage:
    """``blockers`` are the repo's current ``(kind, subject, target, words, detail)``; 3 queries."""
    today = today or timezone.localdate()
    triages = {
        (t.kind, t.subject, t.target): t
        for t in BlockerTriage.objects.filter(repo_id=repo_id).select_related("assignee", "assignee_team")
    }
    rows = []
    for kind, subject, target, what, detail in blockers:
        t = triages.get((kind, subject, target))
        if t is None or t.state == State.RESOLVED:
            rows.append(BlockerRow(kind, subject, target, what, State.OPEN, detail))
            continue
        state = t.effective_state(today)
        rows.append(
            BlockerRow(
                kind,
                subject,
                target,
                what,
                state,
                detail,
                assignee=t.assignee.username if t.assignee else "",
                team=t.assignee_team.name if t.assignee_team else "",
                snoozed_until=t.snoozed_until if state == State.SNOOZED else None,
                reason=(t.get_reason_display() + (f": {t.reason_text}" if t.reason_text else ""))
                if state == State.ACCEPTED
                else "",
            )
        )
    events = (
        TriageEvent.objects.filter(triage__repo_id=repo_id)
        .select_related("user", "triage")
        .order_by("-at", "-id")[:HISTORY]
    )
    history = tuple(
        HistoryRow(
            at=e.at,
            user=e.user.username if e.user else "",
            subject=e.triage.subject,
            target=e.triage.target,
            action=e.action,
            note=e.note,
        )
        for e in events
    )
    users = get_user_model().objects.filter(is_active=True).order_by("username").values_list("username", flat=True)
    return RepoTriage(blockers=tuple(rows), history=history, assignees=tuple(users))


def with_triage(
    rows: QuerySet,
    *,
    kind: str,
    subject: str,
    target: str | None,
    state: str = "",
    assignee=None,
    today: dt.date | None = None,
) -> QuerySet:
    """``rows`` (verdict or finding rows of current scans) whose blocker's triage is ``state``
    (a key of :data:`TRIAGE_FILTERS`), and assigned to ``assignee`` when given. A subquery: the
    page stays one statement per table however much is triaged.

    ``subject`` and ``target`` name the row's fields holding the package (or rule) and target;
    ``target=None`` for findings, whose triage has none. ``kind="finding"`` rows are read as
    :func:`finding_rows` annotates them: a missing compiler is its package's blocker.
    """
    if not state and assignee is None:
        return rows
    today = today or timezone.localdate()
    if kind == BlockerTriage.Kind.FINDING:
        rows = finding_rows(rows)
        triage = BlockerTriage.objects.filter(
            repo_id=OuterRef("scan__repo_id"), kind=OuterRef("triage_kind"), subject=OuterRef("triage_subject")
        ).filter(Q(kind=BlockerTriage.Kind.PACKAGE) | Q(target=""))  # a package's: on any target it builds
    else:
        triage = BlockerTriage.objects.filter(
            repo_id=OuterRef("scan__repo_id"), kind=kind, subject=OuterRef(subject), target=OuterRef(target)
        )
    in_progress = Q(state__in=[State.ACKNOWLEDGED, State.ASSIGNED]) | Q(state=State.SNOOZED, snoozed_until__gte=today)
    if state == "in-progress":
        rows = rows.filter(Exists(triage.filter(in_progress)))
    elif state == "accepted":
        rows = rows.filter(Exists(triage.filter(state=State.ACCEPTED)))
    elif state == "untriaged":
        rows = rows.exclude(Exists(triage.filter(in_progress | Q(state=State.ACCEPTED))))
    if assignee is not None:
        rows = rows.filter(Exists(triage.filter(assignee=assignee).exclude(state=State.RESOLVED)))
    return rows


def finding_rows(rows: QuerySet) -> QuerySet:
    """Finding rows with the triage key of their blocker: ``(package, name)`` for a missing
    compiler (its message starts ``name==``, see :func:`scanners.rules.sdist_package`), else
    ``(finding, rule)``."""
    no_compiler = Q(rule="no-compiler-for-sdist", message__contains="==")
    return rows.annotate(
        triage_kind=Case(
            When(no_compiler, then=Value(BlockerTriage.Kind.PACKAGE)), default=Value(BlockerTriage.Kind.FINDING)
        ),
        triage_subject=Case(
            When(no_compiler, then=Left("message", StrIndex("message", Value("==")) - 1)), default=F("rule")
        ),
    )


def blocked_triage(
    *, blocked: Mapping[int, Collection[str]], today: dt.date | None = None
) -> dict[tuple[int, str], str]:
    """For each blocked (repo, target) of ``blocked`` (repo id -> the targets it is blocked on):
    ``untriaged`` if any of its blockers there is (a package that is ``none`` on that target, or
    ``sdist`` without a compiler, or another Dockerfile blocker), else ``in-progress`` if any is being worked on, else ``accepted``.
    3 queries: the blocking verdicts, the blocking findings, the repos' triages."""
    today = today or timezone.localdate()
    if not blocked:
        return {}
    scans = result_scan_ids(team=None, repo_ids=list(blocked))
    targets = sorted({t for ts in blocked.values() for t in ts})
    rows: dict[int, list[tuple[str, str, str]]] = defaultdict(list)
    verdicts = Verdict.objects.filter(
        scan_id__in=scans, status__in=[Verdict.Status.NONE, Verdict.Status.SDIST], target__in=targets
    )
    for repo_id, *row in verdicts.values_list("scan__repo_id", "package", "target", "status").distinct():
        rows[repo_id].append(tuple(row))
    found: dict[int, list[tuple[str, str, str]]] = defaultdict(list)
    findings = ScanFinding.objects.filter(scan_id__in=scans, severity="blocker")
    for repo_id, *finding in findings.values_list("scan__repo_id", "rule", "severity", "message").distinct():
        found[repo_id].append(tuple(finding))
    keys: dict[tuple[int, str], set[tuple[str, str, str]]] = defaultdict(set)
    for repo_id, repo_targets in blocked.items():
        packages, rules = blocking(rows.get(repo_id, ()), found.get(repo_id, ()))
        for package, target in packages:
            keys[(repo_id, target)].add(("package", package, target))
        for target in repo_targets:
            keys[(repo_id, target)] |= {("finding", rule, "") for rule in rules}
    states: dict[tuple[int, str, str, str], str] = {}
    for t in BlockerTriage.objects.filter(repo_id__in=list(blocked)).exclude(state=State.RESOLVED):
        states[(t.repo_id, t.kind, t.subject, t.target)] = t.effective_state(today)
    out = {}
    for repo_id, repo_targets in blocked.items():
        for target in repo_targets:
            seen = {states.get((repo_id, *k), State.OPEN) for k in keys.get((repo_id, target), ())}
            # No stored blocking row (an older scan's summary): nobody can have triaged it.
            if not seen or State.OPEN in seen:
                out[(repo_id, target)] = "untriaged"
            elif seen & set(BlockerTriage.IN_PROGRESS):
                out[(repo_id, target)] = "in-progress"
            else:
                out[(repo_id, target)] = "accepted"
    return out


TRIAGE_CLASSES = ("untriaged", "in-progress", "accepted")


def blocked_repo_triage(*, blocked: Mapping[int, Collection[str]], today: dt.date | None = None) -> dict[int, str]:
    """Per blocked repo (repo id -> the targets it is blocked on): the least advanced class of
    its blocked targets (:func:`blocked_triage`)."""
    out: dict[int, str] = {}
    for (repo_id, _target), cls in blocked_triage(blocked=blocked, today=today).items():
        if repo_id not in out or TRIAGE_CLASSES.index(cls) < TRIAGE_CLASSES.index(out[repo_id]):
            out[repo_id] = cls
    return out
