"""The entry points that read a repository at one commit: :func:`fetch_snapshot` (the files a
scan wants) and :func:`head_commit` (just the commit, as cheaply as git allows).

They choose the source's kind (a cached clone of a remote, a work tree, a local repository or
a plain directory) and the reader for it, and keep the clone's lock held while git works in it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from scanners.git.clone_cache import _FULL_SHA, _cache_location, _is_remote, _locked, _remote_commit
from scanners.git.local import _local_directory, _local_git, _walk, _work_tree_files
from scanners.git.readers import _FsReader, _Reader, _Selection, _TreeReader
from scanners.git.runner import _rev_parse, _Runner, _start
from scanners.git.snapshot import RepoSnapshot

DEFAULT_MAX_FILE_BYTES = 2_000_000
"""Real lockfiles stay well under this; anything bigger is generated data, not worth parsing."""


def fetch_snapshot(
    source: str,
    ref: str | None = None,
    *,
    wanted: Callable[[str], bool],
    cache_dir: Path,
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES,
    timeout: float = 300,
) -> RepoSnapshot:
    """Return the commit of ``source`` at ``ref`` and the text of every path ``wanted`` accepts.

    :param source: a clone URL or a local directory.
    :param ref: a branch, tag, full or short commit id. ``None``: the remote's default branch,
        or, for a local work tree, the files on disk.
    :param wanted: called with each repo-relative posix path; only accepted paths are read.
    :param cache_dir: where partial clones of remote repositories are kept between calls.
    :param timeout: seconds for the whole call, git commands included.
    :raises GitError: the repository or ref cannot be read (see ``GitError.transient``).
    """
    runner = _start(source, ref, timeout)
    if _is_remote(source):
        repo_dir, lock_path = _cache_location(cache_dir, source)
        with _locked(lock_path, runner):
            commit = _remote_commit(runner, source, repo_dir, ref)
            if commit is None:  # an empty remote repository: nothing to scan, not an error
                return RepoSnapshot(runner.label, ref, None, None, (), ())
            tree_reader = _TreeReader(repo_dir, commit, tree=commit, partial=True)
            selection = tree_reader.select(runner, wanted, max_file_bytes)
            committed_at = tree_reader.committed_at(runner)
        return _snapshot(runner, commit, committed_at, selection, tree_reader, max_file_bytes, timeout, lock_path)

    directory = _local_directory(runner, source)
    git = _local_git(runner, directory)
    reader: _Reader
    if git is None:
        reader = _FsReader(directory, listing=lambda _runner: _walk(directory))
        selection = reader.select(runner, wanted, max_file_bytes)
        return _snapshot(runner, None, None, selection, reader, max_file_bytes, timeout)
    if ref is None and git.inside_work_tree:
        head = _rev_parse(runner, directory, "HEAD")
        reader = _FsReader(directory, listing=lambda run: _work_tree_files(run, directory), git=head is not None)
        selection = reader.select(runner, wanted, max_file_bytes)
        head_time = _committed_at(runner, directory, head) if head else None
        return _snapshot(runner, head, head_time, selection, reader, max_file_bytes, timeout)
    commit = _rev_parse(runner, directory, ref or "HEAD")
    if commit is None:
        if ref is None:
            return RepoSnapshot(runner.label, ref, None, None, (), ())
        raise runner.error("unknown ref", transient=False)
    tree = f"{commit}:{git.prefix}" if git.prefix else commit
    tree_reader = _TreeReader(directory, commit, tree=tree, partial=False)
    selection = tree_reader.select(runner, wanted, max_file_bytes)
    return _snapshot(runner, commit, tree_reader.committed_at(runner), selection, tree_reader, max_file_bytes, timeout)


def head_commit(source: str, ref: str | None = None, *, timeout: float = 60) -> str | None:
    """The commit ``ref`` names now, asked as cheaply as git allows (``ls-remote``: no fetch).

    Lets a rescan of an unchanged repository stop before fetching anything. ``None`` means
    "cannot tell cheaply" (a local work tree, whose files may differ from any commit; a ref
    the remote does not advertise) and the caller does the full :func:`fetch_snapshot`.

    :raises GitError: as :func:`fetch_snapshot` (an unreachable remote, for one).
    """
    runner = _start(source, ref, timeout)
    if ref is not None and _FULL_SHA.fullmatch(ref):
        return ref
    if not _is_remote(source):
        directory = _local_directory(runner, source)
        git = _local_git(runner, directory)
        if git is None or (ref is None and git.inside_work_tree):
            return None
        return _rev_parse(runner, directory, ref or "HEAD")
    # "ref^{}" too: for an annotated tag, that line holds the commit rather than the tag object.
    patterns = [ref, f"{ref}^{{}}"] if ref else ["HEAD"]
    result = runner.run(["ls-remote", "--", source, *patterns], network=True)
    advertised = {}
    for line in result.stdout.decode("utf-8", "replace").splitlines():
        sha, _, name = line.partition("\t")
        advertised[name.strip()] = sha.strip()
    if ref is None:
        return advertised.get("HEAD")
    for name in (f"refs/heads/{ref}", f"refs/tags/{ref}^{{}}", f"refs/tags/{ref}", ref):
        if name in advertised:
            return advertised[name]
    return None


def _snapshot(
    runner: _Runner,
    commit: str | None,
    committed_at: datetime | None,
    selection: _Selection,
    reader: _Reader,
    max_file_bytes: int,
    timeout: float,
    lock_path: Path | None = None,
) -> RepoSnapshot:
    def read(path: str) -> str | None:
        # Called long after the snapshot was made: a deadline of its own, and the clone's
        # lock again since other workers may be fetching into it meanwhile.
        later = runner.renewed(time.monotonic() + timeout)
        if lock_path is None:
            return reader.read(later, path, max_file_bytes)
        with _locked(lock_path, later):
            return reader.read(later, path, max_file_bytes)

    def changed_at(path: str) -> datetime | None:
        later = runner.renewed(time.monotonic() + timeout)
        if lock_path is None:
            return reader.changed_at(later, path)
        with _locked(lock_path, later):
            return reader.changed_at(later, path)

    files, skipped = selection
    return RepoSnapshot(runner.label, runner.ref, commit, committed_at, files, skipped, read, changed_at)


def _committed_at(runner: _Runner, cwd: Path, commit: str) -> datetime:
    result = runner.run(["show", "-s", "--format=%ct", commit], cwd=cwd)
    return datetime.fromtimestamp(int(result.stdout.decode().strip()), UTC)
