"""The cache of remote repositories: where each clone lives, its lock, and bringing it up to
date for one ref.

A remote repository (``https://``, ``ssh://``, ``git@host:path``, ``file://``) is kept as a
bare, blob-filtered partial clone under ``cache_dir/<sha256 of the URL>``: commits and trees
only. Later scans ``git fetch`` the one ref they need into it instead of cloning again.

Credentials in the URL stay in the cached clone's ``remote.origin.url``, because git needs
them to fetch blobs lazily later: the cache is therefore as private as the credentials. The
cache directory is 0700, lock files 0600, and every clone is made with
``core.sharedRepository=0600`` so git itself writes its files 0600 and directories 0700 on every
later fetch too, whatever the process's umask; a clone made before that is fixed once.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import logging
import os
import re
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

from scanners.git.runner import _rev_parse, _Runner
from scanners.http import without_userinfo

log = logging.getLogger(__name__)


_FULL_SHA = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")
_SHORT_SHA = re.compile(r"[0-9a-f]{4,63}")
_SCHEME_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
_SCP_URL = re.compile(r"^[^/@:\s]+@[^/:\s]+:")  # git@host:owner/repo.git


def _is_remote(source: str) -> bool:
    return bool(_SCHEME_URL.match(source) or _SCP_URL.match(source))


def _cache_location(cache_dir: Path, url: str) -> tuple[Path, Path]:
    # Keyed without the credentials (the part redact() hides): a rotated token must reuse the
    # clone, not start a new one.
    key = hashlib.sha256(without_userinfo(url).encode()).hexdigest()
    return Path(cache_dir) / key, Path(cache_dir) / f"{key}.lock"


_SHARED_REPOSITORY = "0600"  # git's "files 0600, directories 0700" (it adds x where r is set)


def _private_dir(path: Path) -> None:
    """``path`` exists and only its owner may enter it: mkdir's mode is cut by the umask, and a
    cache made before this rule may be 0755, so the mode is set explicitly."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(path, 0o700)


def _make_private(root: Path) -> None:
    """Take every group and other permission off ``root`` and everything under it."""
    for directory, _subdirs, files in os.walk(root):
        os.chmod(directory, 0o700)
        for name in files:
            target = os.path.join(directory, name)
            if not os.path.islink(target):
                os.chmod(target, os.stat(target).st_mode & 0o700 | 0o600)


def _private_fetch_head(repo_dir: Path) -> None:
    # The one file git writes by the umask whatever core.sharedRepository says (git 2.39).
    with contextlib.suppress(FileNotFoundError):
        os.chmod(repo_dir / "FETCH_HEAD", 0o600)


@contextlib.contextmanager
def _locked(lock_path: Path, runner: _Runner) -> Iterator[None]:
    """Hold an exclusive lock on one cached clone: two workers fetching into the same clone
    would race on FETCH_HEAD and on the clone's creation."""
    _private_dir(lock_path.parent)
    descriptor = os.open(lock_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    os.fchmod(descriptor, 0o600)  # a lock file made before this rule, or under a loose umask
    with os.fdopen(descriptor, "a") as handle:
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
    _private_fetch_head(repo_dir)
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
                "fetch",
                "--quiet",
                "--filter=blob:none",
                "origin",
                "+refs/heads/*:refs/heads/*",
                "+refs/tags/*:refs/tags/*",
            ],
            cwd=repo_dir,
            network=True,
        )
        _private_fetch_head(repo_dir)
        commit = _rev_parse(runner, repo_dir, ref)
        if commit is not None:
            return commit
    raise runner.error("unknown ref", transient=False)


def _ensure_clone(runner: _Runner, url: str, repo_dir: Path) -> bool:
    """Make sure the partial clone exists; return ``True`` if it was just created."""
    if (repo_dir / "HEAD").is_file() and (repo_dir / "objects").is_dir():
        if (repo_dir / "config").stat().st_mode & 0o077:
            # A clone made before clones were private: from now on git keeps it so by itself.
            runner.run(["config", "core.sharedRepository", _SHARED_REPOSITORY], cwd=repo_dir)
            _make_private(repo_dir)
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
            [
                "clone",
                "--quiet",
                "--bare",
                "--filter=blob:none",
                # Set before the fetch: the packs and every later write come out private.
                "--config",
                f"core.sharedRepository={_SHARED_REPOSITORY}",
                # Run automatic gc inside the fetch that triggers it (under our lock), not detached.
                "--config",
                "gc.autoDetach=false",
                "--",
                url,
                str(staging),
            ],
            network=True,
        )
        # What git wrote before the setting took effect (HEAD, config, hooks) follows the umask.
        _make_private(staging)
        os.rename(staging, repo_dir)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return True
