"""The docs keep up with the code: every setting the code reads is documented."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def env_vars_read_by_the_code() -> set[str]:
    names: set[str] = set()
    for path in (ROOT / "src").rglob("*.py"):
        names.update(
            re.findall(r"[\"']((?:CODEX|LITELLM)_[A-Z0-9_]+)[\"']", path.read_text(encoding="utf-8"))
        )
    return names


def test_every_env_var_the_code_reads_is_in_configuration_md():
    documented = (ROOT / "docs/configuration.md").read_text(encoding="utf-8")
    names = env_vars_read_by_the_code()
    assert {"CODEX_HOME", "CODEX_AUTH_FILE", "CODEX_MODE"} <= names  # the scan itself works
    missing = sorted(n for n in names if f"`{n}`" not in documented)
    assert missing == []


def test_readme_links_every_doc():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    docs = sorted(p.name for p in (ROOT / "docs").glob("*.md"))
    assert "security.md" in docs  # the listing itself works
    assert [d for d in docs if f"docs/{d}" not in readme] == []
