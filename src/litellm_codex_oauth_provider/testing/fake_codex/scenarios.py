"""What the fake answers a `/responses` request with: a scripted `Turn`, or a fault.

A `Turn` streams items and ends the way the backend can end a stream (completed, incomplete,
failed, a bare `error` event, or a cut connection). `HttpError`, `Disconnect` and `Abuse` are
the answers that never get as far as a stream.
"""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from .events import (
    FunctionCallPart,
    LazyText,
    MessagePart,
    Part,
    ReasoningPart,
    SseEvent,
    StreamContext,
    estimate_tokens,
    usage_block,
)

DEFAULT_TEXT = "Hello from fake Codex"
DEFAULT_MODEL = "gpt-5.5"

EndingKind = Literal["complete", "incomplete", "failed", "error", "cut"]


@dataclass(frozen=True)
class Ending:
    """How a turn's stream ends; only the fields of its `kind` matter."""

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
        self.parts: list[Part] = []
        self.ending = Ending()
        self.usage_override: dict[str, Any] | None = None
        self.model_override: str | None = None
        self.latency_seconds = 0.0
        self.first_delta_delay_seconds = 0.0
        self.delta_delay_seconds = 0.0

    # -- output items
    def text(self, text: str, *, chunks: int = 3, item_id: str | None = None) -> Turn:
        """An assistant message streamed as `chunks` text deltas."""
        self.parts.append(MessagePart(text, chunks=chunks, item_id=item_id))
        return self

    def big_text(self, total_bytes: int, chunk_size: int = 1024, *, item_id: str | None = None) -> Turn:
        """A `total_bytes`-long message generated lazily (the done events stream it too)."""
        self.parts.append(MessagePart(LazyText(total_bytes), chunk_size=chunk_size, item_id=item_id))
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
        self.parts.append(ReasoningPart(summaries, encrypted_content, content, chunks, item_id))
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
        self.parts.append(FunctionCallPart(name, arguments, call_id, arg_chunks, item_id))
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
        self.usage_override = usage_block(
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
        self.ending = Ending("complete", include_output=include_output)
        return self

    def incomplete(self, reason: str = "max_output_tokens") -> Turn:
        """End with `response.incomplete` and `incomplete_details.reason`."""
        self.ending = Ending("incomplete", reason=reason)
        return self

    def failed(self, code: str = "server_error", message: str = "Something went wrong.") -> Turn:
        """End with `response.failed` carrying `response.error {code, message}`."""
        self.ending = Ending("failed", code=code, message=message)
        return self

    def error_event(
        self, code: str | None = "server_error", message: str = "An error occurred.", param: str | None = None
    ) -> Turn:
        """End with a bare `error` event (and no terminal response event)."""
        self.ending = Ending("error", code=code, message=message, param=param)
        return self

    def cut(self, *, after_events: int | None = None, abort: bool = False) -> Turn:
        """Close the connection before any terminal event.

        By default after all item events, with a clean end of the HTTP body (the client sees
        EOF without `response.completed`); `after_events=N` stops after the first N events;
        `abort=True` resets the TCP connection mid-body instead (a transport error).
        """
        self.ending = Ending("cut", after_events=after_events, abort=abort)
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
        ctx = StreamContext(
            request_body=request_body,
            model=self.model_override or request_body.get("model") or DEFAULT_MODEL,
            item_status="incomplete" if self.ending.kind == "incomplete" else "completed",
            openai_compat=openai_compat,
        )
        events = self._all_events(ctx)
        if self.ending.after_events is not None:
            events = itertools.islice(events, self.ending.after_events)
        return events

    def _all_events(self, ctx: StreamContext) -> Iterator[SseEvent]:
        yield ctx.event("response.created", response=ctx.response("in_progress", []))
        yield ctx.event("response.in_progress", response=ctx.response("in_progress", []))
        for part in self.parts:
            yield from part.events(ctx)
        yield from self._ending_events(ctx)

    def _ending_events(self, ctx: StreamContext) -> Iterator[SseEvent]:
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

    def _usage(self, ctx: StreamContext) -> dict[str, Any]:
        usage = self.usage_override or self._estimated_usage(ctx)
        if ctx.openai_compat:
            details = {"cache_write_tokens": 0, **usage["input_tokens_details"]}
            usage = {**usage, "input_tokens_details": details}
        return usage

    @staticmethod
    def _estimated_usage(ctx: StreamContext) -> dict[str, Any]:
        body = ctx.request_body
        prompt_chars = len(json.dumps(body.get("input", ""))) + len(body.get("instructions") or "")
        reasoning = estimate_tokens(ctx.reasoning_chars)
        return usage_block(
            estimate_tokens(prompt_chars), 0, estimate_tokens(ctx.output_chars) + reasoning, reasoning
        )

    def render(self, request_body: dict[str, Any] | None = None, *, openai_compat: bool = False) -> bytes:
        """The whole SSE body in memory, e.g. for respx-mocked tests (not for `big_text`)."""
        events = self.events(request_body or {"model": DEFAULT_MODEL}, openai_compat=openai_compat)
        return b"".join(piece for event in events for piece in event.encode())

    def payloads(self, request_body: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        """Each event's `data` as the client parses it, for feeding a translator directly (not for `big_text`)."""
        return [event.data for event in self.events(request_body or {"model": DEFAULT_MODEL})]

    @property
    def terminates_cleanly(self) -> bool:
        """False when the stream is meant to break off (cut or bare error event)."""
        return self.ending.kind not in ("cut", "error")


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
        return cls(401, token_error(code, message))

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


def token_error(code: str, message: str | None = None) -> dict[str, Any]:
    """An OAuth-style error body, as the token endpoint and a rejected access token answer."""
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
