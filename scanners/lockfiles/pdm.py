"""pdm.lock (lock_version 4.x): ``[[package]]`` with ``groups``, ``marker``, PEP 508
``dependencies`` and ``files``.

Files: a lock made with ``[[metadata.targets]]`` that name a ``platform`` or an
``implementation`` (``pdm lock --platform linux``) lists only the files for those targets,
so handing them to the analyser would make every other target look like "no wheel". The
files are therefore passed on only when no target restricts more than ``requires_python``;
otherwise ``files=None`` and the index decides. Older locks without ``targets`` are
cross-platform by default and keep their files.

pdm writes an extra entry for a package required with extras (``celery`` and ``celery``
with ``extras = ["redis"]``): both describe one install, so they are merged into one
package with the union of extras.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import NormalizedName, canonicalize_name

from scanners.distributions import DistributionFile
from scanners.lockfiles._common import (
    array_table_lines,
    canonical_name,
    distribution_file,
    line_for,
    load_toml,
    normalise_marker,
    sha256_of,
    url_basename,
)
from scanners.lockfiles.base import LockedPackage, LockfileError, LockfileProblem, ParsedLockfile, Source

__all__ = ["parse_pdm_lock"]


def parse_pdm_lock(path: str, text: str) -> ParsedLockfile:
    """Parse a pdm.lock. :raises LockfileError: not TOML, empty, binary or no ``package`` list."""
    data = load_toml(path, text)
    problems: list[LockfileProblem] = []
    metadata = data.get("metadata")
    if not isinstance(metadata, dict):
        metadata = {}
        problems.append(LockfileProblem(path, "metadata", "no [metadata] table: not written by PDM?"))
    raw_packages = data.get("package", [])
    if not isinstance(raw_packages, list):
        raise LockfileError(path, "'package' is not an array of tables")
    if not raw_packages and not metadata:
        raise LockfileError(path, "no [[package]] entries and no [metadata]: not a pdm.lock")
    keep_files = _files_are_complete(metadata.get("targets"))
    header_lines = array_table_lines(text, "package")
    packages: list[LockedPackage] = []
    seen: dict[tuple[NormalizedName, str | None, Source, str | None], int] = {}
    for index, raw in enumerate(raw_packages):
        location = f"package[{index}]"
        if not isinstance(raw, dict):
            problems.append(LockfileProblem(path, location, "not a table"))
            continue
        package = _package(
            path,
            raw,
            location=location,
            line=line_for(header_lines, index, len(raw_packages)),
            keep_files=keep_files,
            problems=problems,
        )
        if package is None:
            continue
        key = (package.name, package.version, package.source, package.detail)
        if key in seen:
            first = packages[seen[key]]
            packages[seen[key]] = replace(
                first,
                extras=tuple(sorted({*first.extras, *package.extras})),
                groups=tuple(dict.fromkeys((*first.groups, *package.groups))),
                files=first.files or package.files,
            )
            continue
        seen[key] = len(packages)
        packages.append(package)
    return ParsedLockfile(path=path, format="pdm.lock", packages=tuple(packages), problems=tuple(problems))


def _files_are_complete(targets: object) -> bool:
    if not isinstance(targets, list):
        return True
    return all(isinstance(t, dict) and set(t) <= {"requires_python"} for t in targets)


def _package(
    path: str,
    raw: dict[str, Any],
    *,
    location: str,
    line: int | None,
    keep_files: bool,
    problems: list[LockfileProblem],
) -> LockedPackage | None:
    name = canonical_name(raw.get("name"), path=path, location=f"{location}.name", problems=problems)
    if name is None:
        return None
    version = raw.get("version") if isinstance(raw.get("version"), str) else None
    source, detail = _source(raw)
    if version is None and source == "index":
        problems.append(LockfileProblem(path, f"{location}.version", f"{name}: missing version"))
        return None
    markers = normalise_marker(raw.get("marker"), path=path, location=f"{location}.marker", problems=problems)
    deps: set[NormalizedName] = set()
    raw_deps = raw.get("dependencies", [])
    if isinstance(raw_deps, list):
        for i, dep in enumerate(raw_deps):
            try:
                deps.add(canonicalize_name(Requirement(str(dep)).name))
            except InvalidRequirement as exc:
                problems.append(
                    LockfileProblem(path, f"{location}.dependencies[{i}]", f"invalid requirement {dep!r}: {exc}")
                )
    else:
        problems.append(LockfileProblem(path, f"{location}.dependencies", "not an array"))
    deps.discard(name)  # the "celery[redis]" entry depends on "celery" itself
    groups = raw.get("groups")
    extras = raw.get("extras")
    files: tuple[DistributionFile, ...] | None = None
    if source == "index" and keep_files:
        files = _files(path, raw.get("files"), location=f"{location}.files", problems=problems) or None
    return LockedPackage(
        name=name,
        version=version,
        lockfile=path,
        line=line,
        markers=markers,
        source=source,
        files=files,
        extras=tuple(sorted(e for e in extras if isinstance(e, str))) if isinstance(extras, list) else (),
        detail=detail,
        dependencies=tuple(sorted(deps)),
        groups=tuple(g for g in groups if isinstance(g, str)) if isinstance(groups, list) else (),
    )


def _source(raw: dict[str, Any]) -> tuple[Source, str | None]:
    if "git" in raw or "hg" in raw or "svn" in raw or "bzr" in raw:
        vcs = next(k for k in ("git", "hg", "svn", "bzr") if k in raw)
        ref = raw.get("revision") or raw.get("ref")
        return "vcs", f"{vcs} {raw[vcs]}" + (f"@{ref}" if ref else "")
    if raw.get("editable"):
        return "editable", f"editable {raw.get('path') or raw.get('url')}"
    if "path" in raw:
        return "path", f"path {raw['path']}"
    if "url" in raw:
        return "url", f"URL {raw['url']}"
    return "index", None


def _files(
    path: str, raw_files: object, *, location: str, problems: list[LockfileProblem]
) -> tuple[DistributionFile, ...]:
    if raw_files is None:
        return ()
    if not isinstance(raw_files, list):
        problems.append(LockfileProblem(path, location, "not an array"))
        return ()
    result = []
    for index, entry in enumerate(raw_files):
        if not isinstance(entry, dict):
            problems.append(LockfileProblem(path, f"{location}[{index}]", "not a table"))
            continue
        url = entry.get("url") if isinstance(entry.get("url"), str) else None
        filename = entry.get("file") if isinstance(entry.get("file"), str) else None
        filename = filename or (url_basename(url) if url else None)
        if not filename:
            problems.append(LockfileProblem(path, f"{location}[{index}]", "file entry without a file name"))
            continue
        result.append(distribution_file(filename, url=url, sha256=sha256_of(entry.get("hash"))))
    return tuple(result)
