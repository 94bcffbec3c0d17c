"""Regenerate the package's bundled catalog from a catalog JSON (the backend's `/models` answer).

The bundled catalog is the last resort when neither the backend nor the disk cache has one. It
keeps facts only (slugs, levels, defaults, context windows, modalities, tiers, upgrades), never
instructions. Sources: a file (`curl … /models` output, or the CLI's `models_cache.json`), or
`--from-cache`, the newest catalog this package cached in CODEX_CACHE_DIR.

    python scripts/update_bundled_catalog.py path/to/models.json
    python scripts/update_bundled_catalog.py --from-cache
    python scripts/update_bundled_catalog.py --check path/to/models.json   # exit 1 if out of date

Afterwards run scripts/gen_models_doc.py and scripts/update_proxy_config.py.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")  # importing litellm must not go online

from litellm_codex_oauth_provider import config
from litellm_codex_oauth_provider.models.catalog import bundled_payload
from litellm_codex_oauth_provider.protocol import REASONING_EFFORTS

TARGET = Path(__file__).resolve().parents[1] / "src/litellm_codex_oauth_provider/data/bundled_models.json"


def render(payload: dict[str, Any]) -> str:
    return json.dumps(bundled_payload(payload), indent=1, ensure_ascii=False) + "\n"


def problems(payload: dict[str, Any]) -> list[str]:
    """What the package would silently lose or get wrong with this catalog."""
    found = []
    for entry in payload.get("models", []):
        slug = entry.get("slug", "?")
        levels = [lvl.get("effort") for lvl in entry.get("supported_reasoning_levels") or []]
        unknown = [lvl for lvl in levels if lvl not in REASONING_EFFORTS]
        if unknown:
            found.append(f"{slug}: unknown reasoning levels {unknown}; add them to REASONING_EFFORTS")
        default = entry.get("default_reasoning_level")
        if default and levels and default not in levels:
            found.append(f"{slug}: default level {default!r} is not among its levels {levels}")
        if not entry.get("context_window"):
            found.append(f"{slug}: no context_window")
    return found


def newest_cached_catalog() -> Path:
    bodies = [
        p
        for p in (config.CODEX_CACHE_DIR.get() / "models").glob("*.json")
        if not p.name.endswith(".meta.json")
    ]
    if not bodies:
        raise SystemExit(
            f"no cached catalog in {config.CODEX_CACHE_DIR.get() / 'models'}; make one call first"
        )
    return max(bodies, key=lambda p: p.stat().st_mtime)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("source", nargs="?", type=Path, help='a catalog JSON ({"models": [...]})')
    parser.add_argument("--from-cache", action="store_true", help="use the newest cached catalog")
    parser.add_argument("--check", action="store_true", help="only report whether the bundle is current")
    args = parser.parse_args(argv)
    if (args.source is None) == (not args.from_cache):
        parser.error("give a catalog file or --from-cache")
    source = newest_cached_catalog() if args.from_cache else args.source
    payload = json.loads(source.read_text(encoding="utf-8"))
    if not isinstance(payload.get("models"), list):
        raise SystemExit(f"{source} has no `models` list")
    for problem in problems(payload):
        print(f"warning: {problem}", file=sys.stderr)
    text = render(payload)
    current = TARGET.read_text(encoding="utf-8") if TARGET.exists() else ""
    if args.check:
        if text != current:
            print(f"{TARGET} is out of date; run scripts/update_bundled_catalog.py {source}", file=sys.stderr)
            return 1
        print(f"{TARGET} is current ({len(payload['models'])} models)")
        return 0
    TARGET.write_text(text, encoding="utf-8")
    print(f"wrote {len(payload['models'])} models to {TARGET}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
