"""The values a fetch returns: the snapshot of a repository at one commit, its files, and the
selected files it did not read with the reason why.

They are plain values so that the lockfile and Dockerfile parsers, which never touch git,
can take them; only :meth:`RepoSnapshot.read` and :meth:`RepoSnapshot.changed_at` reach back
into git, through the callables :func:`scanners.git.fetch.fetch_snapshot` gives them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from scanners.git.runner import GitError


@dataclass(frozen=True, slots=True)
class RepoFile:
    """One text file of the snapshot.

    ``path`` is repo-relative and posix. ``blob_id`` is git's object id when the file was read
    from git objects (stable across scans, so a parse can be cached by it), ``None`` when it
    was read from disk. ``size`` is the size in bytes as stored; ``text`` is the decoded UTF-8
    content without a byte order mark.
    """

    path: str
    blob_id: str | None
    size: int
    text: str


@dataclass(frozen=True, slots=True)
class SkippedFile:
    """A selected file that was not read, and why (``"larger than 2 MB"``, ``"binary file"``,
    ``"symlink leaves the repository"``, …): the report shows it instead of silently
    scanning less."""

    path: str
    reason: str


@dataclass(frozen=True, slots=True)
class RepoSnapshot:
    """The selected files of a repository at one commit.

    ``source`` is the source as given, with any URL credentials redacted. ``ref`` is the ref
    asked for (``None``: the remote's default branch, or a local directory's work tree).
    ``commit`` is ``None`` for a plain directory or a repository without commits; for a work
    tree it is ``HEAD`` even though uncommitted edits are what was read.
    """

    source: str
    ref: str | None
    commit: str | None
    committed_at: datetime | None
    files: tuple[RepoFile, ...]
    skipped: tuple[SkippedFile, ...]
    _reader: Callable[[str], str | None] | None = field(default=None, repr=False, compare=False)
    _changed_at: Callable[[str], datetime | None] | None = field(default=None, repr=False, compare=False)

    def read(self, path: str) -> str | None:
        """Text of any other file at the same commit (``-r other.txt`` includes), or ``None``.

        ``path`` is repo-relative. The same rules apply as for the selected files, so a file
        that is missing, outside the repository, binary, too large or a dangling symlink gives
        ``None``. May fetch the one blob from the remote; raises :class:`GitError` if that fails.
        """
        if self._reader is None:
            return None
        return self._reader(path)

    def changed_at(self, path: str) -> datetime | None:
        """When the commit that last changed ``path`` (up to this snapshot's commit) was made:
        a lockfile's date, for "this wheel was uploaded after the lock was made". ``None`` for a
        plain directory, an untracked file, or when git cannot tell; never raises."""
        if self._changed_at is None:
            return None
        try:
            return self._changed_at(path)
        except GitError:
            return None
