"""The package's layers: every import inside cnncourse goes down the order below, and no modules import each other in
a cycle.

Imports are read from the source (ast), at module level and inside functions alike: a lazy upward import is an upward
dependency all the same. A part of the package is its first name under cnncourse (`ops`, `models`, `config`, ...).
"""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "cnncourse"

# Bottom to top. A part may import parts of lower rows, and itself; parts of one row do not import each other.
LAYERS = [
    ("", "config", "preflight"),  # "": cnncourse/__init__.py
    ("ops", "probe", "train"),
    ("analysis", "data"),
    ("models",),
    ("checks", "experiments"),
    ("diagrams",),
    ("widgets",),
    ("grading",),
    ("bench", "edition", "lab"),
    ("doctor",),
    ("cli",),
]
RANK = {part: rank for rank, row in enumerate(LAYERS) for part in row}


def module_name(path):
    """'cnncourse.models.c2_resnet' for cnncourse/models/c2_resnet.py; a package is named by its folder."""
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(path):
    """The cnncourse modules that the file at `path` imports, anywhere in it: a set of dotted names.

    `from cnncourse import config` names cnncourse.config; relative imports are resolved against the file's package.
    """
    here = module_name(path)
    package = here if path.name == "__init__.py" else here.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module
            found.add(module)
            found.update(f"{module}.{alias.name}" for alias in node.names)  # `from pkg import module`
    modules = {module_name(p) for p in PACKAGE.rglob("*.py")}
    return {name for name in found if name in modules and name != here}


def part_of(module):
    """The layer part of a dotted module name: 'models' for cnncourse.models.c2_resnet, '' for cnncourse."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def import_graph():
    """{module: set of the cnncourse modules it imports} for every module of the package."""
    return {module_name(p): imported_modules(p) for p in sorted(PACKAGE.rglob("*.py"))}


def test_every_part_of_the_package_has_a_layer():
    parts = {part_of(m) for m in import_graph()}
    assert parts - set(RANK) == set(), "add the new part to LAYERS (and to the layout in README.md)"
    assert set(RANK) - parts == set(), "LAYERS names a part the package no longer has"


def test_imports_go_down_the_layers():
    upward = []
    for module, imports in import_graph().items():
        for target in imports:
            a, b = part_of(module), part_of(target)
            if a != b and RANK[b] >= RANK[a]:
                upward.append(f"{module} imports {target} ({a or 'cnncourse'} may import only rows below it)")
    assert not upward, "\n".join(sorted(upward))


def strongly_connected(graph):
    """Tarjan's algorithm: the components of `graph` ({node: set of nodes}) with more than one node, or a self-loop."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.add(member)
                if member == node:
                    break
            if len(component) > 1 or node in graph.get(node, ()):
                found.append(sorted(component))

    for node in graph:
        if node not in index:
            visit(node)
    return found


def test_no_modules_import_each_other_in_a_cycle():
    # a package's __init__ that re-exports its modules is not a cycle with them: they import siblings, not it
    graph = {m: {t for t in imports if not m.startswith(t + ".")} for m, imports in import_graph().items()}
    assert strongly_connected(graph) == []


@pytest.mark.parametrize("graph, cycles", [
    ({"a": {"b"}, "b": {"c"}, "c": set()}, []),
    ({"a": {"b"}, "b": {"a"}, "c": {"a"}}, [["a", "b"]]),
    ({"a": {"a"}}, [["a"]]),
    ({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"d", "a"}}, [["a", "b", "c"], ["d"]]),
])
def test_the_cycle_finder_on_small_graphs(graph, cycles):
    assert sorted(strongly_connected(graph)) == cycles


def test_the_reader_sees_lazy_relative_and_from_imports(tmp_path, monkeypatch):
    package = tmp_path / "cnncourse"
    (package / "models").mkdir(parents=True)
    for name in ("__init__.py", "config.py", "models/__init__.py", "models/a.py", "models/b.py"):
        (package / name).write_text("")
    (package / "models" / "a.py").write_text(
        "from . import b\nfrom cnncourse import config\ndef f():\n    import cnncourse.models.b\n    import numpy\n")
    monkeypatch.setattr(__import__(__name__), "PACKAGE", package)
    assert imported_modules(package / "models" / "a.py") == {"cnncourse.models.b", "cnncourse.config", "cnncourse.models",
                                                             "cnncourse"}
