"""The event stream: Responses events → LiteLLM stream chunks as they arrive, and the final response.

`TurnTranslator.handle(event)` returns the chunks an event produces at once. In streaming mode
it keeps no text (a long answer the caller does not keep costs no memory here); the non-streaming
path keeps the completed output items and assembles a `ModelResponse`. `handle_many` takes the
events that arrived together (see `ready_events`) and merges their deltas into one chunk.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from litellm.types.utils import (
    ChatCompletionDeltaToolCall,
    ChatCompletionMessageToolCall,
    Delta,
    Function,
    Message,
    ModelResponse,
    ModelResponseStream,
    StreamingChoices,
    Usage,
)

from .encrypted_reasoning import reasoning_item, thinking_block
from .exceptions import CodexStreamError


def _as_dict(obj: Any) -> dict[str, Any]:
    if isinstance(obj, Mapping):
        return dict(obj)
    dump = getattr(obj, "model_dump", None)
    return dump() if callable(dump) else {}


def field_of(obj: Any, name: str, default: Any = None) -> Any:
    """Read a field from a typed event or from a plain dict (events the openai package does not know)."""
    if isinstance(obj, Mapping):
        return obj.get(name, default)
    return getattr(obj, name, default)


def usage_from_response(usage: Any) -> Usage | None:
    """Responses usage → LiteLLM `Usage`, cached and reasoning tokens included."""
    if usage is None:
        return None
    input_tokens = int(field_of(usage, "input_tokens", 0) or 0)
    output_tokens = int(field_of(usage, "output_tokens", 0) or 0)
    cached = field_of(field_of(usage, "input_tokens_details"), "cached_tokens", 0) or 0
    reasoning = field_of(field_of(usage, "output_tokens_details"), "reasoning_tokens", 0) or 0
    return Usage(
        prompt_tokens=input_tokens,
        completion_tokens=output_tokens,
        total_tokens=int(field_of(usage, "total_tokens", 0) or input_tokens + output_tokens),
        prompt_tokens_details={"cached_tokens": int(cached)},
        completion_tokens_details={"reasoning_tokens": int(reasoning)},
    )


def _summary_texts(item: Any) -> list[str]:
    return [t for part in field_of(item, "summary", None) or [] if (t := field_of(part, "text", ""))]


def _message_text(item: Any) -> str:
    return "".join(
        field_of(part, "text", "") or field_of(part, "refusal", "") or ""
        for part in field_of(item, "content", None) or []
    )


@dataclass
class _ToolCall:
    """A function call of the turn: its position among the tool calls, and whether its arguments streamed."""

    index: int
    call_id: str
    name: str
    streamed_arguments: bool = False


@dataclass
class TurnTranslator:
    """Translates one turn's events; `keep_output=False` for streaming, so nothing grows with the answer."""

    model: str
    keep_output: bool = True
    #: False on the non-streaming path: the turn is only collected, no chunk objects are built.
    emit: bool = True
    response_id: str = ""
    created: int = field(default_factory=lambda: int(time.time()))
    finish_reason: str | None = None
    usage: Usage | None = None
    done: bool = False
    _calls: dict[str, _ToolCall] = field(default_factory=dict)
    _items: list[Any] = field(default_factory=list)
    _text_deltas: list[str] = field(default_factory=list)
    _reasoning_deltas: list[str] = field(default_factory=list)
    _sent_role: bool = False
    _message_items: int = 0
    _reasoning_started: bool = False

    # -- streaming -------------------------------------------------------------------------------

    def _chunk(
        self, delta: Delta, finish_reason: str | None = None, usage: Usage | None = None
    ) -> ModelResponseStream:
        if not self._sent_role:
            delta.role = "assistant"
            self._sent_role = True
        chunk = ModelResponseStream(
            id=self.response_id or None,
            created=self.created,
            model=self.model,
            choices=[StreamingChoices(index=0, delta=delta, finish_reason=finish_reason)],
        )
        if usage is not None:
            chunk.usage = usage  # type: ignore[attr-defined]
        return chunk

    def handle(self, event: Any) -> list[ModelResponseStream]:
        """The chunks `event` produces now; raises `CodexStreamError` for a failed turn."""
        kind = field_of(event, "type")
        if kind in ("response.output_text.delta", "response.refusal.delta"):
            text = field_of(event, "delta", "")
            if self.keep_output:
                self._text_deltas.append(text)
            return [self._chunk(Delta(content=text))] if text and self.emit else []
        if kind in ("response.reasoning_summary_text.delta", "response.reasoning_text.delta"):
            text = field_of(event, "delta", "")
            if not text:
                return []
            if self.keep_output:
                self._reasoning_deltas.append(text)
            self._reasoning_started = True
            return [self._chunk(Delta(reasoning_content=text))] if self.emit else []
        if kind == "response.reasoning_summary_part.added" and self._reasoning_started:
            # Summary parts (of one item or of several) read as paragraphs, as in the whole response.
            if self.keep_output:
                self._reasoning_deltas.append("\n\n")
            return [self._chunk(Delta(reasoning_content="\n\n"))] if self.emit else []
        if kind == "response.function_call_arguments.delta":
            return self._arguments_delta(event)
        if kind == "response.output_item.added":
            return self._item_added(field_of(event, "item"))
        if kind == "response.output_item.done":
            return self._item_done(field_of(event, "item"))
        if kind in ("response.created", "response.in_progress"):
            self._note_response(field_of(event, "response"))
            return []
        if kind in ("response.completed", "response.incomplete"):
            return self._finish(field_of(event, "response"), incomplete=kind == "response.incomplete")
        if kind == "response.failed":
            response = field_of(event, "response")
            error = field_of(response, "error") or {}
            raise CodexStreamError(
                field_of(error, "code"),
                field_of(error, "message") or "the turn failed",
                details=_as_dict(error),
            )
        if kind == "error":
            error = field_of(event, "error") or event
            raise CodexStreamError(
                field_of(error, "code") or field_of(error, "type"),
                field_of(error, "message") or "the backend reported an error",
                details=_as_dict(error),
            )
        return []

    def handle_many(self, events: list[Any]) -> list[ModelResponseStream]:
        """The chunks of events that arrived together, consecutive text deltas merged into one chunk."""
        if len(events) == 1:
            return self.handle(events[0])
        chunks: list[ModelResponseStream] = []
        for event in merge_deltas(events):
            chunks += self.handle(event)
        return chunks

    def _note_response(self, response: Any) -> None:
        if response is not None and field_of(response, "id"):
            self.response_id = field_of(response, "id")

    def _item_added(self, item: Any) -> list[ModelResponseStream]:
        kind = field_of(item, "type")
        if kind == "message":
            # Several message items in one turn (a preamble, then the answer) read as paragraphs.
            self._message_items += 1
            if self._message_items > 1:
                if self.keep_output:
                    self._text_deltas.append("\n\n")
                return [self._chunk(Delta(content="\n\n"))] if self.emit else []
            return []
        if kind != "function_call":
            return []
        call = self._register_call(item)
        return [self._tool_delta(call, arguments="", with_header=True)] if self.emit else []

    def _register_call(self, item: Any) -> _ToolCall:
        key = field_of(item, "id") or field_of(item, "call_id")
        call = self._calls.get(key)
        if call is None:
            call = _ToolCall(
                index=len(self._calls),
                call_id=field_of(item, "call_id") or key,
                name=field_of(item, "name") or "",
            )
            self._calls[key] = call
        return call

    def _tool_delta(self, call: _ToolCall, *, arguments: str, with_header: bool) -> ModelResponseStream:
        tool = ChatCompletionDeltaToolCall(
            index=call.index,
            id=call.call_id if with_header else None,
            type="function" if with_header else None,
            function=Function(name=call.name if with_header else None, arguments=arguments),
        )
        return self._chunk(Delta(tool_calls=[tool]))

    def _arguments_delta(self, event: Any) -> list[ModelResponseStream]:
        call = self._calls.get(field_of(event, "item_id"))
        text = field_of(event, "delta", "")
        if call is None or not text:
            return []
        call.streamed_arguments = True
        return [self._tool_delta(call, arguments=text, with_header=False)] if self.emit else []

    def _item_done(self, item: Any) -> list[ModelResponseStream]:
        kind = field_of(item, "type")
        if self.keep_output:
            self._items.append(item)
        if kind == "function_call":
            known = (field_of(item, "id") or field_of(item, "call_id")) in self._calls
            call = self._register_call(item)
            arguments = field_of(item, "arguments") or ""
            if not self.emit:
                return []
            if not known:
                return [self._tool_delta(call, arguments=arguments, with_header=True)]
            if not call.streamed_arguments and arguments:
                return [self._tool_delta(call, arguments=arguments, with_header=False)]
            return []
        encrypted = field_of(item, "encrypted_content") if kind == "reasoning" else None
        if encrypted and self.emit:
            # One chunk per reasoning item, when it completes: the summary already streamed as
            # reasoning_content, so the thinking block carries only the encrypted content.
            delta = Delta(
                reasoning_items=[reasoning_item(encrypted, _summary_texts(item))],
                thinking_blocks=[thinking_block(encrypted)],
            )
            return [self._chunk(delta)]
        return []

    def _finish(self, response: Any, *, incomplete: bool) -> list[ModelResponseStream]:
        self._note_response(response)
        self.done = True
        if self.keep_output and not self._items:
            self._items.extend(field_of(response, "output", None) or [])
        self.usage = usage_from_response(field_of(response, "usage"))
        if incomplete:
            reason = field_of(field_of(response, "incomplete_details"), "reason")
            if reason == "max_output_tokens":
                self.finish_reason = "length"
            elif reason == "content_filter":
                self.finish_reason = "content_filter"
            else:
                raise CodexStreamError(
                    "incomplete", f"the turn ended incomplete ({reason or 'no reason given'})"
                )
        else:
            self.finish_reason = "tool_calls" if self._calls else "stop"
        # Usage travels on its own chunk before the finish: LiteLLM's stream wrapper keeps usage
        # only from chunks that carry no finish_reason.
        if not self.emit:
            return []
        chunks = []
        if self.usage is not None:
            chunks.append(self._chunk(Delta(), usage=self.usage))
        chunks.append(self._chunk(Delta(), finish_reason=self.finish_reason))
        return chunks

    def check_complete(self) -> None:
        """A stream that stopped before its terminal event is an error, never a short answer."""
        if not self.done:
            raise CodexStreamError(
                "stream_incomplete", "the Codex backend closed the stream before the turn completed"
            )

    # -- non-streaming ---------------------------------------------------------------------------

    def to_model_response(self, model_response: ModelResponse) -> ModelResponse:
        """The whole turn as one response, assembled from the `output_item.done` items."""
        self.check_complete()
        texts, reasoning, reasoning_items, blocks, tool_calls = [], [], [], [], []
        for item in self._items:
            kind = field_of(item, "type")
            if kind == "message":
                texts.append(_message_text(item))
            elif kind == "reasoning":
                summary = _summary_texts(item)
                reasoning.append("\n\n".join(summary))
                encrypted = field_of(item, "encrypted_content")
                if encrypted:
                    reasoning_items.append(reasoning_item(encrypted, summary))
                    blocks.append(thinking_block(encrypted, "\n\n".join(summary)))
            elif kind == "function_call":
                tool_calls.append(
                    ChatCompletionMessageToolCall(
                        id=field_of(item, "call_id"),
                        type="function",
                        function=Function(
                            name=field_of(item, "name"), arguments=field_of(item, "arguments") or ""
                        ),
                    )
                )
        content = "\n\n".join(t for t in texts if t) if texts else "".join(self._text_deltas)
        reasoning_text = "\n\n".join(r for r in reasoning if r) or "".join(self._reasoning_deltas)
        message = Message(
            role="assistant",
            content=content or (None if tool_calls else ""),
            tool_calls=tool_calls or None,
            reasoning_content=reasoning_text or None,
            reasoning_items=reasoning_items or None,
            thinking_blocks=blocks or None,
        )
        model_response.choices[0].message = message  # type: ignore[union-attr]
        model_response.choices[0].finish_reason = self.finish_reason or "stop"
        model_response.id = self.response_id or model_response.id
        model_response.created = self.created
        model_response.model = self.model
        if self.usage is not None:
            model_response.usage = self.usage  # type: ignore[attr-defined]
        return model_response


#: Delta events whose runs can be sent as one: same kind, same item (and part), text appended.
_MERGEABLE = frozenset(
    {
        "response.output_text.delta",
        "response.refusal.delta",
        "response.reasoning_summary_text.delta",
        "response.reasoning_text.delta",
        "response.function_call_arguments.delta",
    }
)


def _merge_key(event: Any) -> tuple[Any, ...] | None:
    kind = field_of(event, "type")
    if kind not in _MERGEABLE:
        return None
    return (
        kind,
        field_of(event, "item_id"),
        field_of(event, "output_index"),
        field_of(event, "content_index"),
        field_of(event, "summary_index"),
    )


def merge_deltas(events: list[Any]) -> list[Any]:
    """`events` with each run of consecutive deltas of the same kind and item merged into one."""
    merged: list[Any] = []
    run: list[Any] = []
    run_key: tuple[Any, ...] | None = None

    def flush() -> None:
        if len(run) == 1:
            merged.append(run[0])
        elif run:
            kind, item_id = run_key[0], run_key[1]  # type: ignore[index]
            text = "".join(field_of(e, "delta", "") or "" for e in run)
            merged.append({"type": kind, "item_id": item_id, "delta": text})
        run.clear()

    for event in events:
        key = _merge_key(event)
        if key is None or key != run_key:
            flush()
            run_key = key
        if key is None:
            merged.append(event)
        else:
            run.append(event)
    flush()
    return merged
