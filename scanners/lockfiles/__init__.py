"""Lockfile parsers: which file is which format, and one entry point that parses any of them.

Formats are recognised by file name only (never by content), so that a scan can decide which
files to fetch from a repository before reading any of them.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable
from pathlib import Path

from packaging.pylock import is_valid_pylock_path

from scanners.lockfiles.base import (
    LockedPackage,
    LockfileError,
    LockfileProblem,
    ParsedLockfile,
    Source,
)
from scanners.lockfiles.pdm import parse_pdm_lock
from scanners.lockfiles.pipfile import parse_pipfile_lock
from scanners.lockfiles.poetry import parse_poetry_lock
from scanners.lockfiles.pylock import parse_pylock
from scanners.lockfiles.requirements import parse_requirements
from scanners.lockfiles.uv import parse_uv_lock

__all__ = [
    "FORMATS",
    "LockedPackage",
    "LockfileError",
    "LockfileProblem",
    "ParsedLockfile",
    "Source",
    "detect_format",
    "parse_lockfile",
]

FORMATS = ("requirements", "poetry.lock", "uv.lock", "Pipfile.lock", "pdm.lock", "pylock.toml")

_EXACT_NAMES = frozenset({"poetry.lock", "uv.lock", "Pipfile.lock", "pdm.lock"})
"""Formats whose file name is the format's name (the others are matched by pattern)."""
_REQUIREMENTS_DIRS = {"requirements", "reqs"}
_CONSTRAINTS_RE = re.compile(r"^constraints.*\.txt$")


def detect_format(path: str) -> str | None:
    """The lockfile format a repository path holds, from its name alone, or ``None``.

    ``requirements``: ``requirements*.txt``, ``*requirements*.txt``, ``constraints*.txt`` and
    any ``*.txt`` inside a ``requirements/`` directory. ``.in`` files are inputs to pip-compile,
    not locks, so they are never reported. ``pylock.toml`` also covers PEP 751's named locks
    (``pylock.dev.toml``).
    """
    normalised = path.replace("\\", "/")
    name = posixpath.basename(normalised)
    if name in _EXACT_NAMES:
        return name
    if is_valid_pylock_path(Path(name)):  # only .name is read: no I/O
        return "pylock.toml"
    lower = name.lower()
    if not lower.endswith(".txt"):
        return None
    if "requirements" in lower or _CONSTRAINTS_RE.match(lower):
        return "requirements"
    parents = normalised.lower().split("/")[:-1]
    if any(part in _REQUIREMENTS_DIRS for part in parents):
        return "requirements"
    return None


def parse_lockfile(
    path: str,
    text: str,
    *,
    read_file: Callable[[str], str | None] | None = None,
    lockfile_format: str | None = None,
) -> ParsedLockfile:
    """Parse one lockfile by its format.

    :param path: repository-relative path (messages name it; includes are resolved from it).
    :param text: the file's text.
    :param read_file: returns another repository file's text (or ``None`` when missing): requirements
        files follow their ``-r``/``-c`` includes with it, poetry.lock reads its ``pyproject.toml``.
    :param lockfile_format: overrides :func:`detect_format` (one of :data:`FORMATS`).
    :raises LockfileError: the file cannot be read at all (binary, not TOML/JSON, empty,
        unknown format); bad entries are returned as ``problems`` instead.
    """
    fmt = lockfile_format or detect_format(path)
    if fmt == "requirements":
        return parse_requirements(path, text, read_file=read_file)
    if fmt == "poetry.lock":
        return parse_poetry_lock(path, text, read_file=read_file)
    if fmt == "uv.lock":
        return parse_uv_lock(path, text)
    if fmt == "Pipfile.lock":
        return parse_pipfile_lock(path, text)
    if fmt == "pdm.lock":
        return parse_pdm_lock(path, text)
    if fmt == "pylock.toml":
        return parse_pylock(path, text)
    raise LockfileError(path, f"not a known lockfile format: {fmt or 'unrecognised file name'}")
