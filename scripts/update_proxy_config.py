"""Regenerate the model list of litellm_config.yaml from the bundled catalog (or a catalog JSON).

Only the block between `# BEGIN GENERATED MODEL LIST` and `# END GENERATED MODEL LIST` is
rewritten: it holds `model_list:` and one entry per model the catalog lists (hidden models and
the `codex/*` wildcard stay outside, written by hand). Both configs carry the block: the
repository's litellm_config.yaml and the one packaged in `data/`.

    python scripts/update_proxy_config.py              # rewrite the block in both configs
    python scripts/update_proxy_config.py --print      # print the fragment instead
    python scripts/update_proxy_config.py --check      # exit 1 if the block is out of date
    python scripts/update_proxy_config.py --catalog models.json --all   # another catalog, hidden models too
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")  # importing litellm must not go online

from litellm_codex_oauth_provider.models.catalog import ModelCatalog, bundled_catalog

ROOT = Path(__file__).resolve().parents[1]
CONFIGS = (ROOT / "litellm_config.yaml", ROOT / "src/litellm_codex_oauth_provider/data/litellm_config.yaml")
BEGIN = "# BEGIN GENERATED MODEL LIST"
END = "# END GENERATED MODEL LIST"


def fragment(catalog: ModelCatalog, *, include_hidden: bool = False) -> str:
    """`model_list:` with one `codex/<slug>` entry per model, in the catalog's order."""
    lines = ["model_list:"]
    for info in catalog.ordered():
        if info.listed or include_hidden:
            lines += [
                f"  - model_name: codex/{info.slug}",
                "    litellm_params:",
                f"      model: codex/{info.slug}",
            ]
    return "\n".join(lines) + "\n"


def splice(config: str, block: str) -> str:
    """`config` with the text between the marker lines replaced by `block` (markers kept)."""
    lines = config.splitlines(keepends=True)
    starts = [i for i, line in enumerate(lines) if line.lstrip().startswith(BEGIN)]
    ends = [i for i, line in enumerate(lines) if line.lstrip().startswith(END)]
    if len(starts) != 1 or len(ends) != 1 or ends[0] < starts[0]:
        raise SystemExit(f"expected one `{BEGIN}` line followed by one `{END}` line")
    return "".join(lines[: starts[0] + 1]) + block + "".join(lines[ends[0] :])


def load(path: Path | None) -> ModelCatalog:
    if path is None:
        return bundled_catalog()
    return ModelCatalog.from_payload(json.loads(path.read_text(encoding="utf-8")), source="file")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--catalog", type=Path, help="a catalog JSON instead of the bundled catalog")
    parser.add_argument("--config", type=Path, help="one proxy config to update (default: both)")
    parser.add_argument("--all", action="store_true", help="hidden models too")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--print", action="store_true", help="print the fragment, change nothing")
    mode.add_argument("--check", action="store_true", help="exit 1 if the config is out of date")
    args = parser.parse_args(argv)
    block = fragment(load(args.catalog), include_hidden=args.all)
    if args.print:
        sys.stdout.write(block)
        return 0
    configs = [args.config] if args.config else [c for c in CONFIGS if c.exists()]
    stale = 0
    for config in configs:
        current = config.read_text(encoding="utf-8")
        updated = splice(current, block)
        if args.check:
            if updated != current:
                stale += 1
                print(
                    f"{config}: the generated model list is out of date; run {sys.argv[0]}", file=sys.stderr
                )
            else:
                print(f"{config}: the generated model list is current")
            continue
        if updated != current:
            config.write_text(updated, encoding="utf-8")
        print(f"{config}: {block.count('model_name:')} models in the generated block")
    return 1 if stale else 0


if __name__ == "__main__":
    raise SystemExit(main())
