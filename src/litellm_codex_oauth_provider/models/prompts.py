"""Which instructions a turn carries: the model's Codex instructions, or the caller's system prompt.

The catalog gives each model its instructions (`ModelInfo.instructions`); for models it has
none for, the Codex release's prompt file for the model family stands in (`prompt_store`
fetches it, `prompt_file_for` names it). Nothing here does I/O.
"""

from __future__ import annotations

import logging

from ..log import log_once
from .catalog import ModelInfo

logger = logging.getLogger(__name__)


def prompt_file_for(slug: str) -> str:
    """The Codex release's prompt file (`codex-rs/core/<file>`) for an old model's family."""
    s = slug.lower()
    if "codex-max" in s:
        return "gpt-5.1-codex-max_prompt.md"
    if "codex" in s and any(v in s for v in ("5.2", "5.3")):
        return "gpt-5.2-codex_prompt.md"
    if "codex" in s:
        return "gpt_5_codex_prompt.md"
    if s.startswith("gpt-5.2"):
        return "gpt_5_2_prompt.md"
    if s.startswith("gpt-5.1"):
        return "gpt_5_1_prompt.md"
    return "prompt.md"


def derive_instructions(
    slug: str, info: ModelInfo | None, *, codex_mode: bool, system_text: str, fallback: str | None = None
) -> str:
    """Codex instructions for the model (catalog first, then `fallback`), or the caller's system text.

    With Codex mode off the caller's system prompt is the whole of the instructions; with it on
    the caller's system and developer messages travel as developer messages instead. A model
    with no instructions anywhere gets none, and that is logged once per model.
    """
    if not codex_mode:
        return system_text
    text = (info.instructions if info else None) or fallback
    if text:
        return text
    log_once(
        logger,
        ("no-instructions", slug.lower()),
        logging.WARNING,
        "codex: no Codex instructions are known for %s (not in the catalog, prompt file unavailable); "
        "sending the request without them",
        slug,
    )
    return ""
