"""Event stream → LiteLLM chunks and responses, event by event (PROTOCOL.md, "SSE events")."""

from __future__ import annotations

import pytest
from litellm.types.utils import ModelResponse

from litellm_codex_oauth_provider.encrypted_reasoning import ENCRYPTED_REASONING_PREFIX
from litellm_codex_oauth_provider.errors import CodexStreamError
from litellm_codex_oauth_provider.events import TurnTranslator

USAGE = {
    "input_tokens": 11,
    "input_tokens_details": {"cached_tokens": 5},
    "output_tokens": 7,
    "output_tokens_details": {"reasoning_tokens": 3},
    "total_tokens": 18,
}


def call_events(item_id: str, call_id: str, name: str, parts: list[str], index: int) -> list[dict]:
    args = "".join(parts)
    return [
        {
            "type": "response.output_item.added",
            "output_index": index,
            "item": {
                "type": "function_call",
                "id": item_id,
                "call_id": call_id,
                "name": name,
                "arguments": "",
            },
        },
        *({"type": "response.function_call_arguments.delta", "item_id": item_id, "delta": p} for p in parts),
        {
            "type": "response.output_item.done",
            "output_index": index,
            "item": {
                "type": "function_call",
                "id": item_id,
                "call_id": call_id,
                "name": name,
                "arguments": args,
            },
        },
    ]


def turn_events() -> list[dict]:
    return [
        {"type": "response.created", "response": {"id": "resp_1"}},
        {"type": "response.output_item.added", "item": {"type": "reasoning", "id": "rs_1"}},
        {"type": "response.reasoning_summary_text.delta", "delta": "Thinking"},
        {
            "type": "response.output_item.done",
            "item": {
                "type": "reasoning",
                "id": "rs_1",
                "encrypted_content": "enc",
                "summary": [{"type": "summary_text", "text": "Thinking"}],
            },
        },
        {"type": "response.output_text.delta", "delta": "Hel"},
        {"type": "response.output_text.delta", "delta": "lo"},
        {
            "type": "response.output_item.done",
            "item": {
                "type": "message",
                "role": "assistant",
                "content": [{"type": "output_text", "text": "Hello"}],
            },
        },
        *call_events("fc_1", "call_a", "lookup", ['{"q"', ':"x"}'], 2),
        *call_events("fc_2", "call_b", "lookup", ['{"q"', ':"y"}'], 3),
        {"type": "response.completed", "response": {"id": "resp_1", "output": [], "usage": USAGE}},
    ]


def test_each_delta_becomes_a_chunk_at_once():
    t = TurnTranslator(model="codex/gpt-5.5", keep_output=False)
    assert t.handle({"type": "response.created", "response": {"id": "r"}}) == []
    [chunk] = t.handle({"type": "response.output_text.delta", "delta": "Hi"})
    assert chunk.choices[0].delta.content == "Hi"
    assert chunk.choices[0].delta.role == "assistant"
    [chunk] = t.handle({"type": "response.reasoning_summary_text.delta", "delta": "hmm"})
    assert chunk.choices[0].delta.reasoning_content == "hmm"


def test_parallel_tool_calls_stream_with_stable_indexes_and_real_call_ids():
    t = TurnTranslator(model="m", keep_output=False)
    deltas = [
        c.choices[0].delta.tool_calls[0]
        for e in turn_events()
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
    chunks = [c for e in turn_events() for c in t.handle(e)]
    usage_chunk, finish_chunk = chunks[-2], chunks[-1]
    assert usage_chunk.usage.prompt_tokens == 11
    assert usage_chunk.usage.prompt_tokens_details.cached_tokens == 5
    assert usage_chunk.usage.completion_tokens_details.reasoning_tokens == 3
    assert finish_chunk.choices[0].finish_reason == "tool_calls"


def test_response_is_assembled_from_output_item_done_when_completed_output_is_empty():
    t = TurnTranslator(model="codex/gpt-5.5")
    for e in turn_events():
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
    assert r.id == "resp_1"


def test_plain_answer_finishes_with_stop():
    t = TurnTranslator(model="m")
    t.handle({"type": "response.output_text.delta", "delta": "ok"})
    chunks = t.handle({"type": "response.completed", "response": {"usage": USAGE}})
    assert chunks[-1].choices[0].finish_reason == "stop"
    assert t.to_model_response(ModelResponse()).choices[0].message.content == "ok"


def test_incomplete_for_max_output_tokens_is_a_normal_answer_with_length():
    t = TurnTranslator(model="m")
    chunks = t.handle(
        {"type": "response.incomplete", "response": {"incomplete_details": {"reason": "max_output_tokens"}}}
    )
    assert chunks[-1].choices[0].finish_reason == "length"


def test_failed_turn_raises_with_the_backend_code():
    t = TurnTranslator(model="m")
    with pytest.raises(CodexStreamError) as info:
        t.handle(
            {
                "type": "response.failed",
                "response": {"error": {"code": "context_length_exceeded", "message": "too long"}},
            }
        )
    assert info.value.code == "context_length_exceeded"


def test_bare_error_event_raises():
    with pytest.raises(CodexStreamError, match="boom"):
        TurnTranslator(model="m").handle({"type": "error", "code": "server_error", "message": "boom"})


def test_stream_cut_before_completion_is_an_error_not_a_short_answer():
    t = TurnTranslator(model="m")
    t.handle({"type": "response.output_text.delta", "delta": "partial"})
    with pytest.raises(CodexStreamError, match="closed the stream"):
        t.to_model_response(ModelResponse())


def test_streaming_mode_keeps_no_text():
    t = TurnTranslator(model="m", keep_output=False)
    for _ in range(1000):
        t.handle({"type": "response.output_text.delta", "delta": "x" * 100})
    assert t._text_deltas == [] and t._items == []
