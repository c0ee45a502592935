"""poetry.lock, every lock-version Poetry has written.

* ``lock-version = "1.1"`` (Poetry ≤ 1.2): files are in one ``[metadata.files]`` table keyed
  by project name, shared by every version of that name.
* ``"2.0"`` (Poetry 1.3–1.8) and ``"2.1"`` (Poetry 2.x): ``files`` inline in each package;
  2.1 adds ``groups`` and ``markers`` (a string, or a table of markers per group).

Poetry lists every file of a release it saw on the index, so the files become the package's
``files`` and the analyser need not ask the index. A package with no files listed (a private
index Poetry could not list) gets ``files=None``: the index decides then. The lock does not
record which packages the project asked for itself, so ``direct`` is ``None``.
"""

from __future__ import annotations

from typing import Any

from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import InvalidVersion, Version

from scanners.distributions import DistributionFile
from scanners.lockfiles._common import (
    canonical_name,
    distribution_file,
    load_toml,
    normalise_marker,
    or_markers,
    package_tables,
    sha256_of,
    str_items,
    tool_metadata,
    with_lines,
)
from scanners.lockfiles.base import LockedPackage, LockfileProblem, ParsedLockfile, Source

__all__ = ["parse_poetry_lock"]

_KNOWN_LOCK_MAJORS = {"1", "2"}


def parse_poetry_lock(path: str, text: str) -> ParsedLockfile:
    """Parse a poetry.lock. :raises LockfileError: not TOML, empty, binary or no ``package`` list."""
    data = load_toml(path, text)
    problems: list[LockfileProblem] = []
    metadata, raw_packages = tool_metadata(path, data, tool="Poetry", lock_name="poetry.lock", problems=problems)
    lock_version = metadata.get("lock-version")
    if isinstance(lock_version, str) and lock_version.split(".")[0] not in _KNOWN_LOCK_MAJORS:
        problems.append(
            LockfileProblem(path, "metadata.lock-version", f"unknown lock-version {lock_version!r}; read as 2.x")
        )
    shared_files = _metadata_files(path, metadata.get("files"), problems)
    packages: list[LockedPackage] = []
    for _index, location, line, raw in package_tables(path, text, raw_packages, problems=problems):
        package = _package(path, raw, location=location, line=line, shared_files=shared_files, problems=problems)
        if package is not None:
            packages.append(package)
    located = with_lines(problems, text, key="package", count=len(raw_packages))
    return ParsedLockfile(path=path, format="poetry.lock", packages=tuple(packages), problems=located)


def _metadata_files(
    path: str, raw: object, problems: list[LockfileProblem]
) -> dict[NormalizedName, list[dict[str, Any]]]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        problems.append(LockfileProblem(path, "metadata.files", "not a table"))
        return {}
    result: dict[NormalizedName, list[dict[str, Any]]] = {}
    for name, files in raw.items():
        if isinstance(files, list):
            result.setdefault(canonicalize_name(name), []).extend(f for f in files if isinstance(f, dict))
        else:
            problems.append(LockfileProblem(path, f"metadata.files.{name}", "not an array"))
    return result


def _package(
    path: str,
    raw: dict[str, Any],
    *,
    location: str,
    line: int | None,
    shared_files: dict[NormalizedName, list[dict[str, Any]]],
    problems: list[LockfileProblem],
) -> LockedPackage | None:
    name = canonical_name(raw.get("name"), path=path, location=f"{location}.name", problems=problems)
    if name is None:
        return None
    version = raw.get("version")
    if not isinstance(version, str) or not version:
        problems.append(LockfileProblem(path, f"{location}.version", f"{name}: missing version"))
        return None
    source, detail = _source(raw.get("source"), develop=raw.get("develop") is True)
    markers = _markers(path, raw.get("markers"), location=f"{location}.markers", problems=problems)
    dependencies = raw.get("dependencies")
    deps: tuple[NormalizedName, ...] = ()
    if isinstance(dependencies, dict):
        deps = tuple(sorted({canonicalize_name(d) for d in dependencies}))
    elif dependencies is not None:
        problems.append(LockfileProblem(path, f"{location}.dependencies", "not a table"))
    files: tuple[DistributionFile, ...] | None = None
    if source == "index":
        raw_files = raw.get("files")
        if raw_files is None:
            raw_files = _release_files(shared_files.get(name, []), version)
        if not isinstance(raw_files, list):
            problems.append(LockfileProblem(path, f"{location}.files", "not an array"))
            raw_files = []
        files = _files(path, raw_files, location=f"{location}.files", problems=problems) or None
    return LockedPackage(
        name=name,
        version=version,
        lockfile=path,
        line=line,
        markers=markers,
        source=source,
        files=files,
        detail=detail,
        dependencies=deps,
        groups=str_items(raw.get("groups")),
    )


def _release_files(files: list[dict[str, Any]], version: str) -> list[dict[str, Any]]:
    """lock-version 1.1 keeps one file list per *name*: pick this version's files by file name."""
    try:
        wanted = Version(version)
    except InvalidVersion:
        return files
    return [
        f for f in files if isinstance(f.get("file"), str) and distribution_file(f["file"]).version in (wanted, None)
    ]


def _files(
    path: str, raw_files: list[object], *, location: str, problems: list[LockfileProblem]
) -> tuple[DistributionFile, ...]:
    result = []
    for index, raw in enumerate(raw_files):
        if not isinstance(raw, dict) or not isinstance(raw.get("file"), str) or not raw["file"]:
            problems.append(LockfileProblem(path, f"{location}[{index}]", f"file entry without a file name: {raw!r}"))
            continue
        result.append(distribution_file(raw["file"], sha256=sha256_of(raw.get("hash"))))
    return tuple(result)


def _markers(path: str, raw: object, *, location: str, problems: list[LockfileProblem]) -> str | None:
    # lock-version 2.1 may give one marker per group: the package is installed when any of
    # the groups that need it is, so the markers are alternatives.
    if isinstance(raw, dict):
        values = [normalise_marker(v, path=path, location=f"{location}.{k}", problems=problems) for k, v in raw.items()]
        return or_markers(values)
    return normalise_marker(raw, path=path, location=location, problems=problems)


def _source(raw: object, *, develop: bool) -> tuple[Source, str | None]:
    if not isinstance(raw, dict):
        return "index", None
    kind = raw.get("type")
    url = raw.get("url")
    if kind in (None, "legacy"):
        return "index", None
    if kind == "git":
        ref = raw.get("resolved_reference") or raw.get("reference")
        return "vcs", f"git {url}" + (f"@{ref}" if ref else "")
    if kind == "directory":
        return ("editable" if develop else "path"), f"directory {url}"
    if kind == "file":
        return "path", f"file {url}"
    if kind == "url":
        return "url", f"URL {url}"
    return "url", f"{kind} source {url}"
