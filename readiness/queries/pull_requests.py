"""A repository's open pull requests and what each one's check found, for the repository page.

One query whatever the number of pull requests (their rows carry the comparison as JSON).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from readiness.models import PullRequestCheck
from scanners.compare import counts_sentence

__all__ = ["PullRequestBlocker", "PullRequestRow", "open_pull_requests"]

_SHOWN_BLOCKERS = 10


@dataclass(frozen=True, slots=True)
class PullRequestBlocker:
    what: str  # "filprofiler 2022.5.0" or "Dockerfile [platform-pinned]"
    targets: str
    where: str  # "requirements.txt:3"
    fix: str


@dataclass(frozen=True, slots=True)
class PullRequestRow:
    number: int
    title: str
    url: str  # empty unless an http(s) URL: it becomes a link
    author: str
    head_ref: str
    base_ref: str
    state: str
    conclusion: str
    commit: str
    changes: str  # "2 new blockers, 1 resolved"
    blockers: tuple[PullRequestBlocker, ...]
    more_blockers: int
    detail: str
    post_error: str
    updated_at: dt.datetime

    @property
    def badge(self) -> str:
        """The check's outcome in one word: failure, success, neutral, or the state while it has none."""
        return self.conclusion if self.state == "done" and self.conclusion else self.state


def open_pull_requests(*, repo_name: str) -> tuple[PullRequestRow, ...]:
    """The repo's open pull requests that have a check, newest first."""
    rows = PullRequestCheck.objects.filter(repo__name=repo_name).order_by("-number")
    return tuple(_row(check) for check in rows)


def _row(check: PullRequestCheck) -> PullRequestRow:
    comparison: dict[str, Any] = check.comparison or {}
    blockers = _blockers(comparison)
    url = check.html_url if check.html_url.startswith(("https://", "http://")) else ""
    return PullRequestRow(
        number=check.number,
        title=check.title,
        url=url,
        author=check.author,
        head_ref=check.head_ref,
        base_ref=check.base_ref,
        state=check.state,
        conclusion=check.conclusion,
        commit=(check.checked_sha or check.head_sha)[:12],
        changes=counts_sentence(comparison["counts"]) if comparison.get("counts") else "",
        blockers=blockers[:_SHOWN_BLOCKERS],
        more_blockers=max(0, len(blockers) - _SHOWN_BLOCKERS),
        detail=check.detail,
        post_error=check.post_error,
        updated_at=check.finished_at or check.updated_at,
    )


def _blockers(comparison: dict[str, Any]) -> list[PullRequestBlocker]:
    grouped: dict[tuple, dict[str, Any]] = {}
    for c in comparison.get("changes") or ():
        if c.get("kind") != "new-blocker" or not c.get("after"):
            continue
        after = c["after"]
        key = (c["name"], after.get("version"), after.get("lockfile"), after.get("line"))
        entry = grouped.setdefault(key, {"after": after, "targets": []})
        entry["targets"].append(c["target"])
    out = [
        PullRequestBlocker(
            what=f"{name} {version or ''}".strip(),
            targets=", ".join(entry["targets"]),
            where=f"{lockfile}:{line}" if line else str(lockfile or ""),
            fix=str(entry["after"].get("fix") or ""),
        )
        for (name, version, lockfile, line), entry in grouped.items()
    ]
    for f in comparison.get("finding_changes") or ():
        if f.get("kind") == "new-blocker":
            line = (f.get("after") or {}).get("line")
            out.append(
                PullRequestBlocker(
                    what=f"{f.get('path')} [{f.get('rule')}]",
                    targets=", ".join(f.get("targets") or ()),
                    where=f"{f.get('path')}:{line}" if line else str(f.get("path")),
                    fix=str(f.get("message") or ""),
                )
            )
    return out
