"""The docs name files that exist: the test tables and the pointers into the code stay true after a move."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# A repository path in backticks or prose: a top folder the repository has, then a file with an extension.
PATH = re.compile(
    r"(?<![\w/.-])((?:tests|src|bench|scripts|deploy)/[\w./-]+\.(?:py|md|json|yaml|toml|sh|txt))"
)


def named_paths() -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for doc in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        for match in PATH.finditer(doc.read_text(encoding="utf-8")):
            found.setdefault(match.group(1), set()).add(doc.name)
    return found


def test_every_repository_path_the_docs_name_exists():
    found = named_paths()
    assert "tests/e2e/proxy.py" in found  # the scan itself works
    missing = {path: sorted(docs) for path, docs in found.items() if not (ROOT / path).exists()}
    assert missing == {}
