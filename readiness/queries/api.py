"""What the read API (``/api/v1/``) returns: JSON-ready dicts, one page at a time.

Every endpoint costs a constant number of queries whatever the organisation's size: a count and
a page of rows for the lists, and for a repo's matrix its row and the two row queries of
:func:`readiness.queries.matrix.matrix_documents`. Blockers are derived by the same rule the pages
use (:func:`scanners.rules.blocking`), in SQL: a count and a page of rows like the other lists.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import connection
from django.db.models import (
    Case,
    CharField,
    Exists,
    F,
    IntegerField,
    Max,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
    Window,
)
from django.db.models.functions import Coalesce, Collate, Concat, Length, RowNumber, Substr

from readiness.models import ApiToken, Campaign, Repo, ScanFinding, UpstreamSuggestion, Verdict
from readiness.queries.campaigns import campaign_page
from readiness.queries.links import site_url
from readiness.queries.matrix import matrix_documents
from readiness.queries.scope import current_repos, result_scan_ids
from scanners.http import redact

__all__ = [
    "MAX_PAGE_SIZE",
    "BadRequest",
    "Page",
    "PageRequest",
    "api_blockers",
    "api_campaign",
    "api_campaigns",
    "api_repo",
    "api_repo_matrix",
    "api_repos",
    "api_tokens_of",
    "api_upstream",
]

DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 500


class BadRequest(ValueError):
    """A parameter the API cannot read: the client gets a 400 with this message."""


@dataclass(frozen=True, slots=True)
class PageRequest:
    number: int = 1
    size: int = DEFAULT_PAGE_SIZE

    @classmethod
    def parse(cls, page: str | None, size: str | None) -> PageRequest:
        try:
            number = int(page) if page not in (None, "") else 1
            per = int(size) if size not in (None, "") else DEFAULT_PAGE_SIZE
        except ValueError:
            raise BadRequest("page and page_size must be whole numbers") from None
        if number < 1:
            raise BadRequest("page starts at 1")
        if not 1 <= per <= MAX_PAGE_SIZE:
            raise BadRequest(f"page_size must be between 1 and {MAX_PAGE_SIZE}")
        return cls(number, per)

    @property
    def start(self) -> int:
        return (self.number - 1) * self.size


@dataclass(frozen=True, slots=True)
class Page:
    """``count`` items in all; ``results`` those of the requested page; ``has_next`` for the links."""

    count: int
    results: list[dict]
    request: PageRequest

    @property
    def has_next(self) -> bool:
        return self.request.start + len(self.results) < self.count


def _repo_json(repo: Repo, site_root: str) -> dict:
    scan = repo.latest_scan
    return {
        "name": repo.name,
        "team": repo.team.name if repo.team else None,
        "source": redact(repo.url),
        "branch": repo.branch or None,
        "enabled": repo.enabled,
        "public": repo.public,
        "page": site_url(site_root, "repo", repo.name),
        "latest_scan": None
        if scan is None
        else {
            "state": scan.state,
            "commit": scan.commit or None,
            "finished_at": scan.finished_at.isoformat() if scan.finished_at else None,
            "targets": scan.targets,
            "summary": scan.summary,
        },
    }


def _repos(team: str | None):
    return current_repos(team=team).select_related("team", "latest_scan").order_by("name")


def api_repos(*, team: str | None, page: PageRequest, site_root: str) -> Page:
    """Enabled repos by name, with their current summary. 2 queries."""
    qs = _repos(team)
    rows = list(qs[page.start : page.start + page.size])
    return Page(qs.count(), [_repo_json(r, site_root) for r in rows], page)


def api_repo(*, name: str, site_root: str) -> dict | None:
    """One repo (disabled ones too: a client may hold its name). 1 query."""
    repo = Repo.objects.select_related("team", "latest_scan").filter(name=name).first()
    return None if repo is None else _repo_json(repo, site_root)


def api_repo_matrix(*, name: str) -> dict | None | bool:
    """The repo's latest matrix, the ``archcheck/1`` document ``matrix --format json`` prints for it.
    ``None``: no such repo; ``False``: no finished scan yet. 3 queries."""
    repo = Repo.objects.select_related("team", "latest_scan").filter(name=name).first()
    if repo is None:
        return None
    if repo.latest_scan is None:
        return False
    return matrix_documents([repo])[0]


_COMPILER_RULE = "no-compiler-for-sdist"
_NAMED_PACKAGE = r"^[A-Za-z0-9][A-Za-z0-9._-]*=="  # scanners.rules.sdist_package: such a message names its package


def _in_sorted_order(expression):
    """The repo name as Python's ``sorted`` orders it (code points), whatever the database's collation."""
    return Collate(expression, "C" if connection.vendor == "postgresql" else "BINARY")


def _repo_blocker_findings(repo: str) -> QuerySet[ScanFinding]:
    """Blocker findings of the outer row's repo (``repo`` is the path to it): its latest scan's and
    those of the scan holding its results (an unchanged scan's findings sit on both)."""
    return ScanFinding.objects.filter(severity="blocker").filter(
        Q(scan_id=OuterRef(f"{repo}__latest_scan_id")) | Q(scan_id=OuterRef(f"{repo}__latest_scan__results_from_id"))
    )


_NULL_TEXT = Value(None, output_field=CharField())
_COLUMNS = ("repo_name", "kind", "package", "version", "target", "status", "fix", "lockfile", "detail", "path", "line",
            "rule")  # fmt: skip


def _package_blockers(team: str | None) -> QuerySet:
    """One row per blocking (repo, package, target), the first of its rows by version, as
    :func:`scanners.rules.blocking` decides: a ``none`` row, or a source build the image has no
    compiler for (a blocker finding whose message names the package; its message is the detail)."""

    def no_compiler() -> QuerySet[ScanFinding]:  # for the outer row's package, in its repo
        return (
            _repo_blocker_findings("scan__repo")
            .filter(rule=_COMPILER_RULE, message__regex=_NAMED_PACKAGE)
            .annotate(head=Substr("message", 1, Length(OuterRef("package")) + 2))
            .filter(head=Concat(OuterRef("package"), Value("=="), output_field=CharField()))
        )

    cell = [F("scan_id"), F("package"), F("target")]
    # window functions over each (repo, package, target) cell: its first row by version, and whether
    # it blocks (one of its rows is a none, or a source build the image has no compiler for)
    first_rows_of_blocking_cells = (
        Verdict.objects.filter(scan_id__in=result_scan_ids(team=team), status__in=("none", "sdist"))
        .annotate(
            rank=Window(RowNumber(), partition_by=cell, order_by=[F("version"), F("lockfile"), F("id")]),
            blocks=Window(
                Max(Case(When(Q(status="none") | Exists(no_compiler()), then=Value(1)), default=Value(0))),
                partition_by=cell,
            ),
        )
        .filter(rank=1, blocks=1)
        .values("id")
    )
    cell_has_none = Exists(
        Verdict.objects.filter(
            scan_id=OuterRef("scan_id"), package=OuterRef("package"), target=OuterRef("target"), status="none"
        )
    )
    first_message = no_compiler().order_by("path", "line", "message").values("message")[:1]
    return (
        Verdict.objects.filter(id__in=first_rows_of_blocking_cells)
        .annotate(
            repo_name=_in_sorted_order(F("scan__repo__name")),
            kind=Value(0),
            fix=F("fix_version"),
            detail=Case(When(cell_has_none, then=Value("")), default=Subquery(first_message), output_field=CharField()),
            path=_NULL_TEXT,
            line=Value(None, output_field=IntegerField()),
            rule=_NULL_TEXT,
        )
        .order_by()
        .values_list(*_COLUMNS)
    )


def _finding_blockers(team: str | None) -> QuerySet:
    """The repos' other blocker findings (a missing compiler that names a package is that package's,
    unless one of the repo's does not: then the rule blocks as a whole, as the pages say)."""
    current = current_repos(team=team).filter(latest_scan__isnull=False)
    unnamed_compiler = (
        _repo_blocker_findings("scan__repo").filter(rule=_COMPILER_RULE).exclude(message__regex=_NAMED_PACKAGE)
    )
    return (
        ScanFinding.objects.filter(severity="blocker")
        .filter(
            Q(scan_id__in=current.values("latest_scan_id"))
            | Q(scan_id__in=current.annotate(r=Coalesce("latest_scan__results_from_id", "latest_scan_id")).values("r"))
        )
        .filter(~Q(rule=_COMPILER_RULE) | Exists(unnamed_compiler))
        .annotate(
            repo_name=_in_sorted_order(F("scan__repo__name")),
            kind=Value(1),
            package=_NULL_TEXT,
            version=_NULL_TEXT,
            target=_NULL_TEXT,
            status=_NULL_TEXT,
            fix=_NULL_TEXT,
            lockfile=_NULL_TEXT,
            detail=F("message"),
        )
        .order_by()
        .values_list(*_COLUMNS)
    )


def _blocker_json(row: tuple, site_root: str) -> dict:
    name, kind, package, version, target, status, fix, lockfile, detail, path, line, rule = row
    page = site_url(site_root, "repo", name)
    if kind == 1:
        return {
            "repo": name,
            "kind": "finding",
            "rule": rule,
            "path": path,
            "line": line,
            "detail": detail,
            "page": page,
        }
    return {
        "repo": name,
        "kind": "package",
        "package": package,
        "version": version or None,
        "target": target,
        "status": status,
        "fix_version": fix or None,
        "lockfile": lockfile,
        "detail": detail or None,
        "page": page,
    }


def api_blockers(*, team: str | None, page: PageRequest, site_root: str) -> Page:
    """Every current blocker: a package with no installable file on a target (or a source build in an
    image without a compiler), or another blocking Dockerfile finding, by repo (packages by name and
    target, then findings by path and line). Decided in SQL by the pages' rule
    (:func:`scanners.rules.blocking`): 2 queries, the count and one page of rows (a finding on both
    of an unchanged scan's scans is one row: the union is distinct)."""
    rows = _package_blockers(team).union(_finding_blockers(team))
    ordered = rows.order_by("repo_name", "kind", "package", "target", "path", "line", "rule", "detail", "lockfile")
    return Page(rows.count(), [_blocker_json(r, site_root) for r in ordered[page.start : page.start + page.size]], page)


def _campaign_json(c: Campaign, site_root: str) -> dict:
    return {
        "name": c.name,
        "slug": c.slug,
        "description": c.description,
        "targets": c.targets,
        "python": c.python or None,
        "libc": c.libc or None,
        "teams": sorted(t.name for t in c.teams.all()),
        "start": c.start.isoformat(),
        "due": c.due.isoformat(),
        "active": c.is_active,
        "page": site_url(site_root, "campaign", c.slug),
    }


def api_campaigns(*, page: PageRequest, site_root: str) -> Page:
    """Campaigns, active first, by due date. 3 queries (count, page, their teams)."""
    qs = Campaign.objects.prefetch_related("teams").order_by("closed_at", "due", "name")
    rows = list(qs[page.start : page.start + page.size])
    return Page(qs.count(), [_campaign_json(c, site_root) for c in rows], page)


def api_campaign(*, slug: str, site_root: str) -> dict | None:
    """One campaign with its status now (what its page headlines)."""
    page = campaign_page(slug=slug)
    if page is None:
        return None
    status = page.status
    return {
        **_campaign_json(page.campaign, site_root),
        "status": {
            "word": status.word,
            "text": status.text,
            "repos": status.repos,
            "blocked": status.blocked,
            "projected": status.projected.isoformat() if status.projected else None,
        },
        "now": page.now,
        "teams_progress": [
            {
                "team": t.team,
                "repos": t.repos,
                "blocked": t.blocked,
                "projected": t.projected.isoformat() if t.projected else None,
                "at_risk": t.at_risk,
            }
            for t in page.team_progress
        ],
    }


def api_upstream(*, status: str, page: PageRequest) -> Page:
    """Upstream suggestions, most repos blocked first. 2 queries."""
    qs = UpstreamSuggestion.objects.order_by("-repos_blocked", "package", "platform_tags")
    if status:
        if status not in UpstreamSuggestion.Status.values:
            raise BadRequest(f"status must be one of {', '.join(UpstreamSuggestion.Status.values)}")
        qs = qs.filter(status=status)
    rows = list(qs[page.start : page.start + page.size])
    return Page(
        qs.count(),
        [
            {
                "package": s.package,
                "platform_tags": s.tags,
                "status": s.status,
                "repos_blocked": s.repos_blocked,
                "versions": s.versions,
                "targets": s.targets,
                "title": s.title,
                "upstream_url": s.upstream_url or None,
                "new_issue_url": s.new_issue_url or None,
                "updated_at": s.updated_at.isoformat(),
            }
            for s in rows
        ],
        page,
    )


def api_tokens_of(user) -> list[ApiToken]:
    """The user's tokens, active first (the settings page). 1 query, run when the template reads it."""
    return list(ApiToken.objects.filter(user=user).order_by("-revoked_at", "-created_at")) if user.pk else []
