"""Import direction: no cycle between the project's modules, and the engine never imports Django.

Every import counts, at module level and inside functions: an import moved into a function to
dodge a cycle still makes the two modules depend on each other, it only hides it until the
first call. The graph is read with ``ast`` (nothing is imported), between the modules under
``scanners/`` and ``readiness/`` (migrations excluded: Django writes them, and they import
nothing of ours but models' helpers).
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping
from pathlib import Path

from readiness.celery import app as celery_app
from readiness.services import enqueue

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("scanners", "readiness")

Graph = Mapping[str, Iterable[str]]


def project_modules(root: Path = ROOT) -> dict[str, Path]:
    """``dotted.name -> file`` for every module of ours; a package is named by its ``__init__.py``."""
    modules: dict[str, Path] = {}
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            parts = path.relative_to(root).with_suffix("").parts
            if "migrations" in parts:
                continue
            if parts[-1] == "__init__":
                parts = parts[:-1]
            modules[".".join(parts)] = path
    return modules


def imported_names(source: str, module: str, *, is_package: bool) -> set[str]:
    """Every dotted name ``module`` imports, anywhere in its body, with relative imports resolved.

    ``from x import y`` yields both ``x`` and ``x.y``: ``y`` may be a submodule, and the caller
    keeps whichever of the two is a module of ours.
    """
    names: set[str] = set()
    package = module if is_package else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base_parts = package.split(".")
                base_parts = base_parts[: len(base_parts) - (node.level - 1)]
                base = ".".join(base_parts + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names if alias.name != "*")
    return names


def import_graph(modules: Mapping[str, Path]) -> dict[str, set[str]]:
    """``module -> the modules of ours it imports``; ``import a.b.c`` points at the longest prefix of ours."""
    graph: dict[str, set[str]] = {}
    for module, path in modules.items():
        edges: set[str] = set()
        for name in imported_names(path.read_text(), module, is_package=path.name == "__init__.py"):
            parts = name.split(".")
            while parts and ".".join(parts) not in modules:
                parts.pop()
            if parts and ".".join(parts) != module:
                edges.add(".".join(parts))
        graph[module] = edges
    return graph


def find_cycles(graph: Graph) -> list[list[str]]:
    """One cycle (``[a, b, ..., a]``) per strongly connected component that has one (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[set[str]] = []

    def connect(start: str) -> None:
        # Iterative, so a deep graph cannot hit the recursion limit.
        work = [(start, iter(sorted(graph.get(start, ()))))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is None:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = set()
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.add(member)
                        if member == node:
                            break
                    if len(component) > 1 or node in graph.get(node, ()):
                        components.append(component)
            elif child not in index:
                index[child] = low[child] = len(index)
                stack.append(child)
                on_stack.add(child)
                work.append((child, iter(sorted(graph.get(child, ())))))
            elif child in on_stack:
                low[node] = min(low[node], index[child])

    for node in sorted(graph):
        if node not in index:
            connect(node)
    return [_cycle_in(component, graph) for component in components]


def _cycle_in(component: set[str], graph: Graph) -> list[str]:
    """A shortest cycle through the component's first member (breadth-first back to it)."""
    start = min(component)
    previous: dict[str, str] = {}
    frontier = [start]
    while frontier:
        following = []
        for node in frontier:
            for child in sorted(graph.get(node, ())):
                if child not in component:
                    continue
                if child == start:
                    path = [node]
                    while path[-1] != start:
                        path.append(previous[path[-1]])
                    return [start, *reversed(path[:-1]), start] if node != start else [start, start]
                if child not in previous:
                    previous[child] = node
                    following.append(child)
        frontier = following
    raise AssertionError(f"no cycle in component {sorted(component)}")  # Tarjan said there was one


def test_cycle_finder_finds_a_known_cycle_and_no_false_one() -> None:
    cyclic = {"a": {"b"}, "b": {"c"}, "c": {"a", "d"}, "d": set(), "e": {"e"}, "f": {"a"}}
    assert sorted(find_cycles(cyclic)) == [["a", "b", "c", "a"], ["e", "e"]]
    assert find_cycles({"a": {"b", "c"}, "b": {"c"}, "c": set()}) == []


def test_import_reader_sees_function_level_relative_and_submodule_imports() -> None:
    source = "import x.y\nfrom . import sibling\nfrom ..other import thing\ndef f():\n    from pkg.sub import helper\n"
    names = imported_names(source, "pkg.sub.mod", is_package=False)
    assert {"x.y", "pkg.sub.sibling", "pkg.other", "pkg.other.thing", "pkg.sub.helper"} <= names
    assert "pkg.mine" in imported_names("from .mine import a\n", "pkg", is_package=True)


def test_no_import_cycle_between_project_modules() -> None:
    modules = project_modules()
    assert "readiness.services.scans" in modules and "scanners.check" in modules  # the walk found the code
    cycles = find_cycles(import_graph(modules))
    assert cycles == [], "import cycles:\n" + "\n".join(" -> ".join(c) for c in cycles)


def test_the_engine_never_imports_django_or_the_dashboard() -> None:
    modules = project_modules()
    offenders = sorted(
        f"{module} imports {name}"
        for module, path in modules.items()
        if module.split(".")[0] == "scanners"
        for name in imported_names(path.read_text(), module, is_package=path.name == "__init__.py")
        if name.split(".")[0] in ("readiness", "django")
    )
    assert offenders == []


def test_every_task_name_services_queue_by_is_a_registered_task() -> None:
    """Services name tasks instead of importing them (see readiness.services.enqueue): a name that
    drifted from its task would fail only when the work is queued."""
    names = {getattr(enqueue, n) for n in enqueue.__all__ if n.isupper()}
    assert names and names <= set(celery_app.tasks)
