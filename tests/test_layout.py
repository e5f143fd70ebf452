"""The shape of the tree: no import circles, storage at the bottom, no module over 600 lines.

Imports are read with :mod:`ast`, not executed. Every ``import`` counts as an
edge, whether at module level or inside a function: an import inside a
function is still a dependency (it only runs later), so hiding a circle in a
function does not make it go away. Importing a package counts as importing its
``__init__`` (which re-exports lazily and imports nothing of its own).
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent / "recommender"
MAX_LINES = 600
STORAGE = ("recommender.errors", "recommender.store", "recommender._lazy")


def _modules() -> dict[str, Path]:
    out = {}
    for path in sorted(ROOT.rglob("*.py")):
        parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


def _resolve(name: str, modules) -> str | None:
    """The module a dotted import name lands in (``recommender.meet.model.X`` -> ``recommender.meet.model``)."""
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name or None


def import_graph() -> dict[str, set[str]]:
    """``{module: modules it imports}`` within ``recommender``, every import counted."""
    modules = _modules()
    graph = {m: set() for m in modules}
    for mod, path in modules.items():
        is_pkg = path.name == "__init__.py"
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    pkg = mod if is_pkg else mod.rpartition(".")[0]
                    for _ in range(node.level - 1):
                        pkg = pkg.rpartition(".")[0]
                    base = f"{pkg}.{base}" if base else pkg
                names = [f"{base}.{a.name}" for a in node.names]
            for name in names:
                if name.startswith("recommender"):
                    target = _resolve(name, modules)
                    if target and target != mod:
                        graph[mod].add(target)
    return graph


def _cycles(graph) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on, out = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def test_no_import_cycles():
    graph = import_graph()
    # a package's lazy __init__ names its submodules only as strings, so it adds no edge
    assert _cycles(graph) == []


def test_storage_imports_nothing_above_it():
    graph = import_graph()
    for mod, deps in graph.items():
        if mod.startswith("recommender.store"):
            above = {d for d in deps if not d.startswith(STORAGE)}
            assert not above, f"{mod} imports {sorted(above)} from above the storage layer"
