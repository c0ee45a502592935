"""pdm.lock (lock_version 4.x): ``[[package]]`` with ``groups``, ``marker``, PEP 508
``dependencies`` and ``files``.

Files: a lock made with ``[[metadata.targets]]`` that name a ``platform`` or an
``implementation`` (``pdm lock --platform linux``) lists only the files for those targets,
so handing them to the analyser would make every other target look like "no wheel". The
files are therefore passed on only when no target restricts more than ``requires_python``;
otherwise ``files=None`` and the index decides, among the files whose sha256 the lock lists
(``hashes``: pdm installs only files it has a hash for). Older locks without ``targets`` are
cross-platform by default and keep their files.

pdm writes an extra entry for a package required with extras (``celery`` and ``celery``
with ``extras = ["redis"]``): both describe one install, so they are merged into one
package with the union of extras.

Markers: with the ``inherit_metadata`` strategy (PDM 2.11 and newer, the default) each package's
``marker`` already holds every path's conditions. Older locks mark only what the project asked
for, while the PEP 508 ``dependencies`` keep the edge markers; their package markers are then
derived by walking the graph from the packages nothing depends on
(:mod:`scanners.lockfiles._graph`), as for poetry.lock and uv.lock.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import NormalizedName, canonicalize_name

from scanners.distributions import DistributionFile
from scanners.lockfiles._common import (
    canonical_name,
    distribution_file,
    load_toml,
    normalise_marker,
    package_tables,
    requirement_source,
    sha256_of,
    str_field,
    str_items,
    tables,
    tool_metadata,
    url_basename,
    with_lines,
)
from scanners.lockfiles._graph import Edge, Node, bind_extras, marker_text, reach_from_project
from scanners.lockfiles.base import LockedPackage, LockfileProblem, ParsedLockfile, Source

__all__ = ["parse_pdm_lock"]


def parse_pdm_lock(path: str, text: str) -> ParsedLockfile:
    """Parse a pdm.lock. :raises LockfileError: not TOML, empty, binary or no ``package`` list."""
    data = load_toml(path, text)
    problems: list[LockfileProblem] = []
    metadata, raw_packages = tool_metadata(path, data, tool="PDM", lock_name="pdm.lock", problems=problems)
    keep_files = _files_are_complete(metadata.get("targets"))
    packages: list[LockedPackage] = []
    seen: dict[tuple[NormalizedName, str | None, Source, str | None], int] = {}
    edges: dict[NormalizedName, list[Edge]] = {}
    for _index, location, line, raw in package_tables(path, text, raw_packages, problems=problems):
        package = _package(path, raw, location=location, line=line, keep_files=keep_files, problems=problems)
        if package is None:
            continue
        edges.setdefault(package.name, []).extend(_edges(raw.get("dependencies"), package.name))
        key = (package.name, package.version, package.source, package.detail)
        if key in seen:
            first = packages[seen[key]]
            packages[seen[key]] = replace(
                first,
                extras=tuple(sorted({*first.extras, *package.extras})),
                groups=tuple(dict.fromkeys((*first.groups, *package.groups))),
                files=first.files or package.files,
                hashes=first.hashes or package.hashes,
            )
            continue
        seen[key] = len(packages)
        packages.append(package)
    if "inherit_metadata" not in str_items(metadata.get("strategy")):
        packages = _edge_markers(packages, edges)
    located = with_lines(problems, text, key="package", count=len(raw_packages))
    return ParsedLockfile(path=path, format="pdm.lock", packages=tuple(packages), problems=located)


def _edge_markers(packages: list[LockedPackage], edges: dict[NormalizedName, list[Edge]]) -> list[LockedPackage]:
    """Package markers from the dependency edges, for locks that do not inherit them."""
    needed = {e.name for es in edges.values() for e in es}
    nodes = [
        Node(index=i, name=p.name, version=p.version, is_root=False, edges=edges.get(p.name, []))
        for i, p in enumerate(packages)
    ]
    reach = reach_from_project(nodes, [Edge(p.name, marker=p.markers) for p in packages if p.name not in needed])
    return [replace(p, markers=marker_text(reach[i])) if i in reach else p for i, p in enumerate(packages)]


def _edges(raw: object, name: NormalizedName) -> list[Edge]:
    """The dependency strings' names and markers (invalid ones are reported by :func:`_package`)."""
    found = []
    for dep in raw if isinstance(raw, list) else ():
        try:
            requirement = Requirement(str(dep))
        except InvalidRequirement:
            continue
        child = canonicalize_name(requirement.name)
        marker = bind_extras(str(requirement.marker), None) if requirement.marker else None
        if child != name:
            found.append(Edge(child, marker=marker or None))
    return found


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
    version = str_field(raw, "version")
    source, detail = requirement_source(raw, url_key="url", url_label="URL", ref_keys=("revision", "ref"))
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
    files: tuple[DistributionFile, ...] | None = None
    hashes: frozenset[str] | None = None
    if source == "index":
        listed = _files(path, raw.get("files"), location=f"{location}.files", problems=problems)
        files = (listed or None) if keep_files else None
        hashes = frozenset(f.sha256 for f in listed if f.sha256) or None
    return LockedPackage(
        name=name,
        version=version,
        lockfile=path,
        line=line,
        markers=markers,
        source=source,
        files=files,
        extras=str_items(raw.get("extras"), sort=True),
        detail=detail,
        dependencies=tuple(sorted(deps)),
        groups=str_items(raw.get("groups")),
        hashes=hashes,
    )


def _files(
    path: str, raw_files: object, *, location: str, problems: list[LockfileProblem]
) -> tuple[DistributionFile, ...]:
    if raw_files is None:
        return ()
    if not isinstance(raw_files, list):
        problems.append(LockfileProblem(path, location, "not an array"))
        return ()
    result = []
    for _index, where, entry in tables(raw_files, path=path, location=location, problems=problems):
        url = str_field(entry, "url")
        filename = str_field(entry, "file") or (url_basename(url) if url else None)
        if not filename:
            problems.append(LockfileProblem(path, where, "file entry without a file name"))
            continue
        result.append(distribution_file(filename, url=url, sha256=sha256_of(entry.get("hash"))))
    return tuple(result)
