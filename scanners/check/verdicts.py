"""Verdicts: each locked package's files (from the lockfile, else the index), decided per target
as pip would, with the dependency graph that says what is direct and what pulls the rest in."""

from __future__ import annotations

import dataclasses
import posixpath
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor

from scanners.analyser import Verdict, analyse_package
from scanners.chains import DependencyGraph, lockfile_graph
from scanners.check.inputs import Inputs
from scanners.check.report import PackageResult, Progress, ProjectSource
from scanners.core_metadata import invalid_requirements, may_be_invalid
from scanners.distributions import DistributionFile, ProjectFiles
from scanners.lockfiles.base import LockedPackage, ParsedLockfile
from scanners.targets import Target

__all__ = [
    "decide_verdicts",
    "dependency_graphs",
    "fetch",
    "metadata_check",
    "old_chosen_wheels",
    "read_all",
    "release_files",
    "with_metadata_pip_accepts",
]


def decide_verdicts(
    inputs: Inputs,
    targets: Sequence[Target],
    index: ProjectSource | None,
    progress: Progress | None,
    read_metadata: Callable[[DistributionFile], bytes | None] | None,
) -> tuple[list[PackageResult], dict[str, ProjectFiles], dict[str, str]]:
    """Every package's verdict per target, what is direct and what pulls it in; also the index's
    answers (``projects``) and its errors by package, for the phases after this one."""
    packages = inputs.packages
    needs_index = sorted({p.name for p in packages if p.source == "index" and p.version and p.files is None})
    projects, index_errors = fetch(index, needs_index, progress)
    graphs = dependency_graphs(inputs.lockfiles, inputs.manifests)
    results: list[PackageResult] = []
    for package in packages:
        project = projects.get(package.name)
        release = project.release(package.version) if project and package.version else None
        error = index_errors.get(package.name)
        verdicts = {
            t.id: analyse_package(
                package, t, files=package.files if package.files is not None else release, index_error=error
            )
            for t in targets
        }
        graph = graphs.get(package.lockfile)
        direct = package.direct if package.direct is not None else (graph.is_direct(package.name) if graph else None)
        chains = graph.chains(package.name) if graph is not None else None
        via = tuple(chains) if chains is not None else (() if direct else None)
        results.append(PackageResult(package, verdicts, direct=direct, via=via))
    if read_metadata is not None:
        results = with_metadata_pip_accepts(results, projects, read_metadata)
    return results, projects, index_errors


def dependency_graphs(
    parsed: Sequence[ParsedLockfile], manifests: Mapping[str, set[str]]
) -> dict[str, DependencyGraph]:
    """One dependency graph per lockfile path; a lockfile silent on what is direct borrows its
    directory's manifest (poetry.lock, pdm.lock and Pipfile.lock record no such thing)."""
    graphs: dict[str, DependencyGraph] = {}
    for lockfile in parsed:
        by_file: dict[str, list[LockedPackage]] = {}
        for p in lockfile.packages:
            by_file.setdefault(p.lockfile, []).append(p)
        for path, packages in by_file.items():
            if path in graphs:
                continue
            says_direct = any(p.direct is not None for p in packages)
            manifest = manifests.get(posixpath.dirname(path))
            graphs[path] = lockfile_graph(packages, direct_names=None if says_direct or manifest is None else manifest)
    return graphs


def fetch(
    index: ProjectSource | None, names: Sequence[str], progress: Progress | None
) -> tuple[dict[str, ProjectFiles], dict[str, str]]:
    if not names:
        return {}, {}
    if index is None:
        return {}, {n: "no package index configured" for n in names}
    callback = (lambda done, total: progress("index", done, total)) if progress else None
    answers = index.fetch_many(names, progress=callback)
    projects, errors = {}, {}
    for name in names:
        answer = answers.get(name)
        if answer is not None and answer.files is not None:
            projects[name] = answer.files
        else:
            errors[name] = (
                answer.error if answer is not None and answer.error else f"the index gave no answer for {name}"
            )
    return projects, errors


def with_metadata_pip_accepts(
    results: list[PackageResult],
    projects: Mapping[str, ProjectFiles],
    read_metadata: Callable[[DistributionFile], bytes | None],
) -> list[PackageResult]:
    """``none`` where the chosen wheel's core metadata has a Requires-Dist modern pip refuses: pip
    then ignores the whole version (:mod:`scanners.core_metadata`). Only wheels uploaded before
    the index validated uploads are read, each once."""
    wanted = [f for r in results for f in old_chosen_wheels(r, projects)]
    invalid = {
        f.filename: invalid_requirements(body) for f, body in zip(wanted, read_all(wanted, read_metadata)) if body
    }
    out = []
    for r in results:
        verdicts = dict(r.verdicts)
        for tid, v in r.verdicts.items():
            bad = invalid.get(v.file or "") if v.status == "wheel" else None
            if bad:
                verdicts[tid] = Verdict(
                    "none",
                    None,
                    f"pip 24.1 and newer ignore {r.package.name} {r.package.version}: the metadata of {v.file} has an "
                    f"invalid requirement {bad[0]!r}, so pip fails with 'No matching distribution' (older pip installs it)",
                    native_elsewhere=v.native_elsewhere,
                )
        out.append(dataclasses.replace(r, verdicts=verdicts) if verdicts != r.verdicts else r)
    return out


def metadata_check(
    read_metadata: Callable[[DistributionFile], bytes | None],
) -> Callable[[Sequence[DistributionFile]], bool]:
    """For fix versions: pip accepts a release unless one of its chosen old wheels has invalid metadata."""

    def installable(wheels: Sequence[DistributionFile]) -> bool:
        for f in wheels:
            if may_be_invalid(f):
                body = read_metadata(f)
                if body is not None and invalid_requirements(body):
                    return False
        return True

    return installable


def old_chosen_wheels(r: PackageResult, projects: Mapping[str, ProjectFiles]) -> list[DistributionFile]:
    """The wheels chosen for ``r`` that were uploaded before the index validated metadata."""
    files = release_files(r.package, projects)
    chosen = {v.file for v in r.verdicts.values() if v.status == "wheel"}
    return [f for f in files if f.filename in chosen and may_be_invalid(f)]


def read_all(files: Sequence[DistributionFile], read: Callable[[DistributionFile], bytes | None]) -> list[bytes | None]:
    """Each file's metadata: through the reader's own ``read_many`` when it has one (a cache that
    answers a batch at once), else ``read`` a few at a time, one small request each."""
    unique = list({f.filename: f for f in files}.values())
    many = getattr(read, "read_many", None)
    if many is not None:
        found = many(unique)
    else:
        with ThreadPoolExecutor(max_workers=8) as pool:
            found = dict(zip((f.filename for f in unique), pool.map(read, unique)))
    return [found.get(f.filename) for f in files]


def release_files(package: LockedPackage, projects: Mapping[str, ProjectFiles]) -> tuple[DistributionFile, ...]:
    """The files the verdicts chose among: the lockfile's own list, else the index's release."""
    if package.files is not None:
        return package.files
    project = projects.get(package.name)
    return project.release(package.version) if project is not None and package.version else ()
