"""The repository page: its package × target matrix, Dockerfile findings and scan history.

Queries of :func:`repo_page` (7 for a scanned repo, whatever the number of packages):
1. the repo with its team and latest scan;
2. the verdict rows of the scan holding its current results;
3. Dockerfile findings of that scan;
4.-6. the triage of its blockers, its history and the people to assign to (:mod:`readiness.queries.triage`);
7. its last scans (history, and the queued or running one the page follows).
:func:`scan_status` (the page's poll): 1 query.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from readiness.models import Repo, Scan, ScanFinding, Verdict
from readiness.models.rollups import repo_state
from readiness.queries.triage import RepoTriage, repo_triage
from scanners.http import redact
from scanners.rules import blocking

__all__ = ["Cell", "FindingRow", "MatrixRow", "RepoPage", "ScanRow", "UnchangedRun", "repo_page", "scan_status"]

HISTORY = 20
_STATUS_ORDER = {"none": 0, "sdist": 1, "unknown": 2, "wheel": 3, "n/a": 4}


@dataclass(frozen=True, slots=True)
class Cell:
    status: str
    file: str
    fix_version: str
    reason: str
    pure: bool
    relock_file: str = ""


@dataclass(frozen=True, slots=True)
class MatrixRow:
    package: str
    version: str
    lockfile: str
    direct: bool | None
    cells: tuple[Cell | None, ...]  # in the order of RepoPage.targets
    via: tuple[str, ...] = ()  # the shortest chain from a direct dependency, for transitive packages
    other_chains: tuple[tuple[str, ...], ...] = ()  # the rest, shortest first (shown on request)
    cells_by_target: tuple[tuple[str, Cell | None], ...] = ()

    @property
    def fix_version(self) -> str:
        return next((c.fix_version for c in self.cells if c is not None and c.fix_version), "")

    @property
    def relock_file(self) -> str:
        return next((c.relock_file for c in self.cells if c is not None and c.relock_file), "")

    @property
    def is_problem(self) -> bool:
        """Shown first: a blocker, a source build or an unknown on some target."""
        return self.worst in ("none", "sdist", "unknown")

    @property
    def problem_cells(self) -> tuple[tuple[str, Cell], ...]:
        """``(target, cell)`` for the targets where this package is a problem (its reason says why)."""
        return tuple(
            c for c in self.cells_by_target if c[1] is not None and c[1].status in ("none", "sdist", "unknown")
        )

    @property
    def worst(self) -> str:
        present = [c.status for c in self.cells if c is not None]
        return min(present, key=_STATUS_ORDER.__getitem__) if present else "n/a"


@dataclass(frozen=True, slots=True)
class FindingRow:
    path: str
    line: int | None
    rule: str
    severity: str
    message: str


@dataclass(frozen=True, slots=True)
class ScanRow:
    id: int
    state: str
    trigger: str
    requested_at: dt.datetime
    finished_at: dt.datetime | None
    as_of: dt.datetime | None
    commit: str
    step: str
    progress: int
    error: str
    unchanged: bool
    summary: dict

    @property
    def is_final(self) -> bool:
        return self.state in Scan.FINAL_STATES

    @property
    def folded(self) -> bool:
        return False

    @property
    def target_states(self) -> list[tuple[str, str, dict]]:
        """``(target, ready/sdist/blocked/unknown, stored summary)`` per target."""
        return [(t, repo_state(s), s) for t, s in (self.summary or {}).items() if isinstance(s, dict)]

    @property
    def no_lockfile(self) -> bool:
        """The scan found no lockfile at all: its "answer" covers nothing."""
        return any(s.get("no_lockfile") for s in (self.summary or {}).values() if isinstance(s, dict))


@dataclass(frozen=True, slots=True)
class RepoPage:
    name: str
    url: str
    team: str
    enabled: bool
    latest: ScanRow | None  # the scan whose results are shown
    targets: tuple[str, ...]
    matrix: tuple[MatrixRow, ...]
    findings: tuple[FindingRow, ...]
    history: tuple[ScanRow, ...]
    triage: RepoTriage | None = None  # the current blockers with their triage, and its history
    public: bool = False  # its README badges are readable without login

    @property
    def active(self) -> ScanRow | None:
        """The newest live scan still queued or running (the one "rescan now" follows)."""
        return next((s for s in self.history if s.as_of is None and not s.is_final), None)

    @property
    def newest(self) -> ScanRow | None:
        """The newest live scan whatever its state: after "rescan now" it may have failed already."""
        return next((s for s in self.history if s.as_of is None), None)

    @property
    def problems(self) -> tuple[MatrixRow, ...]:
        return tuple(r for r in self.matrix if r.is_problem)

    @property
    def healthy(self) -> tuple[MatrixRow, ...]:
        return tuple(r for r in self.matrix if not r.is_problem)

    @property
    def history_items(self) -> list[ScanRow | UnchangedRun]:
        """The history with each run of consecutive "nothing changed" scans folded into one item."""
        items: list[ScanRow | UnchangedRun] = []
        run: list[ScanRow] = []

        def close() -> None:
            if len(run) >= 2:
                items.append(UnchangedRun(tuple(run)))
            else:
                items.extend(run)
            run.clear()

        for scan in self.history:
            if scan.unchanged and scan.is_final and not scan.error:
                run.append(scan)
                continue
            close()
            items.append(scan)
        close()
        return items


@dataclass(frozen=True, slots=True)
class UnchangedRun:
    """Consecutive scans (newest first) that found nothing new: one history line."""

    scans: tuple[ScanRow, ...]

    @property
    def since(self) -> dt.datetime | None:
        oldest = self.scans[-1]
        return oldest.as_of or oldest.finished_at or oldest.requested_at

    @property
    def commit(self) -> str:
        return self.scans[0].commit

    @property
    def triggers(self) -> str:
        return ", ".join(sorted({s.trigger for s in self.scans}))

    @property
    def folded(self) -> bool:
        return True


_SCAN_FIELDS = (
    "id",
    "state",
    "trigger",
    "requested_at",
    "finished_at",
    "as_of",
    "commit",
    "step",
    "progress",
    "error",
    "unchanged",
    "summary",
)


def _scan_row(values: dict) -> ScanRow:
    return ScanRow(**{k: values[k] for k in _SCAN_FIELDS})


def _scan_row_of(scan: Scan) -> ScanRow:
    return ScanRow(**{k: getattr(scan, k) for k in _SCAN_FIELDS})


def repo_page(*, name: str) -> RepoPage | None:
    """Everything the repository page shows; ``None`` when no repo has that name. 7 queries."""
    repo = Repo.objects.select_related("team", "latest_scan").filter(name=name).first()
    if repo is None:
        return None
    scan = repo.latest_scan
    targets: tuple[str, ...] = ()
    matrix: list[MatrixRow] = []
    findings: tuple[FindingRow, ...] = ()
    if scan is not None:
        result_id = scan.result_scan_id
        cells: dict[tuple[str, str, str], dict[str, Cell]] = defaultdict(dict)
        direct: dict[tuple[str, str, str], bool | None] = {}
        via: dict[tuple[str, str, str], tuple[tuple[str, ...], ...]] = {}
        seen_targets: set[str] = {t["id"] for t in scan.targets if isinstance(t, dict) and "id" in t}
        rows = Verdict.objects.filter(scan_id=result_id).values_list(
            "package",
            "version",
            "lockfile",
            "direct",
            "target",
            "status",
            "file",
            "fix_version",
            "reason",
            "pure",
            "via",
            "relock_file",
        )
        for package, version, lockfile, is_direct, target, status, file, fix, reason, pure, chains, relock in rows:
            key = (package, version, lockfile)
            cells[key][target] = Cell(
                status=status, file=file, fix_version=fix, reason=reason, pure=pure, relock_file=relock
            )
            direct[key] = is_direct
            if chains:
                via[key] = tuple(tuple(c) for c in chains)
            seen_targets.add(target)
        targets = tuple(sorted(seen_targets))
        matrix = [
            MatrixRow(
                package=p,
                version=v,
                lockfile=lf,
                direct=direct[(p, v, lf)],
                cells=tuple(by_target.get(t) for t in targets),
                cells_by_target=tuple((t, by_target.get(t)) for t in targets),
                via=via.get((p, v, lf), ((),))[0],
                other_chains=via.get((p, v, lf), ((),))[1:],
            )
            for (p, v, lf), by_target in cells.items()
        ]
        matrix.sort(key=lambda r: (_STATUS_ORDER[r.worst], r.package, r.version, r.lockfile))
        findings = tuple(
            FindingRow(path=f.path, line=f.line, rule=f.rule, severity=f.severity, message=f.message)
            for f in ScanFinding.objects.filter(scan_id__in={scan.pk, result_id}).order_by("path", "line", "rule")
        )
    triage = repo_triage(repo_id=repo.pk, blockers=_blockers(matrix, findings)) if scan is not None else None
    history = tuple(
        _scan_row(v)
        for v in Scan.objects.filter(repo_id=repo.pk).order_by("-requested_at", "-id").values(*_SCAN_FIELDS)[:HISTORY]
    )
    return RepoPage(
        name=repo.name,
        url=redact(repo.url),  # rows imported before tokens were refused may still carry one
        team=repo.team.name if repo.team else "",
        enabled=repo.enabled,
        latest=_scan_row_of(scan) if scan is not None else None,
        targets=targets,
        matrix=tuple(matrix),
        findings=findings,
        history=history,
        triage=triage,
        public=repo.public,
    )


def _blockers(matrix: list[MatrixRow], findings: tuple[FindingRow, ...]) -> list[tuple[str, str, str, str, str]]:
    """The repo's current blockers as triage keys them, with the words the page shows: each
    (package, target) that is ``none``, or ``sdist`` without a compiler in the image (once,
    whatever lockfiles lock it), and each other blocking rule."""
    packages, rules = blocking(
        ((row.package, target, cell.status) for row in matrix for target, cell in row.cells_by_target if cell),
        ((f.rule, f.severity, f.message) for f in findings),
    )
    out: dict[tuple[str, str, str], tuple[str, str]] = {}
    for row in matrix:
        for target, cell in row.cells_by_target:
            if (row.package, target) in packages and cell is not None and cell.status in ("none", "sdist"):
                source = ": builds from source, no compiler" if cell.status == "sdist" else ""
                words = f"{row.package} {row.version} on {target}{source}".strip()
                out.setdefault(("package", row.package, target), (words, packages[(row.package, target)]))
    for f in findings:
        if f.severity == "blocker" and f.rule in rules:
            out.setdefault(("finding", f.rule, ""), (f"{f.path}: {f.rule}", f.message))
    return [(*key, words, detail) for key, (words, detail) in out.items()]


def scan_status(*, name: str) -> dict | None:
    """The newest live scan of the repo as JSON-ready data, for the page's poll. 1 query."""
    row = (
        Scan.objects.filter(repo__name=name, as_of__isnull=True)
        .order_by("-requested_at", "-id")
        .values("id", "state", "step", "progress", "requested_at", "finished_at", "error")
        .first()
    )
    if row is None:
        return None
    return {
        "id": row["id"],
        "state": row["state"],
        "final": row["state"] in Scan.FINAL_STATES,
        "step": row["step"],
        "progress": row["progress"],
        "requested_at": row["requested_at"].isoformat(),
        "finished_at": row["finished_at"].isoformat() if row["finished_at"] else None,
        "error": row["error"],
    }
