"""A pull request's check run, as GitHub's Checks API takes it, from a :mod:`scanners.compare` answer.

Pure: the conclusion, the title, the Markdown summary and the annotations. The poster
(``readiness.services.pull_request_checks``) adds the commit, the name and the dashboard link's host,
and sends the annotations in batches of :data:`MAX_ANNOTATIONS` (:func:`annotation_batches`).

The check fails on new blockers on ``fail_targets`` only (the targets of the campaigns the
organisation runs, or every target); new blockers elsewhere are listed but pass. ``never_fail``
turns what would fail into ``neutral``: reported, never blocking a merge.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from scanners.compare import change_counts, counts_sentence

__all__ = ["CHECK_RUN_NAME", "MAX_ANNOTATIONS", "MAX_ANNOTATIONS_TOTAL", "annotation_batches", "check_run_output"]

CHECK_RUN_NAME = "Arch readiness"
MAX_ANNOTATIONS = 50  # GitHub takes at most 50 per request; more go in further updates of the run
# A pull request with hundreds of new blockers is read on the dashboard, not line by line: past
# this many, the summary says how many were left out (and ten requests per post stay cheap).
MAX_ANNOTATIONS_TOTAL = 500
_MAX_SUMMARY = 60_000  # GitHub's limit is 65,535 characters


def check_run_output(
    comparison: Mapping[str, Any],
    *,
    fail_targets: Collection[str] | None,
    never_fail: bool = False,
    base: str,
    dashboard_url: str | None = None,
) -> dict[str, Any]:
    """``{"conclusion", "title", "summary", "annotations"}`` for one compared pull request.

    ``fail_targets``: the targets a new blocker fails the check on (``None``: every target).
    ``base``: how the summary names what it compared with (``main @ 1a2b3c4d``).
    """
    new_blockers = _grouped(comparison["changes"], "new-blocker")
    new_findings = [f for f in comparison["finding_changes"] if f["kind"] == "new-blocker"]
    failing = [g for g in new_blockers if _fails(g["targets"], fail_targets)]
    failing_findings = [f for f in new_findings if _fails(f["targets"], fail_targets)]
    if failing or failing_findings:
        conclusion = "neutral" if never_fail else "failure"
    else:
        conclusion = "success"
    counts = change_counts(comparison)
    annotations = _annotations(new_blockers, new_findings, fail_targets, never_fail)
    unshown = max(0, len(annotations) - MAX_ANNOTATIONS_TOTAL)
    blockers = len(new_blockers) + len(new_findings)
    if blockers:
        title = f"{blockers} new arm64 blocker{'s' if blockers != 1 else ''}" if _only_arm64(comparison) else None
        title = title or f"{blockers} new blocker{'s' if blockers != 1 else ''}"
        rest = {k: v for k, v in counts.items() if k != "new-blocker"}
        title += f" ({counts_sentence(rest)})" if any(rest.values()) else ""
    else:
        title = f"No new blockers: {counts_sentence(counts)}"
    return {
        "conclusion": conclusion,
        "title": title,
        "summary": _summary(
            comparison, new_blockers, new_findings, counts, fail_targets, base, dashboard_url, unshown=unshown
        ),
        "annotations": annotations[:MAX_ANNOTATIONS_TOTAL],
    }


def annotation_batches(annotations: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """The annotations in requests GitHub takes: the first batch with the run, each next in an update.

    Always at least one (possibly empty) batch, so the completing request is sent either way.
    """
    return [annotations[i : i + MAX_ANNOTATIONS] for i in range(0, len(annotations), MAX_ANNOTATIONS)] or [[]]


def _fails(targets: Collection[str], fail_targets: Collection[str] | None) -> bool:
    return bool(targets) and (fail_targets is None or any(t in fail_targets for t in targets))


def _only_arm64(comparison: Mapping[str, Any]) -> bool:
    targets = {c["target"] for c in comparison["changes"] if c["kind"] == "new-blocker"}
    targets |= {t for f in comparison["finding_changes"] if f["kind"] == "new-blocker" for t in f["targets"]}
    return bool(targets) and all("arm64" in t for t in targets)


def _grouped(changes: list[Mapping[str, Any]], kind: str) -> list[dict[str, Any]]:
    """One entry per package (and lockfile line) with the targets it has ``kind`` on."""
    groups: dict[tuple, dict[str, Any]] = {}
    for c in changes:
        if c["kind"] != kind:
            continue
        side = c["after"] or c["before"]
        key = (c["name"], side.get("lockfile"), side.get("line"))
        group = groups.setdefault(key, {"name": c["name"], "before": c["before"], "after": c["after"], "targets": []})
        group["targets"].append(c["target"])
    return list(groups.values())


def _cell(text: Any) -> str:
    """Text safe inside a Markdown table cell: no pipes or line breaks, HTML-looking brackets escaped."""
    return str(text).replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ").replace("<", "&lt;")


def _where(side: Mapping[str, Any] | None) -> str:
    if not side or not side.get("lockfile"):
        return "–"
    return f"`{side['lockfile']}:{side['line']}`" if side.get("line") else f"`{side['lockfile']}`"


def _version(group: Mapping[str, Any]) -> str:
    old, new = (group["before"] or {}).get("version"), (group["after"] or {}).get("version")
    return f"{old} → {new}" if old and new and old != new else str(new or old or "")


def _summary(comparison, new_blockers, new_findings, counts, fail_targets, base, dashboard_url, *, unshown) -> str:
    lines = [f"**{counts_sentence(counts)}** compared with {base}."]
    if fail_targets is not None and fail_targets:
        names = ", ".join(sorted(fail_targets))
        lines.append(f"New blockers fail this check on the targets of active campaigns: {names}.")
    elif fail_targets is not None:
        lines.append("No active campaign covers this repository: new blockers are reported, never failed.")
    if unshown:  # said early, so a summary cut at GitHub's limit still says it
        lines.append(
            f"{unshown} annotation{'s are' if unshown != 1 else ' is'} not shown on the changed lines "
            f"(at most {MAX_ANNOTATIONS_TOTAL} are posted): see the table below or the dashboard."
        )
    if new_blockers or new_findings:
        lines += ["", "### New blockers", "", "| package | targets | verdict | where | fix |", "|---|---|---|---|---|"]
        for g in new_blockers:
            after = g["after"] or {}
            verdict = "no compiler for its sdist" if after.get("status") == "sdist" else after.get("status", "")
            lines.append(
                f"| {_cell(g['name'])} {_cell(_version(g))} | {', '.join(g['targets'])} | {_cell(verdict)} | "
                f"{_where(after)} | {_cell(after.get('fix') or 'see the dashboard')} |"
            )
        for f in new_findings:
            lines.append(
                f"| `{_cell(f['path'])}:{(f['after'] or {}).get('line')}` [{_cell(f['rule'])}] | "
                f"{', '.join(f['targets'])} | {_cell(f['message'])} | `{_cell(f['path'])}` | see the message |"
            )
    for kind, heading in (("resolved", "Resolved"), ("worse", "Worse"), ("better", "Better")):
        groups = _grouped(comparison["changes"], kind)
        findings = [f for f in comparison["finding_changes"] if f["kind"] == kind]
        if not groups and not findings:
            continue
        lines += ["", f"### {heading}", ""]
        for g in groups:
            before, after = g["before"] or {}, g["after"] or {}
            lines.append(
                f"- {_cell(g['name'])} {_cell(_version(g))} on {', '.join(g['targets'])}: "
                f"{before.get('status', '–')} → {after.get('status', '–')}"
            )
        for f in findings:
            lines.append(f"- `{_cell(f['path'])}` [{_cell(f['rule'])}] {_cell(f['message'])}")
    if dashboard_url:
        lines += ["", f"[Open the repository on the Arch Readiness dashboard]({dashboard_url})"]
    text = "\n".join(lines)
    return text if len(text) <= _MAX_SUMMARY else text[: _MAX_SUMMARY - 40] + "\n\n… (cut: see the dashboard)"


def _annotations(new_blockers, new_findings, fail_targets, never_fail) -> list[dict[str, Any]]:
    out = []
    for g in new_blockers:
        after = g["after"] or {}
        if not after.get("lockfile"):
            continue
        line = after.get("line") or 1
        why = after.get("reason") or after.get("file") or after.get("status")
        fix = f" Fix: {after['fix']}." if after.get("fix") else ""
        out.append(
            {
                "path": after["lockfile"],
                "start_line": line,
                "end_line": line,
                "annotation_level": _level(g["targets"], fail_targets, never_fail),
                "title": f"{g['name']} {after.get('version') or ''} blocks {', '.join(g['targets'])}".replace(
                    "  ", " "
                ),
                "message": f"{why}.{fix}".replace("..", "."),
            }
        )
    for f in new_findings:
        line = (f["after"] or {}).get("line") or 1
        out.append(
            {
                "path": f["path"],
                "start_line": line,
                "end_line": line,
                "annotation_level": _level(f["targets"], fail_targets, never_fail),
                "title": f"{f['rule']} blocks {', '.join(f['targets'])}",
                "message": f["message"],
            }
        )
    return out


def _level(targets, fail_targets, never_fail) -> str:
    return "failure" if _fails(targets, fail_targets) and not never_fail else "warning"
