"""Request building: a LiteLLM chat call → the body and headers of one `POST /responses`."""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .. import config
from ..exceptions import CodexModelError
from ..models.catalog import ModelInfo
from ..models.ids import ModelSpec
from ..models.prompts import derive_instructions
from . import items
from .reasoning import apply_reasoning_config, resolve_verbosity

logger = logging.getLogger(__name__)

#: Chat parameters the backend rejects with a 400: dropped, named in one warning and in `_hidden_params`.
REJECTED_PARAMS = frozenset(
    {
        "temperature",
        "top_p",
        "max_tokens",
        "max_completion_tokens",
        "max_output_tokens",
        "frequency_penalty",
        "presence_penalty",
        "logit_bias",
        "stop",
        "seed",
        "logprobs",
        "top_logprobs",
        "modalities",
        "prediction",
        "audio",
        "store",
        "user",
        "metadata",
        "safety_identifier",
        "prompt_cache_retention",
        "top_k",
        "truncation",
        "background",
        "previous_response_id",
        "conversation",
        "max_tool_calls",
        "instructions",
        "moderation",
        "prompt_cache_options",
    }
)
#: Parameters LiteLLM hands the provider that are about the call, not the model turn.
_CALL_PARAMS = frozenset({"stream", "stream_options", "max_retries", "n", "extra_headers", "timeout"})
_HANDLED = frozenset(
    {
        "tools",
        "tool_choice",
        "parallel_tool_calls",
        "response_format",
        "reasoning_effort",
        "verbosity",
        "prompt_cache_key",
        "service_tier",
        "functions",
        "function_call",
        "include",
        "reasoning",
        "text",
        "client_metadata",
        "web_search_options",
    }
)
#: What every turn includes; a caller's `include` adds to it.
_INCLUDE = ("reasoning.encrypted_content",)
_FAST_TIERS = frozenset({"priority", "fast"})
#: Rejected parameters whose value asks for what every turn does anyway: not worth a warning.
_AS_SENT: dict[str, Any] = {"store": False, "logprobs": False, "modalities": ["text"]}


@dataclass
class CodexRequest:
    """One backend turn, ready to send; `dropped` names the parameters left out."""

    slug: str
    body: dict[str, Any]
    session_id: str
    dropped: list[str] = field(default_factory=list)


def _merged_params(optional_params: Mapping[str, Any]) -> dict[str, Any]:
    """Top-level parameters plus `extra_body` (where the openai package puts extra fields)."""
    params = {k: v for k, v in optional_params.items() if k != "extra_body"}
    extra = optional_params.get("extra_body")
    if isinstance(extra, Mapping):
        for key, value in extra.items():
            params.setdefault(key, value)
    return params


def _legacy_functions(functions: Sequence[Mapping[str, Any]] | None) -> list[dict[str, Any]]:
    return [{"type": "function", "function": dict(f)} for f in functions or []]


def resolve_service_tier(spec: ModelSpec, info: ModelInfo | None, requested: Any) -> str | None:
    tier = str(requested).lower() if requested else None
    wants_fast = spec.fast or tier in _FAST_TIERS
    if not wants_fast:
        return tier if tier and tier not in ("auto", "default") else None
    if info is not None and not info.supports_fast:
        raise CodexModelError(
            f"{spec.slug} has no Fast tier; drop the `-fast` suffix or `service_tier`, "
            "or pick a model whose catalog entry lists it (`codex-litellm models`)"
        )
    return "priority"


def conversation_key(instructions: str, input_items: Sequence[Mapping[str, Any]]) -> str:
    """A stable key per conversation: the instructions and the input up to the first user message.

    That prefix (system/developer messages and the first user message) stays the same for every
    turn of a conversation, so each turn finds the previous turns' prompt cache.
    """
    digest = hashlib.sha256()
    digest.update(instructions.encode("utf-8"))
    for item in input_items:
        digest.update(b"\x00")
        digest.update(json.dumps(item.get("content"), sort_keys=True, default=str).encode("utf-8"))
        if item.get("type") == "message" and item.get("role") == "user":
            break
    h = digest.hexdigest()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:32]}"


def caller_session_id(litellm_params: Mapping[str, Any] | None) -> str | None:
    """LiteLLM's session id: `litellm_session_id=` (or `metadata={"session_id": …}`, which LiteLLM
    copies there) arrives in `litellm_params`; the proxy's `litellm_metadata` is read too."""
    if not litellm_params:
        return None
    session = litellm_params.get("litellm_session_id")
    for key in ("metadata", "litellm_metadata"):
        metadata = litellm_params.get(key)
        if not session and isinstance(metadata, Mapping):
            session = metadata.get("session_id")
    return str(session) if session else None


def include_list(requested: Any) -> list[str]:
    extra = [requested] if isinstance(requested, str) else list(requested or [])
    return list(dict.fromkeys([*_INCLUDE, *(str(x) for x in extra)]))


def client_metadata_map(requested: Any) -> dict[str, str] | None:
    """`client_metadata` as the CLI sends it: a flat map of strings."""
    if not isinstance(requested, Mapping) or not requested:
        return None
    return {str(k): v if isinstance(v, str) else json.dumps(v) for k, v in requested.items()}


def build_request(
    spec: ModelSpec,
    info: ModelInfo | None,
    messages: Sequence[Mapping[str, Any]],
    optional_params: Mapping[str, Any],
    litellm_params: Mapping[str, Any] | None = None,
    *,
    fallback_instructions: str | None = None,
    force_codex_instructions: bool = False,
) -> CodexRequest:
    """Translate one chat call. Always `store: false`, `stream: true`, encrypted reasoning included."""
    params = _merged_params(optional_params)
    codex_mode = force_codex_instructions or config.CODEX_MODE.get()
    dropped = sorted(
        k for k in params if k in REJECTED_PARAMS and params[k] is not None and params[k] != _AS_SENT.get(k)
    )
    unknown = sorted(k for k in params if k not in REJECTED_PARAMS | _CALL_PARAMS | _HANDLED)
    dropped.extend(unknown)

    chat_messages = list(messages)
    if codex_mode:
        input_items = items.messages_to_input(chat_messages)
    else:
        input_items = items.messages_to_input(
            m for m in chat_messages if m.get("role") not in ("system", "developer")
        )
    instructions = derive_instructions(
        spec.slug,
        info,
        codex_mode=codex_mode,
        system_text=items.system_text(chat_messages),
        fallback=fallback_instructions,
    )

    body: dict[str, Any] = {
        "model": spec.slug,
        "instructions": instructions,
        "input": input_items,
        "store": False,
        "stream": True,
        "include": include_list(params.get("include")),
    }
    tools = items.convert_tools(params.get("tools") or _legacy_functions(params.get("functions")))
    if params.get("web_search_options") is not None:
        tools.append(items.web_search_tool(params["web_search_options"]))
    if tools:
        body["tools"] = tools
        choice = params.get("tool_choice") or params.get("function_call")
        body["tool_choice"] = items.convert_tool_choice(choice) if choice else "auto"
        parallel = params.get("parallel_tool_calls")
        body["parallel_tool_calls"] = bool(parallel) if parallel is not None else True
    elif params.get("tool_choice") is not None:
        dropped.append("tool_choice")

    apply_reasoning_config(
        body,
        spec.slug,
        info,
        requested=params.get("reasoning_effort") or params.get("reasoning"),
        suffix=spec.effort,
        summary=config.CODEX_REASONING_SUMMARY.get(),
    )
    caller_text = params.get("text") if isinstance(params.get("text"), Mapping) else {}
    text: dict[str, Any] = {}
    verbosity, verbosity_dropped = resolve_verbosity(
        info, params.get("verbosity") or caller_text.get("verbosity")
    )
    if verbosity is not None:
        text["verbosity"] = verbosity
    if verbosity_dropped:
        dropped.append("verbosity")
    text_format = items.convert_response_format(params.get("response_format")) or caller_text.get("format")
    if text_format is not None:
        text["format"] = text_format
    if text:
        body["text"] = text

    cache_key = finish_body(
        body,
        spec,
        info,
        params,
        litellm_params,
        instructions=instructions,
        items=input_items,
        dropped=dropped,
    )
    return CodexRequest(slug=spec.slug, body=body, session_id=cache_key, dropped=dropped)


def finish_body(
    body: dict[str, Any],
    spec: ModelSpec,
    info: ModelInfo | None,
    params: Mapping[str, Any],
    litellm_params: Mapping[str, Any] | None,
    *,
    instructions: str,
    items: Sequence[Mapping[str, Any]],
    dropped: Sequence[str],
) -> str:
    """What every body carries, whichever road it came by (chat or Responses): the Fast tier, the
    client metadata and the prompt-cache key; the parameters left out are warned about. Returns
    the cache key, which is also the turn's `session-id`."""
    tier = resolve_service_tier(spec, info, params.get("service_tier"))
    if tier:
        body["service_tier"] = tier
    client_metadata = client_metadata_map(params.get("client_metadata"))
    if client_metadata:
        body["client_metadata"] = client_metadata
    cache_key = str(
        params.get("prompt_cache_key")
        or caller_session_id(litellm_params)
        or conversation_key(instructions, items)
    )
    body["prompt_cache_key"] = cache_key
    if dropped:
        logger.warning("codex: dropped parameters the Codex backend does not accept: %s", ", ".join(dropped))
    return cache_key
