"""Package markers from a lock's dependency graph, for locks that keep markers on the edges.

uv.lock and poetry.lock (lock-version 1.1 and 2.0) do not say per package on which platforms it
is installed: each dependency *edge* carries the marker under which the parent needs the child
(``atomicwrites = {version = ">=1.0", markers = "sys_platform == \\"win32\\""}`` in pytest's
entry). The installers walk the graph from the project's roots in the target environment and
install what they reach. This module does the same once for every environment at a time: a
package's marker is the OR over every path from a root of the AND of the edge markers on that
path, kept as a set of AND-terms (disjunctive normal form) and pruned of terms implied by a
shorter one. A node whose expression would grow beyond a small bound becomes unconditional: a
wrong "n/a" would hide a real blocker, a wrong "installed" only asks for a look.

Extras: an edge that exists only for an extra of its parent (poetry writes ``extra == "standard"``
into its marker, or ``optional = true``) is followed only when something asked for that extra of
the parent; :func:`bind_extras` settles those clauses before the walk, leaving markers that only
depend on the environment.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Final, Literal

from packaging._parser import Variable  # the parsed form's node type, see bind_extras
from packaging.markers import InvalidMarker, Marker
from packaging.utils import NormalizedName, canonicalize_name

from scanners.lockfiles._common import or_markers

__all__ = ["ALWAYS", "NEVER", "Edge", "Node", "bind_extras", "marker_text", "propagate", "reach_from_project"]

MAX_TERMS = 32
"""Bound on the OR-terms of a derived marker; beyond it the package counts as unconditional."""

Conj = frozenset[str]
"""AND of marker strings; the empty set is "always"."""

ALWAYS: Final = None
NEVER: Final = False


@dataclass(frozen=True, slots=True)
class Edge:
    """A dependency edge: ``version`` pins the child when the lock says which one (uv), ``marker``
    is the environment condition (``None``: always), ``group`` labels dev-dependency edges."""

    name: NormalizedName
    version: str | None = None
    marker: str | None = None
    group: str = ""


@dataclass(slots=True)
class Node:
    index: int
    name: NormalizedName
    version: str | None
    is_root: bool
    edges: list[Edge] = field(default_factory=list)


def propagate(nodes: Sequence[Node], roots: Sequence[Node]) -> dict[int, frozenset[Conj]]:
    """Fixed point of "reached under which conditions": DNF sets per node index. A node that is
    not in the result is not reachable from any root."""
    by_name: dict[NormalizedName, list[Node]] = {}
    for node in nodes:
        by_name.setdefault(node.name, []).append(node)
    by_index = {n.index: n for n in nodes}
    state: dict[int, frozenset[Conj]] = {r.index: frozenset({frozenset()}) for r in roots}
    queue = deque(r.index for r in roots)
    steps = 0
    while queue:
        steps += 1
        if steps > 50 * (len(nodes) + 1):
            break  # a pathological graph: stop refining; what is known is still sound-ish
        current = by_index[queue.popleft()]
        terms = state[current.index]
        for edge in current.edges:
            for child in by_name.get(edge.name, ()):
                if child.is_root or (edge.version is not None and child.version != edge.version):
                    continue
                added = {t | {edge.marker} if edge.marker else t for t in terms}
                old = state.get(child.index, frozenset())
                merged = _prune(old | added)
                if merged != old:
                    state[child.index] = merged
                    queue.append(child.index)
    return state


def reach_from_project(nodes: Sequence[Node], root_edges: Sequence[Edge]) -> dict[int, frozenset[Conj]]:
    """:func:`propagate` from the project itself, for locks that do not list it as a package
    (poetry.lock, pdm.lock): ``root_edges`` are what the project asks for."""
    project = Node(index=-1, name=_PROJECT, version=None, is_root=True, edges=list(root_edges))
    return propagate([project, *nodes], [project])


_PROJECT = canonicalize_name("-project-")  # no real name starts with "-"


def _prune(terms: frozenset[Conj]) -> frozenset[Conj]:
    if frozenset() in terms:
        return frozenset({frozenset()})
    kept = [t for t in terms if not any(o < t for o in terms)]
    if len(kept) > MAX_TERMS or any(len(t) > MAX_TERMS for t in kept):
        return frozenset({frozenset()})
    return frozenset(kept)


def marker_text(terms: frozenset[Conj]) -> str | None:
    """The DNF as one PEP 508 marker string (``None``: installed everywhere)."""
    if frozenset() in terms or not terms:
        return None
    parts: list[str | None] = []
    for term in sorted(terms, key=lambda t: sorted(t)):
        items = sorted(term)
        parts.append(items[0] if len(items) == 1 else " and ".join(f"({m})" for m in items))
    return or_markers(parts)


def bind_extras(marker: str | None, extras: frozenset[str] | None) -> str | None | Literal[False]:
    """Settle the ``extra == "…"`` clauses of ``marker`` for a parent asked for ``extras``.

    Returns :data:`ALWAYS` (``None``) when what is left always holds, :data:`NEVER` (``False``)
    when it never does, else the marker that remains (only environment clauses). ``extras=None``
    means "not known which extras were asked for": every extra clause then counts as true, the
    cautious reading. An unparseable marker is returned as it is, for the analyser to report.
    """
    if marker is None or not marker.strip():
        return ALWAYS
    if "extra" not in marker:
        return marker
    try:
        parsed = Marker(marker)
    except InvalidMarker:
        return marker
    # packaging keeps the parsed expression in ``_markers`` (tuples, nested lists, "and"/"or");
    # it has no public API to rewrite part of a marker.
    result = _bind(parsed._markers, extras)  # noqa: SLF001
    if result is True:
        return ALWAYS
    if result is False:
        return NEVER
    return result


def _bind(node: object, extras: frozenset[str] | None) -> str | bool:
    if isinstance(node, tuple):
        lhs, op, rhs = node
        variable, value = (lhs, rhs) if isinstance(lhs, Variable) else (rhs, lhs)
        if not isinstance(variable, Variable) or variable.value != "extra":
            return f"{lhs.serialize()} {op.serialize()} {rhs.serialize()}"
        if extras is None:
            return True
        value = canonicalize_name(value.value)
        if op.value == "==":
            return value in extras
        if op.value == "!=":
            return value not in extras
        return True  # "in"/"not in" on extra: not written by any tool; cautious
    # A list: items joined by "and"/"or", "and" binding tighter.
    groups: list[list[object]] = [[]]
    for item in node:  # type: ignore[attr-defined]  # a list of parsed nodes, typed as object by packaging
        if item == "or":
            groups.append([])
        elif item != "and":
            groups[-1].append(item)
    alternatives: list[str] = []
    for group in groups:
        terms: list[str] = []
        for item in group:
            value = _bind(item, extras)
            if value is False:
                break
            if value is not True:
                terms.append(value)
        else:
            if not terms:
                return True
            alternatives.append(terms[0] if len(terms) == 1 else " and ".join(_paren(t) for t in terms))
    if not alternatives:
        return False
    return alternatives[0] if len(alternatives) == 1 else " or ".join(_paren(a) for a in alternatives)


def _paren(text: str) -> str:
    return f"({text})" if " or " in text or " and " in text else text
