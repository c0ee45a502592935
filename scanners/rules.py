"""The rule table: what every Dockerfile and image finding means, declared in one place.

Detection stays with the code that can see a problem (:mod:`scanners.dockerfile` reads the
Dockerfile, :mod:`scanners.registry.findings` a registry's answer, the check the deep wheel
check's result); each finding carries a rule id. This table says, per rule id:

* ``severity``: the most severe it is reported with (a pinned build stage, a missing compiler on
  an unknown image are only warnings; the finding carries its own);
* ``blocks``: which targets a blocker of this rule blocks: every target, only the ones that are
  not amd64 (the image itself runs there), or the targets where the package builds from its
  sdist (the check records them per finding);
* ``fix_kind``/``fix``: the one action a manager can assign, as the blockers page and the next
  actions word it (the finding's own message explains the detail);
* ``action``: the next-actions kind its findings are grouped under, when not one per rule.

Pure and Django-free: :mod:`scanners.check` counts blockers with :func:`blocks`;
``readiness.queries`` reads :func:`finding_fix` and :data:`FINDING_ACTIONS`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from scanners.build_deps import build_packages
from scanners.findings import Finding, Severity

if TYPE_CHECKING:
    from scanners.targets import Target

__all__ = [
    "FINDING_ACTIONS",
    "MISLABELLED_WHEEL",
    "RULES",
    "Blocks",
    "Rule",
    "blocks",
    "finding_fix",
]

Blocks = Literal["all", "non-amd64", "sdist"]


@dataclass(frozen=True, slots=True)
class Rule:
    """One rule id and what its findings mean; see the module docstring for each field."""

    id: str
    severity: Severity
    blocks: Blocks = "all"
    fix_kind: str = "see-finding"
    fix: str = "see the finding's message"
    action: str | None = None


MISLABELLED_WHEEL = Rule("mislabelled-wheel", "warning")
"""A wheel whose files contradict its tags (:mod:`scanners.deep_check`)."""

RULES: dict[str, Rule] = {
    rule.id: rule
    for rule in (
        # The Dockerfile itself (scanners.dockerfile).
        Rule("unparsed-instruction", "info"),
        Rule("unknown-base-image", "info"),
        Rule("no-python-in-image", "info"),
        Rule("arch-specific-download", "warning", blocks="non-amd64"),
        Rule("platform-pinned", "blocker", blocks="non-amd64", fix_kind="base-image",
             fix="change the base image: drop --platform or use --platform=$TARGETPLATFORM", action="platform-pin"),
        # With the analyser's verdicts (scanners.dockerfile.checks.verdict_findings).
        Rule("no-compiler-for-sdist", "blocker", blocks="sdist", fix_kind="compiler",
             fix="add a compiler to the image (build-essential / gcc), or upgrade to a version with a wheel",
             action="compiler"),
        Rule("macos-only-package", "blocker", fix_kind="marker",
             fix="guard the package with sys_platform == \"darwin\" or use its Linux equivalent"),
        # What the registry says about each FROM image (scanners.registry.findings).
        Rule("base-image-no-arm64", "blocker", blocks="non-amd64", action="base-image"),
        Rule("base-image-no-platform", "blocker", blocks="non-amd64", action="base-image"),
        Rule("base-image-unknown", "info"),
        # What the wheels' files say (scanners.deep_check, through the check).
        MISLABELLED_WHEEL,
    )
}  # fmt: skip

FINDING_ACTIONS: dict[str, str] = {rule.id: rule.action for rule in RULES.values() if rule.action}
"""Rule id -> next-actions kind, for the rules whose findings share one action."""

_SDIST_PACKAGE = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==")  # how no-compiler-for-sdist messages start


def sdist_package(rule: str, message: str) -> str | None:
    """The package a ``no-compiler-for-sdist`` finding is about (its message starts ``name==``), else
    ``None``: such a blocker is that package's, on the targets where it builds from source."""
    if rule != "no-compiler-for-sdist":
        return None
    match = _SDIST_PACKAGE.match(message)
    return match.group(1) if match else None


def blocking(
    verdicts: Iterable[tuple[str, str, str]], findings: Iterable[tuple[str, str, str]]
) -> tuple[dict[tuple[str, str], str], set[str]]:
    """What blocks one repository, as triage names it, from its stored rows.

    ``verdicts`` are ``(package, target, status)``, ``findings`` ``(rule, severity, message)``.
    Returns the blocking ``(package, target)`` pairs, each with the message of the missing-compiler
    finding that makes a source build a blocker (``""`` for a ``none``), and the rules of the other
    blocking findings.
    """
    no_compiler: dict[str, str] = {}
    rules: set[str] = set()
    for rule, severity, message in findings:
        if severity != "blocker":
            continue
        package = sdist_package(rule, message)
        if package is None:
            rules.add(rule)
        else:
            no_compiler.setdefault(package, message)
    packages: dict[tuple[str, str], str] = {}
    for package, target, status in verdicts:
        if status == "none":
            packages[(package, target)] = ""
        elif status == "sdist" and package in no_compiler:
            packages.setdefault((package, target), no_compiler[package])
    return packages, rules


def blocks(finding: Finding, target: Target, sdist_targets: frozenset[str] | None = None) -> bool:
    """Whether ``finding`` blocks ``target``. ``sdist_targets`` are the target ids the check
    recorded for this finding (where its package is an sdist); they decide when given.

    A rule not in the table blocks every target, as a blocker whose meaning nobody declared should.
    """
    if finding.severity != "blocker":
        return False
    if sdist_targets is not None:
        return target.id in sdist_targets
    rule = RULES.get(finding.rule)
    return rule is None or rule.blocks != "non-amd64" or target.platform != "linux/amd64"


def finding_fix(rule: str, *, example: str | None = None) -> tuple[str, str]:
    """``(fix kind, fix)`` for a rule; with an ``example`` message of a missing-compiler finding,
    the toolchain plus the libraries that example's package is known to need."""
    declared = RULES.get(rule)
    kind, fix = (declared.fix_kind, declared.fix) if declared else ("see-finding", "see the finding's message")
    if rule == "no-compiler-for-sdist" and example is not None:
        fix = _compiler_fix(example, default=fix)
    return kind, fix


def _compiler_fix(example: str, *, default: str) -> str:
    m = _SDIST_PACKAGE.match(example)
    if m is None:
        return default
    packages, deps = build_packages(m.group(1), package_manager="apk" if "alpine" in example else "apt")
    libs = f" (for {m.group(1)}: {' '.join(packages[2:])})" if deps is not None and packages[2:] else ""
    return f"add {' '.join(packages[:2])} to the image{libs}, or upgrade to a version with a wheel"
