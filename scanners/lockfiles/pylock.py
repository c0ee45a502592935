"""pylock.toml (PEP 751), validated by :mod:`packaging.pylock`.

``Pylock.from_dict`` checks the whole document and stops at the first bad key. So that one
bad package does not hide the others, the document is validated without its packages (an
error there, ``lock-version``, ``created-by``, makes the whole file unreadable) and each
package on its own: a package it rejects is reported as a problem with packaging's key path
(``packages[3].wheels[0]``).

Packages with ``wheels``/``sdist`` carry their files. Note that a lock is only as portable as
the tool made it: ``pip lock`` writes only the files for the machine it ran on, and PEP 751
says installers use only the files listed, so a wheel missing from the lock really is
missing for an install from that lock. ``vcs``/``directory``/``archive`` packages are not
index packages.
"""

from __future__ import annotations

import dataclasses
import hashlib
import posixpath
import re
import threading
from collections import OrderedDict
from typing import Any

from packaging.pylock import Package, Pylock, PylockUnsupportedVersionError, PylockValidationError
from packaging.utils import canonicalize_name

from scanners.distributions import DistributionFile
from scanners.lockfiles._common import (
    array_table_lines,
    distribution_file,
    header_command,
    line_for,
    load_toml,
    url_basename,
    with_lines,
)
from scanners.lockfiles.base import LockedPackage, LockfileError, LockfileProblem, ParsedLockfile, Source

__all__ = ["parse_pylock"]

_PACKAGE_CONTEXT_RE = re.compile(r"^packages\[(\d+)\]")


def parse_pylock(path: str, text: str) -> ParsedLockfile:
    """Parse a pylock.toml. :raises LockfileError: not TOML, or invalid outside ``packages``."""
    data = load_toml(path, text)
    problems: list[LockfileProblem] = []
    raw_packages = data.get("packages")
    header_lines = array_table_lines(text, "packages")
    total = len(raw_packages) if isinstance(raw_packages, list) else 0
    if isinstance(raw_packages, list):
        # The document without its packages first: an error there makes the whole file unreadable.
        lock = _validate_whole(path, {**data, "packages": []})
    else:
        lock = _validate_whole(path, data)  # "packages" missing or not an array: packaging says what is wrong
        raw_packages = []
    # Then each package on its own, as packaging checks it inside a document: the same messages
    # and key paths, one bad package never hides the others, and a package this process has
    # validated before (the same release locked by many repos) is not validated again.
    kept: list[tuple[int, LockedPackage, str | None]] = []
    for original, raw in enumerate(raw_packages):
        outcome = _validated_package(raw)
        if isinstance(outcome, PylockValidationError):
            context = outcome.context or ""
            match = _PACKAGE_CONTEXT_RE.match(context)
            key = f"packages[{original}]" + (context[match.end() :] if match else "")
            problems.append(LockfileProblem(path, key, outcome.message))
            continue
        kept.append((original, *outcome))
    packages = []
    for original, template, itself in kept:
        if itself is not None:
            # uv export lists the project itself as a directory package: it is not a dependency.
            problems.append(
                LockfileProblem(path, f"packages[{original}]", f"{itself} is the project itself", severity="info")
            )
            continue
        packages.append(dataclasses.replace(template, lockfile=path, line=line_for(header_lines, original, total)))
    located = with_lines(problems, text, key="packages", count=total)
    return ParsedLockfile(
        path=path,
        format="pylock.toml",
        packages=tuple(packages),
        problems=located,
        # uv export writes the command it ran into the header; pip lock writes none.
        generated_by=header_command(text, ("uv export",)) or lock.created_by,
    )


def _validate_whole(path: str, data: dict[str, Any]) -> Pylock:
    try:
        return Pylock.from_dict(data)
    except PylockUnsupportedVersionError as exc:
        raise LockfileError(path, f"unsupported pylock: {exc}") from None
    except PylockValidationError as exc:
        where = f" at {exc.context}" if exc.context else ""
        raise LockfileError(path, f"invalid pylock{where}: {exc.message}") from None


# One package checked inside the smallest valid document: packaging validates packages only
# as part of a lock, and its messages and key paths ("packages[0].wheels[3]") are kept as they are.
_SKELETON = {"lock-version": "1.0", "created-by": "archcheck"}
# What is remembered per entry is the LockedPackage it gives (its files shared with the lockfile
# parsers' cache of DistributionFiles), not packaging's objects (22 kB an entry of 16 wheels):
# ~15 kB an entry with its files, so at most ~60 MB of a worker.
_VALIDATED_MAX = 4_000
_Validated = tuple[LockedPackage, str | None] | PylockValidationError
_VALIDATED: OrderedDict[bytes, _Validated] = OrderedDict()
_VALIDATED_LOCK = threading.Lock()


def _validated_package(raw: Any) -> _Validated:
    """``raw`` validated by :mod:`packaging.pylock`: the package it locks (lockfile and line left
    to fill) and, for the project's own directory entry, its name; or packaging's error.

    Remembered per process by content: checking a package's wheels (names, versions, hashes,
    times) was most of the time spent on a pylock.toml, and repos of one organisation lock the
    same releases, so each distinct entry is checked once. The key is a digest of the entry's
    ``repr``: TOML values (strings, numbers, booleans, dates, arrays, tables) have reprs that
    differ whenever the values do. The values are frozen, shared read-only.
    """
    key = hashlib.blake2b(repr(raw).encode(), digest_size=16).digest()
    with _VALIDATED_LOCK:
        hit = _VALIDATED.get(key)
        if hit is not None:
            _VALIDATED.move_to_end(key)
            return hit
    outcome: _Validated
    try:
        package = Pylock.from_dict({**_SKELETON, "packages": [raw]}).packages[0]
    except PylockValidationError as exc:
        outcome = exc
    else:
        itself = package.directory is not None and posixpath.normpath(str(package.directory.path)) == "."
        outcome = (_package("", package, line=None), package.name if itself else None)
    with _VALIDATED_LOCK:
        _VALIDATED[key] = outcome
        while len(_VALIDATED) > _VALIDATED_MAX:
            _VALIDATED.popitem(last=False)
    return outcome


def _package(path: str, package: Package, *, line: int | None) -> LockedPackage:
    source: Source = "index"
    detail: str | None = None
    files: tuple[DistributionFile, ...] | None = None
    if package.vcs is not None:
        vcs = package.vcs
        ref = vcs.commit_id or vcs.requested_revision
        source, detail = "vcs", f"{vcs.type} {vcs.url or vcs.path}" + (f"@{ref}" if ref else "")
    elif package.directory is not None:
        directory = package.directory
        source = "editable" if directory.editable else "path"
        detail = f"directory {directory.path}"
    elif package.archive is not None:
        archive = package.archive
        source, detail = ("url", f"archive {archive.url}") if archive.url else ("path", f"archive {archive.path}")
    else:
        entries: list[Any] = ([package.sdist] if package.sdist else []) + list(package.wheels or ())
        files = (
            tuple(
                distribution_file(
                    # The URL names the file the installer downloads; uv export writes a normalised
                    # ``name`` ("markupsafe-3.0.2-…") beside a URL that keeps the real one ("MarkupSafe-…").
                    (url_basename(entry.url) if entry.url else None)
                    or entry.name
                    or url_basename(str(entry.path or "")),
                    url=entry.url,
                    sha256=entry.hashes.get("sha256"),
                    size=entry.size,
                    upload_time=entry.upload_time,
                    requires_python=str(package.requires_python) if package.requires_python else None,
                )
                for entry in entries
            )
            or None
        )
    return LockedPackage(
        name=canonicalize_name(package.name),
        version=str(package.version) if package.version is not None else _version_of(files),
        lockfile=path,
        line=line,
        markers=str(package.marker) if package.marker is not None else None,
        source=source,
        files=files,
        detail=detail,
        dependencies=tuple(
            sorted({canonicalize_name(d["name"]) for d in package.dependencies or () if isinstance(d.get("name"), str)})
        ),
    )


def _version_of(files: tuple[DistributionFile, ...] | None) -> str | None:
    """PEP 751 makes ``version`` optional; an index package without it is still pinned by its
    files, so their one common version is the pin (none, or several: not a pin)."""
    versions = {f.version for f in files or () if f.version is not None}
    return str(versions.pop()) if len(versions) == 1 else None
