"""LiteLLM's answers as the openai package's types, built the way openai builds them from a server's JSON.

`ChatCompletion`, `ChatCompletionChunk`, `Response` and its stream events, `Model`: the
drop-in client returns nothing else, so code written for the openai package sees its own types.
"""

from __future__ import annotations

from typing import Any

import pydantic
from openai.types import Model
from openai.types.chat import ChatCompletion, ChatCompletionChunk
from openai.types.responses import Response, ResponseStreamEvent

from ..models.catalog import ModelCatalog, ModelInfo

try:  # how the openai package turns a server's JSON into its types (loosely, as the API evolves)
    from openai._models import construct_type_unchecked as _construct
except ImportError:  # pragma: no cover - another openai layout: strict validation instead
    _construct = None


def to_chat_completion(response: Any) -> ChatCompletion:
    """A LiteLLM `ModelResponse` as openai's `ChatCompletion` (extra fields such as `reasoning_content` kept)."""
    return ChatCompletion.model_validate(response.model_dump())


def to_chat_completion_chunk(chunk: Any) -> ChatCompletionChunk:
    """A LiteLLM stream chunk as openai's `ChatCompletionChunk`.

    The usage chunk (`stream_options={"include_usage": True}`) has no choices, as openai sends it.
    """
    data = chunk.model_dump()
    choices = data.get("choices") or []
    if data.get("usage") and all(_empty_choice(c) for c in choices):
        data["choices"] = []
    return ChatCompletionChunk.model_validate(data)


def _empty_choice(choice: dict[str, Any]) -> bool:
    delta = choice.get("delta") or {}
    return choice.get("finish_reason") is None and not any(
        delta.get(key) for key in ("content", "tool_calls", "function_call", "refusal", "reasoning_content")
    )


def _openai_object(data: Any, type_: Any) -> Any:
    """`data` as the openai type, built as openai builds what a server sends: the backend omits
    fields the openai models mark required (`usage.input_tokens_details.cache_write_tokens`)."""
    if _construct is not None:
        return _construct(value=data, type_=type_)
    return pydantic.TypeAdapter(type_).validate_python(data)


def to_response(response: Any) -> Response:
    """LiteLLM's `ResponsesAPIResponse` as openai's `Response`."""
    return _openai_object(response.model_dump(mode="json", warnings=False), Response)


def to_response_event(event: Any) -> ResponseStreamEvent:
    """One of LiteLLM's Responses stream events as openai's (`ResponseCompletedEvent`, …)."""
    # LiteLLM keeps a part it could not type as a dict; dumping it is fine, pydantic just warns.
    data = event.model_dump(mode="json", warnings=False) if hasattr(event, "model_dump") else dict(event)
    return _openai_object(data, ResponseStreamEvent)


def to_model(info: ModelInfo) -> Model:
    """A catalog entry as openai's `Model` (id without the `codex/` prefix); catalog facts as extra fields."""
    return Model.model_validate(
        {
            "id": info.slug,
            "object": "model",
            "created": 0,
            "owned_by": "openai",
            "display_name": info.display_name,
            "context_window": info.context_window,
            "reasoning_efforts": list(info.efforts),
            "default_reasoning_effort": info.default_effort,
            "image_input": info.supports_vision,
            "fast_tier": info.supports_fast,
        }
    )


def listed_models(catalog: ModelCatalog) -> list[Model]:
    """The models the Codex CLI lists (hidden ones are left out), as openai `Model`s."""
    return [to_model(info) for info in catalog.ordered() if info.listed]
