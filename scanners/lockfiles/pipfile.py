"""Pipfile.lock (pipenv): JSON with ``default`` and ``develop`` sections.

Entries give ``version: "==1.2.3"``, ``markers``, ``extras``, ``hashes`` — hashes without
file names, so the index is asked for the files, and only those whose sha256 is listed are
candidates: pipenv installs with pip's hash checking, so a wheel uploaded after the lock was
made is not installed from it. ``git``/``path``/``file``/``editable``
entries are not index packages. Dev packages are kept, labelled ``groups=("develop",)``;
a package in both sections is reported once per section (they may pin different markers).
Pipenv does not record which packages the Pipfile asked for, so ``direct`` is ``None``.
"""

from __future__ import annotations

import bisect
import json
import re
from typing import Any

from packaging.version import InvalidVersion, Version

from scanners.lockfiles._common import (
    canonical_name,
    load_json,
    normalise_marker,
    requirement_source,
    sha256_of,
    str_items,
)
from scanners.lockfiles.base import LockedPackage, LockfileError, LockfileProblem, ParsedLockfile, Source

__all__ = ["parse_pipfile_lock"]

_SECTIONS = ("default", "develop")


def parse_pipfile_lock(path: str, text: str) -> ParsedLockfile:
    """Parse a Pipfile.lock. :raises LockfileError: not JSON, empty, binary, not an object."""
    data = load_json(path, text)
    if not isinstance(data, dict):
        raise LockfileError(path, f"top level is a JSON {type(data).__name__}, not an object")
    problems: list[LockfileProblem] = []
    if not any(s in data for s in _SECTIONS):
        raise LockfileError(path, "neither 'default' nor 'develop' section: not a Pipfile.lock")
    keys = _KeyLines(text.splitlines())
    packages: list[LockedPackage] = []
    for section in _SECTIONS:
        entries = data.get(section, {})
        if not isinstance(entries, dict):
            problems.append(LockfileProblem(path, section, "not an object"))
            continue
        section_line = keys.find(f'"{section}"', 0)
        for raw_name, entry in entries.items():
            location = f"{section}.{raw_name}"
            name = canonical_name(raw_name, path=path, location=location, problems=problems)
            if name is None:
                continue
            if not isinstance(entry, dict):
                problems.append(LockfileProblem(path, location, "not an object"))
                continue
            line = keys.find(json.dumps(raw_name), section_line) if section_line else None
            package = _package(path, name, entry, location=location, section=section, line=line, problems=problems)
            if package is not None:
                packages.append(package)
    return ParsedLockfile(path=path, format="Pipfile.lock", packages=tuple(packages), problems=tuple(problems))


def _is_version(text: str) -> bool:
    try:
        Version(text.strip())
    except InvalidVersion:
        return False
    return True


_KEY_LINE_RE = re.compile(r'^\s*("(?:[^"\\]|\\.)*")\s*:')


class _KeyLines:
    """Where each JSON key starts a line (1-based), read once: pipenv writes one key per line.

    Looking each package up in this index, rather than scanning the lines from its section's
    start, keeps a lock of hundreds of packages linear (the scan was 90% of its parse).
    """

    def __init__(self, lines: list[str]) -> None:
        self._lines: dict[str, list[int]] = {}
        for number, text in enumerate(lines, 1):
            match = _KEY_LINE_RE.match(text)
            if match:
                self._lines.setdefault(match.group(1), []).append(number)

    def find(self, key: str, start: int) -> int | None:
        """Line of ``key`` (as JSON writes it, quotes included) at or after ``start``."""
        numbers = self._lines.get(key, [])
        i = bisect.bisect_left(numbers, max(start, 1))
        return numbers[i] if i < len(numbers) else None


def _package(
    path: str,
    name: Any,
    entry: dict[str, Any],
    *,
    location: str,
    section: str,
    line: int | None,
    problems: list[LockfileProblem],
) -> LockedPackage | None:
    markers = normalise_marker(entry.get("markers"), path=path, location=f"{location}.markers", problems=problems)
    source: Source
    source, detail = requirement_source(entry, url_key="file", url_label="file", ref_keys=("ref",))
    version: str | None = None
    raw_version = entry.get("version")
    if source == "index":
        if isinstance(raw_version, str) and raw_version.startswith("==") and _is_version(raw_version.lstrip("=")):
            version = raw_version.lstrip("=").strip()
        elif raw_version is None or raw_version == "*":
            source, detail = "unpinned", "no version in the lock"
        elif not isinstance(raw_version, str):
            problems.append(LockfileProblem(path, f"{location}.version", f"version is not a string: {raw_version!r}"))
            return None
        else:
            # pipenv writes the Pipfile's specifier behind "==" ("==>=306") for a package its own
            # platform did not resolve (pywin32 on Linux): no version was locked for it.
            source, detail = "unpinned", f"version {raw_version!r} is not a pin"
    return LockedPackage(
        name=name,
        version=version,
        lockfile=path,
        line=line,
        markers=markers,
        source=source,
        extras=str_items(entry.get("extras"), sort=True),
        detail=detail,
        groups=(section,),
        hashes=_hashes(entry.get("hashes")) if source == "index" else None,
    )


def _hashes(raw: object) -> frozenset[str] | None:
    """``["sha256:…", …]`` to digests; an entry without hashes is installed unchecked (``None``)."""
    if not isinstance(raw, list):
        return None
    digests = frozenset(d for d in (sha256_of(h) for h in raw) if d)
    return digests or None
