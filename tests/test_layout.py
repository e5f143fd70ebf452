"""The shape of the tree: no import circles, storage at the bottom, no module over 600 lines.

Run ``pytest -s tests/test_layout.py`` to see the largest modules.

Imports are read with :mod:`ast`, not executed. Every ``import`` counts as an
edge, whether at module level or inside a function: an import inside a
function is still a dependency (it only runs later), so hiding a circle in a
function does not make it go away. Imports under ``if TYPE_CHECKING:`` (for
annotations only, never executed) are not edges. Importing a package counts as importing its
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


def _is_type_checking(node) -> bool:
    """An ``if TYPE_CHECKING:`` block (imports for annotations only, never executed)."""
    return isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING"


def import_graph() -> dict[str, set[str]]:
    """``{module: modules it imports}`` within ``recommender``, every import counted."""
    modules = _modules()
    graph = {m: set() for m in modules}
    for mod, path in modules.items():
        is_pkg = path.name == "__init__.py"
        tree = ast.parse(path.read_text(), str(path))
        typing_only = {id(n) for block in ast.walk(tree) if _is_type_checking(block) for n in ast.walk(block)}
        for node in ast.walk(tree):
            if id(node) in typing_only:
                continue
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


def module_sizes() -> list[tuple[int, str]]:
    """(lines, module) for every module in ``recommender``, largest first."""
    return sorted(((len(p.read_text().splitlines()), m) for m, p in _modules().items()), reverse=True)


def test_no_module_over_600_lines():
    sizes = module_sizes()
    print("largest modules:\n" + "\n".join(f"  {n:5d}  {m}" for n, m in sizes[:10]))
    over = [(n, m) for n, m in sizes if n > MAX_LINES]
    assert not over, f"modules over {MAX_LINES} lines: {over}"


def test_packages_import_nothing_heavy():
    """Package __init__s re-export lazily: importing them (and the CLI) loads no numpy or pandas."""
    import subprocess
    import sys

    code = ("import sys, recommender.store, recommender.meet, recommender.refer, recommender.batch, "
            "recommender.evaluation, recommender.demo, recommender.cli; "
            "print(sorted(m for m in ('numpy', 'pandas', 'scipy', 'sklearn') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_every_lazy_export_resolves():
    """Each name a package re-exports is found in the submodule it names (a split must not lose one)."""
    import importlib

    missing = []
    for mod, path in _modules().items():
        if path.name == "__init__.py" and "lazy_exports" in path.read_text():
            pkg = importlib.import_module(mod)
            missing += [f"{mod}.{name}" for name in pkg.__all__ if not _resolves(pkg, name)]
    assert not missing


def _resolves(pkg, name) -> bool:
    try:
        getattr(pkg, name)
    except AttributeError:
        return False
    return True
