"""A :class:`~scanners.check.CheckReport` as the ``archcheck/1`` JSON document or a terminal table.

The JSON shape is a contract other tools rely on (archcheck/1, README): change it only with a new
``schema`` value.
"""

from __future__ import annotations

from typing import Any

from scanners.check import STATUSES, CheckReport
from scanners.targets import Target

__all__ = ["FAIL_ON", "SCHEMA", "fail_on_met", "render_table", "report_to_json", "target_json"]

SCHEMA = "archcheck/1"


def target_json(t: Target) -> dict[str, str]:
    """One target as the ``archcheck/1`` document writes it; scans store the same object."""
    return {
        "id": t.id,
        "platform": t.platform,
        "python": t.python,
        "libc": t.libc,
        "libc_version": t.libc_version,
        "origin": t.origin,
    }


def report_to_json(report: CheckReport) -> dict[str, Any]:
    return {
        "schema": SCHEMA,
        "source": report.source,
        "commit": report.commit,
        "targets": [target_json(t) for t in report.targets],
        "packages": [
            {
                "name": r.package.name,
                "version": r.package.version,
                "lockfile": r.package.lockfile,
                "line": r.package.line,
                "direct": r.direct,
                "via": [list(chain) for chain in r.via] if r.via is not None else None,
                "advice": [
                    {
                        "kind": a.kind,
                        "title": a.title,
                        "detail": a.detail,
                        "targets": list(a.targets),
                        **({"fix_version": a.fix_version, "major": a.major_jump} if a.kind == "upgrade" else {}),
                        **({"fix_version": a.fix_version} if a.kind == "upgrade-parent" else {}),
                        **({"packages": list(a.packages)} if a.packages else {}),
                        **({"replacement": a.replacement} if a.replacement else {}),
                        **({"image": a.image} if a.image else {}),
                        **({"platform_tags": list(a.platform_tags)} if a.platform_tags else {}),
                        **(_relock_json(a) if a.kind == "relock" else {}),
                    }
                    for a in r.advice
                ],
                "results": {
                    target_id: {
                        "status": v.status,
                        "file": v.file,
                        "fix_version": r.fix_version if v.status not in ("wheel", "n/a") else None,
                        "pure": v.pure,
                        "reason": v.reason,
                    }
                    for target_id, v in r.verdicts.items()
                },
            }
            for r in report.packages
        ],
        "dockerfiles": [
            {
                "path": path,
                "findings": [
                    {"rule": f.rule, "line": f.line, "severity": f.severity, "message": f.message} for f in findings
                ],
            }
            for path, findings in sorted(report.findings.items())
        ],
        "files": [{"path": f.path, "kind": f.kind, "format": f.format, "error": f.error} for f in report.files],
        "problems": list(report.problems),
        "summary": {target_id: s.to_dict() for target_id, s in report.summary.items()},
    }


def _relock_json(advice) -> dict[str, Any]:
    return {
        "file": advice.file,
        "uploaded_at": advice.uploaded_at.isoformat() if advice.uploaded_at else None,
        "locked_at": advice.locked_at.isoformat() if advice.locked_at else None,
        "command": advice.command,
    }


FAIL_ON = {
    "none": "a blocker: a 'none' verdict (nothing to install) or a blocking Dockerfile finding",
    "sdist": "also a package pip would build from source ('sdist')",
    "unknown": "also an incomplete answer: an 'unknown' verdict or an unreadable lockfile",
}
"""``--fail-on`` levels, each including the ones before it, with the one line ``--help`` shows."""


def fail_on_met(report: CheckReport, fail_on: str | None) -> bool:
    """Whether the report meets ``--fail-on`` (see :data:`FAIL_ON`); ``None``: never."""
    if not fail_on:
        return False
    level = list(FAIL_ON).index(fail_on)
    for summary in report.summary.values():
        if summary.blockers:
            return True
        if level >= 1 and summary.counts.get("sdist"):
            return True
        if level >= 2 and not summary.complete:
            return True
    return False


_COLOURS = {"wheel": "32", "sdist": "33", "none": "31", "unknown": "35", "n/a": "2"}
_SYMBOLS = {"wheel": "✓", "sdist": "⚙", "none": "✗", "unknown": "?", "n/a": "–"}


def _cell(status: str, colour: bool) -> str:
    text = f"{_SYMBOLS[status]} {status}"
    return f"\x1b[{_COLOURS[status]}m{text}\x1b[0m" if colour else text


def render_table(report: CheckReport, *, colour: bool = False) -> str:
    """A readable plain-text report: packages × targets, then Dockerfile findings, then totals."""
    lines = [f"{report.source}" + (f" @ {report.commit[:12]}" if report.commit else "")]
    for t in report.targets:
        lines.append(f"  target {t.id}: CPython {t.python}, {t.libc} {t.libc_version} (from {t.origin})")
    lines.append("")
    ids = [t.id for t in report.targets]
    header = ["package", "version", *ids, "file / fix"]
    rows = []
    for r in sorted(report.packages, key=lambda r: (r.package.name, r.package.lockfile)):
        statuses = [r.verdicts[i].status for i in ids]
        worst = next((r.verdicts[i] for i in ids if r.verdicts[i].status not in ("wheel", "n/a")), None)
        note = ""
        if worst is not None:
            note = worst.file or worst.reason
            if r.advice:
                note += f"  → {r.advice[0].title}"
            elif r.fix_version:
                note += f"  → upgrade to {r.fix_version}"
            if r.via:
                note += f"  (via {' → '.join(r.via[0])})"
        rows.append((r.package.name, r.package.version or "-", statuses, note))
    widths = [max([len(header[0])] + [len(r[0]) for r in rows]), max([len(header[1])] + [len(r[1]) for r in rows])]
    col = max([len(i) for i in ids] + [11])
    lines.append(
        "  ".join([header[0].ljust(widths[0]), header[1].ljust(widths[1]), *(i.ljust(col) for i in ids), header[-1]])
    )
    for name, version, statuses, note in rows:
        cells = [_cell(s, colour) + " " * (col - len(_SYMBOLS[s]) - 1 - len(s)) for s in statuses]
        lines.append("  ".join([name.ljust(widths[0]), version.ljust(widths[1]), *cells, note]).rstrip())
    if not rows:
        lines.append("(no locked packages found)")
    for path, findings in sorted(report.findings.items()):
        for f in findings:
            lines.append(f"{path}:{f.line}: {f.severity}: [{f.rule}] {f.message}")
    for problem in report.problems:
        lines.append(f"problem: {problem}")
    lines.append("")
    for target_id, s in report.summary.items():
        counts = ", ".join(f"{s.counts[k]} {k}" for k in STATUSES if s.counts.get(k))
        if s.ready:
            state = "ready"
        elif s.blockers:
            state = "blocked"
        elif not s.complete:
            state = "unknown (incomplete answer)"
        else:
            state = "builds from source"
        lines.append(
            f"{target_id}: {state} ({counts or 'no packages'}; {s.blockers} blocker{'' if s.blockers == 1 else 's'})"
        )
    return "\n".join(lines)
