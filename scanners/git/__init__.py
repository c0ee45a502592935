"""Fetch the files of a repository that matter (lockfiles, Dockerfiles) at one commit.

A scan only needs a handful of small files out of each repository, and an organisation has
thousands of repositories, so this package fetches as little as it can:

* A remote repository (``https://``, ``ssh://``, ``git@host:path``, ``file://``) is kept as a
  bare, blob-filtered partial clone under ``cache_dir/<sha256 of the URL>``: commits and trees
  only. Later scans ``git fetch`` the one ref they need into it instead of cloning again, the
  tree is listed with ``git ls-tree`` and only the blobs of the selected paths are fetched,
  all in one request.
* A local directory is read in place: a git work tree without a ref is read from disk (what
  the developer sees, uncommitted edits included); with a ref it is read from git's objects;
  a plain directory is walked.

Every file is checked the same way whichever the source: files over ``max_file_bytes``,
binary files and symlinks that leave the repository (or point nowhere) are not read but
reported in :attr:`RepoSnapshot.skipped` with a reason, so a report can say why a lockfile
was ignored. A symlink inside the repository is followed and reported under the link's path.

Credentials in URLs (``https://user:token@host/…``) never appear in messages, logs or the
snapshot's ``source`` (see :func:`redact_url`). They do stay in the cached clone's
``remote.origin.url``, because git needs them to fetch blobs lazily later: the cache
directory must be as private as the credentials.

Fetching is separate from parsing: this package returns text, the lockfile and Dockerfile
parsers never touch git.

Callers import from ``scanners.git`` only; the modules behind it, one idea each:

* :mod:`~scanners.git.fetch`: the entry points :func:`fetch_snapshot` and :func:`head_commit`.
* :mod:`~scanners.git.history`: :func:`commits_by_date` and when a path last changed.
* :mod:`~scanners.git.snapshot`: the values returned (:class:`RepoSnapshot`, :class:`RepoFile`,
  :class:`SkippedFile`).
* :mod:`~scanners.git.readers`: reading files from disk or from git objects, and their checks.
* :mod:`~scanners.git.local`: how git sees a local directory, and its file listing.
* :mod:`~scanners.git.clone_cache`: the cached partial clones of remote repositories.
* :mod:`~scanners.git.runner`: running git (deadline, environment, errors), :class:`GitError`
  and :func:`redact_url`.
"""

from __future__ import annotations

from scanners.git.fetch import DEFAULT_MAX_FILE_BYTES, fetch_snapshot, head_commit
from scanners.git.history import commits_by_date
from scanners.git.local import SKIPPED_DIRECTORIES
from scanners.git.runner import GitError, redact_url
from scanners.git.snapshot import RepoFile, RepoSnapshot, SkippedFile

__all__ = [
    "DEFAULT_MAX_FILE_BYTES",
    "SKIPPED_DIRECTORIES",
    "GitError",
    "RepoFile",
    "RepoSnapshot",
    "SkippedFile",
    "commits_by_date",
    "fetch_snapshot",
    "head_commit",
    "redact_url",
]
