"""How encrypted reasoning travels in LiteLLM's messages, in both directions.

The backend keeps nothing (`store: false`), so a reasoning item comes back to the caller with its
`encrypted_content` and must be sent again in the next turn. LiteLLM has two places for it:
`reasoning_items` (its Responses bridge's field) and a `thinking` block whose `signature` is
LiteLLM's `litellm_encrypted_reasoning:` wrapping (it survives `stream_chunk_builder` and
Anthropic-format clients). The answer side (`events`) writes both, the request side
(`request.items`) reads either.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

#: LiteLLM's marker for Responses encrypted reasoning carried in a thinking block's signature
#: (`litellm.litellm_core_utils.prompt_templates.common_utils.ENCRYPTED_REASONING_SIGNATURE_PREFIX`).
ENCRYPTED_REASONING_PREFIX = "litellm_encrypted_reasoning:"


def reasoning_item(encrypted_content: str, summary: Iterable[str]) -> dict[str, Any]:
    """A reasoning item as LiteLLM's `reasoning_items` holds it (no id: nothing is stored server-side)."""
    return {
        "type": "reasoning",
        "summary": [{"type": "summary_text", "text": text} for text in summary],
        "encrypted_content": encrypted_content,
    }


def thinking_block(encrypted_content: str, text: str = "") -> dict[str, Any]:
    """The same item as a LiteLLM thinking block: the encrypted content travels in its signature."""
    return {"type": "thinking", "thinking": text, "signature": ENCRYPTED_REASONING_PREFIX + encrypted_content}


def encrypted_of_block(block: Any) -> str | None:
    """The encrypted content a thinking (or redacted thinking) block carries, if it is ours."""
    if not isinstance(block, Mapping):
        return None
    value = block.get("signature") if block.get("type") == "thinking" else block.get("data")
    if isinstance(value, str) and value.startswith(ENCRYPTED_REASONING_PREFIX):
        return value[len(ENCRYPTED_REASONING_PREFIX) :] or None
    return None
