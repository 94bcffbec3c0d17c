"""Regenerate the package's bundled catalog from a catalog JSON (the backend's `/models` answer).

Keeps facts only (slugs, levels, defaults, context windows, modalities, tiers), never instructions:
    python scripts/update_bundled_catalog.py path/to/models.json
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

TARGET = Path(__file__).resolve().parents[1] / "src/litellm_codex_oauth_provider/data/bundled_models.json"
FACTS = (
    "slug",
    "display_name",
    "context_window",
    "max_output_tokens",
    "default_reasoning_level",
    "input_modalities",
    "support_verbosity",
    "default_verbosity",
    "supports_reasoning_summaries",
    "visibility",
    "supports_parallel_tool_calls",
    "priority",
)


def slim(entry: dict) -> dict:
    out = {k: entry[k] for k in FACTS if k in entry}
    out["efforts"] = [lvl["effort"] for lvl in entry.get("supported_reasoning_levels") or []]
    out["service_tier_ids"] = [t["id"] for t in entry.get("service_tiers") or [] if t.get("id")]
    upgrade = entry.get("upgrade")
    out["upgrade"] = upgrade.get("model") if isinstance(upgrade, dict) else None
    return out


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    payload = json.loads(Path(argv[1]).read_text(encoding="utf-8"))
    models = sorted((slim(m) for m in payload["models"]), key=lambda m: (m.get("priority", 999), m["slug"]))
    TARGET.write_text(json.dumps({"models": models}, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {len(models)} models to {TARGET}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
