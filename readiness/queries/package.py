"""The package page: which versions of one package the organisation locks, and how each fares.

Queries of :func:`package_page` (2, whatever the number of repos):
1. (version, target, status, fix version) groups with repo counts (GROUP BY);
2. the repos locking each version, with their team.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from django.db.models import Count
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from readiness.models import Verdict
from readiness.queries.scope import result_scan_ids

__all__ = ["PackagePage", "StatusCount", "VersionRow", "package_page"]


@dataclass(frozen=True, slots=True)
class StatusCount:
    status: str
    repos: int


@dataclass(frozen=True, slots=True)
class VersionRow:
    version: str
    fix_version: str
    verdicts: tuple[tuple[StatusCount, ...], ...]  # per target, in PackagePage.targets order
    repos: tuple[tuple[str, str], ...]  # (repo, team)

    @property
    def blocked(self) -> bool:
        return any(c.status == "none" for per_target in self.verdicts for c in per_target)


@dataclass(frozen=True, slots=True)
class PackagePage:
    name: str
    targets: tuple[str, ...]
    versions: tuple[VersionRow, ...]

    @property
    def repos(self) -> int:
        return len({name for v in self.versions for name, _ in v.repos})

    @property
    def needs_upstream(self) -> bool:
        """Blocked somewhere with no fix version: the upstream project has to publish a wheel."""
        return any(v.blocked and not v.fix_version for v in self.versions)


def _version_key(value: str) -> tuple:
    try:
        return (0, Version(value), value)
    except InvalidVersion:
        return (1, None, value)


def package_page(*, name: str, team: str | None) -> PackagePage:
    """Versions of ``name`` in the current results of ``team`` (or all). 2 queries."""
    name = canonicalize_name(name)
    rows = Verdict.objects.filter(scan_id__in=result_scan_ids(team=team), package=name)
    counts: dict[str, dict[str, list[StatusCount]]] = defaultdict(lambda: defaultdict(list))
    fixes: dict[str, set[str]] = defaultdict(set)
    targets: set[str] = set()
    grouped = (
        rows.values("version", "target", "status", "fix_version")
        .annotate(repos=Count("scan_id", distinct=True))
        .order_by("version", "target", "status")
    )
    for row in grouped:
        counts[row["version"]][row["target"]].append(StatusCount(status=row["status"], repos=row["repos"]))
        targets.add(row["target"])
        if row["fix_version"]:
            fixes[row["version"]].add(row["fix_version"])
    repos: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for version, repo, team_name in (
        rows.values_list("version", "scan__repo__name", "scan__repo__team__name")
        .distinct()
        .order_by("version", "scan__repo__name")
    ):
        repos[version].append((repo, team_name or ""))
    target_tuple = tuple(sorted(targets))
    versions = [
        VersionRow(
            version=v,
            fix_version=min(fixes[v], key=_version_key) if fixes[v] else "",
            verdicts=tuple(tuple(counts[v].get(t, ())) for t in target_tuple),
            repos=tuple(repos[v]),
        )
        for v in counts
    ]
    versions.sort(key=lambda r: (-len(r.repos), r.version))
    return PackagePage(name=name, targets=target_tuple, versions=tuple(versions))
