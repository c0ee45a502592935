"""A ref's history: which commit was current at each point in time (for backfilling trend
charts) and when a path last changed (a lockfile's date).

Commits and trees are all in a cached clone (only blobs are filtered out), so history never
fetches file contents.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

from scanners.git.clone_cache import _cache_location, _is_remote, _locked, _remote_commit
from scanners.git.local import _local_directory, _local_git
from scanners.git.runner import _rev_parse, _Runner, _start


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
