"""The check of one repository: :func:`check_snapshot` runs the phases of this package in order."""

from __future__ import annotations

import posixpath
from collections.abc import Callable, Mapping, Sequence

from scanners.analyser import analyse_package
from scanners.chains import MANIFEST_NAMES, manifest_direct_names
from scanners.check.image_findings import deep_findings
from scanners.check.inputs import primary_image, resolve_targets
from scanners.check.remedies import settle_upstream, with_fix, with_parent_upgrades, with_relock
from scanners.check.report import CheckReport, FoundFile, PackageResult, Progress, ProjectSource, TargetDefaults
from scanners.check.summary import summarise
from scanners.check.verdicts import dependency_graphs, fetch, metadata_check, unique_packages, with_metadata_pip_accepts
from scanners.deep_check import DeepCheckResult
from scanners.distributions import DistributionFile
from scanners.dockerfile import DockerfileError, ImageContext, is_dockerfile, parse_dockerfile, verdict_findings
from scanners.findings import Finding, dedupe
from scanners.git import RepoSnapshot
from scanners.lockfiles import detect_format, parse_lockfile
from scanners.lockfiles.base import LockfileError, ParsedLockfile
from scanners.registry import ImagePlatforms, dockerfile_base_image_findings

__all__ = ["check_snapshot"]


def check_snapshot(
    snapshot: RepoSnapshot,
    *,
    index: ProjectSource | None,
    defaults: TargetDefaults = TargetDefaults(),
    platforms: Sequence[str] = (),
    python: str | None = None,
    libc: str | None = None,
    progress: Progress | None = None,
    fix_cache: dict | None = None,
    deep_check: Callable[[DistributionFile], DeepCheckResult] | None = None,
    image_platforms: Callable[[Sequence[str]], Mapping[str, ImagePlatforms]] | None = None,
    read_metadata: Callable[[DistributionFile], bytes | None] | None = None,
) -> CheckReport:
    """Analyse every lockfile and Dockerfile of ``snapshot`` for every target.

    ``index`` answers for packages whose lockfile does not list their files (``None``: such
    packages are ``unknown``). ``fix_cache`` may be shared across repositories of one scan so
    that a fix version is computed once per (package, version, targets). ``deep_check``, when
    given, reads the chosen wheel of every ``wheel`` verdict whose tags could hide native code
    (pure, ``universal2``) and records a ``mislabelled-wheel`` finding where they do.
    ``image_platforms``, when given, is asked once for every base image of every Dockerfile
    (``scanners.registry.RegistryClient.platforms_many``): an image with no variant for a
    target's platform is a ``base-image-no-arm64`` blocker. ``read_metadata`` (a release file's
    core metadata) lets a transitive blocker's advice name the upgrade of the direct dependency
    that no longer needs it.
    """
    files: list[FoundFile] = [FoundFile(s.path, "skipped", None, None, s.reason) for s in snapshot.skipped]
    problems: list[str] = [f"{s.path}: skipped: {s.reason}" for s in snapshot.skipped]
    parsed: list[ParsedLockfile] = []
    images: list[ImageContext] = []
    manifests: dict[str, set[str]] = {}  # directory -> direct names
    for repo_file in snapshot.files:
        if posixpath.basename(repo_file.path) in MANIFEST_NAMES:
            names = manifest_direct_names(repo_file.path, repo_file.text)
            if names:
                manifests.setdefault(posixpath.dirname(repo_file.path), set()).update(names)
            continue
        fmt = detect_format(repo_file.path)
        if fmt is not None:
            try:
                lockfile = parse_lockfile(repo_file.path, repo_file.text, read_file=snapshot.read)
            except LockfileError as exc:
                files.append(FoundFile(repo_file.path, "lockfile", fmt, repo_file.blob_id, str(exc)))
                problems.append(str(exc))
                continue
            parsed.append(lockfile)
            problems.extend(str(p) for p in lockfile.problems)
            files.append(FoundFile(repo_file.path, "lockfile", fmt, repo_file.blob_id))
        elif is_dockerfile(repo_file.path):
            try:
                image = parse_dockerfile(repo_file.path, repo_file.text)
            except DockerfileError as exc:
                files.append(FoundFile(repo_file.path, "dockerfile", None, repo_file.blob_id, str(exc)))
                problems.append(str(exc))
                continue
            images.append(image)
            files.append(FoundFile(repo_file.path, "dockerfile", None, repo_file.blob_id))

    targets = resolve_targets(images, platforms=platforms, defaults=defaults, python=python, libc=libc)
    packages = unique_packages(parsed)

    needs_index = sorted({p.name for p in packages if p.source == "index" and p.version and p.files is None})
    projects, index_errors = fetch(index, needs_index, progress)

    graphs = dependency_graphs(parsed, manifests)
    results: list[PackageResult] = []
    for package in packages:
        project = projects.get(package.name)
        release = project.release(package.version) if project and package.version else None
        error = index_errors.get(package.name)
        verdicts = {
            t.id: analyse_package(package, t, files=package.files if package.files is not None else release, index_error=error)
            for t in targets
        }
        graph = graphs.get(package.lockfile)
        direct = package.direct if package.direct is not None else (graph.is_direct(package.name) if graph else None)
        chains = graph.chains(package.name) if graph is not None else None
        via = tuple(chains) if chains is not None else (() if direct else None)
        results.append(PackageResult(package, verdicts, direct=direct, via=via))

    if read_metadata is not None:
        results = with_metadata_pip_accepts(results, projects, read_metadata)

    # Fix versions need the index's full release list, also for packages whose lockfile gave the files.
    needs_fix = [r for r in results if r.package.version and any(v.status in ("sdist", "none") for v in r.verdicts.values())]
    more = sorted({r.package.name for r in needs_fix} - projects.keys() - index_errors.keys())
    if more:
        # Errors here are not recorded: the verdicts came from the lockfile, only advice is missing.
        projects.update(fetch(index, more, progress)[0])
    cache = fix_cache if fix_cache is not None else {}
    fixable = {id(r) for r in needs_fix}
    primary = primary_image(images) or (images[0] if images else None)
    installable = metadata_check(read_metadata) if read_metadata is not None else None
    results = [with_fix(r, projects, targets, cache, primary, installable) if id(r) in fixable else r for r in results]
    if read_metadata is not None:
        results = with_parent_upgrades(results, projects, index, progress, read_metadata)
    results = with_relock(results, projects, targets, parsed, snapshot)
    results = [settle_upstream(r) for r in results]

    findings = {image.path: tuple(image.findings) for image in images}
    # Which targets each finding blocks: a missing compiler only matters where the package is an sdist.
    scope: dict[int, frozenset[str]] = {}
    if image_platforms is not None:
        for path, found in dockerfile_base_image_findings(images, targets, image_platforms).items():
            findings[path] = findings.get(path, ()) + found
    if deep_check is not None:
        for path, found in deep_findings(results, projects, deep_check).items():
            findings[path] = findings.get(path, ()) + found
    if primary is not None:
        extra: list[Finding] = []
        for r in results:
            sdist_targets = frozenset(tid for tid, v in r.verdicts.items() if v.status == "sdist")
            if sdist_targets:
                for f in verdict_findings(primary, sdist_packages=[(r.package.name, r.package.version or "")], package_names=()):
                    scope[id(f)] = sdist_targets
                    extra.append(f)
        extra.extend(verdict_findings(primary, sdist_packages=(), package_names=sorted({r.package.name for r in results})))
        findings[primary.path] = findings[primary.path] + tuple(dedupe(extra))

    unreadable = any(f.error for f in files if f.is_lockfile)
    complete = bool(parsed) and not unreadable
    summary = {t.id: summarise(t, results, findings, scope, complete=complete) for t in targets}
    return CheckReport(
        source=snapshot.source,
        commit=snapshot.commit,
        targets=targets,
        files=tuple(sorted(files, key=lambda f: f.path)),
        packages=tuple(results),
        dockerfiles=tuple(images),
        findings=findings,
        problems=tuple(problems),
        index_errors=index_errors,
        summary=summary,
    )
