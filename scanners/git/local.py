"""Local directories: how git sees a directory given as the source, and which of its files a
snapshot lists.

A local directory is read in place: a git work tree without a ref is read from disk (what
the developer sees, uncommitted edits included); with a ref it is read from git's objects;
a plain directory is walked. A subdirectory of a work tree is scanned on its own (a service
inside a monorepo), with paths relative to it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from scanners.git.runner import _Runner

SKIPPED_DIRECTORIES = frozenset({".git", "node_modules", ".venv", "venv", "__pycache__", ".tox", "site-packages"})
"""Directories that hold installed packages, caches or git's own data, never the project's
lockfiles. A ``requirements.txt`` inside ``site-packages`` belongs to somebody else's package."""


@dataclass(frozen=True, slots=True)
class _LocalGit:
    inside_work_tree: bool
    prefix: str  # the directory's path inside the repository, "" at the top (or in a bare repo)


def _local_directory(runner: _Runner, source: str) -> Path:
    directory = Path(source).expanduser()
    if not directory.exists():
        raise runner.error("no such repository or directory", transient=False)
    if not directory.is_dir():
        raise runner.error("not a directory", transient=False)
    return directory


def _local_git(runner: _Runner, directory: Path) -> _LocalGit | None:
    """How git sees ``directory``: ``None`` when it is not inside a repository.

    A subdirectory of a work tree counts: it is scanned on its own (a service inside a
    monorepo), with paths relative to it.
    """
    result = runner.run(["rev-parse", "--is-inside-work-tree", "--show-prefix"], cwd=directory, check=False)
    if result.returncode != 0:
        if b"not a git repository" in result.stderr:
            return None
        raise runner.failure("rev-parse", result.stderr, network=False)
    lines = result.stdout.decode().splitlines()
    inside = bool(lines) and lines[0] == "true"
    prefix = lines[1].rstrip("/") if inside and len(lines) > 1 else ""
    return _LocalGit(inside_work_tree=inside, prefix=prefix)


def _work_tree_files(runner: _Runner, directory: Path) -> list[str]:
    # Tracked files plus new files not yet added, but not ignored ones: what the developer
    # would commit. Paths come out relative to ``directory``.
    result = runner.run(["ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=directory)
    paths = dict.fromkeys(os.fsdecode(p) for p in result.stdout.split(b"\0") if p)
    return [path for path in paths if not _in_skipped_directory(path)]


def _walk(root: Path) -> list[str]:
    paths: list[str] = []
    for current, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in SKIPPED_DIRECTORIES)
        relative = Path(current).relative_to(root)
        paths.extend((relative / name).as_posix() for name in filenames)
    return paths


def _in_skipped_directory(path: str) -> bool:
    return any(part in SKIPPED_DIRECTORIES for part in path.split("/")[:-1])
