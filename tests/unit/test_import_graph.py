"""The package's import graph: no cycles, the bottom modules import nothing above them.

Read from the source (the import statements a module runs when it is loaded), so a cycle fails
here by name instead of as an `ImportError` that depends on which module happened to load first.
Imports inside functions (the CLI's lazy imports, optional extras) and under `TYPE_CHECKING` do
not run at load time and are not edges.
"""

from __future__ import annotations

import ast
import graphlib
from pathlib import Path

import litellm_codex_oauth_provider as package

ROOT = Path(package.__file__).parent
NAME = package.__name__
#: Modules anything may import; they import only each other (and the standard library, third parties).
BOTTOM = {"protocol", "config", "bounded", "files", "log", "encrypted_reasoning", "exceptions", "drive"}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join([NAME, *parts])


def _load_time_imports(tree: ast.Module) -> list[ast.ImportFrom | ast.Import]:
    """Import statements at module level, in `try`/`if` blocks too, except `if TYPE_CHECKING:`."""
    found: list[ast.ImportFrom | ast.Import] = []

    def visit(body: list[ast.stmt]) -> None:
        for node in body:
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                found.append(node)
            elif isinstance(node, ast.If):
                if not (isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING"):
                    visit(node.body)
                visit(node.orelse)
            elif isinstance(node, ast.Try):
                for block in (node.body, node.orelse, node.finalbody, *(h.body for h in node.handlers)):
                    visit(block)

    visit(tree.body)
    return found


def _targets(module: str, is_package: bool, node: ast.ImportFrom | ast.Import, known: set[str]) -> set[str]:
    if isinstance(node, ast.Import):
        return {alias.name for alias in node.names if alias.name in known}
    if node.level:
        base = module.split(".") if is_package else module.split(".")[:-1]
        base = base[: len(base) - (node.level - 1)]
        source = ".".join([*base, node.module] if node.module else base)
    else:
        source = node.module or ""
    if not source.startswith(NAME):
        return set()
    found = set()
    for alias in node.names:  # `from . import x` names a module; `from .x import y` names a value of x
        candidate = f"{source}.{alias.name}"
        found.add(candidate if candidate in known else source)
    return {target for target in found if target in known}


def _graph() -> dict[str, set[str]]:
    paths = {_module_name(path): path for path in ROOT.rglob("*.py")}
    known = set(paths)
    graph: dict[str, set[str]] = {}
    for module, path in paths.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        edges: set[str] = set()
        for node in _load_time_imports(tree):
            edges |= _targets(module, path.name == "__init__.py", node, known)
        # importing `a.b.c` runs the `a.b` package first: only its own imports matter, not an edge here
        graph[module] = {target for target in edges if target != module}
    return graph


def test_the_package_has_no_import_cycle() -> None:
    graph = _graph()
    assert len(graph) > 40, sorted(graph)
    graphlib.TopologicalSorter(graph).prepare()  # raises CycleError naming the cycle


def test_bottom_modules_import_only_each_other() -> None:
    graph = _graph()
    bottom = {f"{NAME}.{name}" for name in BOTTOM}
    for module in sorted(bottom):
        above = graph[module] - bottom
        assert not above, f"{module} imports {sorted(above)}, which sit above it"


def test_nothing_but_the_tests_imports_the_testing_package() -> None:
    graph = _graph()
    testing = f"{NAME}.testing"
    for module, targets in graph.items():
        if module.startswith(testing):
            continue
        assert not any(t.startswith(testing) for t in targets), f"{module} imports the testing package"
