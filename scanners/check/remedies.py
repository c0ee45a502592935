"""The ways out attached to each result that is not ``wheel`` everywhere: fix version and advice,
re-locking, upgrading the dependency that pulls a blocker in; "ask upstream" only when none helps."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Mapping, Sequence

from scanners.advice import Advice, advise, fix_version, relock_advice
from scanners.analyser import Verdict
from scanners.check.inputs import Inputs, primary_image
from scanners.check.report import PackageResult, Progress, ProjectSource
from scanners.check.verdicts import fetch, metadata_check
from scanners.distributions import DistributionFile, ProjectFiles
from scanners.dockerfile import ImageContext
from scanners.git import RepoSnapshot
from scanners.lockfiles import detect_format
from scanners.lockfiles.base import ParsedLockfile
from scanners.parent_upgrade import parent_upgrade, parent_upgrade_candidates
from scanners.targets import Target

__all__ = ["attach_remedies", "left_out", "settle_upstream", "with_fix", "with_parent_upgrades", "with_relock"]


def attach_remedies(
    results: list[PackageResult],
    *,
    projects: dict[str, ProjectFiles],
    index_errors: Mapping[str, str],
    targets: Sequence[Target],
    inputs: Inputs,
    snapshot: RepoSnapshot,
    index: ProjectSource | None,
    progress: Progress | None,
    fix_cache: dict,
    read_metadata: Callable[[DistributionFile], bytes | None] | None,
) -> list[PackageResult]:
    """Fix version and advice for every result that is not ``wheel`` everywhere, best way first.

    ``projects`` grows with the index pages fetched here: fix versions need a package's full
    release list also when its lockfile gave the files.
    """
    needs_fix = [
        r for r in results if r.package.version and any(v.status in ("sdist", "none") for v in r.verdicts.values())
    ]
    more = sorted({r.package.name for r in needs_fix} - projects.keys() - index_errors.keys())
    if more:
        # Errors here are not recorded: the verdicts came from the lockfile, only advice is missing.
        projects.update(fetch(index, more, progress)[0])
    fixable = {id(r) for r in needs_fix}
    primary = primary_image(inputs.images) or (inputs.images[0] if inputs.images else None)
    installable = metadata_check(read_metadata) if read_metadata is not None else None
    results = [
        with_fix(r, projects, targets, fix_cache, primary, installable) if id(r) in fixable else r for r in results
    ]
    if read_metadata is not None:
        results = with_parent_upgrades(results, projects, index, progress, read_metadata)
    results = with_relock(results, projects, targets, inputs.lockfiles, snapshot)
    return [settle_upstream(r) for r in results]


def with_fix(
    result: PackageResult,
    projects: Mapping[str, ProjectFiles],
    targets: Sequence[Target],
    cache: dict,
    image: ImageContext | None,
    installable: Callable[[Sequence[DistributionFile]], bool] | None = None,
) -> PackageResult:
    """The fix version and the advice for a package that is ``sdist`` or ``none`` somewhere."""
    if result.package.version is None:
        return result
    project = projects.get(result.package.name)
    applicable = tuple(t for t in targets if result.verdicts[t.id].status != "n/a")
    key = (result.package.name, result.package.version, applicable)
    if project is not None and key not in cache:
        cache[key] = fix_version(project, result.package.version, applicable, installable=installable)
    advice = advise(
        project,
        name=result.package.name,
        version=result.package.version,
        verdicts=result.verdicts,
        targets=targets,
        image=image,
        installable=installable,
    )
    return PackageResult(result.package, result.verdicts, cache.get(key), result.direct, result.via, advice)


def with_relock(
    results: list[PackageResult],
    projects: Mapping[str, ProjectFiles],
    targets: Sequence[Target],
    parsed: Sequence[ParsedLockfile],
    snapshot: RepoSnapshot,
) -> list[PackageResult]:
    """Put "re-lock" first where the index has, for the locked version, a wheel the lock leaves out."""
    lockfiles = {p.path: p for p in parsed}
    locked_at: dict[str, dt.datetime | None] = {}
    out = []
    for r in results:
        project = projects.get(r.package.name)
        if (
            project is None
            or not r.package.version
            or not any(v.status in ("sdist", "none") for v in r.verdicts.values())
        ):
            out.append(r)
            continue
        lockfile = lockfiles.get(r.package.lockfile)  # a file pulled in with -r is also parsed on its own
        if r.package.lockfile not in locked_at:
            locked_at[r.package.lockfile] = snapshot.changed_at(r.package.lockfile)
        advice = relock_advice(
            r.package,
            r.verdicts,
            targets,
            project.release(r.package.version),
            lock_format=lockfile.format if lockfile else detect_format(r.package.lockfile) or "",
            generated_by=lockfile.generated_by if lockfile else None,
            locked_at=locked_at[r.package.lockfile],
        )
        if advice is None:
            out.append(r)
            continue
        verdicts = {tid: left_out(v, advice.file) if tid in advice.targets else v for tid, v in r.verdicts.items()}
        out.append(dataclasses.replace(r, verdicts=verdicts, advice=(advice, *r.advice)))
    return out


def settle_upstream(result: PackageResult) -> PackageResult:
    """ "Ask upstream" only when no fix is in the team's hands: a known replacement, or upgrading the
    dependency that pulls the package in, is the advice instead (the dashboard's suggestions follow
    the same verdict rows, so the CLI and the pages never disagree)."""
    kinds = {a.kind for a in result.advice}
    if "upstream" in kinds and kinds & {"replace", "upgrade-parent"}:
        return dataclasses.replace(result, advice=tuple(a for a in result.advice if a.kind != "upstream"))
    return result


def left_out(verdict: Verdict, wheel: str | None) -> Verdict:
    """Say in the verdict's reason that the index has a wheel the lock's own file list leaves out
    (hash-checked locks already say so: the analyser saw the index's files)."""
    if not wheel or wheel in verdict.reason:
        return verdict
    note = f"({wheel} is on the index, not in the lock)"
    reason = verdict.reason.replace("no wheel for", "the lock lists no wheel for", 1)
    head, sep, tail = reason.partition("; ")
    return dataclasses.replace(verdict, reason=f"{head} {note}{sep}{tail}" if sep else f"{reason} {note}")


def with_parent_upgrades(
    results: list[PackageResult],
    projects: Mapping[str, ProjectFiles],
    index: ProjectSource | None,
    progress: Progress | None,
    read_metadata: Callable[[DistributionFile], bytes | None],
) -> list[PackageResult]:
    """Put "upgrade <direct dependency> to X, which no longer needs it" first where a release says so."""
    locked: dict[tuple[str, str], str | None] = {
        (r.package.lockfile, r.package.name): r.package.version for r in results
    }
    wanted: dict[int, tuple[str, str, str]] = {}
    for r in results:
        if not r.via or not any(v.status in ("sdist", "none") for v in r.verdicts.values()):
            continue
        chain = r.via[0]
        child = chain[1] if len(chain) > 1 else r.package.name
        version = locked.get((r.package.lockfile, chain[0]))
        if version:
            wanted[id(r)] = (chain[0], version, child)
    parents = dict(projects)
    missing = sorted({p for p, _, _ in wanted.values()} - parents.keys())
    if missing:
        parents.update(fetch(index, missing, progress)[0])
    prefetch = getattr(read_metadata, "prefetch", None)
    if prefetch is not None:
        # Each parent_upgrade reads up to 8 files one after another; a reader that can fetch many
        # at once (the command line's) gets them all first, so a cold run waits for one round trip.
        keys = {key for key in wanted.values() if key[0] in parents}
        prefetch([f for p, v, _c in sorted(keys) for _v, f in parent_upgrade_candidates(parents[p], v)])
    memo: dict[tuple[str, str, str], str | None] = {}
    out = []
    for r in results:
        key = wanted.get(id(r))
        if key is not None and key[0] in parents:
            if key not in memo:
                memo[key] = parent_upgrade(parents[key[0]], key[1], key[2], read_metadata=read_metadata)
            if memo[key]:
                parent, version, child = key
                chain = r.via[0] if r.via else ()
                advice = Advice(
                    "upgrade-parent",
                    f"upgrade {parent} to {memo[key]}, which no longer needs {child}",
                    f"{r.package.name} is here because {' → '.join(chain)} needs it; {parent} {memo[key]} "
                    f"(locked: {version}) no longer requires {child}",
                    targets=tuple(t for t, v in r.verdicts.items() if v.status in ("sdist", "none")),
                    fix_version=memo[key],
                )
                r = dataclasses.replace(r, advice=(advice, *r.advice))
        out.append(r)
    return out
