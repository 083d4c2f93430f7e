"""Every module in train/ imports, and no two of them import each other, directly or around a loop.

The graph is read from the source with ast, counting imports inside functions too: a lazy import hides a cycle
from the interpreter until the day both modules load in the other order (export.py and snippets.py imported each
other that way). Not counted: a submodule's implicit load of its own package (`from .x import y` runs the package's
__init__ first), which Python resolves for every package; an explicit `from . import name` of the package still is.
"""
import ast
import importlib
import os
from typing import Dict, List, Set

import pytest

from conftest import TRAIN


def local_modules(root: str) -> Dict[str, str]:
    """{dotted module name: file} for the modules and packages directly in root (tests are not modules of it)."""
    mods = {}
    for name in sorted(os.listdir(root)):
        path = os.path.join(root, name)
        if name.endswith(".py"):
            mods[name[:-3]] = path
        elif os.path.isfile(os.path.join(path, "__init__.py")) and name != "tests":
            for dp, _, files in os.walk(path):
                for f in files:
                    if f.endswith(".py"):
                        rel = os.path.relpath(os.path.join(dp, f), root)[:-3].split(os.sep)
                        mods[".".join(rel[:-1] if rel[-1] == "__init__" else rel)] = os.path.join(dp, f)
    return mods


def imports_of(name: str, path: str, mods: Dict[str, str]) -> Set[str]:
    """The local modules that `name` imports anywhere in its source."""
    is_pkg = path.endswith("__init__.py")
    package = name if is_pkg else name.rpartition(".")[0]
    out: Set[str] = set()
    for node in ast.walk(ast.parse(open(path, encoding="utf-8").read(), path)):
        if isinstance(node, ast.Import):
            for a in node.names:
                parts = a.name.split(".")
                hit = next((".".join(parts[:i]) for i in range(len(parts), 0, -1) if ".".join(parts[:i]) in mods), None)
                if hit:
                    out.add(hit)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".") if package else []
                base = base[:len(base) - (node.level - 1)] if node.level > 1 else base
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            for a in node.names:
                sub = f"{target}.{a.name}" if target else a.name
                if sub in mods:
                    out.add(sub)
                elif target in mods:
                    out.add(target)
    out.discard(name)
    return out


def cycles(graph: Dict[str, Set[str]]) -> List[List[str]]:
    """Strongly connected components with more than one module (Tarjan), each sorted."""
    index, low, stack, on, found = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
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
                found.append(sorted(comp))
    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def import_graph(root: str) -> Dict[str, Set[str]]:
    mods = local_modules(root)
    return {name: imports_of(name, path, mods) for name, path in mods.items()}


def test_no_import_cycles_in_train():
    graph = import_graph(TRAIN)
    assert {"export", "snippets", "model_folder", "openai_import", "openai_import.cli"} <= set(graph)
    assert cycles(graph) == []
    assert "export" not in graph["snippets"] and "export" not in graph["openai_import.pipeline"]


@pytest.mark.parametrize("name", sorted(n for n in local_modules(TRAIN) if not n.endswith("__main__")))
def test_every_module_imports(name):
    importlib.import_module(name)


def test_the_checker_sees_a_lazy_cycle_and_a_package_cycle(tmp_path):
    (tmp_path / "a.py").write_text("import os\n\ndef f():\n    import b  # lazy: still a dependency\n")
    (tmp_path / "b.py").write_text("from a import f\n")
    (tmp_path / "c.py").write_text("import json\n")
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("from .x import g\n")
    (pkg / "x.py").write_text("from . import VERSION\n\ndef g():\n    pass\n")
    (pkg / "y.py").write_text("from .x import g\n")  # loads pkg implicitly: not an edge
    graph = import_graph(str(tmp_path))
    assert graph["pkg.y"] == {"pkg.x"}
    assert cycles(graph) == [["a", "b"], ["pkg", "pkg.x"]]
