"""The login package's layering: auth imports nothing above it, and its modules import each other downward only."""

from __future__ import annotations

import ast
import graphlib
import subprocess
import sys
from pathlib import Path

import litellm_codex_oauth_provider.auth as auth_package

AUTH = Path(auth_package.__file__).parent
#: Modules above auth: they use the login, never the other way round.
ABOVE = {"transport", "provider", "responses_api", "dropin", "cli", "litellm_glue", "turn", "events"}


def _imports(path: Path) -> tuple[set[str], set[str]]:
    """The auth modules and the package modules (`..x`) that `path` imports, at any depth of the file."""
    inside, package = set(), set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            inside.update([node.module] if node.module else [alias.name for alias in node.names])
        elif isinstance(node, ast.ImportFrom) and node.level == 2:
            names = [node.module] if node.module else [alias.name for alias in node.names]
            package.update(name.split(".")[0] for name in names)
    return inside, package


def test_auth_modules_form_no_cycle_and_import_nothing_above_auth() -> None:
    graph = {}
    for path in sorted(AUTH.glob("*.py")):
        inside, package = _imports(path)
        assert not package & ABOVE, f"{path.name} imports {package & ABOVE}"
        graph[path.stem] = inside
    order = list(graphlib.TopologicalSorter(graph).static_order())  # raises CycleError on a cycle
    assert order.index("record") < order.index("store") < order.index("manager") < order.index("httpx_auth")


def test_importing_the_login_modules_does_not_import_the_transport() -> None:
    code = (
        "import sys\n"
        "import litellm_codex_oauth_provider.auth.httpx_auth\n"
        "import litellm_codex_oauth_provider.auth.stores\n"
        "loaded = [m for m in sys.modules if m.startswith('litellm_codex_oauth_provider.')]\n"
        "assert 'litellm_codex_oauth_provider.transport' not in loaded, loaded\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
