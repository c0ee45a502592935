"""Build real git repositories with the git CLI for tests.

Every command runs with a fixed identity and no global or system configuration, so a
developer's ``~/.gitconfig`` (signing, hooks, default branch) cannot change what a test sees.
Dates are passed through ``GIT_AUTHOR_DATE``/``GIT_COMMITTER_DATE`` so history tests are
deterministic.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

__all__ = ["FileContent", "Symlink", "commit_files", "file_url", "git", "make_repo", "write_files"]


@dataclass(frozen=True, slots=True)
class Symlink:
    """A symbolic link to ``target`` (relative to the link's directory, or absolute)."""

    target: str


FileContent = str | bytes | Symlink | None
"""Text, raw bytes, a symlink, or ``None`` to delete the file."""

_DEFAULT_DATE = datetime(2024, 1, 1, 12, 0, tzinfo=UTC)


def _env(date: datetime | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(
        GIT_CONFIG_GLOBAL=os.devnull,
        GIT_CONFIG_NOSYSTEM="1",
        GIT_AUTHOR_NAME="Test Author",
        GIT_AUTHOR_EMAIL="author@example.test",
        GIT_COMMITTER_NAME="Test Committer",
        GIT_COMMITTER_EMAIL="committer@example.test",
        LC_ALL="C",
    )
    if date is not None:
        stamp = f"{int(date.timestamp())} +0000"
        env["GIT_AUTHOR_DATE"] = stamp
        env["GIT_COMMITTER_DATE"] = stamp
    return env


def git(repo: Path, *args: str, date: datetime | None = None) -> str:
    """Run git in ``repo`` and return its stdout (stripped); fails the test on error."""
    result = subprocess.run(["git", *args], cwd=repo, env=_env(date), capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise AssertionError(f"git {' '.join(args)} failed: {result.stderr.strip()}")
    return result.stdout.strip()


def write_files(root: Path, files: Mapping[str, FileContent]) -> None:
    """Write (or delete, for ``None``) files under ``root``, creating directories as needed."""
    for path, content in files.items():
        target = root / path
        if content is None:
            target.unlink()
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.is_symlink() or target.exists():
            target.unlink()
        if isinstance(content, Symlink):
            target.symlink_to(content.target)
        elif isinstance(content, bytes):
            target.write_bytes(content)
        else:
            target.write_text(content, encoding="utf-8")


def make_repo(
    tmp_path: Path,
    files: Mapping[str, FileContent],
    message: str = "initial commit",
    date: datetime | None = None,
    *,
    name: str = "repo",
) -> Path:
    """Create ``tmp_path/name`` as a git repository on branch ``main`` with one commit of
    ``files`` (none if ``files`` is empty), and return its path.

    ``uploadpack.allowFilter`` is switched on, as hosting services do, so partial clones
    over ``file://`` really are blob-filtered.
    """
    repo = tmp_path / name
    repo.mkdir(parents=True)
    git(repo, "init", "--quiet", "--initial-branch=main")
    git(repo, "config", "uploadpack.allowFilter", "true")
    git(repo, "config", "uploadpack.allowAnySHA1InWant", "true")
    if files:
        commit_files(repo, files, message, date)
    return repo


def commit_files(
    repo: Path, files: Mapping[str, FileContent], message: str = "update", date: datetime | None = None
) -> str:
    """Write ``files`` into ``repo``, commit them all, and return the new commit id."""
    write_files(repo, files)
    git(repo, "add", "--all")
    git(repo, "commit", "--quiet", "--allow-empty", "-m", message, date=date or _DEFAULT_DATE)
    return git(repo, "rev-parse", "HEAD")


def file_url(repo: Path) -> str:
    return repo.resolve().as_uri()
