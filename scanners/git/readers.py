"""Reading a snapshot's files, from a directory on disk or from git objects, with the same
checks whichever the source.

Files over ``max_file_bytes``, binary files and symlinks that leave the repository (or point
nowhere) are not read but reported as :class:`~scanners.git.snapshot.SkippedFile` with a
reason, so a report can say why a lockfile was ignored. A symlink inside the repository is
followed and reported under the link's path. From git objects the tree is listed with
``git ls-tree`` and only the blobs of the selected paths are fetched, all in one request.
"""

from __future__ import annotations

import codecs
import logging
import os
import posixpath
import stat
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

from scanners.git.history import _last_change
from scanners.git.local import _in_skipped_directory
from scanners.git.runner import _Runner
from scanners.git.snapshot import RepoFile, SkippedFile

log = logging.getLogger(__name__)

_MAX_SYMLINK_HOPS = 40  # as Linux's ELOOP limit: deeper chains are loops in practice
_SYMLINK_MODE = "120000"


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
        data = data[len(codecs.BOM_UTF8) :]
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

    def changed_at(self, runner: _Runner, path: str) -> datetime | None: ...


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

    __slots__ = (
        "_commit",
        "_commit_object",
        "_dirs",
        "_entries",
        "_git_dir",
        "_links",
        "_partial",
        "_present",
        "_tree",
    )

    def __init__(self, git_dir: Path, commit: str, *, tree: str, partial: bool) -> None:
        self._git_dir = git_dir
        self._commit = commit
        self._tree = tree
        self._partial = partial
        self._entries: dict[str, _Entry] | None = None
        self._dirs: set[str] = set()
        self._links: dict[str, str] = {}  # symlink blob id → target, read so far
        self._commit_object: bytes | None = None  # the commit itself, read with the selected blobs
        # Objects known to be in the clone: the size check and the read that follows it ask for
        # the same blobs, and the second need not list the tree's missing objects again.
        self._present: set[str] = set()

    def select(self, runner: _Runner, wanted: Callable[[str], bool], max_file_bytes: int) -> _Selection:
        entries = self._listing(runner)
        paths = sorted(p for p in entries if not _in_skipped_directory(p) and wanted(p))
        files, skipped = self._load(runner, paths, max_file_bytes, with_commit=True)
        return tuple(files), tuple(skipped)

    def committed_at(self, runner: _Runner) -> datetime:
        """The commit's committer date (``git show -s --format=%ct``), from the commit object
        :meth:`select` read in the same ``cat-file`` as the files: one git process less per scan."""
        if self._commit_object is None:
            self._commit_object = self._read_blobs(runner, [self._commit])[self._commit]
        stamp = _committer_timestamp(self._commit_object)
        if stamp is None:
            raise runner.error(f"commit {self._commit} has no committer line", transient=False)
        return datetime.fromtimestamp(stamp, UTC)

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

    def _load(
        self, runner: _Runner, paths: Sequence[str], max_file_bytes: int, *, with_commit: bool = False
    ) -> _Outcome:
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
        wanted_oids = list(dict.fromkeys(to_read.values()))
        if with_commit and self._commit_object is None:
            wanted_oids.append(self._commit)
        blobs = self._read_blobs(runner, wanted_oids)
        if with_commit and self._commit in blobs and self._commit_object is None:
            self._commit_object = blobs[self._commit]
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
        oids = [oid for oid in oids if oid != self._commit and oid not in self._present]  # the commit is in the clone
        if not self._partial or len(oids) < 2:
            return  # a single blob costs one request either way
        listing = runner.run(["rev-list", "--objects", "--missing=print", "--no-walk", self._commit], cwd=self._git_dir)
        missing = {line[1:] for line in listing.stdout.decode().splitlines() if line.startswith("?")}
        needed = [oid for oid in oids if oid in missing]
        self._present.update(oid for oid in oids if oid not in missing)
        if not needed:
            return
        log.debug("fetching %d blobs of %s", len(needed), runner.label)
        runner.run(
            [
                "fetch",
                "--quiet",
                "origin",
                "--no-tags",
                "--no-write-fetch-head",
                "--recurse-submodules=no",
                "--filter=blob:none",
                "--stdin",
            ],
            cwd=self._git_dir,
            stdin="".join(f"{oid}\n" for oid in needed).encode(),
            network=True,
            # What a lazy fetch runs too: ask for exactly these objects, skip the negotiation.
            config=["fetch.negotiationAlgorithm=noop"],
        )
        self._present.update(needed)


def _committer_timestamp(commit: bytes) -> int | None:
    """The committer's Unix time in a raw commit object ("committer Name <mail> 1700000000 +0000")."""
    for line in commit.split(b"\n"):
        if not line:
            break  # the headers end at the first empty line; the message follows
        if line.startswith(b"committer "):
            parts = line.rsplit(b" ", 2)
            return int(parts[1]) if len(parts) == 3 and parts[1].isdigit() else None
    return None


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
        blobs[oid] = output[start : start + int(size)]
        position = start + int(size) + 1
    return blobs
