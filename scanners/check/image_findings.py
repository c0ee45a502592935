"""Findings beyond the verdicts: Dockerfile rules about the packages found, base images without a
variant for a target, and wheels whose tags hide native code (the deep check)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from scanners.check.inputs import primary_image
from scanners.check.report import PackageResult
from scanners.check.verdicts import release_files
from scanners.deep_check import DeepCheckResult, needs_deep_check
from scanners.distributions import DistributionFile, ProjectFiles
from scanners.dockerfile import ImageContext, verdict_findings
from scanners.findings import Finding, dedupe
from scanners.registry import ImagePlatforms, dockerfile_base_image_findings
from scanners.rules import MISLABELLED_WHEEL
from scanners.targets import Target

__all__ = ["collect_findings", "deep_findings"]

FindingScope = dict[int, frozenset[str]]
"""Targets a finding blocks, by the finding's ``id()``, where that is narrower than its rule's
(a missing compiler only matters where the package is an sdist)."""


def collect_findings(
    images: Sequence[ImageContext],
    results: Sequence[PackageResult],
    targets: Sequence[Target],
    projects: Mapping[str, ProjectFiles],
    *,
    image_platforms: Callable[[Sequence[str]], Mapping[str, ImagePlatforms]] | None,
    deep_check: Callable[[DistributionFile], DeepCheckResult] | None,
) -> tuple[dict[str, tuple[Finding, ...]], FindingScope]:
    """Every finding by file: each Dockerfile's own, its base images', the deep check's (on the
    lockfile), and the primary Dockerfile's rules about the packages the verdicts found."""
    findings = {image.path: tuple(image.findings) for image in images}
    scope: FindingScope = {}
    if image_platforms is not None:
        for path, found in dockerfile_base_image_findings(images, targets, image_platforms).items():
            findings[path] = findings.get(path, ()) + found
    if deep_check is not None:
        for path, found in deep_findings(results, projects, deep_check).items():
            findings[path] = findings.get(path, ()) + found
    primary = primary_image(images) or (images[0] if images else None)
    if primary is not None:
        extra: list[Finding] = []
        for r in results:
            sdist_targets = frozenset(tid for tid, v in r.verdicts.items() if v.status == "sdist")
            if sdist_targets:
                for f in verdict_findings(
                    primary, sdist_packages=[(r.package.name, r.package.version or "")], package_names=()
                ):
                    scope[id(f)] = sdist_targets
                    extra.append(f)
        extra.extend(
            verdict_findings(primary, sdist_packages=(), package_names=sorted({r.package.name for r in results}))
        )
        findings[primary.path] = findings[primary.path] + tuple(dedupe(extra))
    return findings, scope


def deep_findings(
    results: Sequence[PackageResult],
    projects: Mapping[str, ProjectFiles],
    deep_check: Callable[[DistributionFile], DeepCheckResult],
) -> dict[str, tuple[Finding, ...]]:
    """Read each chosen pure/universal2 wheel once and turn what it hides into findings on its lockfile."""
    checked: dict[str, DeepCheckResult] = {}
    out: dict[str, list[Finding]] = {}
    for r in results:
        by_name = {f.filename: f for f in release_files(r.package, projects)}
        for v in r.verdicts.values():
            f = by_name.get(v.file or "")
            if v.status != "wheel" or f is None or not needs_deep_check(f) or not f.url:
                continue
            if f.filename not in checked:
                checked[f.filename] = deep_check(f)
            for problem in checked[f.filename].problems:
                finding = Finding(
                    r.package.lockfile,
                    r.package.line or 1,
                    MISLABELLED_WHEEL.id,
                    MISLABELLED_WHEEL.severity,
                    f"{r.package.name}=={r.package.version}: {problem}",
                )
                if finding not in out.setdefault(r.package.lockfile, []):
                    out[r.package.lockfile].append(finding)
    return {path: tuple(fs) for path, fs in out.items()}
