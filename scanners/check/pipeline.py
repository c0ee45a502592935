"""The check of one repository: :func:`check_snapshot` runs the phases of this package in order."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from scanners.check.image_findings import collect_findings
from scanners.check.inputs import read_inputs, resolve_targets
from scanners.check.provenance import ProvenanceRecorder
from scanners.check.remedies import attach_remedies
from scanners.check.report import CheckLimits, CheckReport, Progress, ProjectSource, TargetDefaults
from scanners.check.summary import summarise
from scanners.check.verdicts import decide_verdicts
from scanners.deep_check import DeepCheckResult
from scanners.distributions import DistributionFile
from scanners.git import RepoSnapshot
from scanners.registry import ImagePlatforms

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
    limits: CheckLimits = CheckLimits(),
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
    that no longer needs it. ``limits`` bounds the packages one lockfile or repository may ask for.

    The phases, each in its own module: read the files (:func:`read_inputs`), choose the targets,
    decide the verdicts, attach the ways out, collect the findings, summarise per target. What the
    answer read from the index on the way is on the report (:mod:`scanners.check.provenance`).
    """
    inputs = read_inputs(snapshot, limits)
    targets = resolve_targets(inputs.images, platforms=platforms, defaults=defaults, python=python, libc=libc)
    recorder = ProvenanceRecorder()
    read_metadata = recorder.reader(read_metadata)
    results, projects, index_errors = decide_verdicts(
        inputs, targets, recorder.source(index, "files"), progress, read_metadata
    )
    results = attach_remedies(
        results,
        projects=projects,
        index_errors=index_errors,
        targets=targets,
        inputs=inputs,
        snapshot=snapshot,
        index=recorder.source(index, "advice"),
        progress=progress,
        fix_cache=fix_cache if fix_cache is not None else {},
        read_metadata=read_metadata,
    )
    findings, scope = collect_findings(
        inputs.images,
        results,
        targets,
        projects,
        image_platforms=recorder.images(image_platforms),
        deep_check=deep_check,
    )
    summary = {t.id: summarise(t, results, findings, scope, complete=inputs.complete) for t in targets}
    return CheckReport(
        source=snapshot.source,
        commit=snapshot.commit,
        targets=targets,
        files=tuple(sorted(inputs.files, key=lambda f: f.path)),
        packages=tuple(results),
        dockerfiles=tuple(inputs.images),
        findings=findings,
        problems=tuple(inputs.problems),
        index_errors=index_errors,
        summary=summary,
        provenance=recorder.provenance(),
    )
