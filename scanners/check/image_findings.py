"""Findings beyond the verdicts: Dockerfile rules about the packages found, base images without a
variant for a target, and wheels whose tags hide native code (the deep check)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from scanners.check.report import PackageResult
from scanners.check.verdicts import release_files
from scanners.deep_check import DeepCheckResult, needs_deep_check
from scanners.distributions import DistributionFile, ProjectFiles
from scanners.findings import Finding
from scanners.rules import MISLABELLED_WHEEL

__all__ = ["deep_findings"]


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
                finding = Finding(r.package.lockfile, r.package.line or 1, MISLABELLED_WHEEL.id, MISLABELLED_WHEEL.severity,
                                  f"{r.package.name}=={r.package.version}: {problem}")
                if finding not in out.setdefault(r.package.lockfile, []):
                    out[r.package.lockfile].append(finding)
    return {path: tuple(fs) for path, fs in out.items()}
