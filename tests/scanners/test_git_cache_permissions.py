"""The git cache is private to its owner: a cached clone's config holds the URL's credentials.

Real git CLI, real clones over ``file://``, under a permissive umask (022, the usual default) so
that only the cache's own care keeps group and others out: the cache directory 0700, every
directory in it 0700 and every file 0600 — after the clone, after a later fetch that writes new
packs and refs, and for a clone made before this rule.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from scanners.git import fetch_snapshot
from tests.scanners.git_helpers import commit_files, file_url, git, make_repo


@pytest.fixture(autouse=True)
def loose_umask() -> Iterator[None]:
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


def _loose(root: Path) -> list[str]:
    """Every path under ``root`` (itself included) that group or others may use, with its mode."""
    found = []
    for directory, _, files in os.walk(root):
        for path in [directory, *(os.path.join(directory, f) for f in files)]:
            mode = os.lstat(path).st_mode
            if not stat.S_ISLNK(mode) and mode & 0o077:
                found.append(f"{os.path.relpath(path, root)} {stat.filemode(mode)}")
    return found


def _lockfiles(path: str) -> bool:
    return path.endswith("requirements.txt")


def test_clone_fetch_and_lazy_reads_leave_nothing_readable_by_others(tmp_path: Path) -> None:
    origin = make_repo(tmp_path, {"requirements.txt": "six==1.16.0\n"}, name="origin")
    cache = tmp_path / "cache"

    snapshot = fetch_snapshot(file_url(origin), wanted=_lockfiles, cache_dir=cache)
    assert [f.path for f in snapshot.files] == ["requirements.txt"]  # the clone really was used
    assert stat.S_IMODE(cache.stat().st_mode) == 0o700
    (clone,) = [p for p in cache.iterdir() if p.is_dir()]
    assert stat.S_IMODE((clone / "config").stat().st_mode) == 0o600
    assert git(clone, "config", "core.sharedRepository") == "0600"
    assert _loose(cache) == []

    # A new commit: the fetch writes a pack, FETCH_HEAD and refs; reading a file fetches its blob.
    commit_files(origin, {"requirements.txt": "six==1.17.0\n"})
    later = fetch_snapshot(file_url(origin), "main", wanted=_lockfiles, cache_dir=cache)
    assert later.read("requirements.txt") == "six==1.17.0\n"
    assert _loose(cache) == []


def test_a_cache_made_before_the_rule_is_made_private(tmp_path: Path) -> None:
    origin = make_repo(tmp_path, {"requirements.txt": "six==1.16.0\n"}, name="origin")
    cache = tmp_path / "cache"
    fetch_snapshot(file_url(origin), wanted=_lockfiles, cache_dir=cache)
    # As an older version left it: world-readable directories and files, no sharedRepository.
    (clone,) = [p for p in cache.iterdir() if p.is_dir()]
    git(clone, "config", "--unset", "core.sharedRepository")
    for directory, _, files in os.walk(cache):
        os.chmod(directory, 0o755)
        for name in files:
            os.chmod(os.path.join(directory, name), 0o644)
    assert _loose(cache)

    fetch_snapshot(file_url(origin), "main", wanted=_lockfiles, cache_dir=cache)
    assert _loose(cache) == []
    assert git(clone, "config", "core.sharedRepository") == "0600"
