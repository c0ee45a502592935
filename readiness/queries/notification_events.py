"""What happened in a scan that people may be told about: the events of notification rules.

A scan is compared with the repo's answer before it (``previous``: the repo's latest finished scan
when this one started). Per target: a repo that was not ready and is now (``repo-became-ready``,
naming the packages that blocked it and the versions now locked), one that was not blocked and is
now (``repo-newly-blocked``), and blockers the previous answer did not have (``new-blocker``).
A repo's first scan has nothing to compare with and makes no such event; a failed scan makes a
``scan-failed`` event. Blockers follow the pages' rule (:func:`scanners.rules.blocking`).

Each event's ``key`` names it once (the scan and the target), so delivering it twice is refused
by the delivery log's unique constraint.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from readiness.models import Scan, ScanFinding, Verdict
from readiness.models.rollups import repo_state
from readiness.queries.links import site_url
from readiness.queries.scope import result_scan_ids
from scanners.http import one_line, redact
from scanners.rules import blocking

__all__ = ["Event", "Item", "repos_locking", "scan_events"]


@dataclass(frozen=True, slots=True)
class Item:
    """One package (or Dockerfile rule) an event is about, with its fix in words."""

    package: str
    version: str | None = None
    target: str | None = None
    fix_version: str | None = None
    fix: str = ""

    def as_json(self) -> dict:
        return {
            "package": self.package,
            "version": self.version,
            "target": self.target,
            "fix_version": self.fix_version,
            "fix": self.fix,
        }

    @property
    def line(self) -> str:
        """``grpcio 1.30.0 on linux/arm64: upgrade to 1.60.0``."""
        what = " ".join(p for p in (self.package, self.version or "") if p)
        where = f" on {self.target}" if self.target else ""
        return f"{what}{where}: {self.fix}" if self.fix else f"{what}{where}"


@dataclass(frozen=True, slots=True)
class Event:
    event: str
    key: str
    title: str
    url: str
    repo: str | None = None
    team: str | None = None
    target: str | None = None
    items: tuple[Item, ...] = ()
    detail: str = ""
    campaign: str | None = None
    # for matching rules' scopes; not sent
    repo_id: int | None = field(default=None, compare=False)
    team_id: int | None = field(default=None, compare=False)
    campaign_id: int | None = field(default=None, compare=False)
    campaign_team_ids: tuple[int, ...] = field(default=(), compare=False)  # a campaign's teams (none: all)
    # the (repo id, team id) pairs an organisation-wide event concerns (a package's repos)
    scope_repos: tuple[tuple[int, int | None], ...] = field(default=(), compare=False)
    target_ids: tuple[str, ...] = field(default=(), compare=False)  # the targets it concerns (none: any)

    def payload(self, *, delivery_id: str, occurred_at: str) -> dict:
        """The generic webhook's JSON body; the chat and email channels render this same dict."""
        return {
            "event": self.event,
            "delivery_id": delivery_id,
            "occurred_at": occurred_at,
            "title": self.title,
            "url": self.url,
            "repo": self.repo,
            "team": self.team,
            "target": self.target,
            "campaign": self.campaign,
            "items": [i.as_json() for i in self.items],
            "detail": self.detail,
        }


def _fix_words(status: str, fix_version: str, upstream: bool) -> str:
    if fix_version:
        return f"upgrade to {fix_version}"
    if status == "sdist":
        return "builds from source and the image has no compiler: add build tools to the image"
    if upstream:
        return "no release has a wheel for this target: ask upstream"
    return "no release installs here: replace it or ask upstream"


def _problem_rows(result_id: int) -> list[tuple]:
    return list(
        Verdict.objects.filter(scan_id=result_id, status__in=("none", "sdist"))
        .order_by("package", "target")
        .values_list("package", "version", "target", "status", "fix_version", "upstream")
    )


def _findings(*scan_ids: int) -> list[tuple[str, str, str]]:
    return list(
        ScanFinding.objects.filter(scan_id__in=set(scan_ids), severity="blocker")
        .order_by("rule")
        .values_list("rule", "severity", "message")
        .distinct()
    )


def _blockers(scan: Scan) -> tuple[dict[tuple[str, str], Item], dict[str, Item]]:
    """The scan's blocking (package, target) pairs and blocking rules, each as an :class:`Item`."""
    rows = _problem_rows(scan.result_scan_id)
    findings = _findings(scan.pk, scan.result_scan_id)
    packages, rules = blocking(((p, t, s) for p, _v, t, s, _f, _u in rows), findings)
    items: dict[tuple[str, str], Item] = {}
    for package, version, target, status, fix, upstream in rows:
        if (package, target) in packages and (package, target) not in items:
            items[(package, target)] = Item(
                package, version or None, target, fix or None, _fix_words(status, fix, upstream)
            )
    by_rule = {rule: Item(rule, fix=one_line(message)) for rule, _s, message in findings if rule in rules}
    return items, by_rule


def _versions(result_id: int, packages: set[str]) -> dict[str, str]:
    """The version locked now of each of ``packages`` (one of them when several lockfiles differ)."""
    rows = Verdict.objects.filter(scan_id=result_id, package__in=packages).values_list("package", "version")
    return {p: v for p, v in rows}


def repos_locking(packages: set[str]) -> dict[str, tuple[tuple[int, int | None], ...]]:
    """Per package, the ``(repo id, team id)`` of the current repos whose latest results lock it
    (any verdict, any target: a resolved package is no longer blocked there). 1 query."""
    rows = (
        Verdict.objects.filter(scan_id__in=result_scan_ids(team=None), package__in=packages)
        .order_by("package", "scan__repo_id")
        .values_list("package", "scan__repo_id", "scan__repo__team_id")
        .distinct()
    )
    out: dict[str, list[tuple[int, int | None]]] = defaultdict(list)
    for package, repo_id, team_id in rows:
        out[package].append((repo_id, team_id))
    return {package: tuple(pairs) for package, pairs in out.items()}


def scan_events(*, scan_id: int, previous_id: int | None, site_root: str, past: bool = False) -> list[Event]:
    """The events of one finished scan; a backfilled past point makes none unless ``past`` (the history
    replayed on purpose, as ``demo --notify`` does)."""
    scan = Scan.objects.select_related("repo__team").filter(pk=scan_id).first()
    if scan is None or (scan.as_of is not None and not past):
        return []
    repo = scan.repo
    common = {
        "repo": repo.name,
        "team": repo.team.name if repo.team else None,
        "url": site_url(site_root, "repo", repo.name),
        "repo_id": repo.pk,
        "team_id": repo.team_id,
    }
    if scan.state == Scan.State.FAILED:
        error = redact(scan.error.splitlines()[0]) if scan.error else "failed"
        return [
            Event("scan-failed", f"scan-failed:{scan.pk}", f"The scan of {repo.name} failed", detail=error, **common)
        ]
    previous = (
        Scan.objects.filter(pk=previous_id, state__in=Scan.FINISHED_WITH_RESULTS).first() if previous_id else None
    )
    if scan.state not in Scan.FINISHED_WITH_RESULTS or previous is None or previous.pk == scan.pk:
        return []
    if previous.result_scan_id == scan.result_scan_id:
        return []  # the same answer: nothing can have changed
    now_items, now_rules = _blockers(scan)
    then_items, then_rules = _blockers(previous)
    events: list[Event] = []
    then_summary = previous.summary or {}
    for target, summary in sorted((scan.summary or {}).items()):
        before = then_summary.get(target)
        if not isinstance(summary, dict) or not isinstance(before, dict):
            continue
        state, state_before = repo_state(summary), repo_state(before)
        if state == "ready" and state_before != "ready":
            fixed = [i for (p, t), i in sorted(then_items.items()) if t == target]
            locked = _versions(scan.result_scan_id, {i.package for i in fixed})
            items = tuple(
                Item(
                    i.package,
                    i.version,
                    target,
                    locked.get(i.package) or None,
                    f"now {locked[i.package]}" if i.package in locked else "no longer locked",
                )
                for i in fixed
            ) + tuple(Item(r.package, fix="fixed") for rule, r in sorted(then_rules.items()) if rule not in now_rules)
            events.append(
                Event(
                    "repo-became-ready",
                    f"repo-became-ready:{scan.pk}:{target}",
                    f"{repo.name} is ready on {target}",
                    target=target,
                    items=items,
                    **common,
                )
            )
        if state == "blocked" and state_before != "blocked":
            items = tuple(i for (p, t), i in sorted(now_items.items()) if t == target) + tuple(
                r for _rule, r in sorted(now_rules.items())
            )
            events.append(
                Event(
                    "repo-newly-blocked",
                    f"repo-newly-blocked:{scan.pk}:{target}",
                    f"{repo.name} is blocked on {target}",
                    target=target,
                    items=items,
                    **common,
                )
            )
    new_by_target: dict[str, list[Item]] = defaultdict(list)
    for (package, target), item in sorted(now_items.items()):
        if (package, target) not in then_items:
            new_by_target[target].append(item)
    for target, items_new in sorted(new_by_target.items()):
        n = len(items_new)
        events.append(
            Event(
                "new-blocker",
                f"new-blocker:{scan.pk}:{target}",
                f"{repo.name}: {n} new blocker{'s' if n != 1 else ''} on {target}",
                target=target,
                items=tuple(items_new),
                **common,
            )
        )
    new_rules = [r for rule, r in sorted(now_rules.items()) if rule not in then_rules]
    if new_rules:
        events.append(
            Event(
                "new-blocker",
                f"new-blocker:{scan.pk}:dockerfile",
                f"{repo.name}: new Dockerfile blocker{'s' if len(new_rules) != 1 else ''}",
                items=tuple(new_rules),
                **common,
            )
        )
    return events
