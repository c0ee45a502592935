"""One repository, checked end to end: files in, verdicts per (package, target) out.

This is the single place where the engine's parts meet; ``archcheck`` and the organisation
scans both call :func:`check_snapshot`. Nothing here raises for bad input in one file: a
lockfile that cannot be parsed, a Dockerfile that makes no sense or an index outage is
recorded on the report and the rest of the repository is still analysed.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from concurrent.futures import ThreadPoolExecutor
import posixpath
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from scanners.advice import Advice, advise, fix_version, parent_upgrade, relock_advice
from scanners.deep_check import DeepCheckResult, needs_deep_check
from scanners.registry import ImagePlatforms, dockerfile_base_image_findings
from scanners.chains import MANIFEST_NAMES, DependencyGraph, lockfile_graph, manifest_direct_names
from scanners.core_metadata import invalid_requirements, may_be_invalid
from scanners.analyser import Verdict, analyse_package
from scanners.distributions import DistributionFile, ProjectFiles
from scanners.findings import Finding, dedupe
from scanners.rules import MISLABELLED_WHEEL, blocks
from scanners.dockerfile import DockerfileError, ImageContext, is_dockerfile, parse_dockerfile, verdict_findings
from scanners.git import RepoSnapshot
from scanners.lockfiles import detect_format, parse_lockfile
from scanners.lockfiles.base import LockedPackage, LockfileError, ParsedLockfile
from scanners.targets import Target

__all__ = [
    "CheckReport",
    "FoundFile",
    "PackageResult",
    "TargetDefaults",
    "TargetSummary",
    "check_snapshot",
    "is_relevant_path",
    "resolve_targets",
]

log = logging.getLogger(__name__)

STATUSES = ("wheel", "sdist", "none", "unknown", "n/a")
Progress = Callable[[str, int, int], None]
"""``progress(step, done, total)``: ``step`` is "index" while the index is queried."""


class ProjectSource(Protocol):
    """What the check needs from an index client (``scanners.index.IndexClient`` satisfies it)."""

    def fetch_many(self, names, *, progress=None): ...  # -> Mapping[str, ProjectResult]


@dataclass(frozen=True, slots=True)
class TargetDefaults:
    """Used when a repository has no Dockerfile that names its Python and libc."""

    python: str = "3.12"
    libc: str = "glibc:2.36"
    platforms: tuple[str, ...] = ("linux/amd64", "linux/arm64")


@dataclass(frozen=True, slots=True)
class FoundFile:
    path: str
    kind: str  # "lockfile", "dockerfile" or "skipped"
    format: str | None
    blob_id: str | None
    error: str | None = None

    @property
    def is_lockfile(self) -> bool:
        """A lockfile by its name, whether it was read or skipped (binary, too large, a symlink out)."""
        return self.kind == "lockfile" or (self.kind == "skipped" and detect_format(self.path) is not None)


@dataclass(frozen=True, slots=True)
class PackageResult:
    package: LockedPackage
    verdicts: Mapping[str, Verdict]  # by target id
    fix_version: str | None = None
    direct: bool | None = None
    """From the lockfile, else the project's manifest, else the graph's roots; ``None``: cannot tell."""
    via: tuple[tuple[str, ...], ...] | None = None
    """Chains from a direct dependency down to this package's parent, shortest first (``()``: direct)."""
    advice: tuple[Advice, ...] = ()
    """Ways out for a package that is not ``wheel`` everywhere, best first (scanners.advice)."""


LOCKFILE_NAMES = (
    "requirements*.txt", "requirements/*.txt", "constraints*.txt", "poetry.lock", "uv.lock",
    "Pipfile.lock", "pdm.lock", "pylock.toml", "pylock.*.toml",
)
"""The lockfile names a check looks for (:func:`scanners.lockfiles.detect_format`), for messages."""


@dataclass(frozen=True, slots=True)
class TargetSummary:
    counts: Mapping[str, int]
    blockers: int
    ready: bool
    """Ready: the answer is complete, nothing is ``none`` or ``sdist`` and no Dockerfile finding
    blocks the target. An incomplete answer is never ready: it passed because it saw nothing."""
    complete: bool = True
    """No verdict is ``unknown``, every lockfile could be read, and there was one to read."""

    def to_dict(self) -> dict[str, object]:
        """The ``summary.<target>`` object of the archcheck JSON, also what a scan stores."""
        return {**dict(self.counts), "blockers": self.blockers, "ready": self.ready, "complete": self.complete}


@dataclass(frozen=True, slots=True)
class CheckReport:
    source: str
    commit: str | None
    targets: tuple[Target, ...]
    files: tuple[FoundFile, ...]
    packages: tuple[PackageResult, ...]
    dockerfiles: tuple[ImageContext, ...]
    findings: Mapping[str, tuple[Finding, ...]]  # by Dockerfile path, including verdict findings
    problems: tuple[str, ...]
    index_errors: Mapping[str, str]
    summary: Mapping[str, TargetSummary] = field(default_factory=dict)

    @property
    def partial(self) -> bool:
        """Some answers are missing for a reason that may go away (index outage, unreadable file)."""
        return bool(self.index_errors) or any(f.error for f in self.files if f.kind != "skipped")

    @property
    def has_lockfile(self) -> bool:
        """Some file of the repository is a lockfile by its name (read or not)."""
        return any(f.is_lockfile for f in self.files)


def is_relevant_path(path: str) -> bool:
    """The files a scan reads from a repository: lockfiles, Dockerfiles and the manifests that say
    which packages are direct (``pyproject.toml``, ``Pipfile``)."""
    return detect_format(path) is not None or is_dockerfile(path) or posixpath.basename(path) in MANIFEST_NAMES


def resolve_targets(
    images: Sequence[ImageContext],
    *,
    platforms: Sequence[str],
    defaults: TargetDefaults,
    python: str | None = None,
    libc: str | None = None,
) -> tuple[Target, ...]:
    """One target per platform; Python and libc from flags, else the primary Dockerfile, else defaults.

    The primary Dockerfile is the repository's root ``Dockerfile`` when it names a known base
    image, else the known one with the shortest path: services usually build from the root.
    """
    image = _primary_image(images)
    targets = []
    for platform in platforms or defaults.platforms:
        if python or libc:
            origin = "flag"
            py = python or (image.python if image and image.python else defaults.python)
            libc_spec = libc or (f"{image.libc}:{image.libc_version}" if image and image.libc else defaults.libc)
        elif image is not None:
            origin = f"{image.path}:{image.base_line}"
            py = image.python or defaults.python
            libc_spec = f"{image.libc}:{image.libc_version}" if image.libc else defaults.libc
        else:
            origin, py, libc_spec = "default", defaults.python, defaults.libc
        targets.append(Target.from_flags(platform, py, libc_spec, origin=origin))
    return tuple(targets)


def _primary_image(images: Sequence[ImageContext]) -> ImageContext | None:
    known = [i for i in images if i.python]
    if not known:
        return None
    return min(known, key=lambda i: (posixpath.basename(i.path) != "Dockerfile", i.path.count("/"), len(i.path), i.path))


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
    packages = _unique_packages(parsed)

    needs_index = sorted({p.name for p in packages if p.source == "index" and p.version and p.files is None})
    projects, index_errors = _fetch(index, needs_index, progress)

    graphs = _graphs(parsed, manifests)
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
        results = _with_metadata_pip_accepts(results, projects, read_metadata)

    # Fix versions need the index's full release list, also for packages whose lockfile gave the files.
    needs_fix = [r for r in results if r.package.version and any(v.status in ("sdist", "none") for v in r.verdicts.values())]
    more = sorted({r.package.name for r in needs_fix} - projects.keys() - index_errors.keys())
    if more:
        # Errors here are not recorded: the verdicts came from the lockfile, only advice is missing.
        projects.update(_fetch(index, more, progress)[0])
    cache = fix_cache if fix_cache is not None else {}
    fixable = {id(r) for r in needs_fix}
    primary = _primary_image(images) or (images[0] if images else None)
    installable = _metadata_check(read_metadata) if read_metadata is not None else None
    results = [_with_fix(r, projects, targets, cache, primary, installable) if id(r) in fixable else r for r in results]
    if read_metadata is not None:
        results = _with_parent_upgrades(results, projects, index, progress, read_metadata)
    results = _with_relock(results, projects, targets, parsed, snapshot)
    results = [_settle_upstream(r) for r in results]

    findings = {image.path: tuple(image.findings) for image in images}
    # Which targets each finding blocks: a missing compiler only matters where the package is an sdist.
    scope: dict[int, frozenset[str]] = {}
    if image_platforms is not None:
        for path, found in dockerfile_base_image_findings(images, targets, image_platforms).items():
            findings[path] = findings.get(path, ()) + found
    if deep_check is not None:
        for path, found in _deep_findings(results, projects, deep_check).items():
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
    summary = {t.id: _summarise(t, results, findings, scope, complete=complete) for t in targets}
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


def _graphs(parsed: Sequence[ParsedLockfile], manifests: Mapping[str, set[str]]) -> dict[str, DependencyGraph]:
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


def _unique_packages(parsed: Sequence[ParsedLockfile]) -> list[LockedPackage]:
    """Each (lockfile, line, name) once: a file pulled in with ``-r`` is also scanned on its own."""
    seen: set[tuple] = set()
    out = []
    for lockfile in parsed:
        for p in lockfile.packages:
            key = (p.lockfile, p.line, p.name, p.version)
            if key not in seen:
                seen.add(key)
                out.append(p)
    return out


def _fetch(index: ProjectSource | None, names: Sequence[str], progress: Progress | None) -> tuple[dict[str, ProjectFiles], dict[str, str]]:
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
            errors[name] = answer.error if answer is not None and answer.error else f"the index gave no answer for {name}"
    return projects, errors


def _with_fix(
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
        project, name=result.package.name, version=result.package.version,
        verdicts=result.verdicts, targets=targets, image=image, installable=installable,
    )
    return PackageResult(result.package, result.verdicts, cache.get(key), result.direct, result.via, advice)


def _with_metadata_pip_accepts(
    results: list[PackageResult],
    projects: Mapping[str, ProjectFiles],
    read_metadata: Callable[[DistributionFile], bytes | None],
) -> list[PackageResult]:
    """``none`` where the chosen wheel's core metadata has a Requires-Dist modern pip refuses: pip
    then ignores the whole version (:mod:`scanners.core_metadata`). Only wheels uploaded before
    the index validated uploads are read, each once."""
    wanted = [f for r in results for f in _old_chosen_wheels(r, projects)]
    invalid = {f.filename: invalid_requirements(body) for f, body in zip(wanted, _read_all(wanted, read_metadata)) if body}
    out = []
    for r in results:
        verdicts = dict(r.verdicts)
        for tid, v in r.verdicts.items():
            bad = invalid.get(v.file or "") if v.status == "wheel" else None
            if bad:
                verdicts[tid] = Verdict(
                    "none", None,
                    f"pip 24.1 and newer ignore {r.package.name} {r.package.version}: the metadata of {v.file} has an "
                    f"invalid requirement {bad[0]!r}, so pip fails with 'No matching distribution' (older pip installs it)",
                    native_elsewhere=v.native_elsewhere,
                )
        out.append(dataclasses.replace(r, verdicts=verdicts) if verdicts != r.verdicts else r)
    return out


def _metadata_check(read_metadata: Callable[[DistributionFile], bytes | None]) -> Callable[[Sequence[DistributionFile]], bool]:
    """For fix versions: pip accepts a release unless one of its chosen old wheels has invalid metadata."""
    def installable(wheels: Sequence[DistributionFile]) -> bool:
        for f in wheels:
            if may_be_invalid(f):
                body = read_metadata(f)
                if body is not None and invalid_requirements(body):
                    return False
        return True

    return installable


def _old_chosen_wheels(r: PackageResult, projects: Mapping[str, ProjectFiles]) -> list[DistributionFile]:
    """The wheels chosen for ``r`` that were uploaded before the index validated metadata."""
    files = _release_files(r.package, projects)
    chosen = {v.file for v in r.verdicts.values() if v.status == "wheel"}
    return [f for f in files if f.filename in chosen and may_be_invalid(f)]


def _read_all(files: Sequence[DistributionFile], read: Callable[[DistributionFile], bytes | None]) -> list[bytes | None]:
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


def _with_relock(
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
        if project is None or not r.package.version or not any(v.status in ("sdist", "none") for v in r.verdicts.values()):
            out.append(r)
            continue
        lockfile = lockfiles.get(r.package.lockfile)  # a file pulled in with -r is also parsed on its own
        if r.package.lockfile not in locked_at:
            locked_at[r.package.lockfile] = snapshot.changed_at(r.package.lockfile)
        advice = relock_advice(
            r.package, r.verdicts, targets, project.release(r.package.version),
            lock_format=lockfile.format if lockfile else detect_format(r.package.lockfile) or "",
            generated_by=lockfile.generated_by if lockfile else None,
            locked_at=locked_at[r.package.lockfile],
        )
        if advice is None:
            out.append(r)
            continue
        verdicts = {tid: _left_out(v, advice.file) if tid in advice.targets else v for tid, v in r.verdicts.items()}
        out.append(dataclasses.replace(r, verdicts=verdicts, advice=(advice, *r.advice)))
    return out


def _settle_upstream(result: PackageResult) -> PackageResult:
    """"Ask upstream" only when no fix is in the team's hands: a known replacement, or upgrading the
    dependency that pulls the package in, is the advice instead (the dashboard's suggestions follow
    the same verdict rows, so the CLI and the pages never disagree)."""
    kinds = {a.kind for a in result.advice}
    if "upstream" in kinds and kinds & {"replace", "upgrade-parent"}:
        return dataclasses.replace(result, advice=tuple(a for a in result.advice if a.kind != "upstream"))
    return result


def _left_out(verdict: Verdict, wheel: str | None) -> Verdict:
    """Say in the verdict's reason that the index has a wheel the lock's own file list leaves out
    (hash-checked locks already say so: the analyser saw the index's files)."""
    if not wheel or wheel in verdict.reason:
        return verdict
    note = f"({wheel} is on the index, not in the lock)"
    reason = verdict.reason.replace("no wheel for", "the lock lists no wheel for", 1)
    head, sep, tail = reason.partition("; ")
    return dataclasses.replace(verdict, reason=f"{head} {note}{sep}{tail}" if sep else f"{reason} {note}")


def _with_parent_upgrades(
    results: list[PackageResult],
    projects: Mapping[str, ProjectFiles],
    index: ProjectSource | None,
    progress: Progress | None,
    read_metadata: Callable[[DistributionFile], bytes | None],
) -> list[PackageResult]:
    """Put "upgrade <direct dependency> to X, which no longer needs it" first where a release says so."""
    locked = {(r.package.lockfile, r.package.name): r.package.version for r in results}
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
        parents.update(_fetch(index, missing, progress)[0])
    memo: dict[tuple[str, str, str], str | None] = {}
    out = []
    for r in results:
        key = wanted.get(id(r))
        if key is not None and key[0] in parents:
            if key not in memo:
                memo[key] = parent_upgrade(parents[key[0]], key[1], key[2], read_metadata=read_metadata)
            if memo[key]:
                parent, version, child = key
                advice = Advice(
                    "upgrade-parent",
                    f"upgrade {parent} to {memo[key]}, which no longer needs {child}",
                    f"{r.package.name} is here because {' → '.join(r.via[0])} needs it; {parent} {memo[key]} "
                    f"(locked: {version}) no longer requires {child}",
                    targets=tuple(t for t, v in r.verdicts.items() if v.status in ("sdist", "none")),
                    fix_version=memo[key],
                )
                r = dataclasses.replace(r, advice=(advice, *r.advice))
        out.append(r)
    return out


def _deep_findings(
    results: Sequence[PackageResult],
    projects: Mapping[str, ProjectFiles],
    deep_check: Callable[[DistributionFile], DeepCheckResult],
) -> dict[str, tuple[Finding, ...]]:
    """Read each chosen pure/universal2 wheel once and turn what it hides into findings on its lockfile."""
    checked: dict[str, DeepCheckResult] = {}
    out: dict[str, list[Finding]] = {}
    for r in results:
        by_name = {f.filename: f for f in _release_files(r.package, projects)}
        for v in r.verdicts.values():
            f = by_name.get(v.file or "")
            if v.status != "wheel" or f is None or not needs_deep_check(f) or not f.url:
                continue
            if f.filename not in checked:
                checked[f.filename] = deep_check(f)
            for problem in checked[f.filename].problems:
                finding = Finding(r.package.lockfile, r.package.line or 1, MISLABELLED_WHEEL.id, MISLABELLED_WHEEL.severity,
                                  f"{r.package.name}=={r.package.version}: {problem}")
                if finding not in out.setdefault(r.package.lockfile, []):
                    out[r.package.lockfile].append(finding)
    return {path: tuple(fs) for path, fs in out.items()}


def _release_files(package: LockedPackage, projects: Mapping[str, ProjectFiles]) -> tuple[DistributionFile, ...]:
    """The files the verdicts chose among: the lockfile's own list, else the index's release."""
    if package.files is not None:
        return package.files
    project = projects.get(package.name)
    return project.release(package.version) if project is not None and package.version else ()


def _summarise(
    target: Target,
    results: Sequence[PackageResult],
    findings: Mapping[str, Sequence[Finding]],
    scope: Mapping[int, frozenset[str]],
    *,
    complete: bool,
) -> TargetSummary:
    counts = dict.fromkeys(STATUSES, 0)
    for r in results:
        counts[r.verdicts[target.id].status] += 1
    blocking = sum(1 for fs in findings.values() for f in fs if blocks(f, target, scope.get(id(f))))
    blockers = counts["none"] + blocking
    complete = complete and counts["unknown"] == 0
    return TargetSummary(
        counts=counts, blockers=blockers, ready=complete and blockers == 0 and counts["sdist"] == 0, complete=complete
    )
