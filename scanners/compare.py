"""What a change does to a repository's readiness: two ``archcheck/1`` documents, before and after.

A pull request (or ``archcheck --base REF``) is judged on what it changes, not on what was
already broken: a package that was ``none`` on the base and still is does not fail the check.
Pure functions over the JSON documents (the CLI's own output, or a stored scan written in the
same shape by ``readiness.queries.matrix``), so the command line, the webhook's check run and
any other CI share one answer.

Per (package, target), the package's verdict on each side is the worst of its lockfiles' entries
(a package locked twice is blocked if either file blocks it); ``n/a`` counts as absent. A verdict
*blocks* when it is ``none``, or ``sdist`` while a ``no-compiler-for-sdist`` finding names the
package (the image has no compiler to build it): the same rule triage uses (scanners.rules).

Kinds, for a package on a target:

* ``new-blocker``: blocks after, did not before (a new package without an arm64 wheel, a bump
  that drops one, a wheel that became an sdist where nothing can compile it);
* ``resolved``: blocked before, does not after;
* ``worse`` / ``better``: another change of status (``wheel`` → ``sdist`` with a compiler,
  ``sdist`` → ``wheel``, anything ↔ ``unknown``);
* ``added`` / ``removed``: appears or goes away without blocking either side.

Dockerfile findings are compared by (path, rule, message), not by line (an edit above moves
them); missing-compiler findings are left to the packages they name. Only ``new-blocker``
changes fail a check (:func:`made_worse`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from packaging.utils import canonicalize_name

from scanners.rules import RULES, sdist_package

__all__ = [
    "KINDS",
    "change_counts",
    "compare_reports",
    "comparison_json",
    "counts_sentence",
    "made_worse",
    "render_changes",
]

KINDS = ("new-blocker", "worse", "resolved", "better", "added", "removed")
"""Every kind a change can have, the most urgent first (the order the summary names them)."""

_RANK = {"wheel": 0, "sdist": 1, "unknown": 2, "none": 3}
_NOUNS = {
    "new-blocker": ("new blocker", "new blockers"),
    "worse": ("worse", "worse"),
    "resolved": ("resolved", "resolved"),
    "better": ("better", "better"),
    "added": ("added", "added"),
    "removed": ("removed", "removed"),
}

Doc = Mapping[str, Any]


def compare_reports(before: Doc, after: Doc) -> dict[str, Any]:
    """The ``changes`` and ``finding_changes`` between two ``archcheck/1`` documents.

    Returns ``{"base": {commit}, "changes": [...], "finding_changes": [...], "counts": {...},
    "worse": bool}``; each change is ``{"name", "target", "before", "after", "kind"}`` with
    ``before``/``after`` ``None`` where the package is absent (or ``n/a``) on that side, else
    ``{"status", "version", "file", "reason", "lockfile", "line", "blocking"}`` (``after`` also has ``fix``:
    the first advice's title or the fix version, for the people reading a check).
    """
    old, new = _verdicts(before), _verdicts(after)
    changes = []
    for key in sorted(old.keys() | new.keys()):
        kind = _kind(old.get(key), new.get(key))
        if kind is not None:
            name, target = key
            changes.append(
                {"name": name, "target": target, "before": old.get(key), "after": new.get(key), "kind": kind}
            )
    finding_changes = _finding_changes(before, after)
    result: dict[str, Any] = {
        "base": {"commit": before.get("commit"), "source": before.get("source")},
        "changes": changes,
        "finding_changes": finding_changes,
    }
    result["counts"] = change_counts(result)
    result["worse"] = made_worse(result)
    return result


def comparison_json(comparison: Mapping[str, Any], *, ref: str) -> dict[str, Any]:
    """The keys ``archcheck --base REF`` adds to its ``archcheck/1`` document."""
    return {
        "base": {"ref": ref, "commit": comparison["base"]["commit"]},
        "changes": comparison["changes"],
        "finding_changes": comparison["finding_changes"],
        "change_counts": comparison["counts"],
    }


def made_worse(comparison: Mapping[str, Any]) -> bool:
    """Whether the change adds a blocker somewhere (what ``--fail-on new`` fails on)."""
    return any(c["kind"] == "new-blocker" for c in (*comparison["changes"], *comparison["finding_changes"]))


def change_counts(comparison: Mapping[str, Any], *, targets: Iterable[str] | None = None) -> dict[str, int]:
    """How many packages and findings changed, by kind: each package is counted once, under the
    most urgent kind it has on any target (``targets``: only those), each finding once."""
    wanted = set(targets) if targets is not None else None
    by_package: dict[str, int] = {}
    for change in comparison["changes"]:
        if wanted is not None and change["target"] not in wanted:
            continue
        rank = KINDS.index(change["kind"])
        by_package[change["name"]] = min(rank, by_package.get(change["name"], rank))
    counts = dict.fromkeys(KINDS, 0)
    for rank in by_package.values():
        counts[KINDS[rank]] += 1
    for change in comparison["finding_changes"]:
        if wanted is not None and change["targets"] and not wanted & set(change["targets"]):
            continue
        counts[change["kind"]] += 1
    return counts


def counts_sentence(counts: Mapping[str, int]) -> str:
    """``"2 new blockers, 1 resolved"``; ``"no change"`` when nothing changed."""
    parts = [f"{counts[k]} {_NOUNS[k][counts[k] != 1]}" for k in KINDS if counts.get(k)]
    return ", ".join(parts) or "no change"


def render_changes(comparison: Mapping[str, Any], *, base: str) -> str:
    """The changes as the table prints them first: a count line, then one line per change,
    most urgent first (``new blocker  filprofiler 2022.5.0  linux/arm64: – → none  requirements.txt:2``)."""
    lines = [f"changes against {base}: {counts_sentence(comparison['counts'])}"]
    order = {kind: i for i, kind in enumerate(KINDS)}
    for c in sorted(comparison["changes"], key=lambda c: (order[c["kind"]], c["name"], c["target"])):
        was, now = c["before"], c["after"]
        shown = now or was
        where = f"  {shown['lockfile']}:{shown['line']}" if shown.get("line") else f"  {shown['lockfile']}"
        fix = f"  → {now['fix']}" if now and now["blocking"] and now.get("fix") else ""
        lines.append(
            f"  {_NOUNS[c['kind']][0]:11}  {c['name']} {_side_version(was, now)}  {c['target']}: "
            f"{_side_status(was)} → {_side_status(now)}{where}{fix}"
        )
    for f in sorted(comparison["finding_changes"], key=lambda f: (order[f["kind"]], f["path"], f["rule"])):
        line = (f["after"] or f["before"])["line"]
        lines.append(f"  {_NOUNS[f['kind']][0]:11}  {f['path']}:{line}: [{f['rule']}] {f['message']}")
    return "\n".join(lines)


def _side_status(side: Mapping[str, Any] | None) -> str:
    if side is None:
        return "–"
    return f"{side['status']} (no compiler)" if side["blocking"] and side["status"] == "sdist" else side["status"]


def _side_version(was: Mapping[str, Any] | None, now: Mapping[str, Any] | None) -> str:
    old, new = (was or {}).get("version"), (now or {}).get("version")
    if old and new and old != new:
        return f"{old} → {new}"
    return str(new or old or "-")


def _verdicts(doc: Doc) -> dict[tuple[str, str], dict[str, Any]]:
    """(package, target) → the worst entry of that package on that target (``n/a`` left out)."""
    no_compiler = _no_compiler_packages(doc)
    out: dict[tuple[str, str], dict[str, Any]] = {}
    for package in doc.get("packages") or ():
        name = str(package.get("name"))
        for target, result in (package.get("results") or {}).items():
            status = result.get("status")
            if status not in _RANK:
                continue
            entry = {
                "status": status,
                "version": package.get("version"),
                "file": result.get("file"),
                "reason": result.get("reason") or None,
                "lockfile": package.get("lockfile"),
                "line": package.get("line"),
                "blocking": status == "none" or (status == "sdist" and name in no_compiler),
                "fix": _fix(package, result),
            }
            held = out.get((name, target))
            if held is None or _severity(entry) > _severity(held):
                out[(name, target)] = entry
    return out


def _severity(entry: Mapping[str, Any]) -> tuple[bool, int]:
    return entry["blocking"], _RANK[entry["status"]]


def _fix(package: Mapping[str, Any], result: Mapping[str, Any]) -> str | None:
    if result.get("status") in ("wheel", None):
        return None
    advice = package.get("advice") or ()
    if advice and isinstance(advice[0], Mapping) and advice[0].get("title"):
        return str(advice[0]["title"])
    fix_version = result.get("fix_version")
    return f"upgrade to {fix_version}" if fix_version else None


def _no_compiler_packages(doc: Doc) -> set[str]:
    names: set[str] = set()
    for dockerfile in doc.get("dockerfiles") or ():
        for finding in dockerfile.get("findings") or ():
            if finding.get("severity") == "blocker":
                name = sdist_package(str(finding.get("rule")), str(finding.get("message")))
                if name is not None:
                    names.add(canonicalize_name(name))
    return names


def _kind(old: Mapping[str, Any] | None, new: Mapping[str, Any] | None) -> str | None:
    if old is None and new is None:
        return None
    if old is None:
        assert new is not None
        return "new-blocker" if new["blocking"] else "added"
    if new is None:
        return "resolved" if old["blocking"] else "removed"
    if new["blocking"] and not old["blocking"]:
        return "new-blocker"
    if old["blocking"] and not new["blocking"]:
        return "resolved"
    if _RANK[new["status"]] > _RANK[old["status"]]:
        return "worse"
    if _RANK[new["status"]] < _RANK[old["status"]]:
        return "better"
    return None


_SEVERITY_RANK = {"info": 0, "warning": 1, "blocker": 2}


def _findings(doc: Doc, target_ids: list[str]) -> dict[tuple[str, str, str], dict[str, Any]]:
    out: dict[tuple[str, str, str], dict[str, Any]] = {}
    for dockerfile in doc.get("dockerfiles") or ():
        path = str(dockerfile.get("path"))
        for finding in dockerfile.get("findings") or ():
            rule, message = str(finding.get("rule")), str(finding.get("message"))
            if sdist_package(rule, message) is not None:
                continue  # the package's own change says it (see the module docstring)
            severity = finding.get("severity")
            entry = {
                "path": path,
                "line": finding.get("line"),
                "rule": rule,
                "severity": severity,
                "message": message,
                "targets": _blocked_targets(rule, severity, target_ids),
            }
            out.setdefault((path, rule, message), entry)
    return out


def _blocked_targets(rule: str, severity: Any, target_ids: list[str]) -> list[str]:
    """The targets a finding blocks (its rule's ``blocks``); none unless it is a blocker."""
    if severity != "blocker":
        return []
    declared = RULES.get(rule)
    if declared is not None and declared.blocks == "non-amd64":
        return [t for t in target_ids if not t.startswith("linux/amd64")]
    return list(target_ids)


def _target_ids(doc: Doc) -> list[str]:
    return [str(t.get("id")) for t in doc.get("targets") or () if isinstance(t, Mapping)]


def _finding_changes(before: Doc, after: Doc) -> list[dict[str, Any]]:
    old = _findings(before, _target_ids(before))
    new = _findings(after, _target_ids(after))
    changes = []
    for key in sorted(old.keys() | new.keys()):
        was, now = old.get(key), new.get(key)
        if was is None:
            assert now is not None
            kind = "new-blocker" if now["severity"] == "blocker" else "added"
        elif now is None:
            kind = "resolved" if was["severity"] == "blocker" else "removed"
        else:
            rank_was, rank_now = _SEVERITY_RANK.get(was["severity"], 0), _SEVERITY_RANK.get(now["severity"], 0)
            if rank_was == rank_now:
                continue
            if now["severity"] == "blocker":
                kind = "new-blocker"
            elif was["severity"] == "blocker":
                kind = "resolved"
            else:
                kind = "worse" if rank_now > rank_was else "better"
        shown = now if now is not None else was
        assert shown is not None
        changes.append(
            {
                "path": shown["path"],
                "rule": shown["rule"],
                "message": shown["message"],
                "targets": shown["targets"],
                "before": _finding_side(was),
                "after": _finding_side(now),
                "kind": kind,
            }
        )
    return changes


def _finding_side(entry: Mapping[str, Any] | None) -> dict[str, Any] | None:
    return None if entry is None else {"severity": entry["severity"], "line": entry["line"]}
