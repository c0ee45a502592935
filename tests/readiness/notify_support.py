"""A repository whose lock moves between a blocked and a ready pin of a package on the test's index,
scanned for real (in process, or by a worker): the scans that make notification events."""

from __future__ import annotations

from pathlib import Path

from readiness.models import Repo, Scan, Team
from readiness.services.scans import scan_request
from tests.readiness.scan_support import repo_row
from tests.scanners.git_helpers import commit_files, make_repo

__all__ = ["BLOCKED", "READY", "add_never_arm", "rescan", "switching_repo"]

BLOCKED = "never-arm==1.0\nsix==1.16.0\n"
READY = "never-arm==1.1\nsix==1.16.0\n"


def add_never_arm(index) -> None:
    """``never-arm`` 1.0 has an x86_64 wheel only; 1.1 also an aarch64 one."""
    index.add_project(
        "never-arm",
        [
            {"filename": "never_arm-1.0-py3-none-manylinux_2_17_x86_64.whl"},
            {"filename": "never_arm-1.1-py3-none-manylinux_2_17_x86_64.whl"},
            {"filename": "never_arm-1.1-py3-none-manylinux_2_17_aarch64.whl"},
        ],
    )


def switching_repo(tmp_path: Path, index, *, first: str = BLOCKED, name: str = "billing") -> tuple[Repo, Path]:
    add_never_arm(index)
    path = make_repo(tmp_path, {"requirements.txt": first}, name=name)
    team = Team.objects.get_or_create(name="payments")[0]
    return repo_row(name, path, team=team), path


def rescan(repo: Repo, path: Path | None = None, requirements: str | None = None) -> Scan:
    """Commit ``requirements`` (when given) and scan the repo in process; the finished scan."""
    if path is not None and requirements is not None:
        commit_files(path, {"requirements.txt": requirements}, "change the pin")
    scan = scan_request(repo=repo, trigger="manual")
    scan.refresh_from_db()
    return scan
