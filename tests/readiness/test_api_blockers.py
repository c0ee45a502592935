"""``/api/v1/blockers/`` pages in SQL: the same blockers, in the same order, as the rule the pages
use (:func:`scanners.rules.blocking`) gives over every row at once, page after page and per team."""

from __future__ import annotations

from collections import defaultdict

import pytest

from readiness.models import Repo, ScanFinding, Verdict
from readiness.queries.scope import current_repos, result_scan_ids
from scanners.rules import blocking
from tests.readiness.api_support import api_headers, assert_matches_schema
from tests.readiness.factories import seed_org

pytestmark = pytest.mark.django_db

SITE = "http://localhost:8000"


def _every_blocker_in_python(team: str | None) -> list[dict]:
    """The answer as the endpoint computed it before it paged in SQL: every row read, the rule
    applied per repo in Python, repos in ``sorted`` order."""
    cells = (
        Verdict.objects.filter(scan_id__in=result_scan_ids(team=team), status__in=("none", "sdist"))
        .order_by("scan__repo__name", "package", "target", "version", "lockfile", "id")
        .values_list("scan__repo__name", "package", "version", "target", "status", "fix_version", "lockfile")
    )
    scans = {}
    for repo in current_repos(team=team).filter(latest_scan__isnull=False).select_related("latest_scan"):
        scans[repo.latest_scan_id] = scans[repo.latest_scan.result_scan_id] = repo.name
    findings = (
        ScanFinding.objects.filter(severity="blocker", scan_id__in=scans)
        .order_by("path", "line", "rule", "message")
        .values_list("scan__repo__name", "path", "line", "rule", "severity", "message")
    )
    cells_of: dict[str, list] = defaultdict(list)
    for name, *cell in cells:
        cells_of[name].append(cell)
    findings_of: dict[str, list] = defaultdict(list)
    for row in dict.fromkeys(findings):  # an unchanged scan's findings may sit on both of its scans
        findings_of[row[0]].append(row[1:])
    out: list[dict] = []
    for name in sorted(cells_of.keys() | findings_of.keys()):
        page = f"{SITE}/repos/{name}/"
        packages, rules = blocking(
            ((p, t, s) for p, _v, t, s, _f, _l in cells_of[name]), ((r, s, m) for _p, _l, r, s, m in findings_of[name])
        )
        listed: set[tuple[str, str]] = set()
        for package, version, target, status, fix, lockfile in cells_of[name]:
            if (package, target) in packages and (package, target) not in listed:
                listed.add((package, target))
                out.append(
                    {"repo": name, "kind": "package", "package": package, "version": version or None,
                     "target": target, "status": status, "fix_version": fix or None, "lockfile": lockfile,
                     "detail": packages[(package, target)] or None, "page": page}
                )  # fmt: skip
        for path, line, rule, _severity, message in findings_of[name]:
            if rule in rules:
                out.append(
                    {"repo": name, "kind": "finding", "rule": rule, "path": path, "line": line, "detail": message,
                     "page": page}
                )  # fmt: skip
    return out


def _finding(repo: Repo, *, on_results: bool = False, **fields) -> None:
    scan_id = repo.latest_scan.result_scan_id if on_results else repo.latest_scan_id
    ScanFinding.objects.create(scan_id=scan_id, **{"path": "Dockerfile", "line": 3, "severity": "blocker", **fields})


def _an_organisation_with_every_case() -> None:
    seed_org(repos=6, packages=6)  # odd repos' latest scans are unchanged: their rows sit on the scan before
    seed_org(
        repos=2, packages=6, prefix="Zed", teams=0, rollups=False
    )  # upper case: before "svc" in sorted(), after in en_US
    repos = {r.name: r for r in Repo.objects.select_related("latest_scan")}
    compiler = "psutil==5.9.8 builds from its sdist on linux/arm64 but the image has no C compiler"
    # the same finding on both of an unchanged scan's scans is one blocker; a warning is none
    for on_results in (False, True):
        _finding(repos["svc-0001"], on_results=on_results, rule="platform-pinned", message="FROM --platform pins")
    _finding(repos["svc-0001"], rule="arch-specific-download", severity="warning", message="curl …amd64…")
    # a missing compiler that names psutil makes its source build a blocker, with that message
    _finding(repos["svc-0001"], rule="no-compiler-for-sdist", message=compiler, line=None)
    _finding(repos["svc-0003"], rule="no-compiler-for-sdist", message="psutil==5.9.8 (later finding)", line=9)
    _finding(repos["svc-0003"], rule="no-compiler-for-sdist", message=compiler, line=2)
    # one that names no package blocks as a rule: the repo's named ones are listed with it
    _finding(repos["svc-0002"], rule="no-compiler-for-sdist", message=compiler)
    _finding(repos["svc-0002"], rule="no-compiler-for-sdist", message="no compiler and no package named", line=1)
    _finding(repos["Zed-0000"], rule="base-image-no-arm64", message="python:3.12-slim@sha256:… has no arm64")
    # a (package, target) with two rows: the first by version is listed, the detail is the none's
    holder = repos["svc-0003"].latest_scan.result_scan_id
    Verdict.objects.create(scan_id=holder, package="filprofiler", version="2021.1.0", target="linux/arm64",
                           status="sdist", lockfile="requirements.txt", fix_version="2022.5.0")  # fmt: skip
    Verdict.objects.create(scan_id=holder, package="psutil", version="5.9.7", target="linux/arm64",
                           status="none", lockfile="tools/uv.lock")  # fmt: skip


def _every_page(client, headers: dict, query: str, size: int) -> tuple[int, list[dict]]:
    results: list[dict] = []
    page, count = 1, None
    while True:
        body = client.get(f"/api/v1/blockers/?page={page}&page_size={size}{query}", headers=headers).json()
        assert_matches_schema(body, "BlockerPage")
        assert count in (None, body["count"])
        count = body["count"]
        results += body["results"]
        if body["next"] is None:
            return count, results
        page += 1


@pytest.mark.parametrize("team", [None, "team-1"])
def test_pages_in_sql_give_the_answer_of_the_rule_over_every_row(client, team):
    _an_organisation_with_every_case()
    expected = _every_blocker_in_python(team)
    query = f"&team={team}" if team else ""
    headers = api_headers()
    assert _every_page(client, headers, query, 500) == (len(expected), expected)
    assert _every_page(client, headers, query, 4) == (len(expected), expected)
    if team is None:
        kinds = {(b["repo"], b.get("package") or b["rule"], b.get("target"), b["detail"]) for b in expected}
        assert ("svc-0001", "psutil", "linux/arm64", "psutil==5.9.8 builds from its sdist on linux/arm64 but "
                "the image has no C compiler") in kinds  # fmt: skip
        assert [b["repo"] for b in expected][:1] == ["Zed-0000"]
        assert sum(b.get("rule") == "platform-pinned" and b["repo"] == "svc-0001" for b in expected) == 1
        assert sum(b.get("rule") == "no-compiler-for-sdist" and b["repo"] == "svc-0002" for b in expected) == 2


def test_a_page_past_the_end_is_empty_with_the_count(client):
    _an_organisation_with_every_case()
    expected = _every_blocker_in_python(None)
    body = client.get("/api/v1/blockers/?page=99&page_size=10", headers=api_headers()).json()
    assert (body["count"], body["results"], body["next"]) == (len(expected), [], None)
