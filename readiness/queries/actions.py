"""Next actions: one ranked list of fixes, each with the repos it would unblock.

A manager does not fix "grpcio on linux/arm64 in 6 repos" and "platform-pinned in 2 Dockerfiles"
separately ranked in two tables: they assign fixes. So package blockers (``none`` verdicts) and
Dockerfile blockers (findings of severity ``blocker``) are merged here into actions, in the words
of :mod:`scanners.advice`, cheapest kinds first when they unblock as many repos:

* ``relock``: re-lock; the index has wheels for the *same* versions (also for packages that only
  build from source: the re-lock makes them wheels), no version changes;
* ``upgrade``: upgrade a package to its fix version;
* ``replace``: a known replacement (tensorflow-macos → tensorflow), also for the Dockerfile
  finding that flags the same package;
* ``compiler``: add a C compiler to the Dockerfiles that build sdists without one;
* ``platform-pin``: drop ``--platform=linux/amd64`` from ``FROM`` lines;
* ``base-image``: a base image with an arm64 variant; ``glibc-image``: a glibc base image where
  only musllinux wheels are missing;
* ``upstream``: no release has a wheel: ask the maintainers.

Queries (2, whatever the size of the organisation): the blocking and re-lockable verdict rows of
the current result scans, one per (package, version, target, fix, re-lock file, repo); and the
blocker findings of the same scans, one per (rule, Dockerfile, message, repo).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Collection, Iterator
from dataclasses import dataclass, field

from django.db.models import Q, TextField
from django.db.models.functions import Cast
from packaging.version import InvalidVersion, Version

from readiness.models import ScanFinding, Verdict
from readiness.queries.scope import result_scan_ids
from scanners.replacements import replacements_for
from scanners.rules import FINDING_ACTIONS as _FINDING_KINDS
from scanners.rules import finding_fix, sdist_package

__all__ = ["BLOCKER_CSV_COLUMNS", "NextAction", "blocker_csv_rows", "finding_fix", "next_actions", "package_fix_kind"]

# Cheapest first: among actions that unblock as many repos, the one with the least work leads.
_COST = {
    "relock": 0,
    "upgrade": 1,
    "replace": 2,
    "platform-pin": 3,
    "compiler": 4,
    "glibc-image": 5,
    "base-image": 6,
    "finding": 7,
    "upstream": 8,
}
_MACOS_NAME = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*) only installs on macOS")

BLOCKER_CSV_COLUMNS = ["repo", "team", "target", "blocker", "where", "action_kind", "action"]


@dataclass(slots=True)
class NextAction:
    """One fix and the repos (and targets) it concerns; ``packages`` name what it touches."""

    kind: str
    key: tuple
    title: str = ""
    detail: str = ""
    repos: set[str] = field(default_factory=set)
    targets: set[str] = field(default_factory=set)
    packages: set[str] = field(default_factory=set)
    dockerfiles: set[tuple[str, str]] = field(default_factory=set)
    parents: Counter = field(default_factory=Counter)
    """For transitive blockers: the direct dependency that pulls the package in, counted per repo."""

    @property
    def repo_names(self) -> list[str]:
        return sorted(self.repos)

    @property
    def target_names(self) -> list[str]:
        return sorted(self.targets)

    @property
    def package_names(self) -> list[str]:
        return sorted(self.packages)

    @property
    def pulled_in_by(self) -> list[str]:
        """The direct dependencies that bring the package in, most repos first (at most three)."""
        return [name for name, _n in self.parents.most_common(3)]

    @property
    def package(self) -> str:
        """The one package an action is about (its page is the place to read more), else ``""``."""
        return next(iter(self.packages)) if len(self.packages) == 1 else ""

    def sort_key(self) -> tuple:
        return (-len(self.repos), -len(self.targets), _COST.get(self.kind, 9), self.title)


@dataclass(frozen=True, slots=True)
class _Blocker:
    """One (repo, blocker) as the CSV lists it, with the action that fixes it."""

    repo: str
    team: str
    target: str
    blocker: str
    where: str
    action: NextAction


def package_fix_kind(package: str, *, fix_version: str, relock_file: str, musl: bool) -> str:
    """Which fix a blocking package gets, in :mod:`scanners.advice`'s order of preference."""
    if relock_file:
        return "relock"
    if fix_version:
        return "upgrade"
    if package and replacements_for(package):
        return "replace"
    return "glibc-image" if musl else "upstream"


def _major_jump(version: str, fix: str) -> bool:
    try:
        return Version(fix).major > Version(version).major
    except InvalidVersion:
        return False


def _verdict_rows(team: str | None, scope: _Scope | None = None):
    scans = result_scan_ids(team=team, repo_ids=scope.repo_ids if scope else None)
    rows = Verdict.objects.filter(scan_id__in=scans)
    if scope is not None and scope.targets:
        rows = rows.filter(target__in=scope.targets)
    return (
        rows.filter(Q(status=Verdict.Status.NONE) | ~Q(relock_file=""))
        .annotate(scan_targets=Cast("scan__targets", TextField()))
        .values_list(
            "package",
            "version",
            "target",
            "status",
            "fix_version",
            "relock_file",
            "lockfile",
            "scan__repo__name",
            "scan__repo__team__name",
            "scan_targets",
            "via",
        )
        .distinct()
    )


def _finding_rows(team: str | None, scope: _Scope | None = None):
    return (
        ScanFinding.objects.filter(
            scan_id__in=result_scan_ids(team=team, repo_ids=scope.repo_ids if scope else None), severity="blocker"
        )
        .values_list("rule", "path", "line", "message", "scan__repo__name", "scan__repo__team__name")
        .distinct()
    )


@dataclass(frozen=True, slots=True)
class _Scope:
    """A campaign's repos and targets (``targets`` empty: every target)."""

    repo_ids: tuple[int, ...]
    targets: tuple[str, ...] = ()


def _collect(team: str | None, scope: _Scope | None = None) -> tuple[dict[tuple, NextAction], list[_Blocker]]:
    actions: dict[tuple, NextAction] = {}
    blockers: list[_Blocker] = []

    def action(kind: str, key: tuple) -> NextAction:
        found = actions.get(key)
        if found is None:
            found = actions[key] = NextAction(kind=kind, key=key)
        return found

    pulled: set[tuple] = set()
    for package, version, target, status, fix, relock, lockfile, repo, team_name, scan_targets, via in _verdict_rows(
        team, scope
    ):
        kind = package_fix_kind(package, fix_version=fix, relock_file=relock, musl='"musl"' in (scan_targets or ""))
        if kind == "relock":
            a = action("relock", ("relock",))
        elif kind == "upgrade":
            a = action("upgrade", ("upgrade", package, fix))
            a.title = f"upgrade {package} to {fix}" + (" (major version)" if _major_jump(version, fix) else "")
            a.detail = f"{fix} is the first release with a wheel on every target where {package} {version} has none"
        elif kind == "replace":
            a = _replace(action, package)
        elif kind == "glibc-image":
            a = action("glibc-image", ("glibc-image", package))
            a.title = f"use a glibc base image: {package} has no musllinux wheel"
            a.detail = f"{package} {version} ships no wheel for musl on {target}; a Debian-based image installs it"
        else:
            a = action("upstream", ("upstream", package))
            a.title = f"ask upstream for {package} wheels"
            a.detail = f"no release of {package} has a wheel for {target}: only its maintainers can fix that"
        a.repos.add(repo)
        a.targets.add(target)
        a.packages.add(package)
        if via and via[0] and (a.key, repo) not in pulled:
            pulled.add((a.key, repo))
            a.parents[via[0][0]] += 1
        if status == Verdict.Status.NONE:
            blockers.append(_Blocker(repo, team_name or "", target, f"{package}=={version}", lockfile, a))
    relock = actions.get(("relock",))
    if relock is not None:
        n = len(relock.repos)
        relock.title = f"re-lock (new wheels for the same versions) in {n} repo{'s' if n != 1 else ''}"
        relock.detail = (
            "the index now has wheels for the locked versions of "
            + ", ".join(relock.package_names[:5])
            + (f" and {len(relock.packages) - 5} more" if len(relock.packages) > 5 else "")
            + ": refreshing the lock changes no version"
        )

    for rule, path, line, message, repo, team_name in _finding_rows(team, scope):
        kind = _FINDING_KINDS.get(rule)
        macos = _MACOS_NAME.match(message) if rule == "macos-only-package" else None
        if macos is not None and replacements_for(macos.group(1)):
            a = _replace(action, macos.group(1))
        elif kind is None:
            a = action("finding", ("finding", rule))
            a.title = finding_fix(rule)[1]
            a.detail = f"Dockerfile rule {rule}"
        else:
            a = action(kind, (kind,))
        if kind == "compiler":
            name = sdist_package(rule, message)
            if name:
                a.packages.add(name)
        a.repos.add(repo)
        a.dockerfiles.add((repo, path))
        blockers.append(_Blocker(repo, team_name or "", "", rule, f"{path}:{line}" if line else path, a))
    for a in actions.values():
        _finding_titles(a)
    return actions, blockers


def _replace(action, package: str) -> NextAction:
    a = action("replace", ("replace", package))
    replacement = replacements_for(package)[0]
    a.title = f"replace {package} with {replacement.replacement}"
    a.detail = replacement.why
    a.packages.add(package)
    return a


def _finding_titles(a: NextAction) -> None:
    n = len(a.dockerfiles)
    files = f"{n} Dockerfile{'s' if n != 1 else ''}"
    if a.kind == "compiler":
        needed = ", ".join(a.package_names[:4]) + (f" and {len(a.packages) - 4} more" if len(a.packages) > 4 else "")
        a.title = f"add a C compiler to {files}" + (f" (needed by {needed})" if needed else "")
        a.detail = (
            "these images build packages from source but have no compiler: pip fails with \"command 'gcc' failed\""
        )
    elif a.kind == "platform-pin":
        a.title = f"remove --platform=linux/amd64 from {files}"
        a.detail = "a pinned FROM runs under emulation on arm64 hosts, or not at all"
    elif a.kind == "base-image":
        a.title = f"move {files} to a base image with a linux/arm64 variant"
        a.detail = "the registry lists no arm64 variant of the image these Dockerfiles build from"


def next_actions(
    *,
    team: str | None,
    limit: int | None = None,
    repo_ids: Collection[int] | None = None,
    targets: Collection[str] = (),
) -> list[NextAction]:
    """The fixes for ``team``'s (or the organisation's) blockers, most repos unblocked first;
    ``repo_ids`` and ``targets`` narrow them to a campaign's scope. 2 queries."""
    scope = _Scope(tuple(repo_ids), tuple(targets)) if repo_ids is not None else None
    actions, _blockers = _collect(team, scope)
    ranked = sorted(actions.values(), key=NextAction.sort_key)
    return ranked[:limit] if limit else ranked


def blocker_csv_rows(*, team: str | None) -> Iterator[list[str]]:
    """One row per (repo, blocker), with the action that fixes it. 2 queries."""
    _actions, blockers = _collect(team)
    for b in sorted(blockers, key=lambda b: (b.repo, b.target, b.blocker, b.where)):
        yield [b.repo, b.team, b.target, b.blocker, b.where, b.action.kind, b.action.title]
