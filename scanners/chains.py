"""Why is this package here? Dependency chains from what the team asked for down to a package.

A blocker deep in the tree is fixed by changing the dependency the team controls, so each
transitive package gets the chains that lead to it: ``tensorflow → tensorboard → grpcio``.
The graph comes from the lockfile itself (uv.lock, poetry.lock and pdm.lock record each
package's dependencies; pip-compile records ``# via`` comments). Which packages are direct
comes from the lockfile when it says (uv.lock, ``# via -r requirements.in``), else from the
project's ``pyproject.toml`` or ``Pipfile`` next to it, else — for a graph with no such
information — the packages nothing else depends on.
"""

from __future__ import annotations

import tomllib
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from scanners.lockfiles.base import LockedPackage

__all__ = ["DependencyGraph", "MANIFEST_NAMES", "lockfile_graph", "manifest_direct_names"]

MANIFEST_NAMES = frozenset({"pyproject.toml", "Pipfile"})
Chain = tuple[str, ...]


@dataclass(frozen=True, slots=True)
class DependencyGraph:
    """Forward edges between canonical names, and the set of direct dependencies."""

    edges: Mapping[str, tuple[str, ...]]
    direct: frozenset[str]
    has_edges: bool
    _parents: dict[str, list[str]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        parents: dict[str, list[str]] = {}
        for parent, children in self.edges.items():
            for child in children:
                parents.setdefault(child, []).append(parent)
        for ps in parents.values():
            ps.sort()
        object.__setattr__(self, "_parents", parents)

    def is_direct(self, name: str) -> bool | None:
        if name in self.direct:
            return True
        return False if self.direct else None

    def chains(self, name: str, *, limit: int = 20, max_depth: int = 12) -> list[Chain] | None:
        """Chains from a direct dependency down to ``name``'s parent, shortest first.

        ``[]`` for a direct dependency; ``None`` when the graph cannot tell (no edges, or
        nothing direct leads to the package). Each chain excludes ``name`` itself, as the
        ``archcheck`` JSON's ``via`` does. At most ``limit`` chains, each of at most
        ``max_depth`` packages: dependency graphs can have very many paths.
        """
        if name in self.direct:
            return []
        if not self.has_edges:
            return None
        found: list[Chain] = []
        # Walk upwards from the package; a path that reaches a direct dependency is a chain.
        stack: list[tuple[str, Chain]] = [(p, (p,)) for p in reversed(self._parents.get(name, []))]
        while stack and len(found) < limit * 4:
            node, path = stack.pop()
            if node in self.direct:
                found.append(tuple(reversed(path)))
            if len(path) >= max_depth:
                continue
            for parent in reversed(self._parents.get(node, [])):
                if parent not in path and parent != name:
                    stack.append((parent, (*path, parent)))
        if not found:
            return None
        return sorted(set(found), key=lambda c: (len(c), c))[:limit]


def lockfile_graph(
    packages: Sequence[LockedPackage], *, direct_names: Collection[str] | None = None
) -> DependencyGraph:
    """The graph of one lockfile's packages.

    ``direct_names`` (from the project's manifest) win over the lockfile's own ``direct``
    flags when given; with neither, the roots of the graph are taken as direct.
    """
    names = {p.name for p in packages}
    edges: dict[str, set[str]] = {}
    for p in packages:
        for dep in p.dependencies:
            if dep in names and dep != p.name:
                edges.setdefault(p.name, set()).add(dep)
        for via in p.required_by:
            parent = canonicalize_name(via) if _looks_like_name(via) else None
            if parent in names and parent != p.name:
                edges.setdefault(parent, set()).add(p.name)
    has_edges = any(edges.values())
    if direct_names is not None:
        direct = {canonicalize_name(n) for n in direct_names} & names
    else:
        direct = {p.name for p in packages if p.direct}
        if not direct and has_edges and not any(p.direct is False for p in packages):
            children = {c for cs in edges.values() for c in cs}
            direct = names - children
    return DependencyGraph({k: tuple(sorted(v)) for k, v in edges.items()}, frozenset(direct), has_edges)


def _looks_like_name(text: str) -> bool:
    # pip-compile's "via" also names files ("-r requirements.in") and the project ("(pyproject.toml)").
    return bool(text) and not text.startswith(("-", "(")) and " " not in text.strip()


def manifest_direct_names(path: str, text: str) -> set[str] | None:
    """The packages a ``pyproject.toml`` or ``Pipfile`` asks for directly; ``None`` if it names none or is unreadable."""
    try:
        data = tomllib.loads(text)
    except (tomllib.TOMLDecodeError, UnicodeDecodeError):
        return None
    found: set[str] = set()
    if path.rsplit("/", 1)[-1] == "Pipfile":
        for section in ("packages", "dev-packages"):
            found.update(canonicalize_name(n) for n in _table(data.get(section)))
        return found or None
    project = _table(data.get("project"))
    requirements: list[str] = list(_strings(project.get("dependencies")))
    for extra in _table(project.get("optional-dependencies")).values():
        requirements.extend(_strings(extra))
    for group in _table(data.get("dependency-groups")).values():
        requirements.extend(_strings(group))
    tool = _table(data.get("tool"))
    poetry = _table(tool.get("poetry"))
    found.update(canonicalize_name(n) for n in _table(poetry.get("dependencies")) if n.lower() != "python")
    found.update(canonicalize_name(n) for n in _table(poetry.get("dev-dependencies")))
    for group in _table(poetry.get("group")).values():
        found.update(canonicalize_name(n) for n in _table(_table(group).get("dependencies")))
    for group in _table(_table(tool.get("pdm")).get("dev-dependencies")).values():
        requirements.extend(_strings(group))
    for line in requirements:
        try:
            found.add(canonicalize_name(Requirement(line).name))
        except InvalidRequirement:
            continue
    return found or None


def _table(value: object) -> dict:
    return value if isinstance(value, dict) else {}


def _strings(value: object) -> list[str]:
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []
