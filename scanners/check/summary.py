"""Per-target summary of a check: counts per status, blockers, and whether the target is ready."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from scanners.check.report import STATUSES, PackageResult, TargetSummary
from scanners.findings import Finding
from scanners.rules import blocks
from scanners.targets import Target

__all__ = ["summarise"]


def summarise(
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
