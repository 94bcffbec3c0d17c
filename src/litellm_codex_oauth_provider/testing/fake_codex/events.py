"""The Responses API event stream as the Codex backend sends it: SSE framing and item builders.

A turn streams `response.created`, `response.in_progress`, then per output item its `added`,
delta and `done` events, then one terminal event. Every event carries `type` and a running
`sequence_number`; the terminal `response` object echoes the request's settings.
"""

from __future__ import annotations

import itertools
import json
import math
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

TERMINAL_EVENTS = frozenset({"response.completed", "response.incomplete", "response.failed"})


def new_id(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex}"


def split_text(text: str, parts: int) -> list[str]:
    """Split `text` into at most `parts` non-empty, nearly equal chunks."""
    if not text:
        return []
    parts = max(1, min(parts, len(text)))
    size, extra = divmod(len(text), parts)
    chunks, pos = [], 0
    for index in range(parts):
        end = pos + size + (1 if index < extra else 0)
        chunks.append(text[pos:end])
        pos = end
    return chunks


def estimate_tokens(chars: int) -> int:
    return math.ceil(chars / 4)


# --------------------------------------------------------------------------- SSE encoding


@dataclass(frozen=True)
class LazyText:
    """A long, deterministic answer text generated chunk by chunk, never held in memory whole."""

    total_bytes: int
    pattern: str = "The quick brown fox jumps over the lazy dog. "

    def chunks(self, size: int) -> Iterator[str]:
        """The text in pieces of `size` characters (ASCII, so characters == bytes)."""
        length = len(self.pattern)
        repeated = self.pattern * (size // length + 2)
        for offset in range(0, self.total_bytes, size):
            start = offset % length
            yield repeated[start : start + min(size, self.total_bytes - offset)]

    def text(self) -> str:
        """The whole text; only for tests that check small instances."""
        return "".join(self.chunks(65536))


# A JSON string value that marks where an event's lazy text goes when it is serialised.
_LAZY_MARK = "\x00fake-codex-lazy-text\x00"
_LAZY_MARK_JSON = json.dumps(_LAZY_MARK)
_LAZY_WRITE_SIZE = 65536


@dataclass
class SseEvent:
    """One server-sent event; `lazies` fill the `_LAZY_MARK` strings of `data`, in order."""

    type: str
    data: dict[str, Any]
    lazies: tuple[LazyText, ...] = ()

    def encode(self) -> Iterator[bytes]:
        """`event: <type>\\ndata: <json>\\n\\n`, streamed in pieces when the data has lazy text."""
        head = f"event: {self.type}\ndata: "
        body = json.dumps(self.data, separators=(",", ":"))
        if not self.lazies:
            yield f"{head}{body}\n\n".encode()
            return
        pieces = body.split(_LAZY_MARK_JSON)
        if len(pieces) != len(self.lazies) + 1:
            raise ValueError("lazy placeholders do not match the lazy texts")
        yield (head + pieces[0]).encode()
        for lazy, tail in zip(self.lazies, pieces[1:], strict=True):
            yield b'"'
            for chunk in lazy.chunks(_LAZY_WRITE_SIZE):
                yield json.dumps(chunk)[1:-1].encode()
            yield ('"' + tail).encode()
        yield b"\n\n"


def parse_sse(payload: str | bytes) -> list[tuple[str, dict[str, Any]]]:
    """Parse a whole SSE body into `(event, data)` pairs; a helper for tests."""
    if isinstance(payload, bytes):
        payload = payload.decode()
    events = []
    for block in payload.replace("\r\n", "\n").split("\n\n"):
        name, data = "message", []
        for line in block.split("\n"):
            if line.startswith("event:"):
                name = line[6:].strip()
            elif line.startswith("data:"):
                data.append(line[5:].lstrip())
        if data:
            events.append((name, json.loads("\n".join(data))))
    return events


# --------------------------------------------------------------------------- output items


@dataclass
class StreamContext:
    """Per-request state of one streamed turn; the `Turn` itself stays reusable."""

    request_body: dict[str, Any]
    model: str
    item_status: str = "completed"
    openai_compat: bool = False
    response_id: str = field(default_factory=lambda: new_id("resp"))
    created_at: int = field(default_factory=lambda: int(time.time()))
    output_items: list[dict[str, Any]] = field(default_factory=list)
    output_lazies: list[LazyText] = field(default_factory=list)
    output_chars: int = 0
    reasoning_chars: int = 0
    _sequence: Iterator[int] = field(default_factory=itertools.count)
    _next_index: int = 0

    def event(self, type_: str, lazies: tuple[LazyText, ...] = (), **fields: Any) -> SseEvent:
        return SseEvent(type_, {"type": type_, "sequence_number": next(self._sequence), **fields}, lazies)

    def claim_output_index(self) -> int:
        index, self._next_index = self._next_index, self._next_index + 1
        return index

    def finish_item(self, item: dict[str, Any], lazy: LazyText | None = None) -> None:
        self.output_items.append(item)
        if lazy is not None:
            self.output_lazies.append(lazy)

    def response(self, status: str, output: list[dict[str, Any]], **fields: Any) -> dict[str, Any]:
        """The `response` object of created/in_progress/terminal events (echoes the request)."""
        body = self.request_body
        return {
            "id": self.response_id,
            "object": "response",
            "created_at": self.created_at,
            "status": status,
            "background": False,
            "error": None,
            "incomplete_details": None,
            "instructions": body.get("instructions"),
            "max_output_tokens": None,
            "model": self.model,
            "output": output,
            "parallel_tool_calls": body.get("parallel_tool_calls", True),
            "previous_response_id": None,
            "prompt_cache_key": body.get("prompt_cache_key"),
            "reasoning": body.get("reasoning") or {"effort": None, "summary": None},
            "service_tier": body.get("service_tier", "auto"),
            "store": False,
            "text": body.get("text") or {"format": {"type": "text"}},
            "tool_choice": body.get("tool_choice", "auto"),
            "tools": body.get("tools", []),
            "truncation": "disabled",
            "usage": None,
            "user": None,
            "metadata": {},
            **fields,
        }


@dataclass(frozen=True)
class MessagePart:
    """An assistant message; `text` may be a `LazyText` for very long answers."""

    text: str | LazyText
    chunks: int = 3
    chunk_size: int = 1024
    item_id: str | None = None

    def _deltas(self) -> Iterator[str]:
        if isinstance(self.text, LazyText):
            return self.text.chunks(self.chunk_size)
        return iter(split_text(self.text, self.chunks))

    def events(self, ctx: StreamContext) -> Iterator[SseEvent]:
        index, item_id = ctx.claim_output_index(), self.item_id or new_id("msg")
        lazy = self.text if isinstance(self.text, LazyText) else None
        text = _LAZY_MARK if lazy is not None else self.text
        lazies = (lazy,) if lazy is not None else ()
        where = {"item_id": item_id, "output_index": index, "content_index": 0}
        yield ctx.event(
            "response.output_item.added",
            output_index=index,
            item={
                "id": item_id,
                "type": "message",
                "role": "assistant",
                "status": "in_progress",
                "content": [],
            },
        )
        yield ctx.event("response.content_part.added", **where, part=output_text_part(""))
        for delta in self._deltas():
            ctx.output_chars += len(delta)
            yield ctx.event("response.output_text.delta", **where, delta=delta, logprobs=[])
        yield ctx.event("response.output_text.done", lazies, **where, text=text, logprobs=[])
        yield ctx.event("response.content_part.done", lazies, **where, part=output_text_part(text))
        item = {
            "id": item_id,
            "type": "message",
            "role": "assistant",
            "status": ctx.item_status,
            "content": [output_text_part(text)],
        }
        yield ctx.event("response.output_item.done", lazies, output_index=index, item=item)
        ctx.finish_item(item, lazy)


def output_text_part(text: str) -> dict[str, Any]:
    return {"type": "output_text", "text": text, "annotations": []}


@dataclass(frozen=True)
class ReasoningPart:
    """A reasoning item: summary parts, optional raw reasoning text, encrypted content."""

    summaries: tuple[str, ...]
    encrypted_content: str | None
    content: str | None
    chunks: int
    item_id: str | None

    def events(self, ctx: StreamContext) -> Iterator[SseEvent]:
        index, item_id = ctx.claim_output_index(), self.item_id or new_id("rs")
        where = {"item_id": item_id, "output_index": index}
        yield ctx.event(
            "response.output_item.added",
            output_index=index,
            item={"id": item_id, "type": "reasoning", "summary": [], "encrypted_content": None},
        )
        for summary_index, summary in enumerate(self.summaries):
            yield from self._summary_events(ctx, where | {"summary_index": summary_index}, summary)
        if self.content is not None:
            yield from self._content_events(ctx, where | {"content_index": 0}, self.content)
        item: dict[str, Any] = {
            "id": item_id,
            "type": "reasoning",
            "summary": [{"type": "summary_text", "text": text} for text in self.summaries],
            "encrypted_content": self.encrypted_content,
        }
        if self.content is not None:
            item["content"] = [{"type": "reasoning_text", "text": self.content}]
        yield ctx.event("response.output_item.done", output_index=index, item=item)
        ctx.finish_item(item)

    def _summary_events(self, ctx: StreamContext, where: dict[str, Any], text: str) -> Iterator[SseEvent]:
        yield ctx.event(
            "response.reasoning_summary_part.added", **where, part={"type": "summary_text", "text": ""}
        )
        for delta in split_text(text, self.chunks):
            ctx.reasoning_chars += len(delta)
            yield ctx.event("response.reasoning_summary_text.delta", **where, delta=delta)
        yield ctx.event("response.reasoning_summary_text.done", **where, text=text)
        yield ctx.event(
            "response.reasoning_summary_part.done", **where, part={"type": "summary_text", "text": text}
        )

    def _content_events(self, ctx: StreamContext, where: dict[str, Any], text: str) -> Iterator[SseEvent]:
        for delta in split_text(text, self.chunks):
            ctx.reasoning_chars += len(delta)
            yield ctx.event("response.reasoning_text.delta", **where, delta=delta)
        yield ctx.event("response.reasoning_text.done", **where, text=text)


@dataclass(frozen=True)
class FunctionCallPart:
    """A function_call item whose arguments stream as deltas."""

    name: str
    arguments: str
    call_id: str | None
    arg_chunks: int
    item_id: str | None

    def events(self, ctx: StreamContext) -> Iterator[SseEvent]:
        index, item_id = ctx.claim_output_index(), self.item_id or new_id("fc")
        call_id = self.call_id or new_id("call")
        where = {"item_id": item_id, "output_index": index}
        item = {"id": item_id, "type": "function_call", "call_id": call_id, "name": self.name}
        yield ctx.event(
            "response.output_item.added",
            output_index=index,
            item=item | {"arguments": "", "status": "in_progress"},
        )
        for delta in split_text(self.arguments, self.arg_chunks):
            ctx.output_chars += len(delta)
            yield ctx.event("response.function_call_arguments.delta", **where, delta=delta)
        yield ctx.event(
            "response.function_call_arguments.done", **where, name=self.name, arguments=self.arguments
        )
        done = item | {"arguments": self.arguments, "status": "completed"}
        yield ctx.event("response.output_item.done", output_index=index, item=done)
        ctx.finish_item(done)


Part = MessagePart | ReasoningPart | FunctionCallPart


def usage_block(
    input_tokens: int, cached_tokens: int, output_tokens: int, reasoning_tokens: int, total: int | None = None
) -> dict[str, Any]:
    """The `usage` object of a terminal event, in the backend's shape."""
    return {
        "input_tokens": input_tokens,
        "input_tokens_details": {"cached_tokens": cached_tokens},
        "output_tokens": output_tokens,
        "output_tokens_details": {"reasoning_tokens": reasoning_tokens},
        "total_tokens": input_tokens + output_tokens if total is None else total,
    }
