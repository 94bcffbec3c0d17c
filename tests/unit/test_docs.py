"""The docs keep up with the code: every setting in the table is documented, with its default."""

from __future__ import annotations

import re
from pathlib import Path

from litellm_codex_oauth_provider import config

ROOT = Path(__file__).resolve().parents[2]
CONFIGURATION = ROOT / "docs/configuration.md"


def documented_variables() -> dict[str, str]:
    """The environment variable table of docs/configuration.md: variable → its default column."""
    rows: dict[str, str] = {}
    for line in CONFIGURATION.read_text(encoding="utf-8").splitlines():
        match = re.match(r"\| `([A-Z][A-Z0-9_]+)` \| ([^|]*) \|", line)
        if match:
            rows[match[1]] = match[2]
    return rows


def test_the_table_holds_every_setting_config_defines():
    defined = [v.name for v in vars(config).values() if isinstance(v, config.Setting)]
    assert sorted(defined) == sorted(s.name for s in config.SETTINGS)


def test_every_setting_is_in_configuration_md_with_its_default():
    rows = documented_variables()
    assert "CODEX_HOME" in rows  # the parsing itself works
    missing = [s.name for s in config.SETTINGS if s.name not in rows]
    assert missing == []
    wrong = {s.name: rows[s.name] for s in config.SETTINGS if s.shown not in rows[s.name]}
    assert wrong == {}


def test_configuration_md_documents_no_codex_variable_the_code_does_not_read():
    names = {s.name for s in config.SETTINGS}
    assert [n for n in documented_variables() if n.startswith("CODEX_") and n not in names] == []


def test_the_code_reads_no_variable_outside_the_table():
    """An environment variable named anywhere in the package is an entry of `config.SETTINGS`."""
    names = {s.name for s in config.SETTINGS}
    found: set[str] = set()
    for path in (ROOT / "src").rglob("*.py"):
        found.update(
            re.findall(r"[\"']((?:CODEX|LITELLM)_[A-Z0-9_]+)[\"']", path.read_text(encoding="utf-8"))
        )
    assert found - names == set()


def test_a_setting_the_code_cannot_read_says_which_and_why(monkeypatch):
    monkeypatch.setenv("CODEX_CATALOG_TTL", "soon")
    try:
        config.CODEX_CATALOG_TTL.get()
    except ValueError as exc:
        assert str(exc) == "CODEX_CATALOG_TTL='soon' is not a number; unset it or give one like 300"
    else:
        raise AssertionError("an unreadable value was accepted")


def test_readme_links_every_doc():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    docs = sorted(p.name for p in (ROOT / "docs").glob("*.md"))
    assert "security.md" in docs  # the listing itself works
    assert [d for d in docs if f"docs/{d}" not in readme] == []
