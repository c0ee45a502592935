"""poetry.lock, every lock-version Poetry has written.

* ``lock-version = "1.1"`` (Poetry ≤ 1.2): files are in one ``[metadata.files]`` table keyed
  by project name, shared by every version of that name.
* ``"2.0"`` (Poetry 1.3–1.8) and ``"2.1"`` (Poetry 2.x): ``files`` inline in each package;
  2.1 adds ``groups`` and ``markers`` (a string, or a table of markers per group).

Poetry lists every file of a release it saw on the index, so the files become the package's
``files`` and the analyser need not ask the index. A package with no files listed (a private
index Poetry could not list) gets ``files=None``: the index decides then. The lock does not
record which packages the project asked for itself, so ``direct`` is ``None``.

Markers: lock-version 1.1 and 2.0 keep them on dependency edges only (pytest's
``atomicwrites = {markers = "sys_platform == \"win32\""}``), so each package's marker is derived
by walking the graph from the project's roots (:mod:`scanners.lockfiles._graph`), as Poetry's
installer does: the roots are the dependencies of the ``pyproject.toml`` beside the lock (with
their own markers, ``python`` and ``platform`` constraints and extras), else — without one —
the packages nothing depends on. An edge that exists only for an extra of its parent
(``optional = true``, ``extra == "…"``) is followed when something asked for that extra. The
project's own extras (``[extras]``) count as asked for: images usually install them
(``poetry install -E …``), and a wrong "n/a" would hide a blocker. Lock-version 2.1 writes each
package's marker itself; it is used as written.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from packaging.requirements import InvalidRequirement, Requirement
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
    str_field,
    str_items,
    tool_metadata,
    with_lines,
)
from scanners.lockfiles._graph import NEVER, Edge, Node, bind_extras, marker_text, reach_from_project
from scanners.lockfiles.base import LockedPackage, LockfileProblem, ParsedLockfile, Source

__all__ = ["parse_poetry_lock"]

_KNOWN_LOCK_MAJORS = {"1", "2"}
_EDGE_MARKER_LOCKS = {"1.0", "1.1", "2.0"}
"""Lock versions whose packages carry no marker of their own (Poetry ≤ 1.8)."""

ReadFile = Callable[[str], str | None]


@dataclass(frozen=True, slots=True)
class _Dependency:
    """One dependency as Poetry writes it: ``markers`` (with ``python``/``platform`` folded in),
    whether it is ``optional`` (needed only for an extra of the parent), the extras it asks for."""

    name: NormalizedName
    marker: str | None
    optional: bool = False
    extras: frozenset[str] = frozenset()


def parse_poetry_lock(path: str, text: str, *, read_file: ReadFile | None = None) -> ParsedLockfile:
    """Parse a poetry.lock. :raises LockfileError: not TOML, empty, binary or no ``package`` list.

    :param read_file: reads the ``pyproject.toml`` beside the lock, whose dependencies are the
        roots of the graph walk for lock-versions that keep markers on edges.
    """
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
    dependencies: list[list[_Dependency]] = []
    extras: list[dict[str, set[NormalizedName]]] = []
    for _index, location, line, raw in package_tables(path, text, raw_packages, problems=problems):
        package = _package(path, raw, location=location, line=line, shared_files=shared_files, problems=problems)
        if package is not None:
            packages.append(package)
            dependencies.append(_dependencies(path, raw.get("dependencies"), location=location, problems=problems))
            extras.append(_extra_members(raw.get("extras")))
    if lock_version in _EDGE_MARKER_LOCKS or (lock_version is None and not any(p.markers for p in packages)):
        roots = _project_roots(path, read_file, problems)
        packages = _edge_markers(path, packages, dependencies, extras, roots, problems)
    located = with_lines(problems, text, key="package", count=len(raw_packages))
    return ParsedLockfile(
        path=path,
        format="poetry.lock",
        packages=tuple(packages),
        problems=located,
        generated_by=_poetry_generation(lock_version),
    )


def _poetry_generation(lock_version: object) -> str:
    """Which Poetry wrote the lock, for the re-lock advice: 1.x (lock-version < 2.1) or 2.x."""
    if isinstance(lock_version, str) and lock_version in _EDGE_MARKER_LOCKS:
        return "poetry 1.x"
    return "poetry 2.x"


def _dependencies(path: str, raw: object, *, location: str, problems: list[LockfileProblem]) -> list[_Dependency]:
    """``[package.dependencies]``: ``name = "constraint"``, a table, or a list of tables (one per
    marker, e.g. a different version for each Python)."""
    if not isinstance(raw, dict):
        return []
    found: list[_Dependency] = []
    for key, spec in raw.items():
        name = canonicalize_name(key)
        specs = spec if isinstance(spec, list) else [spec]
        for item in specs:
            if isinstance(item, dict):
                found.append(
                    _dependency(path, name, item, location=f"{location}.dependencies.{key}", problems=problems)
                )
            else:
                found.append(_Dependency(name, None))
    return found


def _dependency(
    path: str, name: NormalizedName, spec: dict[str, Any], *, location: str, problems: list[LockfileProblem]
) -> _Dependency:
    conditions = []
    marker = normalise_marker(spec.get("markers"), path=path, location=f"{location}.markers", problems=problems)
    if marker:
        conditions.append(marker)
    python = str_field(spec, "python")
    if python:
        python_marker = poetry_python_marker(python)
        if python_marker:
            conditions.append(python_marker)
    platform = str_field(spec, "platform")
    if platform:
        conditions.append(f'sys_platform == "{platform}"')
    combined = conditions[0] if len(conditions) == 1 else " and ".join(f"({c})" for c in conditions) or None
    return _Dependency(
        name,
        combined,
        optional=spec.get("optional") is True,
        extras=frozenset(canonicalize_name(e) for e in str_items(spec.get("extras"))),
    )


_CONSTRAINT_RE = re.compile(r"^(\^|~=|~|>=|<=|==|!=|>|<|=)?\s*(\d+(?:\.\d+)*(?:\.\*)?)$")


def poetry_python_marker(constraint: str) -> str | None:
    """A Poetry ``python = "…"`` constraint as a PEP 508 marker, or ``None`` (always, or not understood).

    Poetry's syntax: ``||`` between alternatives, ``,`` or spaces between ANDed parts, caret
    (``^3.7`` = ``>=3.7,<4.0``) and tilde (``~3.7`` = ``>=3.7,<3.8``) ranges, ``3.*`` wildcards.
    Versions with three parts compare ``python_full_version``, as Poetry itself writes them.
    """
    alternatives = []
    for alternative in constraint.split("||"):
        parts = [p for p in re.split(r"[,\s]+(?=[\^~<>=!\d])", alternative.strip()) if p.strip()]
        clauses = []
        for part in parts:
            match = _CONSTRAINT_RE.match(part.strip().replace(" ", ""))
            if part.strip() == "*":
                continue
            if match is None:
                return None
            clauses.extend(_python_clauses(match.group(1) or "==", match.group(2)))
        if not clauses:
            return None  # an alternative that always holds makes the whole constraint hold
        alternatives.append(" and ".join(clauses))
    if not alternatives:
        return None
    return alternatives[0] if len(alternatives) == 1 else " or ".join(f"({a})" for a in alternatives)


def _python_clauses(op: str, version: str) -> list[str]:
    numbers = [int(n) for n in version.removesuffix(".*").split(".")]
    variable = "python_full_version" if len(numbers) >= 3 else "python_version"
    if op in ("^", "~", "~="):
        if op == "^":
            # The first non-zero part may not change: ^3.7 < 4, ^0.3 < 0.4.
            upper = [numbers[0] + 1] if numbers[0] > 0 or len(numbers) == 1 else [0, numbers[1] + 1]
        elif op == "~" and len(numbers) >= 2:
            upper = [numbers[0], numbers[1] + 1]
        elif op == "~=" and len(numbers) >= 3:
            upper = [numbers[0], numbers[1] + 1]
        else:
            upper = [numbers[0] + 1]
        bound = ".".join(str(n) for n in (upper + [0])[:2])
        return [f'{variable} >= "{version}"', f'python_version < "{bound}"']
    return [f'{variable} {"==" if op == "=" else op} "{version}"']


def _table(data: dict, key: str) -> dict:
    """``data[key]`` when it is a TOML table, else an empty one (a malformed manifest reads as empty)."""
    value = data.get(key)
    return value if isinstance(value, dict) else {}


def _project_roots(path: str, read_file: ReadFile | None, problems: list[LockfileProblem]) -> list[_Dependency] | None:
    """The dependencies the ``pyproject.toml`` beside the lock asks for (every group and extra:
    which ones an image installs is not known here), or ``None`` without a readable one."""
    if read_file is None:
        return None
    manifest = posixpath.join(posixpath.dirname(path), "pyproject.toml")
    text = read_file(manifest)
    if text is None:
        return None
    try:
        data = load_toml(manifest, text)
    except ValueError as exc:
        problems.append(
            LockfileProblem(path, None, f"{manifest} not read for the project's roots: {exc}", severity="info")
        )
        return None
    tool = _table(data, "tool")
    poetry = _table(tool, "poetry")
    tables = [poetry.get("dependencies"), poetry.get("dev-dependencies")]
    groups = poetry.get("group")
    if isinstance(groups, dict):
        tables.extend(g.get("dependencies") for g in groups.values() if isinstance(g, dict))
    roots: list[_Dependency] = []
    for table in tables:
        if isinstance(table, dict):
            table = {k: v for k, v in table.items() if k.lower() != "python"}
            roots.extend(_dependencies(manifest, table, location="tool.poetry", problems=problems))
    project = _table(data, "project")
    lines = list(str_items(project.get("dependencies")))
    optional = project.get("optional-dependencies")
    if isinstance(optional, dict):
        for extra in optional.values():
            lines.extend(str_items(extra))
    for line in lines:
        try:
            requirement = Requirement(line)
        except InvalidRequirement:
            continue
        roots.append(
            _Dependency(
                canonicalize_name(requirement.name),
                str(requirement.marker) if requirement.marker else None,
                extras=frozenset(canonicalize_name(e) for e in requirement.extras),
            )
        )
    return roots or None


def _edge_markers(
    path: str,
    packages: list[LockedPackage],
    dependencies: list[list[_Dependency]],
    extras_of: list[dict[str, set[NormalizedName]]],
    roots: list[_Dependency] | None,
    problems: list[LockfileProblem],
) -> list[LockedPackage]:
    """Each package's marker from the graph: see the module docstring."""
    if roots is None:
        # Without the project's manifest, the roots are the packages nothing depends on, asked
        # for unconditionally and with extras not known (every extra edge is followed).
        needed = {d.name for deps in dependencies for d in deps}
        roots = [_Dependency(p.name, None) for p in packages if p.name not in needed]
        asked: dict[NormalizedName, frozenset[str] | None] = {r.name: None for r in roots}
    else:
        asked = {}
        for r in roots:
            asked[r.name] = (asked.get(r.name) or frozenset()) | r.extras
    # Extras asked of each package by its parents, to a fixed point (an extra's dependency may
    # itself ask for extras).
    by_name: dict[NormalizedName, list[int]] = {}
    for i, p in enumerate(packages):
        by_name.setdefault(p.name, []).append(i)
    changed = True
    while changed:
        changed = False
        for i, p in enumerate(packages):
            for dep in _followed(dependencies[i], asked.get(p.name, frozenset()), extras_of[i]):
                if not dep.extras:
                    continue
                before = asked.get(dep.name, frozenset())
                if before is None or dep.extras <= before:
                    continue
                asked[dep.name] = before | dep.extras
                changed = True

    nodes = [Node(index=i, name=p.name, version=p.version, is_root=False) for i, p in enumerate(packages)]
    for i, p in enumerate(packages):
        for dep in _followed(dependencies[i], asked.get(p.name, frozenset()), extras_of[i]):
            marker = bind_extras(dep.marker, asked.get(p.name, frozenset()))
            if marker is not NEVER:
                nodes[i].edges.append(Edge(dep.name, marker=marker))
    reach = reach_from_project(nodes, [Edge(r.name, marker=bind_extras(r.marker, None) or None) for r in roots])
    out = []
    for i, p in enumerate(packages):
        if i not in reach:
            problems.append(
                LockfileProblem(
                    path,
                    None,
                    f"{p.name} {p.version} is not reachable from the project's dependencies",
                    severity="info",
                    line=p.line,
                )
            )
            out.append(p)
        else:
            out.append(replace(p, markers=marker_text(reach[i])))
    return out


def _followed(
    deps: list[_Dependency], asked: frozenset[str] | None, members: dict[str, set[NormalizedName]]
) -> list[_Dependency]:
    """The dependencies a package pulls in when asked for ``asked`` extras (``None``: unknown, all)."""
    if asked is None:
        return deps
    wanted = set().union(*(members.get(e, set()) for e in asked)) if asked else set()
    return [d for d in deps if not d.optional or d.name in wanted]


def _extra_members(raw: object) -> dict[str, set[NormalizedName]]:
    """``[package.extras]``: extra -> the names it adds (``"pymongo (>=3.0)"`` -> ``pymongo``)."""
    if not isinstance(raw, dict):
        return {}
    return {
        canonicalize_name(extra): {
            canonicalize_name(re.split(r"[\s(\[<>=!~;]", member.strip(), maxsplit=1)[0])
            for member in str_items(members)
            if member.strip()
        }
        for extra, members in raw.items()
    }


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
        # lock-version 1.1/2.0 say "category = dev" where 2.1 lists groups.
        groups=str_items(raw.get("groups")) or (("dev",) if raw.get("category") == "dev" else ()),
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
