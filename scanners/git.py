"""Fetch the files of a repository that matter (lockfiles, Dockerfiles) at one commit.

A scan only needs a handful of small files out of each repository, and an organisation has
thousands of repositories, so this module fetches as little as it can:

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

Fetching is separate from parsing: this module returns text, the lockfile and Dockerfile
parsers never touch git.
"""

from __future__ import annotations

import codecs
import contextlib
import fcntl
import hashlib
import logging
import os
import posixpath
import re
import shutil
import signal
import stat
import subprocess
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, UTC
from pathlib import Path
from typing import Protocol

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

log = logging.getLogger(__name__)

DEFAULT_MAX_FILE_BYTES = 2_000_000
"""Real lockfiles stay well under this; anything bigger is generated data, not worth parsing."""

SKIPPED_DIRECTORIES = frozenset(
    {".git", "node_modules", ".venv", "venv", "__pycache__", ".tox", "site-packages"}
)
"""Directories that hold installed packages, caches or git's own data, never the project's
lockfiles. A ``requirements.txt`` inside ``site-packages`` belongs to somebody else's package."""

_MAX_SYMLINK_HOPS = 40  # as Linux's ELOOP limit: deeper chains are loops in practice
_FULL_SHA = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")
_SHORT_SHA = re.compile(r"[0-9a-f]{4,63}")
_SCHEME_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
_SCP_URL = re.compile(r"^[^/@:\s]+@[^/:\s]+:")  # git@host:owner/repo.git
_USERINFO = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)[^/\s]*@")
_SYMLINK_MODE = "120000"

# Variables that point git at another repository than the one we name: set when running
# inside a git hook or a CI step, they would silently make every command read the wrong repo.
_REPO_ENV_VARS = frozenset(
    {
        "GIT_DIR",
        "GIT_WORK_TREE",
        "GIT_INDEX_FILE",
        "GIT_OBJECT_DIRECTORY",
        "GIT_ALTERNATE_OBJECT_DIRECTORIES",
        "GIT_COMMON_DIR",
        "GIT_NAMESPACE",
        "GIT_PREFIX",
    }
)

# Failures that retrying cannot fix (checked first) and failures worth retrying. Messages come
# from git, curl and ssh with LC_ALL=C. Anything unmatched from a network command counts as
# transient: a retry costs little, a scan marked failed for good costs a human.
_PERMANENT_MARKERS = (
    "couldn't find remote ref",
    "not our ref",
    "does not appear to be a git repository",
    "repository not found",
    "not found",
    "could not read username",
    "could not read password",
    "authentication failed",
    "invalid username or password",
    "permission denied",
    "returned error: 40",
    "not a git repository",
    "unknown revision",
    "bad revision",
    "invalid object name",
    "dubious ownership",
    "unsupported protocol",
    "transport '",
)
_TRANSIENT_MARKERS = (
    "could not resolve host",
    "could not resolve hostname",
    "timed out",
    "connection refused",
    "connection reset",
    "failed to connect",
    "early eof",
    "hung up unexpectedly",
    "rpc failed",
    "returned error: 5",
    "returned error: 429",
    "temporary failure",
    "network is unreachable",
    "unexpected disconnect",
)


# --- public values --------------------------------------------------------------------------


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


class GitError(RuntimeError):
    """Git could not give us the repository.

    The message is one line naming the (redacted) source and the ref. ``transient`` is
    ``True`` for failures a retry may fix (network errors, timeouts, a busy cache) and
    ``False`` for an unknown repository, a bad ref or missing access.
    """

    def __init__(self, message: str, *, transient: bool) -> None:
        super().__init__(message)
        self.transient = transient


def redact_url(text: str) -> str:
    """Replace the userinfo of every URL in ``text``: ``https://user:token@host`` → ``https://***@host``.

    Applied to every message this module produces, because tokens in clone URLs are the
    usual way to reach private repositories and messages end up in logs and the database.
    """
    return _USERINFO.sub(r"\g<scheme>***@", text)


# --- entry points ----------------------------------------------------------------------------


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
            committed_at = _committed_at(runner, repo_dir, commit)
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
    reader = _TreeReader(directory, commit, tree=tree, partial=False)
    selection = reader.select(runner, wanted, max_file_bytes)
    return _snapshot(
        runner, commit, _committed_at(runner, directory, commit), selection, reader, max_file_bytes, timeout
    )


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


def _last_change(runner: _Runner, cwd: Path, rev: str, path: str) -> datetime | None:
    result = runner.run(["log", "-1", "--format=%ct", rev, "--", path], cwd=cwd, check=False)
    stamp = result.stdout.decode().strip() if result.returncode == 0 else ""
    return datetime.fromtimestamp(int(stamp), UTC) if stamp.isdigit() else None


def commits_by_date(
    source: str,
    ref: str | None,
    *,
    since: datetime,
    every: timedelta,
    cache_dir: Path,
    until: datetime | None = None,
    timeout: float = 300,
) -> list[tuple[datetime, str]]:
    """For each point ``since, since + every, …`` up to ``until`` (default: now), the commit
    that was current on ``ref`` at that moment, for backfilling history.

    "Current" means the first commit on the ref's first-parent chain (the branch as it was
    merged into, not the side branches) whose committer date is at or before the point.
    Points before the first commit are left out. Every other point gets an entry even when
    its commit is the same as the previous point's: one point per period keeps a trend chart
    evenly spaced, and a caller that wants changes only can drop the repeats. Naive datetimes
    are taken as UTC; returned points are UTC.

    :raises GitError: as :func:`fetch_snapshot`; also for a plain directory (no history).
    :raises ValueError: ``every`` is not positive.
    """
    if every <= timedelta(0):
        raise ValueError(f"every must be positive, got {every}")
    since, end = _utc(since), _utc(until or datetime.now(UTC))
    runner = _start(source, ref, timeout)
    if _is_remote(source):
        repo_dir, lock_path = _cache_location(cache_dir, source)
        with _locked(lock_path, runner):
            commit = _remote_commit(runner, source, repo_dir, ref)
            history = _first_parent_history(runner, repo_dir, commit) if commit else []
    else:
        directory = _local_directory(runner, source)
        if _local_git(runner, directory) is None:
            raise runner.error("not a git repository, so it has no history", transient=False)
        commit = _rev_parse(runner, directory, ref or "HEAD")
        if commit is None and ref is not None:
            raise runner.error("unknown ref", transient=False)
        history = _first_parent_history(runner, directory, commit) if commit else []

    points: list[datetime] = []
    point = since
    while point <= end:
        points.append(point)
        point += every
    return _commits_at(history, points)


def _commits_at(history: Sequence[tuple[datetime, str]], points: Sequence[datetime]) -> list[tuple[datetime, str]]:
    """Pure part of :func:`commits_by_date`: ``history`` is newest first (first-parent order).

    The first history entry at or before a point only moves further back as the point moves
    back, so one pass over the points (latest first) and the history gives every answer in
    O(points + commits), even when committer dates are not monotonic (rebases, skewed clocks).
    """
    answers: list[tuple[datetime, str]] = []
    index = 0
    for point in sorted(points, reverse=True):
        while index < len(history) and history[index][0] > point:
            index += 1
        if index == len(history):
            break  # this point and every earlier one come before the first commit
        answers.append((point, history[index][1]))
    answers.reverse()
    return answers


# --- running git -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Runner:
    """Runs git for one call: a shared deadline, a clean environment and the redacted names
    that every error message must carry."""

    label: str
    ref: str | None
    deadline: float
    file_url: bool

    def renewed(self, deadline: float) -> _Runner:
        return _Runner(self.label, self.ref, deadline, self.file_url)

    def error(self, what: str, *, transient: bool) -> GitError:
        at = f" at ref {self.ref!r}" if self.ref is not None else ""
        return GitError(redact_url(f"{self.label}{at}: {what}"), transient=transient)

    def run(
        self,
        args: Sequence[str],
        *,
        cwd: Path | None = None,
        stdin: bytes | None = None,
        network: bool = False,
        check: bool = True,
        config: Sequence[str] = (),
    ) -> subprocess.CompletedProcess[bytes]:
        """Run ``git args``; a failure raises :class:`GitError` classified from git's message
        unless ``check`` is false. ``config`` holds ``name=value`` settings for this run only."""
        settings = [*config, "protocol.file.allow=always"] if self.file_url else list(config)
        command = ["git", *(arg for setting in settings for arg in ("-c", setting)), *args]
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            raise self.error(f"timed out before git {args[0]}", transient=True)
        # A session of its own, so that a timeout kills git's helpers (ssh, git-remote-https,
        # upload-pack) too: killing only git leaves them holding our pipes open.
        process = subprocess.Popen(
            command,
            cwd=cwd,
            env=_git_env(),
            stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        try:
            stdout, stderr = process.communicate(stdin, timeout=remaining)
        except subprocess.TimeoutExpired:
            _kill_group(process)
            raise self.error(f"git {args[0]} timed out", transient=True) from None
        except BaseException:
            _kill_group(process)
            raise
        result = subprocess.CompletedProcess(command, process.returncode, stdout, stderr)
        if check and result.returncode != 0:
            raise self.failure(args[0], result.stderr, network=network)
        return result

    def failure(self, command: str, stderr: bytes, *, network: bool) -> GitError:
        message = _first_error_line(stderr) or f"git {command} failed"
        lower = message.lower()
        if any(marker in lower for marker in _PERMANENT_MARKERS):
            transient = False
        elif any(marker in lower for marker in _TRANSIENT_MARKERS):
            transient = True
        else:
            transient = network
        return self.error(message, transient=transient)


def _git_env() -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key not in _REPO_ENV_VARS}
    env["GIT_TERMINAL_PROMPT"] = "0"  # a worker has no terminal: fail instead of waiting forever
    env["LC_ALL"] = "C"  # English messages, which _PERMANENT_MARKERS and _TRANSIENT_MARKERS match
    if "GIT_SSH" not in env and "GIT_SSH_COMMAND" not in env:
        env["GIT_SSH_COMMAND"] = "ssh -o BatchMode=yes"  # no password or host-key prompts either
    return env


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.communicate()


def _first_error_line(stderr: bytes) -> str:
    lines = [line.strip() for line in stderr.decode("utf-8", "replace").splitlines() if line.strip()]
    lines = [line for line in lines if not line.lower().startswith(("hint:", "trace:", "warning:"))]
    for line in lines:
        for prefix in ("fatal: ", "error: "):
            if line.startswith(prefix):
                return line[len(prefix):]
    return lines[-1] if lines else ""


def _start(source: str, ref: str | None, timeout: float) -> _Runner:
    """The runner of one public call: its deadline starts now, its messages name the source
    without credentials, and a ref that git would misread is refused before any command."""
    runner = _Runner(
        label=redact_url(source), ref=ref, deadline=time.monotonic() + timeout, file_url=_is_file_url(source)
    )
    _check_ref(runner, ref)
    return runner


def _check_ref(runner: _Runner, ref: str | None) -> None:
    # A ref starting with "-" would be read as an option; whitespace never appears in refs.
    if ref is not None and (not ref or ref.startswith("-") or any(c.isspace() or ord(c) < 32 for c in ref)):
        raise runner.error("invalid ref", transient=False)


# --- remote repositories ---------------------------------------------------------------------


def _is_remote(source: str) -> bool:
    return bool(_SCHEME_URL.match(source) or _SCP_URL.match(source))


def _is_file_url(source: str) -> bool:
    # file:// clones are how tests (and on-premise mirrors) reach repositories; git restricts
    # the file protocol in some contexts since 2.38.1, so allow it explicitly for these URLs.
    return source.lower().startswith("file://")


def _cache_location(cache_dir: Path, url: str) -> tuple[Path, Path]:
    # Keyed without the credentials: a rotated token must reuse the clone, not start a new one.
    key = hashlib.sha256(_USERINFO.sub(r"\g<scheme>", url).encode()).hexdigest()
    return Path(cache_dir) / key, Path(cache_dir) / f"{key}.lock"


@contextlib.contextmanager
def _locked(lock_path: Path, runner: _Runner) -> Iterator[None]:
    """Hold an exclusive lock on one cached clone: two workers fetching into the same clone
    would race on FETCH_HEAD and on the clone's creation."""
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_path, "a") as handle:
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= runner.deadline:
                    busy = "timed out waiting for another worker using the cached clone"
                    raise runner.error(busy, transient=True) from None
                time.sleep(0.05)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _remote_commit(runner: _Runner, url: str, repo_dir: Path, ref: str | None) -> str | None:
    """Bring the cached clone up to date for ``ref`` and return its commit (``None``: the
    remote has no commits and no ref was asked for)."""
    fresh = _ensure_clone(runner, url, repo_dir)
    if fresh or (ref is not None and _FULL_SHA.fullmatch(ref)):
        # Just cloned: every branch and tag is here. A full commit id never changes meaning.
        commit = _rev_parse(runner, repo_dir, ref or "HEAD")
        if commit is not None:
            return commit
    log.debug("fetching %s %s", runner.label, ref or "HEAD")
    result = runner.run(
        ["fetch", "--quiet", "--no-tags", "--filter=blob:none", "origin", ref or "HEAD"],
        cwd=repo_dir,
        network=True,
        check=False,
    )
    if result.returncode == 0:
        commit = _rev_parse(runner, repo_dir, "FETCH_HEAD")
        if commit is None:
            raise runner.error("the ref does not name a commit", transient=False)
        return commit
    error = runner.failure("fetch", result.stderr, network=True)
    if error.transient:
        raise error
    if ref is None:
        if "couldn't find remote ref" in str(error):
            return None  # an empty repository has no HEAD yet
        raise error
    if _SHORT_SHA.fullmatch(ref):
        # Servers only hand out objects by full id; an abbreviated one can only be found
        # among the commits we hold, so bring every branch and tag up to date and look again.
        runner.run(
            [
                "fetch", "--quiet", "--filter=blob:none", "origin",
                "+refs/heads/*:refs/heads/*", "+refs/tags/*:refs/tags/*",
            ],
            cwd=repo_dir,
            network=True,
        )
        commit = _rev_parse(runner, repo_dir, ref)
        if commit is not None:
            return commit
    raise runner.error("unknown ref", transient=False)


def _ensure_clone(runner: _Runner, url: str, repo_dir: Path) -> bool:
    """Make sure the partial clone exists; return ``True`` if it was just created."""
    if (repo_dir / "HEAD").is_file() and (repo_dir / "objects").is_dir():
        # The URL may carry a fresh token: lazy blob fetches read it from the config.
        runner.run(["remote", "set-url", "origin", url], cwd=repo_dir)
        return False
    # Clone beside the final place and rename, so a crash mid-clone never leaves a
    # half-made clone that a later call would trust.
    staging = repo_dir.with_name(f"{repo_dir.name}.tmp-{os.getpid()}")
    # Leftovers of a worker that died mid-clone: only the lock holder clones, so none is live.
    for stale in [repo_dir, *repo_dir.parent.glob(f"{repo_dir.name}.tmp-*")]:
        shutil.rmtree(stale, ignore_errors=True)
    log.info("cloning %s", runner.label)
    try:
        runner.run(
            ["clone", "--quiet", "--bare", "--filter=blob:none", "--", url, str(staging)],
            network=True,
        )
        # Run automatic gc inside the fetch that triggers it (under our lock), not detached.
        runner.run(["config", "gc.autoDetach", "false"], cwd=staging)
        os.rename(staging, repo_dir)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return True


# --- local directories -----------------------------------------------------------------------


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
    result = runner.run(
        ["rev-parse", "--is-inside-work-tree", "--show-prefix"], cwd=directory, check=False
    )
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
    result = runner.run(
        ["ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=directory
    )
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


# --- commits ---------------------------------------------------------------------------------


def _rev_parse(runner: _Runner, cwd: Path, rev: str) -> str | None:
    result = runner.run(["rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}"], cwd=cwd, check=False)
    if result.returncode != 0:
        return None
    return result.stdout.decode().strip() or None


def _committed_at(runner: _Runner, cwd: Path, commit: str) -> datetime:
    result = runner.run(["show", "-s", "--format=%ct", commit], cwd=cwd)
    return datetime.fromtimestamp(int(result.stdout.decode().strip()), UTC)


def _first_parent_history(runner: _Runner, cwd: Path, commit: str) -> list[tuple[datetime, str]]:
    result = runner.run(["log", "--first-parent", "--format=%ct %H", commit], cwd=cwd)
    history = []
    for line in result.stdout.decode().splitlines():
        timestamp, sha = line.split()
        history.append((datetime.fromtimestamp(int(timestamp), UTC), sha))
    return history


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


# --- reading files ---------------------------------------------------------------------------


def _clean_path(path: str) -> str | None:
    """A repo-relative posix path, or ``None`` if it is absolute or climbs out of the root."""
    if not path or path.startswith("/"):
        return None
    cleaned = posixpath.normpath(path)
    if cleaned == ".." or cleaned.startswith("../") or cleaned == ".":
        return None
    return cleaned


def _decode(data: bytes) -> str | None:
    """UTF-8 text without its BOM, or ``None`` for binary content (a NUL byte or bad UTF-8)."""
    if b"\0" in data:
        return None
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8):]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def _too_large(max_file_bytes: int) -> str:
    for unit, name in ((1_000_000, "MB"), (1_000, "kB")):
        if max_file_bytes >= unit and max_file_bytes % unit == 0:
            return f"larger than {max_file_bytes // unit} {name}"
    return f"larger than {max_file_bytes} bytes"


_Outcome = tuple[list[RepoFile], list[SkippedFile]]
_Selection = tuple[tuple[RepoFile, ...], tuple[SkippedFile, ...]]


class _Reader(Protocol):
    """Where a snapshot's files come from: a directory on disk or git objects."""

    def select(self, runner: _Runner, wanted: Callable[[str], bool], max_file_bytes: int) -> _Selection: ...

    def read(self, runner: _Runner, path: str, max_file_bytes: int) -> str | None: ...


class _FsReader:
    """Reads files from a directory on disk (a work tree or a plain directory)."""

    __slots__ = ("_git", "_listing", "_real_root", "_root")

    def __init__(self, root: Path, *, listing: Callable[[_Runner], Iterable[str]], git: bool = False) -> None:
        self._root = root
        self._real_root = os.path.realpath(root)
        self._listing = listing
        self._git = git  # a work tree: git knows when each tracked file last changed

    def changed_at(self, runner: _Runner, path: str) -> datetime | None:
        cleaned = _clean_path(path)
        if not self._git or cleaned is None:
            return None
        return _last_change(runner, self._root, "HEAD", cleaned)

    def select(self, runner: _Runner, wanted: Callable[[str], bool], max_file_bytes: int) -> _Selection:
        files: list[RepoFile] = []
        skipped: list[SkippedFile] = []
        for path in sorted(p for p in self._listing(runner) if wanted(p)):
            outcome = self._load(path, max_file_bytes)
            if isinstance(outcome, RepoFile):
                files.append(outcome)
            elif isinstance(outcome, SkippedFile):
                skipped.append(outcome)
        return tuple(files), tuple(skipped)

    def read(self, runner: _Runner, path: str, max_file_bytes: int) -> str | None:
        cleaned = _clean_path(path)
        if cleaned is None:
            return None
        outcome = self._load(cleaned, max_file_bytes)
        return outcome.text if isinstance(outcome, RepoFile) else None

    def _load(self, path: str, max_file_bytes: int) -> RepoFile | SkippedFile | None:
        full = os.path.join(self._root, *path.split("/"))
        if not os.path.lexists(full):
            return None  # listed by git but deleted on disk: the developer no longer has it
        real = os.path.realpath(full)
        if os.path.commonpath([self._real_root, real]) != self._real_root:
            return SkippedFile(path, "symlink leaves the repository")
        try:
            info = os.stat(real)
        except FileNotFoundError:
            return SkippedFile(path, "dangling symlink")
        except OSError as error:
            if error.errno == 40:  # ELOOP
                return SkippedFile(path, "symlink loop")
            return SkippedFile(path, f"unreadable: {error.strerror}")
        if stat.S_ISDIR(info.st_mode):
            return SkippedFile(path, "symlink to a directory") if os.path.islink(full) else None
        if not stat.S_ISREG(info.st_mode):
            return SkippedFile(path, "not a regular file")
        if info.st_size > max_file_bytes:
            return SkippedFile(path, _too_large(max_file_bytes))
        try:
            with open(real, "rb") as handle:
                data = handle.read(max_file_bytes + 1)
        except OSError as error:
            return SkippedFile(path, f"unreadable: {error.strerror}")
        if len(data) > max_file_bytes:  # grew since stat
            return SkippedFile(path, _too_large(max_file_bytes))
        text = _decode(data)
        if text is None:
            return SkippedFile(path, "binary file")
        return RepoFile(path, None, len(data), text)


@dataclass(frozen=True, slots=True)
class _Entry:
    mode: str
    kind: str  # "blob" or "commit" (a submodule)
    oid: str


class _TreeReader:
    """Reads files of one commit from git objects.

    The whole tree is listed once, without sizes: ``ls-tree -l`` would make a partial clone
    fetch every blob of the tree, one request each, just to learn their sizes. Only the
    selected blobs (and the targets of selected symlinks) are fetched, in one request; their
    sizes are then read locally, so an oversized file is fetched but never read or decoded.
    """

    __slots__ = ("_commit", "_dirs", "_entries", "_git_dir", "_links", "_partial", "_tree")

    def __init__(self, git_dir: Path, commit: str, *, tree: str, partial: bool) -> None:
        self._git_dir = git_dir
        self._commit = commit
        self._tree = tree
        self._partial = partial
        self._entries: dict[str, _Entry] | None = None
        self._dirs: set[str] = set()
        self._links: dict[str, str] = {}  # symlink blob id → target, read so far

    def select(self, runner: _Runner, wanted: Callable[[str], bool], max_file_bytes: int) -> _Selection:
        entries = self._listing(runner)
        paths = sorted(p for p in entries if not _in_skipped_directory(p) and wanted(p))
        files, skipped = self._load(runner, paths, max_file_bytes)
        return tuple(files), tuple(skipped)

    def read(self, runner: _Runner, path: str, max_file_bytes: int) -> str | None:
        cleaned = _clean_path(path)
        if cleaned is None:
            return None
        files, _skipped = self._load(runner, [cleaned], max_file_bytes)
        return files[0].text if files else None

    def changed_at(self, runner: _Runner, path: str) -> datetime | None:
        # Commits and trees are all in the clone (only blobs are filtered out): no fetch. In a
        # subdirectory of a work tree git reads the path relative to it, as the snapshot's are.
        cleaned = _clean_path(path)
        return None if cleaned is None else _last_change(runner, self._git_dir, self._commit, cleaned)

    def _listing(self, runner: _Runner) -> dict[str, _Entry]:
        if self._entries is None:
            result = runner.run(
                ["ls-tree", "-r", "--full-tree", "-z", self._tree], cwd=self._git_dir, network=self._partial
            )
            entries: dict[str, _Entry] = {}
            for record in result.stdout.split(b"\0"):
                if not record:
                    continue
                meta, _, raw_path = record.partition(b"\t")
                mode, kind, oid = meta.decode().split()
                path = os.fsdecode(raw_path)
                entries[path] = _Entry(mode, kind, oid)
                parent = posixpath.dirname(path)
                while parent and parent not in self._dirs:
                    self._dirs.add(parent)
                    parent = posixpath.dirname(parent)
            self._entries = entries
        return self._entries

    def _load(self, runner: _Runner, paths: Sequence[str], max_file_bytes: int) -> _Outcome:
        entries = self._listing(runner)
        targets: dict[str, str] = {}  # path → path of the blob to read
        skipped: list[SkippedFile] = []
        pending = list(paths)
        while pending:  # each round reads at least one new symlink target, so it ends
            unknown_links: set[str] = set()
            still_pending = []
            for path in pending:
                outcome = self._resolve(entries, path, unknown_links)
                if outcome is None:
                    still_pending.append(path)
                elif isinstance(outcome, SkippedFile):
                    skipped.append(outcome)
                elif outcome:
                    targets[path] = outcome
            if not unknown_links:
                break
            link_oids = [entries[link].oid for link in sorted(unknown_links)]
            for oid, data in self._read_blobs(runner, link_oids).items():
                self._links[oid] = os.fsdecode(data)
            pending = still_pending
        candidates: dict[str, str] = {}
        for path, target in targets.items():
            if entries[target].kind != "blob":
                skipped.append(SkippedFile(path, "git submodule"))
            else:
                candidates[path] = entries[target].oid
        sizes = self._sizes(runner, list(dict.fromkeys(candidates.values())))
        to_read = {path: oid for path, oid in candidates.items() if sizes[oid] <= max_file_bytes}
        skipped.extend(SkippedFile(p, _too_large(max_file_bytes)) for p in candidates if p not in to_read)
        blobs = self._read_blobs(runner, list(dict.fromkeys(to_read.values())))
        files: list[RepoFile] = []
        for path, oid in to_read.items():
            data = blobs[oid]
            text = _decode(data)
            if text is None:
                skipped.append(SkippedFile(path, "binary file"))
            else:
                files.append(RepoFile(path, oid, len(data), text))
        skipped.sort(key=lambda s: s.path)
        return files, skipped

    def _resolve(self, entries: dict[str, _Entry], path: str, unknown_links: set[str]) -> str | SkippedFile | None:
        """Follow symlinks in ``path`` inside the tree: the path of the blob to read, ``""`` if
        nothing is there, a :class:`SkippedFile` if the link cannot be followed, or ``None``
        when a symlink's target has to be read first (its path is added to ``unknown_links``)."""
        resolved: list[str] = []
        remaining = path.split("/")
        hops = 0
        while remaining:
            part = remaining.pop(0)
            if part in ("", "."):
                continue
            if part == "..":
                if not resolved:
                    return SkippedFile(path, "symlink leaves the repository")
                resolved.pop()
                continue
            candidate = "/".join([*resolved, part])
            entry = entries.get(candidate)
            if entry is not None and entry.mode == _SYMLINK_MODE:
                if entry.oid not in self._links:
                    unknown_links.add(candidate)
                    return None
                hops += 1
                if hops > _MAX_SYMLINK_HOPS:
                    return SkippedFile(path, "symlink loop")
                target = self._links[entry.oid]
                if target.startswith("/"):
                    return SkippedFile(path, "symlink leaves the repository")
                remaining = target.split("/") + remaining
            elif entry is not None:
                if any(p not in ("", ".") for p in remaining):  # a file used as a directory
                    return SkippedFile(path, "dangling symlink") if hops else ""
                resolved.append(part)
            elif candidate in self._dirs:
                resolved.append(part)
            else:
                return SkippedFile(path, "dangling symlink") if hops else ""
        final = "/".join(resolved)
        if final not in entries:  # the root or a directory
            return SkippedFile(path, "symlink to a directory") if hops else ""
        return final

    def _sizes(self, runner: _Runner, oids: Sequence[str]) -> dict[str, int]:
        if not oids:
            return {}
        output = self._cat_file(runner, "--batch-check=%(objectname) %(objectsize)", oids)
        sizes: dict[str, int] = {}
        for line in output.decode().splitlines():
            oid, size = line.split()
            if size == "missing":
                raise runner.error(f"object {oid} could not be fetched", transient=True)
            sizes[oid] = int(size)
        return sizes

    def _read_blobs(self, runner: _Runner, oids: Sequence[str]) -> dict[str, bytes]:
        if not oids:
            return {}
        return _parse_batch(runner, self._cat_file(runner, "--batch", oids))

    def _cat_file(self, runner: _Runner, batch_option: str, oids: Sequence[str]) -> bytes:
        """One ``git cat-file`` for many objects, after one fetch of those a partial clone lacks."""
        self._prefetch(runner, oids)
        result = runner.run(
            ["cat-file", batch_option],
            cwd=self._git_dir,
            stdin="".join(f"{oid}\n" for oid in oids).encode(),
            network=self._partial,
        )
        return result.stdout

    def _prefetch(self, runner: _Runner, oids: Sequence[str]) -> None:
        """Fetch the missing blobs in one request: left to itself, ``cat-file`` would fetch
        them lazily one by one, a round trip (and a process) per file."""
        if not self._partial or len(oids) < 2:
            return  # a single blob costs one request either way
        listing = runner.run(
            ["rev-list", "--objects", "--missing=print", "--no-walk", self._commit], cwd=self._git_dir
        )
        missing = {line[1:] for line in listing.stdout.decode().splitlines() if line.startswith("?")}
        needed = [oid for oid in oids if oid in missing]
        if not needed:
            return
        log.debug("fetching %d blobs of %s", len(needed), runner.label)
        runner.run(
            [
                "fetch", "--quiet", "origin", "--no-tags", "--no-write-fetch-head",
                "--recurse-submodules=no", "--filter=blob:none", "--stdin",
            ],
            cwd=self._git_dir,
            stdin="".join(f"{oid}\n" for oid in needed).encode(),
            network=True,
            # What a lazy fetch runs too: ask for exactly these objects, skip the negotiation.
            config=["fetch.negotiationAlgorithm=noop"],
        )


def _parse_batch(runner: _Runner, output: bytes) -> dict[str, bytes]:
    """Parse ``git cat-file --batch`` output: ``<oid> <type> <size>\\n<content>\\n`` per object."""
    blobs: dict[str, bytes] = {}
    position = 0
    while position < len(output):
        newline = output.index(b"\n", position)
        header = output[position:newline].decode().split()
        if len(header) != 3:
            raise runner.error(f"object {header[0] if header else '?'} could not be fetched", transient=True)
        oid, _kind, size = header
        start = newline + 1
        blobs[oid] = output[start:start + int(size)]
        position = start + int(size) + 1
    return blobs
