"""The stored matrix of each repo's latest finished scan, as ``archcheck/1`` documents or CSV rows.

Queries (constant, whatever the number of repos): 1 repos with their latest scan and team,
2 verdict rows of those scans, 3 findings of those scans. Rows are streamed with
``iterator()`` so an organisation-wide export never holds a million model instances.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence

from readiness.models import Repo, ScanFinding, Verdict
from scanners.http import redact
from scanners.report import SCHEMA

__all__ = ["CSV_COLUMNS", "matrix_csv_rows", "matrix_documents", "matrix_repos"]

CSV_COLUMNS = ["repo", "team", "package", "version", "target", "status", "file", "fix_version"]


def matrix_repos(*, names: Sequence[str] = (), team: str | None = None) -> list[Repo]:
    """Enabled repos (or the named ones) that have a finished scan, with scan and team loaded."""
    qs = Repo.objects.select_related("team", "latest_scan").filter(latest_scan__isnull=False)
    qs = qs.filter(name__in=names) if names else qs.filter(enabled=True)
    if team:
        qs = qs.filter(team__name=team)
    return list(qs.order_by("name"))


def _result_ids(repos: Sequence[Repo]) -> dict[int, int]:
    return {r.latest_scan.result_scan_id: r.pk for r in repos}


def matrix_csv_rows(repos: Sequence[Repo]) -> Iterator[list[str]]:
    by_result = _result_ids(repos)
    repo_by_id = {r.pk: r for r in repos}
    rows = (
        Verdict.objects.filter(scan_id__in=by_result)
        .order_by("scan_id", "package", "version", "target")
        .values_list("scan_id", "package", "version", "target", "status", "file", "fix_version")
        .iterator(chunk_size=5000)
    )
    for scan_id, package, version, target, status, file, fix in rows:
        repo = repo_by_id[by_result[scan_id]]
        yield [repo.name, repo.team.name if repo.team else "", package, version, target, status, file, fix]


def matrix_documents(repos: Sequence[Repo]) -> list[dict]:
    """One ``archcheck/1`` document per repo, with ``name`` and ``team`` added."""
    by_result = _result_ids(repos)
    docs: dict[int, dict] = {}
    for repo in repos:
        scan = repo.latest_scan
        docs[repo.pk] = {
            "schema": SCHEMA,
            "name": repo.name,
            "team": repo.team.name if repo.team else None,
            "source": redact(repo.url),  # never the token an old row may carry
            "commit": scan.commit or None,
            "scanned_at": scan.finished_at.isoformat() if scan.finished_at else None,
            "state": scan.state,
            "targets": scan.targets,
            "packages": [],
            "dockerfiles": [],
            "summary": scan.summary,
        }
    packages: dict[int, dict[tuple, dict]] = defaultdict(dict)
    rows = (
        Verdict.objects.filter(scan_id__in=by_result)
        .order_by("scan_id", "package", "version", "lockfile", "target")
        .values_list(
            "scan_id",
            "package",
            "version",
            "lockfile",
            "target",
            "status",
            "file",
            "fix_version",
            "pure",
            "reason",
            "direct",
            "via",
        )
        .iterator(chunk_size=5000)
    )
    for scan_id, package, version, lockfile, target, status, file, fix, pure, reason, direct, via in rows:
        repo_id = by_result[scan_id]
        entry = packages[repo_id].get((package, version, lockfile))
        if entry is None:
            entry = packages[repo_id][(package, version, lockfile)] = {
                "name": package,
                "version": version or None,
                "lockfile": lockfile,
                "direct": direct,
                "via": via if via is not None else ([] if direct else None),
                "results": {},
            }
            docs[repo_id]["packages"].append(entry)
        entry["results"][target] = {
            "status": status,
            "file": file or None,
            "fix_version": fix or None,
            "pure": pure,
            "reason": reason,
        }
    findings: dict[int, dict[str, list]] = defaultdict(lambda: defaultdict(list))
    scan_to_repo = {r.latest_scan_id: r.pk for r in repos}
    for scan_id, path, line, rule, severity, message in (
        ScanFinding.objects.filter(scan_id__in=scan_to_repo.keys() | by_result.keys())
        .order_by("path", "line")
        .values_list("scan_id", "path", "line", "rule", "severity", "message")
    ):
        repo_id = scan_to_repo.get(scan_id) or by_result[scan_id]
        findings[repo_id][path].append({"rule": rule, "line": line, "severity": severity, "message": message})
    for repo_id, by_path in findings.items():
        docs[repo_id]["dockerfiles"] = [{"path": p, "findings": f} for p, f in sorted(by_path.items())]
    return [docs[r.pk] for r in repos]
