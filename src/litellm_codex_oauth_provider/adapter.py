"""Chat Completions shapes → Responses API shapes: messages, tools, tool choice, output format."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

#: Key under a message's `provider_specific_fields` that carries the turn's reasoning items.
REASONING_ITEMS_KEY = "codex_reasoning_items"


def _text_of(content: Any) -> str:
    """Plain text of a message content (string or parts), for places that accept only text."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, Iterable):
        return "\n".join(
            str(p.get("text", ""))
            for p in content
            if isinstance(p, Mapping) and p.get("type") in ("text", "input_text", "output_text")
        )
    return str(content)


def _image_part(part: Mapping[str, Any]) -> dict[str, Any]:
    image = part.get("image_url")
    url, detail = (image.get("url"), image.get("detail")) if isinstance(image, Mapping) else (image, None)
    out: dict[str, Any] = {"type": "input_image", "image_url": url}
    out["detail"] = detail or "auto"
    return out


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
    """Content as Responses parts: assistant text is `output_text`, everything else `input_*`."""
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
        if kind in ("text", "input_text", "output_text"):
            parts.append({"type": text_type, "text": str(part.get("text", ""))})
        elif kind in ("image_url", "input_image") and role != "assistant":
            parts.append(_image_part(part) if kind == "image_url" else dict(part))
        elif kind in ("file", "input_file") and role != "assistant":
            parts.append(_file_part(part) if kind == "file" else dict(part))
        elif kind == "refusal":
            parts.append({"type": text_type, "text": str(part.get("refusal", ""))})
    return parts


def _reasoning_items(message: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Reasoning items kept from an earlier turn, without ids (nothing is stored server-side)."""
    fields = message.get("provider_specific_fields")
    items = fields.get(REASONING_ITEMS_KEY) if isinstance(fields, Mapping) else None
    out = []
    for item in items or []:
        if isinstance(item, Mapping) and item.get("encrypted_content"):
            out.append(
                {
                    "type": "reasoning",
                    "summary": list(item.get("summary") or []),
                    "encrypted_content": item["encrypted_content"],
                }
            )
    return out


def _arguments(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value if value is not None else {})


def messages_to_input(messages: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Chat messages as Responses input items; system messages become `developer` messages.

    A tool result whose call is not in the history is still delivered, as user text, since the
    backend rejects a `function_call_output` without its call.
    """
    items: list[dict[str, Any]] = []
    seen_calls: set[str] = set()
    for message in messages:
        role = str(message.get("role", "user"))
        if role in ("system", "developer"):
            parts = content_parts(message.get("content"), "developer")
            if parts:
                items.append({"type": "message", "role": "developer", "content": parts})
        elif role == "assistant":
            items.extend(_reasoning_items(message))
            parts = content_parts(message.get("content"), "assistant")
            if parts:
                items.append({"type": "message", "role": "assistant", "content": parts})
            for call in message.get("tool_calls") or []:
                function = call.get("function") or {}
                call_id = str(call.get("id") or "")
                seen_calls.add(call_id)
                items.append(
                    {
                        "type": "function_call",
                        "call_id": call_id,
                        "name": function.get("name", ""),
                        "arguments": _arguments(function.get("arguments")),
                    }
                )
            legacy = message.get("function_call")
            if legacy:
                call_id = f"call_{legacy.get('name', 'function')}"
                seen_calls.add(call_id)
                items.append(
                    {
                        "type": "function_call",
                        "call_id": call_id,
                        "name": legacy.get("name", ""),
                        "arguments": _arguments(legacy.get("arguments")),
                    }
                )
        elif role in ("tool", "function"):
            call_id = str(message.get("tool_call_id") or "")
            if role == "function" and not call_id:
                call_id = f"call_{message.get('name', 'function')}"
            output = _text_of(message.get("content"))
            if call_id in seen_calls:
                items.append({"type": "function_call_output", "call_id": call_id, "output": output})
            else:
                label = message.get("name") or call_id or "a tool"
                items.append(
                    {
                        "type": "message",
                        "role": "user",
                        "content": [{"type": "input_text", "text": f"Result of {label}:\n{output}"}],
                    }
                )
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


def convert_tools(tools: Iterable[Mapping[str, Any]] | None) -> list[dict[str, Any]]:
    """Chat `tools` as flat Responses tools; nulls are left out rather than sent."""
    out: list[dict[str, Any]] = []
    for tool in tools or []:
        if tool.get("type", "function") != "function" or "function" not in tool:
            out.append(dict(tool))  # already a Responses tool (web_search, custom …)
            continue
        function = tool["function"]
        flat: dict[str, Any] = {"type": "function", "name": function["name"]}
        if function.get("description") is not None:
            flat["description"] = function["description"]
        flat["parameters"] = function.get("parameters") or {"type": "object", "properties": {}}
        if function.get("strict") is not None:
            flat["strict"] = bool(function["strict"])
        out.append(flat)
    return out


def convert_tool_choice(choice: Any) -> Any:
    """`auto`/`none`/`required` pass; a named function becomes the flat Responses form."""
    if isinstance(choice, Mapping):
        name = (choice.get("function") or {}).get("name") or choice.get("name")
        if name:
            return {"type": "function", "name": name}
    return choice


def convert_response_format(response_format: Any) -> dict[str, Any] | None:
    """`response_format` as `text.format`; `json_object` is the closest thing the backend takes."""
    if not isinstance(response_format, Mapping):
        return None
    kind = response_format.get("type")
    if kind == "json_schema":
        spec = response_format.get("json_schema") or {}
        out: dict[str, Any] = {
            "type": "json_schema",
            "name": spec.get("name") or "response",
            "schema": spec.get("schema") or {},
        }
        if spec.get("strict") is not None:
            out["strict"] = bool(spec["strict"])
        if spec.get("description"):
            out["description"] = spec["description"]
        return out
    if kind == "json_object":
        return {"type": "json_object"}
    if kind == "text":
        return {"type": "text"}
    return None
