"""A finding: one problem in one file, with the rule it breaks and a message a person can act on.

Dockerfile checks, registry lookups and the deep wheel check all report through this one value,
so the check, the database and the pages handle every kind alike. What each rule means (its
severity, the targets it blocks, its fix) is declared in :mod:`scanners.rules`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

__all__ = ["Finding", "Severity", "dedupe"]

Severity = Literal["blocker", "warning", "info"]


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem, with the rule id the UI and JSON use and a message a person can act on."""

    path: str
    line: int
    rule: str
    severity: Severity
    message: str


def dedupe(findings: Iterable[Finding]) -> list[Finding]:
    """``findings`` in order, without repeats of the same (path, line, rule, message)."""
    seen: set[tuple] = set()
    out = []
    for f in findings:
        key = (f.path, f.line, f.rule, f.message)
        if key not in seen:
            seen.add(key)
            out.append(f)
    return out
