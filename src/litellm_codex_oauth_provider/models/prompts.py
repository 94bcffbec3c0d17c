"""Which instructions a turn carries: the model's Codex instructions, or the caller's system prompt.

The catalog gives each model its instructions (a template with placeholders the entry fills);
for models it has none for, the Codex release's prompt file for the model family stands in
(`remote_resources.fetch_codex_instructions`). Nothing here does I/O.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .catalog import ModelInfo

logger = logging.getLogger(__name__)

#: `{{ personality }}` and friends, as the Codex CLI writes them in `instructions_template`.
_PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")
#: The placeholder the CLI fills with `instructions_variables.personality_<choice>`; we use the default.
_PERSONALITY = "personality"

_warned_missing: set[str] = set()
_warned_lock = threading.Lock()


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def fill_template(template: str, variables: Mapping[str, Any] | None) -> str:
    """Fill the template's placeholders the way the CLI does, with the default personality.

    `{{ personality }}` takes `personality_default` (empty when the catalog gives none); another
    `{{ name }}` takes the variable of that name when the catalog defines it and is left as
    written otherwise, since prompts quote template syntax in examples.
    """
    values = dict(variables or {})

    def fill(match: re.Match[str]) -> str:
        name = match.group(1)
        if name == _PERSONALITY:
            return _text(values.get("personality_default"))
        return _text(values[name]) if name in values else match.group(0)

    return _PLACEHOLDER.sub(fill, template)


def render_instructions(entry: Mapping[str, Any]) -> str | None:
    """A catalog entry's instructions: its message template filled in, else `base_instructions`.

    The template wins when both are present, as in the Codex CLI (`get_model_instructions`).
    """
    messages = entry.get("model_messages")
    if isinstance(messages, Mapping):
        template = messages.get("instructions_template")
        if isinstance(template, str) and template.strip():
            variables = messages.get("instructions_variables")
            return fill_template(template, variables if isinstance(variables, Mapping) else None)
    base = entry.get("base_instructions")
    return base if isinstance(base, str) and base.strip() else None


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
    with _warned_lock:
        first = slug.lower() not in _warned_missing
        _warned_missing.add(slug.lower())
    if first:
        logger.warning(
            "codex: no Codex instructions are known for %s (not in the catalog, prompt file unavailable); "
            "sending the request without them",
            slug,
        )
    return ""
