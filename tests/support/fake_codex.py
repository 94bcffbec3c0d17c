"""A fake ChatGPT Codex backend (`/backend-api/codex/*`) and OAuth token endpoint.

Unit tests, end-to-end tests (which run the LiteLLM proxy as a subprocess) and benchmarks all
talk to it over real HTTP/1.1, so it is a real aiohttp server on 127.0.0.1 running its own
event loop in a background thread (or as a process: `python -m tests.support.fake_codex`).
Answers follow the facts in PROTOCOL.md: SSE turns in the Responses event format,
single-use rotating refresh tokens, rate-limit headers, the model catalog with an ETag.

    with FakeCodexBackend() as fake:
        fake.enqueue(Turn().reasoning("hmm", encrypted_content="enc").function_call("f", "{}"))
        ...  # point the client at fake.base_url / fake.token_url
        assert fake.requests[-1].body["model"] == "gpt-5.5"
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import itertools
import json
import math
import signal
import socket
import threading
import time
import uuid
import zlib
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal
from urllib.parse import parse_qsl

from aiohttp import web

try:  # zstd answers need it, as httpx needs it to read them
    import zstandard
except ImportError:  # pragma: no cover - installed with the test tools
    zstandard = None  # type: ignore[assignment]

from .logins import (
    CLIENT_ID,
    decode_jwt,
    make_access_token,
    make_auth_json,
    make_id_token,
    write_auth_json,
)

BASE_PATH = "/backend-api/codex"
TOKEN_PATH = "/oauth/token"
STATS_PATH = "/_fake/stats"
FILES_PATH = "/_fake/files"
DEFAULT_TEXT = "Hello from fake Codex"
DEFAULT_MODEL = "gpt-5.5"
CATALOG_FILE = Path(__file__).parent / "data" / "models.json"

# Parameters the real backend answers with 400 (the CLI never sends them).
REJECTED_PARAMS = (
    "temperature",
    "top_p",
    "max_output_tokens",
    "max_tokens",
    "frequency_penalty",
    "presence_penalty",
    "stop",
    "n",
    "seed",
)
TERMINAL_EVENTS = frozenset({"response.completed", "response.incomplete", "response.failed"})


def _new_id(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex}"


def _split(text: str, parts: int) -> list[str]:
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


def _tokens(chars: int) -> int:
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


# --------------------------------------------------------------------------- turn building


@dataclass
class _StreamContext:
    """Per-request state of one streamed turn; the `Turn` itself stays reusable."""

    request_body: dict[str, Any]
    model: str
    item_status: str = "completed"
    openai_compat: bool = False
    response_id: str = field(default_factory=lambda: _new_id("resp"))
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
class _MessagePart:
    """An assistant message; `text` may be a `LazyText` for very long answers."""

    text: str | LazyText
    chunks: int = 3
    chunk_size: int = 1024
    item_id: str | None = None

    def _deltas(self) -> Iterator[str]:
        if isinstance(self.text, LazyText):
            return self.text.chunks(self.chunk_size)
        return iter(_split(self.text, self.chunks))

    def events(self, ctx: _StreamContext) -> Iterator[SseEvent]:
        index, item_id = ctx.claim_output_index(), self.item_id or _new_id("msg")
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
        yield ctx.event("response.content_part.added", **where, part=_output_text(""))
        for delta in self._deltas():
            ctx.output_chars += len(delta)
            yield ctx.event("response.output_text.delta", **where, delta=delta, logprobs=[])
        yield ctx.event("response.output_text.done", lazies, **where, text=text, logprobs=[])
        yield ctx.event("response.content_part.done", lazies, **where, part=_output_text(text))
        item = {
            "id": item_id,
            "type": "message",
            "role": "assistant",
            "status": ctx.item_status,
            "content": [_output_text(text)],
        }
        yield ctx.event("response.output_item.done", lazies, output_index=index, item=item)
        ctx.finish_item(item, lazy)


def _output_text(text: str) -> dict[str, Any]:
    return {"type": "output_text", "text": text, "annotations": []}


@dataclass(frozen=True)
class _ReasoningPart:
    """A reasoning item: summary parts, optional raw reasoning text, encrypted content."""

    summaries: tuple[str, ...]
    encrypted_content: str | None
    content: str | None
    chunks: int
    item_id: str | None

    def events(self, ctx: _StreamContext) -> Iterator[SseEvent]:
        index, item_id = ctx.claim_output_index(), self.item_id or _new_id("rs")
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

    def _summary_events(self, ctx: _StreamContext, where: dict[str, Any], text: str) -> Iterator[SseEvent]:
        yield ctx.event(
            "response.reasoning_summary_part.added", **where, part={"type": "summary_text", "text": ""}
        )
        for delta in _split(text, self.chunks):
            ctx.reasoning_chars += len(delta)
            yield ctx.event("response.reasoning_summary_text.delta", **where, delta=delta)
        yield ctx.event("response.reasoning_summary_text.done", **where, text=text)
        yield ctx.event(
            "response.reasoning_summary_part.done", **where, part={"type": "summary_text", "text": text}
        )

    def _content_events(self, ctx: _StreamContext, where: dict[str, Any], text: str) -> Iterator[SseEvent]:
        for delta in _split(text, self.chunks):
            ctx.reasoning_chars += len(delta)
            yield ctx.event("response.reasoning_text.delta", **where, delta=delta)
        yield ctx.event("response.reasoning_text.done", **where, text=text)


@dataclass(frozen=True)
class _FunctionCallPart:
    """A function_call item whose arguments stream as deltas."""

    name: str
    arguments: str
    call_id: str | None
    arg_chunks: int
    item_id: str | None

    def events(self, ctx: _StreamContext) -> Iterator[SseEvent]:
        index, item_id = ctx.claim_output_index(), self.item_id or _new_id("fc")
        call_id = self.call_id or _new_id("call")
        where = {"item_id": item_id, "output_index": index}
        item = {"id": item_id, "type": "function_call", "call_id": call_id, "name": self.name}
        yield ctx.event(
            "response.output_item.added",
            output_index=index,
            item=item | {"arguments": "", "status": "in_progress"},
        )
        for delta in _split(self.arguments, self.arg_chunks):
            ctx.output_chars += len(delta)
            yield ctx.event("response.function_call_arguments.delta", **where, delta=delta)
        yield ctx.event(
            "response.function_call_arguments.done", **where, name=self.name, arguments=self.arguments
        )
        done = item | {"arguments": self.arguments, "status": "completed"}
        yield ctx.event("response.output_item.done", output_index=index, item=done)
        ctx.finish_item(done)


_Part = _MessagePart | _ReasoningPart | _FunctionCallPart
EndingKind = Literal["complete", "incomplete", "failed", "error", "cut"]


@dataclass(frozen=True)
class _Ending:
    kind: EndingKind = "complete"
    reason: str = "max_output_tokens"
    code: str | None = None
    message: str = ""
    param: str | None = None
    include_output: bool = False
    after_events: int | None = None
    abort: bool = False


class Turn:
    """A scripted model turn, built from composable pieces; reusable across requests.

    Items stream in the order they are added, each with its own `output_index`. Without an
    ending call the turn ends with `response.completed` whose `output` is empty, as the
    real backend's often is.
    """

    def __init__(self) -> None:
        self.parts: list[_Part] = []
        self.ending = _Ending()
        self.usage_override: dict[str, Any] | None = None
        self.model_override: str | None = None
        self.latency_seconds = 0.0
        self.first_delta_delay_seconds = 0.0
        self.delta_delay_seconds = 0.0

    # -- output items
    def text(self, text: str, *, chunks: int = 3, item_id: str | None = None) -> Turn:
        """An assistant message streamed as `chunks` text deltas."""
        self.parts.append(_MessagePart(text, chunks=chunks, item_id=item_id))
        return self

    def big_text(self, total_bytes: int, chunk_size: int = 1024, *, item_id: str | None = None) -> Turn:
        """A `total_bytes`-long message generated lazily (the done events stream it too)."""
        self.parts.append(_MessagePart(LazyText(total_bytes), chunk_size=chunk_size, item_id=item_id))
        return self

    def reasoning(
        self,
        summary: str | Sequence[str] | None = "Thinking about it.",
        *,
        encrypted_content: str | None = "enc-fake",
        content: str | None = None,
        chunks: int = 2,
        item_id: str | None = None,
    ) -> Turn:
        """A reasoning item; `summary` may be several parts or None, `content` is raw reasoning text."""
        if summary is None:
            summaries: tuple[str, ...] = ()
        elif isinstance(summary, str):
            summaries = (summary,)
        else:
            summaries = tuple(summary)
        self.parts.append(_ReasoningPart(summaries, encrypted_content, content, chunks, item_id))
        return self

    def function_call(
        self,
        name: str,
        arguments: str | dict[str, Any] = "{}",
        *,
        call_id: str | None = None,
        arg_chunks: int = 3,
        item_id: str | None = None,
    ) -> Turn:
        """A function call; call it twice for parallel calls."""
        if not isinstance(arguments, str):
            arguments = json.dumps(arguments)
        self.parts.append(_FunctionCallPart(name, arguments, call_id, arg_chunks, item_id))
        return self

    def usage(
        self,
        input_tokens: int = 10,
        cached_tokens: int = 0,
        output_tokens: int = 5,
        reasoning_tokens: int = 0,
        total_tokens: int | None = None,
    ) -> Turn:
        """Fix the usage block (otherwise it is estimated from the request and output sizes)."""
        self.usage_override = _usage_block(
            input_tokens, cached_tokens, output_tokens, reasoning_tokens, total_tokens
        )
        return self

    def model(self, name: str) -> Turn:
        """Answer with this model name instead of echoing the request's."""
        self.model_override = name
        return self

    # -- endings
    def complete(self, *, include_output: bool = False) -> Turn:
        """End with `response.completed`; `include_output` fills its `output` list."""
        self.ending = _Ending("complete", include_output=include_output)
        return self

    def incomplete(self, reason: str = "max_output_tokens") -> Turn:
        """End with `response.incomplete` and `incomplete_details.reason`."""
        self.ending = _Ending("incomplete", reason=reason)
        return self

    def failed(self, code: str = "server_error", message: str = "Something went wrong.") -> Turn:
        """End with `response.failed` carrying `response.error {code, message}`."""
        self.ending = _Ending("failed", code=code, message=message)
        return self

    def error_event(
        self, code: str | None = "server_error", message: str = "An error occurred.", param: str | None = None
    ) -> Turn:
        """End with a bare `error` event (and no terminal response event)."""
        self.ending = _Ending("error", code=code, message=message, param=param)
        return self

    def cut(self, *, after_events: int | None = None, abort: bool = False) -> Turn:
        """Close the connection before any terminal event.

        By default after all item events, with a clean end of the HTTP body (the client sees
        EOF without `response.completed`); `after_events=N` stops after the first N events;
        `abort=True` resets the TCP connection mid-body instead (a transport error).
        """
        self.ending = _Ending("cut", after_events=after_events, abort=abort)
        return self

    # -- timing
    def latency(self, seconds: float) -> Turn:
        """Wait before sending the response headers."""
        self.latency_seconds = seconds
        return self

    def first_delta_delay(self, seconds: float) -> Turn:
        """Wait before the first delta event of any kind (time to first token)."""
        self.first_delta_delay_seconds = seconds
        return self

    def delta_delay(self, seconds: float) -> Turn:
        """Wait before every later delta event (a slow, steady stream)."""
        self.delta_delay_seconds = seconds
        return self

    # -- streaming
    def events(self, request_body: dict[str, Any], *, openai_compat: bool = False) -> Iterator[SseEvent]:
        """All events of this turn for one request, generated lazily (see `FakeCodexBackend.openai_compat`)."""
        ctx = _StreamContext(
            request_body=request_body,
            model=self.model_override or request_body.get("model") or DEFAULT_MODEL,
            item_status="incomplete" if self.ending.kind == "incomplete" else "completed",
            openai_compat=openai_compat,
        )
        events = self._all_events(ctx)
        if self.ending.after_events is not None:
            events = itertools.islice(events, self.ending.after_events)
        return events

    def _all_events(self, ctx: _StreamContext) -> Iterator[SseEvent]:
        yield ctx.event("response.created", response=ctx.response("in_progress", []))
        yield ctx.event("response.in_progress", response=ctx.response("in_progress", []))
        for part in self.parts:
            yield from part.events(ctx)
        yield from self._ending_events(ctx)

    def _ending_events(self, ctx: _StreamContext) -> Iterator[SseEvent]:
        ending = self.ending
        if ending.kind == "complete":
            output = ctx.output_items if ending.include_output else []
            lazies = tuple(ctx.output_lazies) if ending.include_output else ()
            response = ctx.response("completed", output, usage=self._usage(ctx))
            yield ctx.event("response.completed", lazies, response=response)
        elif ending.kind == "incomplete":
            details = {"reason": ending.reason}
            response = ctx.response("incomplete", [], usage=self._usage(ctx), incomplete_details=details)
            yield ctx.event("response.incomplete", response=response)
        elif ending.kind == "failed":
            error = {"code": ending.code, "message": ending.message}
            yield ctx.event("response.failed", response=ctx.response("failed", [], error=error))
        elif ending.kind == "error":
            yield ctx.event("error", code=ending.code, message=ending.message, param=ending.param)

    def _usage(self, ctx: _StreamContext) -> dict[str, Any]:
        usage = self.usage_override or self._estimated_usage(ctx)
        if ctx.openai_compat:
            details = {"cache_write_tokens": 0, **usage["input_tokens_details"]}
            usage = {**usage, "input_tokens_details": details}
        return usage

    @staticmethod
    def _estimated_usage(ctx: _StreamContext) -> dict[str, Any]:
        body = ctx.request_body
        prompt_chars = len(json.dumps(body.get("input", ""))) + len(body.get("instructions") or "")
        reasoning = _tokens(ctx.reasoning_chars)
        return _usage_block(_tokens(prompt_chars), 0, _tokens(ctx.output_chars) + reasoning, reasoning)

    def render(self, request_body: dict[str, Any] | None = None, *, openai_compat: bool = False) -> bytes:
        """The whole SSE body in memory, e.g. for respx-mocked tests (not for `big_text`)."""
        events = self.events(request_body or {"model": DEFAULT_MODEL}, openai_compat=openai_compat)
        return b"".join(piece for event in events for piece in event.encode())

    @property
    def terminates_cleanly(self) -> bool:
        """False when the stream is meant to break off (cut or bare error event)."""
        return self.ending.kind not in ("cut", "error")


def _usage_block(
    input_tokens: int, cached_tokens: int, output_tokens: int, reasoning_tokens: int, total: int | None = None
) -> dict[str, Any]:
    return {
        "input_tokens": input_tokens,
        "input_tokens_details": {"cached_tokens": cached_tokens},
        "output_tokens": output_tokens,
        "output_tokens_details": {"reasoning_tokens": reasoning_tokens},
        "total_tokens": input_tokens + output_tokens if total is None else total,
    }


# --------------------------------------------------------------------------- HTTP-level answers


@dataclass
class HttpError:
    """A non-streamed JSON answer with an error status (rate-limit headers are added too)."""

    status: int
    json_body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    #: Send the body padded and/or dripping (see `Abuse`).
    abuse: Abuse | None = None

    @classmethod
    def usage_limit_reached(
        cls, plan_type: str = "plus", resets_in_seconds: int = 1800, message: str | None = None
    ) -> HttpError:
        """429: the plan's usage window is used up."""
        error = {
            "type": "usage_limit_reached",
            "message": message or "The usage limit has been reached",
            "plan_type": plan_type,
            "resets_at": int(time.time()) + resets_in_seconds,
            "resets_in_seconds": resets_in_seconds,
        }
        return cls(429, {"error": error})

    @classmethod
    def unauthorized(cls, code: str = "token_expired", message: str | None = None) -> HttpError:
        """401 as the backend answers an expired or unknown access token."""
        return cls(401, _token_error(code, message))

    @classmethod
    def bad_request(cls, detail: str) -> HttpError:
        """400 in the backend's `{"detail": ...}` shape."""
        return cls(400, {"detail": detail})

    @classmethod
    def overloaded(cls, code: str = "server_is_overloaded", retry_after: int | None = None) -> HttpError:
        """503 `server_is_overloaded` / `slow_down`: retry with backoff."""
        headers = {"retry-after": str(retry_after)} if retry_after is not None else {}
        error = {"code": code, "message": "The server is overloaded. Please try again later.", "type": None}
        return cls(503, {"error": error}, headers)


@dataclass
class Disconnect:
    """Close the TCP connection without sending any HTTP response (a transport failure)."""

    delay: float = 0.0


@dataclass
class Abuse:
    """How a hostile server mangles a JSON answer: `pad_bytes` of trailing whitespace (still valid
    JSON, so only a size cap stops a client), sent `drip_bytes` at a time every `drip_seconds`."""

    pad_bytes: int = 0
    drip_seconds: float = 0.0
    drip_bytes: int = 1

    def pieces(self, data: bytes) -> Iterator[bytes]:
        size = self.drip_bytes if self.drip_seconds else 65536
        for start in range(0, len(data), size):
            yield data[start : start + size]
        left = self.pad_bytes
        while left > 0:
            yield b" " * min(size, left)
            left -= size


@dataclass
class AbuseRecord:
    """One abusive answer as sent: how many bytes it had, how many went out, whether all did."""

    path: str
    total: int
    sent: int = 0
    finished: bool = False


Answer = Turn | HttpError | Disconnect
# Runs on the server's event loop for each /responses request: it must not block; None falls
# through to the queue and then the default.
Handler = Callable[["RecordedRequest"], Answer | None]


def _token_error(code: str, message: str | None = None) -> dict[str, Any]:
    message = message or "Provided authentication token is expired. Please try signing in again."
    return {"error": {"message": message, "type": "invalid_request_error", "param": None, "code": code}}


def default_rate_limit_headers(now: float | None = None) -> dict[str, str]:
    """Plausible `x-codex-*` headers: 5-hour primary and weekly secondary windows."""
    now = int(time.time() if now is None else now)
    return {
        "x-codex-primary-used-percent": "12.0",
        "x-codex-primary-window-minutes": "300",
        "x-codex-primary-reset-at": str(now + 3600),
        "x-codex-secondary-used-percent": "34.0",
        "x-codex-secondary-window-minutes": "10080",
        "x-codex-secondary-reset-at": str(now + 3 * 86400),
        "x-codex-credits-has-credits": "false",
        "x-codex-credits-unlimited": "false",
        "x-codex-credits-balance": "0",
    }


# --------------------------------------------------------------------------- the server


@dataclass
class RecordedRequest:
    """One request as the fake saw it; `status` is filled in once it is answered."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: Any
    received_at: float = field(default_factory=time.monotonic)
    status: int | None = None
    #: The `content-encoding` of the answer, chosen from the request's `accept-encoding`.
    content_coding: str | None = None

    @property
    def bearer(self) -> str | None:
        """The bearer token of the `authorization` header, if any."""
        value = self.headers.get("authorization", "")
        return value[7:] if value.lower().startswith("bearer ") else None


@dataclass(frozen=True)
class _Identity:
    account_id: str = "acct-123"
    plan: str = "plus"
    user_id: str = "user-123"
    email: str = "user@example.com"

    def claims(self) -> dict[str, str]:
        return {
            "account_id": self.account_id,
            "plan": self.plan,
            "user_id": self.user_id,
            "email": self.email,
        }


TokenCheck = str | Iterable[str] | Callable[[str], bool] | None


class FakeCodexBackend:
    """The fake backend; configure it through its attributes, from any thread.

    Attributes tests set: `handler`, `expected_access_token`, `check_tokens`,
    `expected_account_id`, `validate_requests`, `rate_limit_headers`, `catalog`,
    `models_status`, `models_delay`, `token_status`, `token_delay`, `access_token_lifetime`,
    `token_abuse`, `models_abuse` (a hostile server's huge or dripping answers, see `Abuse`).
    Attributes tests read: `requests`, `models_log`, `token_log`, `responses_count`,
    `models_requests`, `refresh_requests`, `reuse_errors`, `abuse_log`.
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        catalog: dict[str, Any] | None = None,
        check_tokens: bool = False,
        record: bool = True,
    ) -> None:
        self.host, self.port = host, port
        self.record = record
        self._lock = threading.Lock()
        self._queue: deque[Answer] = deque()
        self.default: Answer = Turn().text(DEFAULT_TEXT, chunks=4)
        self.handler: Handler | None = None
        self.validate_requests = True
        # Add fields the openai SDK's models require but the real backend does not send
        # (today only usage.input_tokens_details.cache_write_tokens), for strict parsing.
        self.openai_compat = False
        self.rate_limit_headers = default_rate_limit_headers()
        # access-token checks on /responses and /models
        self.expected_access_token: TokenCheck = None
        self.check_tokens = check_tokens
        self.expected_account_id: str | None = None
        # model catalog
        self.catalog: dict[str, Any] = catalog or json.loads(CATALOG_FILE.read_text(encoding="utf-8"))
        self.models_status: int | None = None
        self.models_delay = 0.0
        # token endpoint
        self.access_token_lifetime = 3600
        self.token_status: int | None = None
        self.token_delay = 0.0
        self._forced_token_failures: deque[int] = deque()
        self._refresh_tokens: dict[str, _Identity] = {}
        self._used_refresh_tokens: set[str] = set()
        self._expired_refresh_tokens: set[str] = set()
        self._access_tokens: set[str] = set()
        # hostile behaviour: huge or dripping answers of the token endpoint and the catalog
        self.token_abuse: Abuse | None = None
        self.models_abuse: Abuse | None = None
        self.abuse_log: list[AbuseRecord] = []
        # plain files under /_fake/files/<name> (e.g. the Codex prompt files), optionally abusive
        self.files: dict[str, str] = {}
        self.files_abuse: Abuse | None = None
        # records and counters
        self.requests: list[RecordedRequest] = []
        self.models_log: list[RecordedRequest] = []
        self.token_log: list[RecordedRequest] = []
        self.responses_count = 0
        self.models_requests = 0
        self.refresh_requests = 0
        self.reuse_errors = 0
        self.errors: list[BaseException] = []  # exceptions raised by `handler`
        # server machinery
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None

    # ----------------------------------------------------------------- URLs
    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def base_url(self) -> str:
        """What a client uses as the Codex base, e.g. `http://127.0.0.1:PORT/backend-api/codex`."""
        return self.url + BASE_PATH

    @property
    def responses_url(self) -> str:
        return self.base_url + "/responses"

    @property
    def models_url(self) -> str:
        return self.base_url + "/models"

    @property
    def token_url(self) -> str:
        return self.url + TOKEN_PATH

    # ----------------------------------------------------------------- scripting
    def enqueue(self, *answers: Answer) -> None:
        """Answer the next /responses requests with these, in order."""
        with self._lock:
            self._queue.extend(answers)

    def set_default(self, answer: Answer) -> None:
        """What /responses answers when the queue is empty and no handler decides."""
        self.default = answer

    @property
    def pending(self) -> int:
        """How many queued answers are still unused."""
        with self._lock:
            return len(self._queue)

    @property
    def last_request(self) -> RecordedRequest:
        with self._lock:
            return self.requests[-1]

    def reset(self) -> None:
        """Forget queued answers, records and counters (logins stay valid)."""
        with self._lock:
            self._queue.clear()
            self.requests.clear()
            self.models_log.clear()
            self.token_log.clear()
            self.errors.clear()
            self.responses_count = self.models_requests = self.refresh_requests = self.reuse_errors = 0
        self.handler = None
        self.default = Turn().text(DEFAULT_TEXT, chunks=4)

    # ----------------------------------------------------------------- logins and tokens
    def accept_refresh_token(self, refresh_token: str, **identity: str) -> None:
        """Register a valid refresh token for a login (claims of the tokens it will mint)."""
        with self._lock:
            self._refresh_tokens[refresh_token] = _Identity(**identity)
            self._used_refresh_tokens.discard(refresh_token)

    def accept_access_token(self, access_token: str) -> None:
        """Register an access token that `check_tokens` mode accepts (until its `exp`)."""
        with self._lock:
            self._access_tokens.add(access_token)

    def expire_refresh_token(self, refresh_token: str) -> None:
        """Make a refresh token answer `refresh_token_expired` from now on."""
        with self._lock:
            self._refresh_tokens.pop(refresh_token, None)
            self._expired_refresh_tokens.add(refresh_token)

    def fail_next_refreshes(self, count: int = 1, status: int = 503) -> None:
        """The next `count` token requests fail with `status` without spending the token."""
        with self._lock:
            self._forced_token_failures.extend([status] * count)

    def is_valid_refresh_token(self, refresh_token: str) -> bool:
        with self._lock:
            return refresh_token in self._refresh_tokens

    def issue_login(
        self,
        codex_home: Path,
        *,
        expires_in: float | None = 3600,
        account_id: str = "acct-123",
        plan: str = "plus",
        email: str = "user@example.com",
        user_id: str = "user-123",
        last_refresh: datetime | str | None = None,
        extra: dict[str, Any] | None = None,
    ) -> Path:
        """Write `codex_home/auth.json` with a fresh login whose tokens this fake accepts."""
        refresh_token = f"rt-{uuid.uuid4().hex}"
        data = make_auth_json(
            account_id, expires_in, refresh_token, plan, email, last_refresh, extra, user_id=user_id
        )
        self.accept_refresh_token(
            refresh_token, account_id=account_id, plan=plan, user_id=user_id, email=email
        )
        self.accept_access_token(data["tokens"]["access_token"])
        return write_auth_json(Path(codex_home), data)

    def write_login(
        self,
        codex_home: Path,
        *,
        seconds_left: float | None = 3600,
        lifetime: float = 3600,
        refresh_token: str | None = None,
        **kw: Any,
    ) -> dict[str, Any]:
        """Write a login this fake accepts whose access token has `seconds_left` of `lifetime`.

        `seconds_left=None` leaves out `exp`; `kw` goes to `make_auth_json`. Returns the file's content.
        """
        if seconds_left is None:
            access = make_access_token(expires_in=None)
        else:
            access = make_access_token(expires_in=lifetime, now=time.time() - (lifetime - seconds_left))
        refresh = refresh_token or f"rt-{uuid.uuid4().hex}"
        self.accept_refresh_token(refresh)
        self.accept_access_token(access)
        data = make_auth_json(access_token=access, refresh_token=refresh, **kw)
        write_auth_json(Path(codex_home), data)
        return data

    def spend_refresh_token(self, refresh_token: str) -> None:
        """Use a refresh token as another program would, so presenting it again is a reuse."""
        import httpx

        body = {"client_id": CLIENT_ID, "grant_type": "refresh_token", "refresh_token": refresh_token}
        assert httpx.post(self.token_url, json=body).status_code == 200

    def _mint(self, identity: _Identity) -> dict[str, Any]:
        """New tokens for a login; the caller holds the lock."""
        lifetime = self.access_token_lifetime
        access = make_access_token(expires_in=lifetime, **identity.claims())
        refresh = f"rt-{uuid.uuid4().hex}"
        self._access_tokens.add(access)
        self._refresh_tokens[refresh] = identity
        return {
            "access_token": access,
            "id_token": make_id_token(expires_in=lifetime, **identity.claims()),
            "refresh_token": refresh,
            "expires_in": lifetime,
            "token_type": "Bearer",
            "scope": "openid profile email offline_access",
        }

    def _rotate(self, refresh_token: str) -> tuple[int, dict[str, Any]]:
        """Spend a refresh token: new tokens once, an error code every other time."""
        with self._lock:
            identity = self._refresh_tokens.pop(refresh_token, None)
            if identity is not None:
                self._used_refresh_tokens.add(refresh_token)
                return 200, self._mint(identity)
            if refresh_token in self._used_refresh_tokens:
                self.reuse_errors += 1
                message = "Your refresh token has already been used to generate a new access token. Please try signing in again."
                return 401, _token_error("refresh_token_reused", message)
            if refresh_token in self._expired_refresh_tokens:
                return 401, _token_error("refresh_token_expired", "Your refresh token has expired.")
            return 401, _token_error("refresh_token_invalidated", "Your refresh token has been invalidated.")

    def _access_token_ok(self, token: str | None) -> bool:
        """True when no check is enabled, or when any enabled check accepts `token`."""
        verdicts = []
        expected = self.expected_access_token
        if expected is not None:
            if isinstance(expected, str):
                verdicts.append(token == expected)
            elif callable(expected):
                verdicts.append(token is not None and bool(expected(token)))
            else:
                verdicts.append(token in set(expected))
        if self.check_tokens:
            verdicts.append(self._minted_token_ok(token))
        return not verdicts or any(verdicts)

    def _minted_token_ok(self, token: str | None) -> bool:
        with self._lock:
            if token is None or token not in self._access_tokens:
                return False
        try:
            expires = decode_jwt(token).get("exp")
        except Exception:  # an opaque token registered with accept_access_token
            return True
        return expires is None or expires > time.time()

    # ----------------------------------------------------------------- lifecycle
    def start(self) -> FakeCodexBackend:
        """Bind the port and serve from a background thread; returns self."""
        if self._thread is not None:
            raise RuntimeError("FakeCodexBackend is already running")
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, self.port))
        sock.setblocking(False)
        self.port = sock.getsockname()[1]
        self._loop = asyncio.new_event_loop()
        ready = threading.Event()
        failures: list[BaseException] = []
        self._thread = threading.Thread(
            target=self._serve, args=(sock, ready, failures), name=f"fake-codex-{self.port}", daemon=True
        )
        self._thread.start()
        ready.wait(10)
        if failures:
            self._thread = None
            raise RuntimeError("fake Codex backend failed to start") from failures[0]
        return self

    def stop(self) -> None:
        """Stop serving (open streams are cut) and join the thread."""
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        loop.call_soon_threadsafe(loop.stop)
        thread.join(15)
        self._loop = self._thread = None

    def __enter__(self) -> FakeCodexBackend:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _serve(self, sock: socket.socket, ready: threading.Event, failures: list[BaseException]) -> None:
        loop = self._loop
        assert loop is not None
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(self._start_site(sock))
        except BaseException as exc:
            failures.append(exc)
            sock.close()
            loop.close()
            ready.set()
            return
        ready.set()
        try:
            loop.run_forever()
        finally:
            loop.run_until_complete(self._shutdown())
            loop.close()

    async def _start_site(self, sock: socket.socket) -> None:
        app = web.Application(client_max_size=256 * 1024 * 1024)
        app.router.add_post(BASE_PATH + "/responses", self._handle_responses)
        app.router.add_get(BASE_PATH + "/models", self._handle_models)
        app.router.add_post(TOKEN_PATH, self._handle_token)
        app.router.add_get(STATS_PATH, self._handle_stats)
        app.router.add_get(FILES_PATH + "/{name}", self._handle_file)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.25, handle_signals=False)
        await self._runner.setup()
        await web.SockSite(self._runner, sock, backlog=2048).start()

    async def _shutdown(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
        tasks = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    # ----------------------------------------------------------------- request handling
    async def _record(self, request: web.Request, log: list[RecordedRequest]) -> RecordedRequest:
        raw = await request.read()
        body: Any = None
        if raw:
            try:
                body = json.loads(raw)
            except ValueError:
                body = raw.decode("utf-8", "replace")
        headers = {}
        for name, value in request.headers.items():
            key = name.lower()
            headers[key] = f"{headers[key]}, {value}" if key in headers else value
        record = RecordedRequest(request.method, request.path_qs, dict(request.query), headers, body)
        if self.record:
            with self._lock:
                log.append(record)
        return record

    def _auth_failure(self, record: RecordedRequest) -> HttpError | None:
        if not self._access_token_ok(record.bearer):
            return HttpError.unauthorized()
        account = self.expected_account_id
        if account is not None and record.headers.get("chatgpt-account-id") != account:
            return HttpError(403, {"detail": "chatgpt-account-id does not match the token"})
        return None

    def _validation_failure(self, body: Any) -> HttpError | None:
        """What the real backend rejects with 400 before streaming."""
        if not self.validate_requests:
            return None
        if not isinstance(body, dict):
            return HttpError.bad_request("Request body must be a JSON object")
        if not body.get("model"):
            return HttpError.bad_request("Missing required parameter: 'model'")
        for name in REJECTED_PARAMS:
            if name in body:
                return HttpError.bad_request(f"Unsupported parameter: {name}")
        if body.get("stream") is not True:
            return HttpError.bad_request("Stream must be set to true")
        if body.get("store", False) is not False:
            return HttpError.bad_request("Store must be set to false")
        return None

    def _next_answer(self, record: RecordedRequest) -> Answer:
        if self.handler is not None:
            try:
                answer = self.handler(record)
            except Exception as exc:  # keep serving; the test can assert on fake.errors
                self.errors.append(exc)
                return HttpError(500, {"detail": f"fake handler raised {exc!r}"})
            if answer is not None:
                return answer
        with self._lock:
            if self._queue:
                return self._queue.popleft()
        return self.default

    async def _handle_responses(self, request: web.Request) -> web.StreamResponse:
        record = await self._record(request, self.requests)
        with self._lock:
            self.responses_count += 1
        failure = self._auth_failure(record) or self._validation_failure(record.body)
        answer = failure or self._next_answer(record)
        if isinstance(answer, Disconnect):
            record.status = 0
            return await self._disconnect(request, answer.delay)
        if isinstance(answer, HttpError):
            record.status = answer.status
            if answer.abuse is not None:
                headers = {**self.rate_limit_headers, **answer.headers}
                return await self._abusive(request, answer.status, answer.json_body, headers, answer.abuse)
            return await self._json_error(answer, self.rate_limit_headers, record)
        record.status = 200
        body = record.body if isinstance(record.body, dict) else {}
        return await self._stream(request, answer, body, record)

    async def _disconnect(self, request: web.Request, delay: float) -> web.StreamResponse:
        if delay:
            await asyncio.sleep(delay)
        if request.transport is not None:
            request.transport.abort()
        # Nothing can be sent any more: a cancelled handler makes aiohttp drop the request quietly.
        raise asyncio.CancelledError

    async def _json_error(
        self, error: HttpError, extra_headers: dict[str, str], record: RecordedRequest | None = None
    ) -> web.Response:
        if error.delay:
            await asyncio.sleep(error.delay)
        headers = {**extra_headers, **error.headers}
        return self._json(record, error.json_body, status=error.status, headers=headers)

    def _json(
        self,
        record: RecordedRequest | None,
        payload: Any,
        *,
        status: int = 200,
        headers: dict[str, str] | None = None,
    ) -> web.Response:
        """A JSON answer, compressed as the request's `accept-encoding` allows."""
        return self._body(record, json.dumps(payload).encode(), status=status, headers=headers)

    def _body(
        self,
        record: RecordedRequest | None,
        body: bytes,
        *,
        status: int = 200,
        headers: dict[str, str] | None = None,
    ) -> web.Response:
        headers = {"content-type": "application/json", **(headers or {})}
        coding = content_coding(record.headers.get("accept-encoding")) if record is not None else None
        if coding is not None and record is not None:
            record.content_coding = coding
            headers["content-encoding"] = coding
            body = _Encoder(coding).whole(body)
        return web.Response(body=body, status=status, headers=headers)

    async def _stream(
        self, request: web.Request, turn: Turn, body: dict[str, Any], record: RecordedRequest
    ) -> web.StreamResponse:
        """Send the turn as SSE, compressed as `accept-encoding` allows; tolerate the client going away."""
        if turn.latency_seconds:
            await asyncio.sleep(turn.latency_seconds)
        headers = {
            "content-type": "text/event-stream",
            "cache-control": "no-cache",
            "x-request-id": uuid.uuid4().hex,
            **self.rate_limit_headers,
        }
        encoder = _Encoder(content_coding(record.headers.get("accept-encoding")))
        if encoder.coding is not None:
            headers["content-encoding"] = record.content_coding = encoder.coding
        response = web.StreamResponse(status=200, headers=headers)
        await response.prepare(request)
        try:
            await self._write_events(response, turn, body, encoder)
            if not turn.terminates_cleanly:
                response.force_close()
                if turn.ending.abort and request.transport is not None:
                    request.transport.abort()
                    return response
            await response.write_eof(encoder.end())
        except ConnectionError:
            pass
        return response

    async def _write_events(
        self, response: web.StreamResponse, turn: Turn, body: dict[str, Any], encoder: _Encoder
    ) -> None:
        first_delta = True
        for event in turn.events(body, openai_compat=self.openai_compat):
            if event.type.endswith(".delta"):
                delay = turn.first_delta_delay_seconds if first_delta else turn.delta_delay_seconds
                first_delta = False
                if delay:
                    await asyncio.sleep(delay)
            for piece in event.encode():
                await response.write(encoder.piece(piece))

    async def _handle_models(self, request: web.Request) -> web.Response:
        record = await self._record(request, self.models_log)
        with self._lock:
            self.models_requests += 1
        if self.models_delay:
            await asyncio.sleep(self.models_delay)
        failure = self._auth_failure(record)
        if failure is not None:
            return await self._json_error(failure, {}, record)
        if self.models_status is not None:
            error = HttpError(self.models_status, {"error": {"message": "fake models failure", "code": None}})
            return await self._json_error(error, {}, record)
        payload = json.dumps(self.catalog).encode()
        etag = '"' + hashlib.sha256(payload).hexdigest()[:32] + '"'
        if _etag_matches(request.headers.get("if-none-match"), etag):
            return web.Response(status=304, headers={"etag": etag})
        if self.models_abuse is not None:
            return await self._abusive(request, 200, self.catalog, {"etag": etag}, self.models_abuse)
        return self._body(record, payload, headers={"etag": etag})

    async def _handle_token(self, request: web.Request) -> web.Response:
        record = await self._record(request, self.token_log)
        with self._lock:
            self.refresh_requests += 1
        if self.token_delay:
            await asyncio.sleep(self.token_delay)
        forced = self._forced_token_status()
        if forced is not None:
            error = {"error": {"message": "fake token endpoint failure", "code": "server_error"}}
            return self._json(record, error, status=forced)
        body = record.body if isinstance(record.body, dict) else _form(record.body)
        if body.get("client_id") != CLIENT_ID or body.get("grant_type") != "refresh_token":
            return self._json(
                record, _token_error("invalid_request", "Bad client_id or grant_type"), status=400
            )
        status, payload = self._rotate(str(body.get("refresh_token", "")))
        if self.token_abuse is not None:
            return await self._abusive(request, status, payload, {}, self.token_abuse)
        return self._json(record, payload, status=status)

    def _forced_token_status(self) -> int | None:
        with self._lock:
            if self._forced_token_failures:
                return self._forced_token_failures.popleft()
        return self.token_status

    async def _abusive(
        self, request: web.Request, status: int, body: Any, headers: dict[str, str], abuse: Abuse
    ) -> web.StreamResponse:
        """Send `body` (bytes as they are, else as JSON) the way `abuse` says; `abuse_log` records how much got out."""
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        record = AbuseRecord(request.path, len(data) + abuse.pad_bytes)
        with self._lock:
            self.abuse_log.append(record)
        response = web.StreamResponse(status=status, headers={"content-type": "application/json", **headers})
        response.content_length = record.total
        await response.prepare(request)
        try:
            for piece in abuse.pieces(data):
                await response.write(piece)
                record.sent += len(piece)
                if abuse.drip_seconds:
                    await asyncio.sleep(abuse.drip_seconds)
            await response.write_eof()
            record.finished = True
        except ConnectionError:
            pass
        return response

    async def _handle_file(self, request: web.Request) -> web.StreamResponse:
        """GET one of `files` (404 when unknown), abusively when `files_abuse` says so."""
        text = self.files.get(request.match_info["name"])
        if text is None:
            return web.Response(status=404, text="no such file")
        headers = {"content-type": "text/plain; charset=utf-8"}
        if self.files_abuse is not None:
            return await self._abusive(request, 200, text.encode(), headers, self.files_abuse)
        return web.Response(text=text, headers=headers)

    @property
    def files_url(self) -> str:
        """Where `files` are served: `{files_url}/<name>`."""
        return self.url + FILES_PATH

    async def _handle_stats(self, request: web.Request) -> web.Response:
        """Counters, for benchmarks that run the fake as a separate process."""
        with self._lock:
            stats = {
                "responses": self.responses_count,
                "models": self.models_requests,
                "refresh": self.refresh_requests,
                "reuse_errors": self.reuse_errors,
                "pending": len(self._queue),
            }
        return web.json_response(stats)


def content_coding(accept_encoding: str | None) -> str | None:
    """The coding a server picks from `accept-encoding`: zstd, else gzip, else none (`identity`)."""
    offered = {part.split(";")[0].strip().lower() for part in (accept_encoding or "").split(",")}
    if "zstd" in offered and zstandard is not None:
        return "zstd"
    return "gzip" if "gzip" in offered else None


class _Encoder:
    """Compresses a body piece by piece, flushing each piece so a stream still arrives as it is written."""

    def __init__(self, coding: str | None) -> None:
        self.coding = coding
        if coding == "zstd":
            self._zstd = zstandard.ZstdCompressor().compressobj()
        elif coding == "gzip":
            self._gzip = zlib.compressobj(wbits=31)

    def piece(self, data: bytes) -> bytes:
        if self.coding == "zstd":
            return self._zstd.compress(data) + self._zstd.flush(zstandard.COMPRESSOBJ_FLUSH_BLOCK)
        if self.coding == "gzip":
            return self._gzip.compress(data) + self._gzip.flush(zlib.Z_SYNC_FLUSH)
        return data

    def end(self) -> bytes:
        if self.coding == "zstd":
            return self._zstd.flush()
        if self.coding == "gzip":
            return self._gzip.flush()
        return b""

    def whole(self, data: bytes) -> bytes:
        return self.piece(data) + self.end()


def _etag_matches(if_none_match: str | None, etag: str) -> bool:
    if not if_none_match:
        return False
    candidates = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
    return "*" in candidates or etag in candidates


def _form(body: Any) -> dict[str, str]:
    """A urlencoded token request body (JSON is what the CLI sends; accept both)."""
    return dict(parse_qsl(body)) if isinstance(body, str) else {}


# --------------------------------------------------------------------------- standalone process


def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Serve a fake ChatGPT Codex backend until killed.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 lets the OS choose")
    parser.add_argument("--text", default=DEFAULT_TEXT, help="the answer of every turn")
    parser.add_argument("--chunks", type=int, default=4, help="text deltas per answer")
    parser.add_argument(
        "--big-text", type=int, default=0, metavar="BYTES", help="stream a long answer instead"
    )
    parser.add_argument("--chunk-size", type=int, default=1024, help="delta size for --big-text")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds before the headers")
    parser.add_argument("--first-delta-delay", type=float, default=0.0)
    parser.add_argument("--delta-delay", type=float, default=0.0)
    parser.add_argument("--check-tokens", action="store_true", help="accept only tokens this fake issued")
    parser.add_argument("--issue-login", type=Path, metavar="CODEX_HOME", help="write an accepted auth.json")
    parser.add_argument("--access-token-lifetime", type=int, default=3600)
    parser.add_argument("--record", action="store_true", help="keep every request in memory")
    return parser.parse_args(argv)


def _default_turn(args: argparse.Namespace) -> Turn:
    turn = (
        Turn().big_text(args.big_text, args.chunk_size)
        if args.big_text
        else Turn().text(args.text, chunks=args.chunks)
    )
    return turn.latency(args.latency).first_delta_delay(args.first_delta_delay).delta_delay(args.delta_delay)


def main(argv: Sequence[str] | None = None) -> int:
    """Print the base URL as the first stdout line, then serve until SIGTERM/SIGINT."""
    args = _parse_args(argv)
    fake = FakeCodexBackend(
        host=args.host, port=args.port, check_tokens=args.check_tokens, record=args.record
    )
    fake.access_token_lifetime = args.access_token_lifetime
    fake.set_default(_default_turn(args))
    if args.issue_login:
        fake.issue_login(args.issue_login, expires_in=args.access_token_lifetime)
    stopping = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stopping.set())
    with fake:
        print(fake.base_url, flush=True)
        while not stopping.wait(0.5):
            pass
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
