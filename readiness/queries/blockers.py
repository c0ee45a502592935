"""The blockers page (and the overview's top blockers, the upstream list and the blockers export).

A blocker is a (repo, package, target) whose verdict is ``none`` in the repo's current results,
or a Dockerfile finding of severity ``blocker``. Everything is counted by the database with
GROUP BY over the current result scans (a subquery), never by looping over verdict rows in
Python: an organisation has about a million of them.

Queries of :func:`blockers_page` (3, whatever the size of the organisation):
1. packages ranked by the number of repos they block (GROUP BY package);
2. their (version, target, fix version, re-lock file) groups with repo counts, and how many of
   those repos build a musl image (GROUP BY package, version, target, fix_version, relock_file);
3. Dockerfile blocker findings grouped by rule, with the repos they block; each rule's fix
   comes from the rule table, :mod:`scanners.rules`.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass

from django.db.models import Count, Min, Q, TextField
from django.db.models.functions import Cast
from packaging.version import InvalidVersion, Version

from readiness.models import ScanFinding, Verdict
from readiness.queries.actions import package_fix_kind
from readiness.queries.scope import result_scan_ids
from readiness.queries.triage import with_triage
from scanners.replacements import replacements_for
from scanners.rules import finding_fix

__all__ = [
    "BlockerGroup",
    "FindingBlocker",
    "PackageBlockers",
    "BlockersPage",
    "blocker_packages",
    "blockers_page",
    "finding_fix",
]


@dataclass(frozen=True, slots=True)
class BlockerGroup:
    """One (version, target, fix version) of a blocking package, and what to do about it."""

    version: str
    target: str
    fix_version: str
    repos: int
    fix_kind: str  # relock, upgrade, replace, base-image, upstream
    fix: str
    relock_file: str = ""


@dataclass(frozen=True, slots=True)
class PackageBlockers:
    package: str
    repos: int
    groups: tuple[BlockerGroup, ...] = ()
    pulled_in_by: tuple[tuple[str, int], ...] = ()
    """For a transitive blocker: the direct dependencies that bring it in, with how many repos each."""

    @property
    def fix(self) -> str:
        """The headline fix: the cheapest any group has (a re-lock, then an upgrade), else the
        first group's advice."""
        for kind in ("relock", "upgrade"):
            for g in self.groups:
                if g.fix_kind == kind:
                    return g.fix
        return self.groups[0].fix if self.groups else ""

    @property
    def fix_versions(self) -> tuple[str, ...]:
        return tuple(sorted({g.fix_version for g in self.groups if g.fix_version}))


@dataclass(frozen=True, slots=True)
class FindingBlocker:
    rule: str
    repos: int
    example: str
    fix_kind: str
    fix: str
    repo_names: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class BlockersPage:
    packages: tuple[PackageBlockers, ...]
    findings: tuple[FindingBlocker, ...]

    @property
    def is_empty(self) -> bool:
        return not self.packages and not self.findings


def _major_jump(version: str, fix_version: str) -> bool:
    try:
        return Version(fix_version).major > Version(version).major
    except InvalidVersion:
        return False


def _group_fix(
    *,
    package: str = "",
    version: str = "",
    fix_version: str,
    target: str,
    repos: int,
    musl_repos: int,
    relock_file: str = "",
) -> tuple[str, str]:
    """The advice of scanners.advice in its order (:func:`readiness.queries.actions.package_fix_kind`),
    worded for a row of the package's own table."""
    kind = package_fix_kind(
        package, fix_version=fix_version, relock_file=relock_file, musl=bool(musl_repos) and musl_repos == repos
    )
    if kind == "relock":
        return kind, f"re-lock: {version} has a wheel for {target} now ({relock_file})"
    if kind == "upgrade":
        return kind, f"upgrade to {fix_version}" + (" (major version)" if _major_jump(version, fix_version) else "")
    if kind == "replace":
        return kind, "replace with " + " or ".join(r.replacement for r in replacements_for(package))
    if kind == "glibc-image":
        return "base-image", f"change the base image to a glibc one: no musllinux wheel for {target}"
    return kind, f"ask upstream for a wheel for {target}"


def blocker_packages(
    *, team: str | None, limit: int | None = None, triage: str = "", assignee=None
) -> list[PackageBlockers]:
    """Blocking packages ranked by repos affected, each with its groups, fixes and the direct
    dependencies that pull it in (3 queries: ranking, groups, dependency chains). ``triage`` and
    ``assignee`` keep only the blockers so triaged (:func:`readiness.queries.triage.with_triage`)."""
    none_rows = with_triage(
        Verdict.objects.filter(scan_id__in=result_scan_ids(team=team), status=Verdict.Status.NONE),
        kind="package",
        subject="package",
        target="target",
        state=triage,
        assignee=assignee,
    )
    ranked_qs = (
        none_rows.values("package").annotate(repos=Count("scan_id", distinct=True)).order_by("-repos", "package")
    )
    ranked = list(ranked_qs[:limit] if limit else ranked_qs)
    if not ranked:
        return []
    detail = none_rows.annotate(scan_targets=Cast("scan__targets", TextField()))
    if limit:
        detail = detail.filter(package__in=[r["package"] for r in ranked])
    groups: dict[str, list[BlockerGroup]] = defaultdict(list)
    rows = (
        detail.values("package", "version", "target", "fix_version", "relock_file")
        .annotate(
            repos=Count("scan_id", distinct=True),
            musl_repos=Count("scan_id", distinct=True, filter=Q(scan_targets__contains='"musl"')),
        )
        .order_by("package", "-repos", "version", "target")
    )
    for row in rows:
        # What is left of the row (version, target, fix_version, relock_file, repos) is a group's own.
        package, musl_repos = row.pop("package"), row.pop("musl_repos")
        kind, fix = _group_fix(package=package, musl_repos=musl_repos, **row)
        groups[package].append(BlockerGroup(**row, fix_kind=kind, fix=fix))
    parents = _pulled_in_by(detail)
    return [
        PackageBlockers(
            package=r["package"],
            repos=r["repos"],
            groups=tuple(groups[r["package"]]),
            pulled_in_by=tuple(parents[r["package"]].most_common(3)),
        )
        for r in ranked
    ]


def _pulled_in_by(none_rows) -> dict[str, Counter]:
    """Per blocking package, the direct dependency at the head of its shortest chain, counted per repo."""
    seen: set[tuple[str, int]] = set()
    parents: dict[str, Counter] = defaultdict(Counter)
    for package, scan_id, via in none_rows.filter(via__isnull=False).values_list("package", "scan_id", "via"):
        if via and via[0] and (package, scan_id) not in seen:
            seen.add((package, scan_id))
            parents[package][via[0][0]] += 1
    return parents


def _finding_blockers(*, team: str | None, triage: str = "", assignee=None) -> list[FindingBlocker]:
    found = ScanFinding.objects.filter(scan_id__in=result_scan_ids(team=team), severity="blocker")
    rows = (
        with_triage(found, kind="finding", subject="rule", target=None, state=triage, assignee=assignee)
        .values("rule", "scan__repo__name")
        .annotate(example=Min("message"))
        .order_by("rule", "scan__repo__name")
    )
    by_rule: dict[str, list[str]] = defaultdict(list)
    example: dict[str, str] = {}
    for row in rows:
        by_rule[row["rule"]].append(row["scan__repo__name"])
        example.setdefault(row["rule"], row["example"])
    out = []
    for rule, names in by_rule.items():
        # For a missing compiler the example names the package, so the fix can name its libraries.
        kind, fix = finding_fix(rule, example=example[rule])
        out.append(
            FindingBlocker(
                rule=rule, repos=len(names), example=example[rule], fix_kind=kind, fix=fix, repo_names=tuple(names)
            )
        )
    out.sort(key=lambda f: (-f.repos, f.rule))
    return out


def blockers_page(*, team: str | None, triage: str = "", assignee=None) -> BlockersPage:
    """All blockers of the current results of ``team`` (or the organisation), or those whose triage
    is ``triage`` / assigned to ``assignee``. 4 queries."""
    return BlockersPage(
        packages=tuple(blocker_packages(team=team, triage=triage, assignee=assignee)),
        findings=tuple(_finding_blockers(team=team, triage=triage, assignee=assignee)),
    )
