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
import datetime as dt
import functools
import hashlib
import posixpath
import re
import threading
from collections import OrderedDict
from typing import Any

from packaging.markers import InvalidMarker, Marker
from packaging.pylock import Package, Pylock, PylockUnsupportedVersionError, PylockValidationError
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import canonicalize_name, is_normalized_name, parse_sdist_filename
from packaging.version import InvalidVersion, Version

from scanners.distributions import DistributionFile, wheel_name_and_version
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
    fast = _index_package(raw)
    if fast is not None:
        outcome = (fast, None)
    else:
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


# What an index package (sdist and wheels, as uv export and pip lock write them) may hold for
# :func:`_index_package` to check it itself; anything else goes to packaging.
_INDEX_PACKAGE_KEYS = frozenset(
    ("name", "version", "marker", "requires-python", "dependencies", "index", "sdist", "wheels", "tool")
)
_FILE_KEYS = frozenset(("name", "upload-time", "url", "path", "size", "hashes"))
_WEB_URL = re.compile(r"(?:https?|file)://[^;]*\Z", re.IGNORECASE)


def _index_package(raw: Any) -> LockedPackage | None:
    """The package an index entry locks, when it is plainly one that packaging accepts; else ``None``.

    packaging builds an object per wheel and parses each wheel's name afresh (about 1 ms a package
    of 16 wheels: most of a pylock.toml's parse). This checks the same things for the shape tools
    write, with the file-name parsing this package caches, and builds the :class:`LockedPackage`
    :func:`_package` would. It only ever says yes where packaging would: anything it does not
    recognise as valid (a key it does not know, a type, a name, a path or URL it would read
    differently) gets ``None``, and packaging then decides, with its own messages.
    """
    if not isinstance(raw, dict) or not _INDEX_PACKAGE_KEYS.issuperset(raw):
        return None
    name, version_text = raw.get("name"), raw.get("version")
    if not isinstance(name, str) or not is_normalized_name(name):
        return None
    try:
        version = Version(version_text) if isinstance(version_text, str) else None
        requires_python = _specifiers(raw["requires-python"]) if "requires-python" in raw else None
        marker = _marker(raw["marker"]) if "marker" in raw else None
    except (InvalidVersion, InvalidSpecifier, InvalidMarker, TypeError):
        return None
    dependencies, sdist, wheels = raw.get("dependencies"), raw.get("sdist"), raw.get("wheels")
    if (
        (version_text is not None and version is None)
        or not _optional(raw, "index", str)
        or not _optional(raw, "tool", dict)
        or not (
            dependencies is None or (isinstance(dependencies, list) and all(isinstance(d, dict) for d in dependencies))
        )
        or not (wheels is None or isinstance(wheels, list))
        or (sdist is None and not wheels)
    ):
        return None
    files = []
    for entry, kind in [*([(sdist, "sdist")] if sdist is not None else []), *((w, "wheel") for w in wheels or ())]:
        file = _index_file(entry, kind, name, version, requires_python)
        if file is None:
            return None
        files.append(file)
    return LockedPackage(
        name=canonicalize_name(name),
        version=str(version) if version is not None else _version_of(tuple(files)),
        lockfile="",
        line=None,
        markers=marker,
        source="index",
        files=tuple(files),
        detail=None,
        dependencies=tuple(
            sorted({canonicalize_name(d["name"]) for d in dependencies or () if isinstance(d.get("name"), str)})
        ),
    )


def _index_file(
    entry: Any, kind: str, project: str, version: Version | None, requires_python: str | None
) -> DistributionFile | None:
    """One sdist or wheel of :func:`_index_package`, or ``None`` where packaging must decide."""
    if not isinstance(entry, dict) or not _FILE_KEYS.issuperset(entry):
        return None
    name, url, path, size, hashes = (entry.get(k) for k in ("name", "url", "path", "size", "hashes"))
    if (
        not _optional(entry, "name", str)
        or not _optional(entry, "path", str)
        or not _optional(entry, "upload-time", dt.datetime)
        or not (size is None or (isinstance(size, int) and not isinstance(size, bool)))
        or not (url is None or (isinstance(url, str) and _WEB_URL.match(url)))  # read as packaging reads it
        or not (path or url)
        or not (isinstance(hashes, dict) and hashes and all(isinstance(h, str) for h in hashes.values()))
    ):
        return None
    filename = name or _path_name(path) or url_basename(url or "")  # packaging's reading of the file's name
    if not filename:
        return None
    if kind == "wheel":
        parsed = wheel_name_and_version(filename)
        if parsed is None or parsed[0] != project or (version is not None and parsed[1] != version):
            return None
    else:
        try:
            sdist_name, sdist_version = parse_sdist_filename(filename)
        except Exception:  # noqa: BLE001 - whatever packaging objects to, packaging says it
            return None
        if sdist_name != project or (version is not None and sdist_version != version):
            return None
    return distribution_file(
        (url_basename(url) if url else None) or name or url_basename(path or ""),  # as _package names it
        url=url,
        sha256=hashes.get("sha256"),
        size=size,
        upload_time=entry.get("upload-time"),
        requires_python=requires_python,
    )


def _optional(table: dict, key: str, expected: type) -> bool:
    value = table.get(key)
    return value is None or isinstance(value, expected)


def _path_name(path: str | None) -> str | None:
    """The file name in a lock's ``path``, POSIX or Windows separators (as packaging reads it)."""
    if not path:
        return None
    return path.rsplit("/" if "/" in path else "\\", 1)[-1]


@functools.lru_cache(maxsize=1024)
def _specifiers(raw: object) -> str | None:
    if not isinstance(raw, str):
        raise TypeError(raw)
    specifiers = SpecifierSet(raw)
    return str(specifiers) if specifiers else None


@functools.lru_cache(maxsize=1024)
def _marker(raw: object) -> str | None:
    if not isinstance(raw, str):
        raise TypeError(raw)
    return str(Marker(raw))


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
