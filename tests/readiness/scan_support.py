"""Real git repositories for scan tests: varied lockfiles and Dockerfiles, made with the git CLI.

Every package pinned here is on the recorded fixture index (tests/fixtures/index/projects), so
verdicts are real answers of the analyser, not placeholders.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import pytest
from django.db import connection

from readiness.models import Repo, Scan, Team
from tests.scanners.git_helpers import file_url, make_repo

T = TypeVar("T")

__all__ = ["ORG_LAYOUTS", "RepoLayout", "org_repos", "repo_row"]


@dataclass(frozen=True, slots=True)
class RepoLayout:
    """One kind of repository: its files and the distinct packages they lock."""

    files: dict[str, str]
    packages: frozenset[str]
    base: str  # "default", "slim" or "alpine": where the targets come from


_SLIM = "FROM python:3.11-slim\nCOPY requirements.txt .\nRUN pip install -r requirements.txt\n"
_ALPINE = "FROM python:3.12-alpine\nCOPY requirements.txt .\nRUN pip install -r requirements.txt\n"

ORG_LAYOUTS: tuple[RepoLayout, ...] = (
    RepoLayout({"requirements.txt": "psutil==5.9.8\nsix==1.16.0\n"}, frozenset({"psutil", "six"}), "default"),
    RepoLayout(
        {"requirements.txt": "numpy==1.26.4\nfilprofiler==2022.5.0\n", "Dockerfile": _SLIM},
        frozenset({"numpy", "filprofiler"}),
        "slim",
    ),
    RepoLayout(
        {"requirements.txt": "psycopg2==2.9.9\nsix==1.16.0\n", "Dockerfile": _ALPINE},
        frozenset({"psycopg2", "six"}),
        "alpine",
    ),
    RepoLayout(
        {
            "requirements.txt": "requests==2.32.3\n-r requirements-extra.txt\n",
            "requirements-extra.txt": "pyyaml==6.0.1\norjson==3.10.7\n",
            "Dockerfile": _SLIM,
        },
        frozenset({"requests", "pyyaml", "orjson"}),
        "slim",
    ),
    RepoLayout(
        {"services/api/requirements.txt": "psutil==5.9.8\nnumpy==2.2.6\n"}, frozenset({"psutil", "numpy"}), "default"
    ),
)


def org_repos(
    tmp_path: Path, count: int, *, teams: tuple[str, ...] = ("payments", "search")
) -> list[tuple[Repo, RepoLayout]]:
    """``count`` git repositories cycling through :data:`ORG_LAYOUTS`, each configured as a Repo row."""
    team_rows = [Team.objects.get_or_create(name=t)[0] for t in teams]
    out = []
    for i in range(count):
        layout = ORG_LAYOUTS[i % len(ORG_LAYOUTS)]
        path = make_repo(tmp_path / "repos", layout.files, name=f"svc-{i:02d}")
        out.append((repo_row(f"svc-{i:02d}", path, team=team_rows[i % len(team_rows)]), layout))
    return out


def repo_row(name: str, path: Path, *, team: Team | None = None, url: str | None = None) -> Repo:
    return Repo.objects.create(name=name, url=url or file_url(path), branch="main", team=team)


def use_registry(settings, server, *, worker=None) -> None:
    """The loopback registry ``server`` stands in for Docker Hub in this process, and in ``worker``
    (a started ``celery_worker``, restarted with the same settings) when one is given."""
    settings.READINESS_REGISTRY_LOOKUPS = True
    settings.READINESS_REGISTRY_ENDPOINTS = {"docker.io": server.url}
    settings.READINESS_REGISTRY_INSECURE = [server.host]
    if worker is not None:
        worker.stop()
        worker.env.update(
            READINESS_REGISTRY_LOOKUPS="1",
            READINESS_REGISTRY_ENDPOINTS=f"docker.io={server.url}",
            READINESS_REGISTRY_INSECURE=server.host,
        )
        worker.start()


def in_two_sessions(work: Callable[[Callable[[], None]], T]) -> list[T]:
    """``work(together)`` in two threads at once, each on its own database session (and its own
    advisory locks, as two workers would be); ``together()`` returns when both threads reach it.
    The two results, in the order the threads finished."""
    barrier = threading.Barrier(2)
    results: list[T] = []

    def run() -> None:
        try:
            results.append(work(barrier.wait))
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def wait_final(scans: list[Scan], timeout: float = 180) -> list[Scan]:
    """``scans`` as they are once every one is final (by id), polled from the database; fail after ``timeout`` s."""
    ids = [s.pk for s in scans]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        rows = list(Scan.objects.filter(pk__in=ids).select_related("repo").order_by("pk"))
        if all(s.state in Scan.FINAL_STATES for s in rows):
            return rows
        time.sleep(0.2)
    pytest.fail(f"scans still running after {timeout}s: {[(s.repo.name, s.state, s.step) for s in rows]}")
