"""The rows a finished scan writes (verdicts, files, findings), each checked against its columns first.

A lockfile may name a package of any length and a repository may nest a lockfile 600 characters
deep; the columns have limits. One such value used to fail the whole transaction (``DataError``)
and lose every other result of the repo. Here a row whose value does not fit is left out and
the scan records why ("… too long to store (604 characters; at most 500)"), so the rest is
stored and the scan is ``partial``. Values are never cut to fit: a shortened package name or
path would be a different package or file, silently.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.db import models

from readiness.models import ScanFile, ScanFinding, Verdict
from readiness.services.bulk_insert import row_type
from scanners.check import CheckReport

__all__ = ["ScanRows", "scan_rows"]

# How much of a value too long to store is quoted in the problem: enough to recognise it.
QUOTE_CHARS = 60
# Columns named as people would say them; any other column goes by its verbose name.
_COLUMN_WORDS = {"package": "name", "lockfile": "lockfile path", "file": "file name", "path": "path"}


@dataclass(slots=True)
class ScanRows:
    """What to insert, and what was left out: ``problems`` (for the scan's error) and the targets
    whose stored answer lacks a verdict (their summaries cannot be complete). Rows are
    :func:`~readiness.services.bulk_insert.row_type` tuples of their model, not model instances."""

    verdicts: list[Any] = field(default_factory=list)
    files: list[Any] = field(default_factory=list)
    findings: list[Any] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    incomplete_targets: set[str] = field(default_factory=set)
    all_incomplete: bool = False


def scan_rows(scan_id: int, report: CheckReport) -> ScanRows:
    """The rows of ``report`` for scan ``scan_id``, every value checked against its column's length."""
    rows = ScanRows()
    seen: set[str] = set()

    def problem(text: str) -> None:
        # A package locked for two targets gives two rows and the same sentence: say it once.
        if text not in seen:
            seen.add(text)
            rows.problems.append(text)

    # Each kind of row: where it goes, and what a left-out one is called in the scan's problems.
    kinds = [
        (ScanFile, _file_rows(scan_id, report), rows.files, lambda f: f"file {_quote(f.path)}"),
        (
            ScanFinding,
            _finding_rows(scan_id, report),
            rows.findings,
            lambda f: f"{_quote(f.path)}: finding {_quote(f.rule)}",
        ),
        (
            Verdict,
            _verdict_rows(scan_id, report),
            rows.verdicts,
            lambda v: f"{_quote(v.lockfile)}: package {_quote(v.package)} {_quote(v.version)}",
        ),
    ]
    for model, candidates, kept, label in kinds:
        limited = _limited_columns(model)
        for row in candidates:
            too_long = _too_long(row, limited)
            if not too_long:
                kept.append(row)
                continue
            problem(f"{label(row)} not stored: {too_long}")
            if model is Verdict:
                rows.incomplete_targets.add(row.target)  # only that target's answer lacks a row
            else:
                rows.all_incomplete = True
    return rows


def _too_long(row: Any, limited: tuple[tuple[int, models.CharField], ...]) -> str:
    """Why ``row`` cannot be stored as it is ("package name too long to store (201 characters; at most 200)"), or ""."""
    if all(len(row[i]) <= column.max_length for i, column in limited if isinstance(row[i], str)):
        return ""
    reasons = []
    for i, column in limited:
        value = row[i]
        if isinstance(value, str) and len(value) > column.max_length:
            words = _COLUMN_WORDS.get(column.name, column.verbose_name)
            reasons.append(f"{words} too long to store ({len(value)} characters; at most {column.max_length})")
    return ", ".join(reasons)


@functools.cache
def _limited_columns(model: type[models.Model]) -> tuple[tuple[int, models.CharField], ...]:
    """The columns of ``model`` with a length limit, with their place in its row tuple (asked once per model)."""
    names = row_type(model)._fields
    return tuple(
        (names.index(c.attname), c)
        for c in model._meta.concrete_fields
        if isinstance(c, models.CharField) and c.max_length
    )


def _quote(value: str) -> str:
    """``value`` for a problem sentence, long ones shortened with an ellipsis (display only)."""
    if len(value) <= QUOTE_CHARS:
        return value
    return f"{value[: QUOTE_CHARS // 2]}…{value[-QUOTE_CHARS // 2 :]}"


def _file_rows(scan_id: int, report: CheckReport) -> Iterator[Any]:
    row = row_type(ScanFile)
    for f in report.files:
        yield row(
            scan_id=scan_id,
            path=f.path,
            kind=f.kind,
            format=f.format or "",
            blob_id=f.blob_id or "",
            error=f.error or "",
        )


def _finding_rows(scan_id: int, report: CheckReport) -> Iterator[Any]:
    row = row_type(ScanFinding)
    for path, findings in report.findings.items():
        for f in findings:
            yield row(scan_id=scan_id, path=path, line=f.line, rule=f.rule, severity=f.severity, message=f.message)


def _verdict_rows(scan_id: int, report: CheckReport) -> Iterable[Any]:
    row = row_type(Verdict)
    for result in report.packages:
        p = result.package
        relock = {t: a.file for a in result.advice if a.kind == "relock" for t in a.targets}
        upstream = {t for a in result.advice if a.kind == "upstream" for t in a.targets}
        for target_id, v in result.verdicts.items():
            yield row(
                scan_id=scan_id,
                package=p.name,
                version=p.version or "",
                target=target_id,
                status=v.status,
                file=v.file or "",
                pure=v.pure,
                fix_version=(result.fix_version or "") if v.status not in ("wheel", "n/a") else "",
                relock_file=relock.get(target_id) or "",
                upstream=target_id in upstream,
                lockfile=p.lockfile,
                direct=result.direct,
                via=[list(c) for c in result.via[:5]] if result.via else None,
                reason=v.reason,
            )
