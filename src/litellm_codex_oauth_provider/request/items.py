"""Chat Completions shapes → Responses API shapes: messages, tools, tool choice, output format.

Reasoning across turns (`store: false`, so the backend keeps nothing): an assistant message that
comes back carries its reasoning in LiteLLM's places (`reasoning_items`, or thinking blocks with
encrypted reasoning; see `encrypted_reasoning`); whichever it still carries is sent as a
`reasoning` input item, without its id.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

from ..encrypted_reasoning import encrypted_of_block, reasoning_item
from ..exceptions import CodexRequestError

#: Old key under `provider_specific_fields` that carried reasoning items; still read on input.
REASONING_ITEMS_KEY = "codex_reasoning_items"
#: What the Codex CLI sends for a call whose result never came (the backend rejects a lone call).
ABORTED_OUTPUT = "aborted"

_TEXT_PARTS = ("text", "input_text", "output_text")
_SCHEMA_NAME = re.compile(r"[^a-zA-Z0-9_-]")


class UnsupportedContentError(CodexRequestError):
    """A message part the Codex backend cannot take (audio); surfaces as a 400 BadRequestError."""


def _text_of(content: Any) -> str:
    """Plain text of a message content (string or parts), for places that accept only text."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, Iterable):
        return "\n".join(
            str(p.get("text", "")) if isinstance(p, Mapping) else str(p)
            for p in content
            if isinstance(p, str) or (isinstance(p, Mapping) and p.get("type") in _TEXT_PARTS)
        )
    return str(content)


def _image_part(part: Mapping[str, Any]) -> dict[str, Any]:
    image = part.get("image_url")
    url, detail = (image.get("url"), image.get("detail")) if isinstance(image, Mapping) else (image, None)
    return {"type": "input_image", "image_url": url, "detail": detail or "auto"}


def _file_part(part: Mapping[str, Any]) -> dict[str, Any]:
    file = part.get("file") if isinstance(part.get("file"), Mapping) else {}
    out: dict[str, Any] = {"type": "input_file"}
    if file.get("file_id"):
        out["file_id"] = file["file_id"]
    if file.get("file_data"):
        out["file_data"] = file["file_data"]
        out["filename"] = file.get("filename") or "file"
    elif file.get("filename"):
        out["filename"] = file["filename"]
    return out


def content_parts(content: Any, role: str) -> list[dict[str, Any]]:
    """Content as Responses parts: assistant text is `output_text`, everything else `input_*`.

    Images and files are input only: on an assistant message they are left out. Audio has no
    Responses input form on this backend and is refused rather than silently dropped.
    """
    text_type = "output_text" if role == "assistant" else "input_text"
    if content is None:
        return []
    if isinstance(content, str):
        return [{"type": text_type, "text": content}]
    parts: list[dict[str, Any]] = []
    for part in content:
        if isinstance(part, str):
            parts.append({"type": text_type, "text": part})
            continue
        kind = part.get("type")
        if kind in _TEXT_PARTS:
            parts.append({"type": text_type, "text": str(part.get("text", ""))})
        elif kind == "refusal":
            parts.append({"type": text_type, "text": str(part.get("refusal", ""))})
        elif role == "assistant":
            continue
        elif kind in ("image_url", "input_image"):
            parts.append(_image_part(part) if kind == "image_url" else dict(part))
        elif kind in ("file", "input_file"):
            parts.append(_file_part(part) if kind == "file" else dict(part))
        elif kind in ("input_audio", "audio"):
            raise UnsupportedContentError(
                "The Codex backend does not take audio input; send the audio as text (a transcript) instead"
            )
    return parts


# -- reasoning items -------------------------------------------------------------------------------


def _summary_parts(summary: Any) -> list[dict[str, Any]]:
    out = []
    for part in summary or []:
        text = part.get("text") if isinstance(part, Mapping) else part if isinstance(part, str) else None
        if text:
            out.append({"type": "summary_text", "text": str(text)})
    return out


def _reasoning_inputs(message: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The reasoning items an assistant message carries back, as input items without ids.

    `reasoning_items` first, else the thinking blocks with encrypted reasoning, else the old
    `provider_specific_fields` key; items without `encrypted_content` cannot be replayed and are
    left out (the backend would look their ids up, and nothing is stored).
    """
    fields = message.get("provider_specific_fields")
    legacy = fields.get(REASONING_ITEMS_KEY) if isinstance(fields, Mapping) else None
    for items in (message.get("reasoning_items"), legacy):
        out = [
            {
                "type": "reasoning",
                "summary": _summary_parts(item.get("summary")),
                "encrypted_content": item["encrypted_content"],
            }
            for item in items or []
            if isinstance(item, Mapping) and item.get("encrypted_content")
        ]
        if out:
            return out
    out = []
    for block in message.get("thinking_blocks") or []:
        encrypted = encrypted_of_block(block)
        if encrypted:
            text = block.get("thinking") if block.get("type") == "thinking" else None
            out.append(reasoning_item(encrypted, [text] if text else []))
    return out


# -- messages --------------------------------------------------------------------------------------


def _arguments(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value if value is not None else {})


def _tool_result_id(message: Mapping[str, Any]) -> str | None:
    if message.get("role") == "tool":
        return str(message.get("tool_call_id") or "") or None
    if message.get("role") == "function":
        return str(message.get("tool_call_id") or f"call_{message.get('name', 'function')}")
    return None


def _answered_later(messages: list[Mapping[str, Any]]) -> list[set[str]]:
    """For each message, the call ids that tool results after it answer."""
    later: list[set[str]] = []
    ids: set[str] = set()
    for message in reversed(messages):
        later.append(set(ids))
        call_id = _tool_result_id(message)
        if call_id:
            ids.add(call_id)
    return later[::-1]


def _assistant_items(message: Mapping[str, Any], answered: set[str], seen_calls: set[str]) -> list[dict]:
    items: list[dict[str, Any]] = _reasoning_inputs(message)
    parts = content_parts(message.get("content"), "assistant")
    if parts:
        items.append({"type": "message", "role": "assistant", "content": parts})
    calls = [
        (str(call.get("id") or ""), call.get("function") or {}) for call in message.get("tool_calls") or []
    ]
    legacy = message.get("function_call")
    if legacy:
        calls.append((f"call_{legacy.get('name', 'function')}", legacy))
    unanswered = []
    for call_id, function in calls:
        seen_calls.add(call_id)
        items.append(
            {
                "type": "function_call",
                "call_id": call_id,
                "name": function.get("name", ""),
                "arguments": _arguments(function.get("arguments")),
            }
        )
        if call_id not in answered:
            unanswered.append(call_id)
    # A call without its result makes the backend reject the whole request; the Codex CLI
    # answers such calls with "aborted", and so do we.
    items.extend({"type": "function_call_output", "call_id": c, "output": ABORTED_OUTPUT} for c in unanswered)
    return items


def _tool_result_items(message: Mapping[str, Any], seen_calls: set[str]) -> list[dict[str, Any]]:
    call_id = _tool_result_id(message) or ""
    content = message.get("content")
    output = _text_of(content)
    media = []
    if isinstance(content, list):
        media = [p for p in content_parts(content, "user") if p["type"] in ("input_image", "input_file")]
    if call_id in seen_calls:
        items: list[dict[str, Any]] = [{"type": "function_call_output", "call_id": call_id, "output": output}]
    else:
        # The backend rejects a result whose call it has not seen; the model still gets to read it.
        label = message.get("name") or call_id or "a tool"
        items = [
            {
                "type": "message",
                "role": "user",
                "content": [{"type": "input_text", "text": f"Result of {label}:\n{output}"}],
            }
        ]
    if media:  # the output is sent as text; images or files the tool returned follow as user input
        items.append({"type": "message", "role": "user", "content": media})
    return items


def messages_to_input(messages: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Chat messages as Responses input items; system messages become `developer` messages.

    Every assistant tool call becomes a `function_call` item and every tool result a
    `function_call_output` with the same `call_id`. A result whose call is not in the history is
    still delivered, as user text; a call that never got a result is answered "aborted".
    """
    messages = list(messages)
    answered = _answered_later(messages)
    items: list[dict[str, Any]] = []
    seen_calls: set[str] = set()
    for index, message in enumerate(messages):
        role = str(message.get("role", "user"))
        if role in ("system", "developer"):
            parts = content_parts(message.get("content"), "developer")
            if parts:
                items.append({"type": "message", "role": "developer", "content": parts})
        elif role == "assistant":
            items.extend(_assistant_items(message, answered[index], seen_calls))
        elif role in ("tool", "function"):
            items.extend(_tool_result_items(message, seen_calls))
        else:
            parts = content_parts(message.get("content"), "user")
            if parts:
                items.append({"type": "message", "role": "user", "content": parts})
    return items


def system_text(messages: Iterable[Mapping[str, Any]]) -> str:
    """All system and developer text, for `instructions` when Codex instructions are off."""
    return "\n\n".join(
        t for m in messages if m.get("role") in ("system", "developer") if (t := _text_of(m.get("content")))
    )


# -- tools and output format -----------------------------------------------------------------------


def _flat_function(function: Mapping[str, Any]) -> dict[str, Any]:
    flat: dict[str, Any] = {"type": "function", "name": function["name"]}
    if function.get("description") is not None:
        flat["description"] = function["description"]
    flat["parameters"] = function.get("parameters") or {"type": "object", "properties": {}}
    if function.get("strict") is not None:
        flat["strict"] = bool(function["strict"])
    return flat


def convert_tools(tools: Iterable[Mapping[str, Any]] | None) -> list[dict[str, Any]]:
    """Chat `tools` as flat Responses tools; nulls are left out rather than sent."""
    out: list[dict[str, Any]] = []
    for tool in tools or []:
        kind = tool.get("type", "function")
        if kind == "function" and isinstance(tool.get("function"), Mapping):
            out.append(_flat_function(tool["function"]))
        elif kind == "custom" and isinstance(tool.get("custom"), Mapping):
            out.append({"type": "custom", **{k: v for k, v in tool["custom"].items() if v is not None}})
        else:
            out.append({k: v for k, v in tool.items() if v is not None})  # already a Responses tool
    return out


def web_search_tool(options: Any) -> dict[str, Any]:
    """Chat `web_search_options` as the backend's hosted `web_search` tool (the Codex CLI's search).

    `search_context_size` carries over; `user_location` loses the chat form's `approximate`
    nesting, which the Responses tool does not have.
    """
    tool: dict[str, Any] = {"type": "web_search"}
    if not isinstance(options, Mapping):
        return tool
    if options.get("search_context_size"):
        tool["search_context_size"] = options["search_context_size"]
    location = options.get("user_location")
    if isinstance(location, Mapping):
        nested = location.get("approximate") if isinstance(location.get("approximate"), Mapping) else {}
        flat = {k: v for k, v in {**location, **nested}.items() if k != "approximate" and v is not None}
        flat.setdefault("type", "approximate")
        tool["user_location"] = flat
    return tool


def _named_tool(choice: Mapping[str, Any]) -> dict[str, Any] | None:
    kind = choice.get("type", "function")
    nested = choice.get(kind) if isinstance(choice.get(kind), Mapping) else {}
    name = nested.get("name") or choice.get("name")
    return {"type": kind, "name": name} if name else None


def convert_tool_choice(choice: Any) -> Any:
    """`auto`/`none`/`required` pass; a named function (or custom tool) becomes the flat form."""
    if not isinstance(choice, Mapping):
        return choice
    if choice.get("type") == "allowed_tools":
        spec = choice.get("allowed_tools") if isinstance(choice.get("allowed_tools"), Mapping) else choice
        tools = [t for t in (_named_tool(t) for t in spec.get("tools") or []) if t]
        return {"type": "allowed_tools", "mode": spec.get("mode", "auto"), "tools": tools}
    if choice.get("type") in ("function", "custom", None):
        named = _named_tool(choice)
        if named:
            return named
    return dict(choice)


def _schema_name(name: Any) -> str:
    """The backend takes `^[a-zA-Z0-9_-]{1,64}$`; other characters become `_`."""
    return _SCHEMA_NAME.sub("_", str(name or "response"))[:64] or "response"


def convert_response_format(response_format: Any) -> dict[str, Any] | None:
    """`response_format` as `text.format`.

    `json_schema` maps one to one. `json_object` becomes a non-strict JSON schema that accepts
    any object: the Codex backend only takes schemas, and this is the closest equivalent.
    """
    if not isinstance(response_format, Mapping):
        return None
    kind = response_format.get("type")
    if kind == "json_schema":
        spec = response_format.get("json_schema") or {}
        out: dict[str, Any] = {
            "type": "json_schema",
            "name": _schema_name(spec.get("name")),
            "schema": spec.get("schema") or {"type": "object"},
        }
        if spec.get("strict") is not None:
            out["strict"] = bool(spec["strict"])
        if spec.get("description"):
            out["description"] = spec["description"]
        return out
    if kind == "json_object":
        return {"type": "json_schema", "name": "json_object", "schema": {"type": "object"}, "strict": False}
    if kind == "text":
        return {"type": "text"}
    return None
