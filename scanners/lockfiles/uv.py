"""uv.lock (``version = 1``): a universal lock, one ``[[package]]`` per (name, version, source).

The project itself (``source = { editable = "." }`` or ``{ virtual = "." }``, and every
workspace member listed in ``[manifest] members``) is not a dependency: it is dropped, and
its dependencies, optional dependencies and dependency groups are the ``direct`` ones.

uv records markers on *edges* (``{ name = "tensorflow-macos", marker = "sys_platform ==
'darwin'" }``), not on packages, so a package's own marker is derived by walking the graph from
the roots (:mod:`scanners.lockfiles._graph`). That is what keeps ``tensorflow-macos`` from being
reported as a Linux blocker. Without a root (a hand-trimmed lock) per-package
``resolution-markers`` are used.
"""

from __future__ import annotations

from typing import Any

from packaging.utils import NormalizedName, canonicalize_name

from scanners.distributions import DistributionFile
from scanners.lockfiles._common import (
    canonical_name,
    distribution_file,
    load_toml,
    normalise_marker,
    or_markers,
    package_array,
    package_tables,
    sha256_of,
    str_field,
    tables,
    url_basename,
    with_lines,
)
from scanners.lockfiles._graph import Edge, Node, marker_text, propagate
from scanners.lockfiles.base import LockedPackage, LockfileError, LockfileProblem, ParsedLockfile, Source

__all__ = ["parse_uv_lock"]


def parse_uv_lock(path: str, text: str) -> ParsedLockfile:
    """Parse a uv.lock. :raises LockfileError: not TOML, empty, binary, or not a uv lock."""
    data = load_toml(path, text)
    problems: list[LockfileProblem] = []
    version = data.get("version")
    if version is None and "package" not in data:
        raise LockfileError(path, "no 'version' and no [[package]]: not a uv.lock")
    if version != 1:
        problems.append(LockfileProblem(path, "version", f"unknown uv.lock version {version!r}; read as version 1"))
    raw_packages = package_array(path, data)
    members = _manifest_members(data.get("manifest"))

    nodes: list[Node] = []
    raws: dict[int, tuple[dict[str, Any], int | None]] = {}
    for index, location, line, raw in package_tables(path, text, raw_packages, problems=problems):
        name = canonical_name(raw.get("name"), path=path, location=f"{location}.name", problems=problems)
        if name is None:
            continue
        source = raw.get("source")
        is_root = name in members or (
            isinstance(source, dict) and (source.get("editable") == "." or source.get("virtual") == ".")
        )
        node = Node(index=index, name=name, version=str_field(raw, "version"), is_root=is_root)
        node.edges = _edges(path, raw, location=location, problems=problems)
        nodes.append(node)
        raws[index] = (raw, line)

    roots = [n for n in nodes if n.is_root]
    direct_names = {edge.name for root in roots for edge in root.edges}
    dev_only = _dev_only_names(roots)
    reach = propagate(nodes, roots) if roots else None

    packages: list[LockedPackage] = []
    for node in nodes:
        if node.is_root:
            continue
        raw, line = raws[node.index]
        location = f"package[{node.index}]"
        if node.version is None:
            problems.append(LockfileProblem(path, f"{location}.version", f"{node.name}: missing version"))
            continue
        if reach is not None:
            if node.index not in reach:
                problems.append(
                    LockfileProblem(
                        path, location, f"{node.name} {node.version} is not reachable from the project", severity="info"
                    )
                )
                markers = None
            else:
                markers = marker_text(reach[node.index])
        else:
            rm = raw.get("resolution-markers")
            markers = (
                or_markers(
                    [
                        normalise_marker(m, path=path, location=f"{location}.resolution-markers", problems=problems)
                        for m in rm
                    ]
                )
                if isinstance(rm, list)
                else None
            )
        source, detail = _source(raw.get("source"))
        files = _files(path, raw, location=location, problems=problems) if source == "index" else None
        packages.append(
            LockedPackage(
                name=node.name,
                version=node.version,
                lockfile=path,
                line=line,
                markers=markers,
                source=source,
                files=files or None,
                direct=(node.name in direct_names) if roots else None,
                detail=detail,
                dependencies=tuple(sorted({e.name for e in node.edges})),
                groups=dev_only.get(node.name, ()),
            )
        )
    located = with_lines(problems, text, key="package", count=len(raw_packages))
    return ParsedLockfile(path=path, format="uv.lock", packages=tuple(packages), problems=located)


def _manifest_members(raw: object) -> set[NormalizedName]:
    if isinstance(raw, dict) and isinstance(raw.get("members"), list):
        return {canonicalize_name(m) for m in raw["members"] if isinstance(m, str)}
    return set()


def _edges(path: str, raw: dict[str, Any], *, location: str, problems: list[LockfileProblem]) -> list[Edge]:
    """Every dependency edge: ``dependencies``, then each extra of ``optional-dependencies``
    (uv locks only the extras something asked for) and, for roots, ``dev-dependencies``."""
    lists: list[tuple[str, str, object]] = [("dependencies", "", raw.get("dependencies"))]
    for key in ("optional-dependencies", "dev-dependencies"):
        table = raw.get(key)
        if isinstance(table, dict):
            label = "dev:" if key == "dev-dependencies" else ""
            lists.extend((f"{key}.{group}", f"{label}{group}" if label else "", deps) for group, deps in table.items())
        elif table is not None:
            problems.append(LockfileProblem(path, f"{location}.{key}", "not a table"))
    edges = []
    for key, group, deps in lists:
        if deps is None:
            continue
        if not isinstance(deps, list):
            problems.append(LockfileProblem(path, f"{location}.{key}", "not an array"))
            continue
        for _i, where, dep in tables(deps, path=path, location=f"{location}.{key}", problems=problems):
            name = canonical_name(dep.get("name"), path=path, location=f"{where}.name", problems=problems)
            if name is None:
                continue
            marker = normalise_marker(dep.get("marker"), path=path, location=f"{where}.marker", problems=problems)
            edges.append(Edge(name, str_field(dep, "version"), marker, group))
    return edges


def _dev_only_names(roots: list[Node]) -> dict[NormalizedName, tuple[str, ...]]:
    """Dependency-group labels for the roots' direct dependencies (``("dev",)``), so that a
    dev-only tool is reported but recognisable; main dependencies get no label."""
    main = {e.name for r in roots for e in r.edges if not e.group.startswith("dev:")}
    groups: dict[NormalizedName, set[str]] = {}
    for r in roots:
        for edge in r.edges:
            if edge.group.startswith("dev:") and edge.name not in main:
                groups.setdefault(edge.name, set()).add(edge.group.removeprefix("dev:"))
    return {n: tuple(sorted(g)) for n, g in groups.items()}


def _source(raw: object) -> tuple[Source, str | None]:
    if not isinstance(raw, dict) or "registry" in raw:
        return "index", None
    if "git" in raw:
        return "vcs", f"git {raw['git']}"
    if "url" in raw:
        return "url", f"URL {raw['url']}"
    if "editable" in raw:
        return "editable", f"editable {raw['editable']}"
    for key in ("path", "directory", "virtual"):
        if key in raw:
            return "path", f"{key} {raw[key]}"
    return "url", f"unknown source {raw!r}"


def _files(
    path: str, raw: dict[str, Any], *, location: str, problems: list[LockfileProblem]
) -> tuple[DistributionFile, ...]:
    entries: list[tuple[str, object]] = []
    sdist = raw.get("sdist")
    if sdist is not None:
        entries.append((f"{location}.sdist", sdist))
    wheels = raw.get("wheels", [])
    if isinstance(wheels, list):
        entries.extend((f"{location}.wheels[{i}]", w) for i, w in enumerate(wheels))
    else:
        problems.append(LockfileProblem(path, f"{location}.wheels", "not an array"))
    files = []
    for where, entry in entries:
        if not isinstance(entry, dict):
            problems.append(LockfileProblem(path, where, "not a table"))
            continue
        url = str_field(entry, "url")
        filename = str_field(entry, "filename") or url_basename(url or str_field(entry, "path") or "")
        if not filename:
            problems.append(LockfileProblem(path, where, "file without url, path or filename"))
            continue
        files.append(
            distribution_file(
                filename,
                url=url,
                sha256=sha256_of(entry.get("hash")),
                size=entry.get("size"),
                upload_time=entry.get("upload-time"),
            )
        )
    return tuple(files)
