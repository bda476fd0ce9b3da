"""The shape of the package: no import cycles, each layer imports only what it may, no long function.

Read from the source with `ast`: the import graph of every `cds_service` module (module-level imports,
`if TYPE_CHECKING:` blocks aside), and every function's length.
"""
from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "cds_service"
MAX_FUNCTION_LINES = 80
# The command-line entry point imports lazily so `cds-service --help` stays fast. No module imports it,
# so its function-level imports cannot close a cycle (checked below).
LAZY_ENTRY_POINTS = {"cds_service.cli"}
# What each layer must not import (DESIGN.md "Rooms"): pathway and rules are pure; only fhir talks to FHIR servers.
FORBIDDEN = {
    "cds_service.pathway": (
        "cds_service.rules", "cds_service.services", "cds_service.pipeline", "cds_service.web", "cds_service.app",
        "cds_service.store", "cds_service.auth", "cds_service.fhir", "flask", "requests", "fhir.resources",
    ),
    "cds_service.rules": (
        "cds_service.services", "cds_service.pipeline", "cds_service.web", "cds_service.app", "cds_service.store",
        "cds_service.auth", "cds_service.fhir.client", "cds_service.fhir.prefetch", "flask", "requests",
    ),
    "cds_service.services": ("cds_service.web", "cds_service.app", "flask"),
    "cds_service.fhir": ("cds_service.rules", "cds_service.services", "cds_service.pipeline", "cds_service.web", "flask"),
}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}
TREES = {name: ast.parse(path.read_text(encoding="utf-8")) for name, path in MODULES.items()}


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def module_level_imports(tree: ast.Module) -> list[str]:
    """Every module a module imports when it is imported (not inside functions, not for type checking only)."""
    found: list[str] = []

    def visit(nodes: list[ast.stmt]) -> None:
        for node in nodes:
            if isinstance(node, ast.Import):
                found.extend(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found.extend(
                    f"{node.module}.{alias.name}" if f"{node.module}.{alias.name}" in MODULES else node.module
                    for alias in node.names
                )
            elif isinstance(node, ast.If) and not _is_type_checking(node):
                visit(node.body + node.orelse)
            elif isinstance(node, (ast.Try, ast.With, ast.ClassDef)):
                visit([n for n in ast.iter_child_nodes(node) if isinstance(n, ast.stmt)])

    visit(tree.body)
    return found


def function_level_imports(tree: ast.Module) -> list[tuple[str, str]]:
    """(function, module) for each `cds_service` import inside a function."""
    found = []
    for function in ast.walk(tree):
        if not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        for node in ast.walk(function):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            found += [(function.name, name) for name in names if name.startswith("cds_service")]
    return found


GRAPH = {
    name: sorted({imported for imported in module_level_imports(tree) if imported in MODULES and imported != name})
    for name, tree in TREES.items()
}


def cycles(graph: dict[str, list[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def connect(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph[node]:
            if target not in index:
                connect(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in graph:
        if node not in index:
            connect(node)
    return found


def test_the_graph_sees_the_imports():
    assert "cds_service.pathway.assessment" in GRAPH["cds_service.rules.dvt_duplex"]
    assert "cds_service.rules.registry" in GRAPH["cds_service.services.patient_view"]


def test_the_cycle_finder_finds_a_cycle():
    assert cycles({"a": ["b"], "b": ["c"], "c": ["a"], "d": ["a"]}) == [["a", "b", "c"]]


def test_no_import_cycle_between_modules():
    assert cycles(GRAPH) == []


def test_no_function_level_import_of_the_package():
    """A function-level import hides a cycle from the reader; only the lazy entry point may use them."""
    offenders = {
        name: imports
        for name, tree in TREES.items()
        if name not in LAZY_ENTRY_POINTS and (imports := function_level_imports(tree))
    }
    assert offenders == {}


def test_nothing_imports_the_lazy_entry_points():
    importers = {name for name, imported in GRAPH.items() if set(imported) & LAZY_ENTRY_POINTS}
    assert importers == set()


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_each_layer_imports_only_what_it_may(layer):
    bad = {
        name: [i for i in module_level_imports(TREES[name]) if i.startswith(FORBIDDEN[layer])]
        for name in TREES
        if name == layer or name.startswith(layer + ".")
    }
    assert {name: found for name, found in bad.items() if found} == {}


def test_every_module_imports_in_a_fresh_interpreter():
    """Each module first on its own, in one fresh interpreter per package (an import-order cycle shows here)."""
    by_package: dict[str, list[str]] = {}
    for name in MODULES:
        by_package.setdefault(name.split(".")[1] if "." in name else "", []).append(name)
    script = (
        "import importlib, sys\n"
        "for name in sys.argv[1:]:\n"
        "    for loaded in [m for m in sys.modules if m.startswith('cds_service')]:\n"
        "        del sys.modules[loaded]\n"
        "    importlib.import_module(name)\n"
    )
    for package, names in sorted(by_package.items()):
        result = subprocess.run([sys.executable, "-c", script, *names], capture_output=True, text=True,
                                cwd=PACKAGE.parent, timeout=120)
        assert result.returncode == 0, f"{package}: {result.stderr[-2000:]}"


def long_functions() -> list[str]:
    found = []
    for name, tree in TREES.items():
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                length = (node.end_lineno or node.lineno) - node.lineno + 1
                if length > MAX_FUNCTION_LINES:
                    found.append(f"{name}.{node.name}: {length} lines")
    return found


def test_no_function_is_over_80_lines():
    assert long_functions() == []
