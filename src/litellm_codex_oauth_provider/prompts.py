"""Which instructions a turn carries: the model's Codex instructions, or the caller's system prompt."""

from __future__ import annotations

import logging

from .catalog import ModelInfo

logger = logging.getLogger(__name__)
_warned_missing: set[str] = set()


def derive_instructions(
    slug: str, info: ModelInfo | None, *, codex_mode: bool, system_text: str, fallback: str | None = None
) -> str:
    """Codex instructions for the model (catalog first, then `fallback`), or the caller's system text.

    With Codex mode off the caller's system prompt is the whole of the instructions.
    """
    if not codex_mode:
        return system_text
    text = (info.instructions if info else None) or fallback
    if text:
        return text
    if slug not in _warned_missing:
        _warned_missing.add(slug)
        logger.warning(
            "codex: no Codex instructions are known for %s; sending the request without them", slug
        )
    return ""
