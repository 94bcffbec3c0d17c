"""Event stream → LiteLLM chunks and responses, event by event; the events are the fake backend's `Turn`."""

from __future__ import annotations

import pytest
from litellm.types.utils import ModelResponse

from litellm_codex_oauth_provider.encrypted_reasoning import ENCRYPTED_REASONING_PREFIX
from litellm_codex_oauth_provider.events import TurnTranslator
from litellm_codex_oauth_provider.exceptions import CodexStreamError
from litellm_codex_oauth_provider.testing.fake_codex import Turn


def tool_turn() -> Turn:
    """Reasoning, a message, then two parallel calls of one tool, with a fixed usage block."""
    return (
        Turn()
        .reasoning("Thinking", encrypted_content="enc", chunks=1)
        .text("Hello", chunks=2)
        .function_call("lookup", '{"q":"x"}', call_id="call_a", arg_chunks=2)
        .function_call("lookup", '{"q":"y"}', call_id="call_b", arg_chunks=2)
        .usage(input_tokens=11, cached_tokens=5, output_tokens=7, reasoning_tokens=3)
    )


def test_each_delta_becomes_a_chunk_at_once():
    t = TurnTranslator(model="codex/gpt-5.5", keep_output=False)
    seen = set()
    for event in Turn().text("Hi", chunks=1).reasoning("hmm", chunks=1).payloads():
        chunks = t.handle(event)
        seen.add(event["type"])
        if event["type"] == "response.created":
            assert chunks == []
        elif event["type"] == "response.output_text.delta":
            [chunk] = chunks
            assert chunk.choices[0].delta.content == "Hi"
            assert chunk.choices[0].delta.role == "assistant"
        elif event["type"] == "response.reasoning_summary_text.delta":
            [chunk] = chunks
            assert chunk.choices[0].delta.reasoning_content == "hmm"
    assert {"response.output_text.delta", "response.reasoning_summary_text.delta"} <= seen


def test_parallel_tool_calls_stream_with_stable_indexes_and_real_call_ids():
    t = TurnTranslator(model="m", keep_output=False)
    deltas = [
        c.choices[0].delta.tool_calls[0]
        for e in tool_turn().payloads()
        for c in t.handle(e)
        if c.choices[0].delta.tool_calls
    ]
    by_index: dict[int, list] = {}
    for d in deltas:
        by_index.setdefault(d.index, []).append(d)
    assert sorted(by_index) == [0, 1]
    assert by_index[0][0].id == "call_a" and by_index[1][0].id == "call_b"
    assert all(d.id is None for d in by_index[0][1:])
    assert "".join(d.function.arguments for d in by_index[0]) == '{"q":"x"}'
    assert "".join(d.function.arguments for d in by_index[1]) == '{"q":"y"}'


def test_last_chunks_carry_usage_then_finish_reason():
    t = TurnTranslator(model="m", keep_output=False)
    chunks = [c for e in tool_turn().payloads() for c in t.handle(e)]
    usage_chunk, finish_chunk = chunks[-2], chunks[-1]
    assert usage_chunk.usage.prompt_tokens == 11
    assert usage_chunk.usage.prompt_tokens_details.cached_tokens == 5
    assert usage_chunk.usage.completion_tokens_details.reasoning_tokens == 3
    assert finish_chunk.choices[0].finish_reason == "tool_calls"


def test_response_is_assembled_from_output_item_done_when_completed_output_is_empty():
    t = TurnTranslator(model="codex/gpt-5.5")
    events = tool_turn().payloads()
    assert events[-1]["response"]["output"] == []  # as the backend's often is
    for e in events:
        t.handle(e)
    r = t.to_model_response(ModelResponse())
    msg = r.choices[0].message
    assert msg.content == "Hello"
    assert msg.reasoning_content == "Thinking"
    assert [c.id for c in msg.tool_calls] == ["call_a", "call_b"]
    assert msg.tool_calls[1].function.arguments == '{"q":"y"}'
    assert msg.reasoning_items == [
        {
            "type": "reasoning",
            "summary": [{"type": "summary_text", "text": "Thinking"}],
            "encrypted_content": "enc",
        }
    ]
    assert msg.thinking_blocks == [
        {"type": "thinking", "thinking": "Thinking", "signature": ENCRYPTED_REASONING_PREFIX + "enc"}
    ]
    assert r.choices[0].finish_reason == "tool_calls"
    assert (r.usage.prompt_tokens, r.usage.completion_tokens, r.usage.total_tokens) == (11, 7, 18)
    assert r.id == events[0]["response"]["id"]


def test_plain_answer_finishes_with_stop():
    t = TurnTranslator(model="m")
    chunks = [c for e in Turn().text("ok").payloads() for c in t.handle(e)]
    assert chunks[-1].choices[0].finish_reason == "stop"
    assert t.to_model_response(ModelResponse()).choices[0].message.content == "ok"


def test_incomplete_for_max_output_tokens_is_a_normal_answer_with_length():
    t = TurnTranslator(model="m")
    chunks = [
        c for e in Turn().text("cut short").incomplete("max_output_tokens").payloads() for c in t.handle(e)
    ]
    assert chunks[-1].choices[0].finish_reason == "length"


def test_failed_turn_raises_with_the_backend_code():
    t = TurnTranslator(model="m")
    with pytest.raises(CodexStreamError) as info:
        for event in Turn().text("x").failed("context_length_exceeded", "too long").payloads():
            t.handle(event)
    assert info.value.code == "context_length_exceeded"


def test_bare_error_event_raises():
    t = TurnTranslator(model="m")
    with pytest.raises(CodexStreamError, match="boom"):
        for event in Turn().error_event("server_error", "boom").payloads():
            t.handle(event)


def test_stream_cut_before_completion_is_an_error_not_a_short_answer():
    t = TurnTranslator(model="m")
    for event in Turn().text("partial").cut().payloads():
        t.handle(event)
    with pytest.raises(CodexStreamError, match="closed the stream"):
        t.to_model_response(ModelResponse())


def test_streaming_mode_keeps_no_text():
    t = TurnTranslator(model="m", keep_output=False)
    for event in Turn().text("x" * 100_000, chunks=1000).payloads():
        t.handle(event)
    assert t._text_deltas == [] and t._items == []
