"""LiteLLM knows our models: `codex/<slug>` in `litellm.model_cost`, from the catalog.

So `litellm.get_model_info("codex/<slug>")`, token counting and trimming, the proxy's
`/model/info` and spend logs see the real context window, vision and reasoning support, and a
cost of zero (the ChatGPT plan pays). Mode is `chat`: a `responses` mode would make
`litellm.completion` hand the call to LiteLLM's own Responses bridge instead of this provider.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

import litellm

from ..protocol import DEFAULT_MAX_OUTPUT_TOKENS, PROVIDER_NAME
from .catalog import ModelCatalog, ModelInfo

logger = logging.getLogger(__name__)

#: Levels LiteLLM's `default_reasoning_effort` field can name (it has no `ultra`).
_LITELLM_EFFORTS = frozenset({"none", "minimal", "low", "medium", "high", "xhigh", "max"})
#: LiteLLM's per-level flags; `reasoning_effort_levels` carries the full list besides.
_EFFORT_FLAGS = {
    "none": "supports_none_reasoning_effort",
    "minimal": "supports_minimal_reasoning_effort",
    "low": "supports_low_reasoning_effort",
    "xhigh": "supports_xhigh_reasoning_effort",
    "max": "supports_max_reasoning_effort",
}
#: Every price field LiteLLM reads for a plain chat call; all zero, so spend logs show 0, not "unknown".
_ZERO_COST = {
    "input_cost_per_token": 0.0,
    "output_cost_per_token": 0.0,
    "cache_read_input_token_cost": 0.0,
    "cache_creation_input_token_cost": 0.0,
}

_registered: dict[str, dict[str, Any]] = {}
_lock = threading.Lock()
_local = threading.local()


def registering() -> bool:
    """Whether this thread is inside `register_catalog` (LiteLLM looks model info up meanwhile)."""
    return bool(getattr(_local, "busy", False))


def model_key(slug: str) -> str:
    return f"{PROVIDER_NAME}/{slug}"


def model_cost_entry(info: ModelInfo) -> dict[str, Any]:
    """One model as a LiteLLM model-cost entry.

    `max_tokens` follows LiteLLM's convention (the output limit when known); the context
    window is `max_input_tokens`. The catalog publishes no output limit, so the GPT-5 family's
    128k stands in unless the entry names one.
    """
    max_output = info.max_output_tokens or DEFAULT_MAX_OUTPUT_TOKENS
    entry: dict[str, Any] = {
        "litellm_provider": PROVIDER_NAME,
        "mode": "chat",
        "max_tokens": max_output,
        "max_output_tokens": max_output,
        **_ZERO_COST,
        "supports_vision": info.supports_vision,
        "supports_reasoning": bool(info.efforts),
        "supports_function_calling": True,
        "supports_tool_choice": True,
        "supports_parallel_function_calling": info.supports_parallel_tool_calls,
        "supports_response_schema": True,
        "supports_system_messages": True,
        "supports_prompt_caching": True,
    }
    if info.context_window:
        entry["max_input_tokens"] = info.context_window
    if info.efforts:
        entry["reasoning_effort_levels"] = list(info.efforts)
        entry.update({flag: level in info.efforts for level, flag in _EFFORT_FLAGS.items()})
        if info.default_effort in _LITELLM_EFFORTS:
            entry["default_reasoning_effort"] = info.default_effort
    return entry


def model_cost_entries(catalog: ModelCatalog) -> dict[str, dict[str, Any]]:
    """`{"codex/<slug>": entry}` for every model of the catalog, hidden ones included."""
    return {model_key(info.slug): model_cost_entry(info) for info in catalog}


def register_catalog(catalog: ModelCatalog) -> int:
    """Register the catalog's models with LiteLLM; returns how many entries were new or changed.

    Entries LiteLLM already holds as we registered them are skipped, so calling this for every
    catalog that arrives costs nothing when the models did not change.
    """
    entries = model_cost_entries(catalog)
    with _lock:
        changed = {
            key: entry
            for key, entry in entries.items()
            if _registered.get(key) != entry or key not in litellm.model_cost
        }
        if not changed:
            return 0
        _local.busy = True
        try:
            litellm.register_model(changed, custom_llm_provider=PROVIDER_NAME)
        finally:
            _local.busy = False
        _registered.update(changed)
    logger.debug("codex: registered %d models with LiteLLM (%s catalog)", len(changed), catalog.source)
    return len(changed)
