"""Catalog entries as facts, the bundled catalog, and the files generated from it (docs, proxy config)."""

from __future__ import annotations

import importlib.util
import json
from dataclasses import fields
from pathlib import Path
from types import ModuleType

import pytest

from litellm_codex_oauth_provider.models.catalog import (
    ModelCatalog,
    bundled_catalog,
    bundled_payload,
    model_info_from_entry,
)
from litellm_codex_oauth_provider.testing.fake_codex import CATALOG_FILE as REFERENCE

ROOT = Path(__file__).resolve().parents[2]
RAW = json.loads(REFERENCE.read_text(encoding="utf-8"))
LIVE = ModelCatalog.from_payload(RAW, source="live")


def script(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_an_entry_becomes_its_facts() -> None:
    sol = LIVE.get("gpt-6-sol")
    assert sol.efforts == ("low", "medium", "high", "xhigh", "max", "ultra")
    assert sol.default_effort == "medium"
    assert sol.context_window == 272000 and sol.supports_vision
    assert sol.supports_verbosity and sol.default_verbosity == "low"
    assert sol.supports_reasoning_summaries and sol.supports_fast
    assert sol.listed and sol.upgrade is None
    assert LIVE.get("gpt-5.5").upgrade == "gpt-6-sol"
    red = LIVE.get("GPT-DAYBREAK-RED-LATEST")  # looked up case-insensitively
    assert red is not None and not red.listed and not red.supports_fast and red.context_window == 372000


def test_unknown_levels_and_odd_values_are_left_out() -> None:
    info = model_info_from_entry(
        {
            "slug": "m",
            "supported_reasoning_levels": [{"effort": "HIGH"}, {"effort": "turbo"}, "low"],
            "default_reasoning_level": "High",
            "context_window": "big",
            "upgrade": {"model": "n", "migration_markdown": "…"},
        }
    )
    assert info.efforts == ("high", "low") and info.default_effort == "high"
    assert info.context_window is None and info.upgrade == "n"


def test_a_payload_without_a_models_list_is_refused() -> None:
    for payload in ({}, {"models": "x"}, []):
        with pytest.raises(ValueError):
            ModelCatalog.from_payload(payload, source="live")  # type: ignore[arg-type]


def test_the_bundled_catalog_is_the_captured_catalog_minus_the_instructions() -> None:
    bundled = bundled_catalog()
    assert bundled.source == "bundled" and not bundled.authoritative
    assert sorted(bundled.slugs) == sorted(LIVE.slugs)
    for live in LIVE:
        kept = bundled.get(live.slug)
        assert kept.instructions is None
        for f in fields(live):
            if f.name != "instructions":
                assert getattr(kept, f.name) == getattr(live, f.name), (live.slug, f.name)


def test_the_bundled_file_is_what_the_script_makes_of_the_captured_catalog() -> None:
    assert script("update_bundled_catalog").main(["--check", str(REFERENCE)]) == 0
    by_priority = [m["slug"] for m in bundled_payload(RAW)["models"]]
    assert by_priority[:2] == ["gpt-6.1-sol", "gpt-6-astra"]


def test_the_bundling_script_warns_about_levels_the_package_does_not_know() -> None:
    payload = {
        "models": [
            {
                "slug": "m",
                "supported_reasoning_levels": [{"effort": "warp"}],
                "default_reasoning_level": "low",
                "context_window": 1,
            }
        ]
    }
    found = script("update_bundled_catalog").problems(payload)
    assert any("warp" in p for p in found) and any("default level" in p for p in found)


def test_the_docs_table_is_current() -> None:
    assert script("gen_models_doc").main(["--check"]) == 0


def test_the_proxy_config_model_list_is_current() -> None:
    assert script("update_proxy_config").main(["--check"]) == 0


def test_the_proxy_config_script_rewrites_only_its_block(tmp_path: Path, capsys) -> None:
    module = script("update_proxy_config")
    config = tmp_path / "config.yaml"
    config.write_text(
        "litellm_settings: {}\n"
        "# BEGIN GENERATED MODEL LIST (keep me)\n"
        "model_list:\n  - model_name: old\n"
        "# END GENERATED MODEL LIST\n"
        "  - model_name: codex/*\n    litellm_params:\n      model: codex/*\n",
        encoding="utf-8",
    )
    assert module.main(["--config", str(config), "--check"]) == 1
    assert module.main(["--config", str(config)]) == 0
    text = config.read_text(encoding="utf-8")
    assert text.startswith("litellm_settings: {}\n# BEGIN GENERATED MODEL LIST (keep me)\nmodel_list:\n")
    assert "model_name: old" not in text and text.endswith("      model: codex/*\n")
    assert text.count("model_name: codex/gpt") == len([m for m in bundled_catalog() if m.listed])
    assert "codex/codex-auto-review" not in text  # hidden models are left to the wildcard
    assert module.main(["--config", str(config), "--check"]) == 0
    capsys.readouterr()
    assert module.main(["--print", "--all"]) == 0
    assert "codex/codex-auto-review" in capsys.readouterr().out
