"""Request building: chat calls → the body the Codex backend accepts."""

from __future__ import annotations

import logging

import pytest

from litellm_codex_oauth_provider.models.catalog import bundled_catalog
from litellm_codex_oauth_provider.models.ids import normalize_model
from litellm_codex_oauth_provider.request.body import build_request
from litellm_codex_oauth_provider.request.items import system_text

CATALOG = bundled_catalog()


def build(model: str = "codex/gpt-5.5", messages=None, **params):
    spec = normalize_model(model, CATALOG.slugs)
    messages = messages or [{"role": "user", "content": "hi"}]
    return build_request(spec, CATALOG.get(spec.slug), messages, params)


def test_body_always_streams_stores_nothing_and_asks_for_encrypted_reasoning():
    body = build().body
    assert body["model"] == "gpt-5.5"
    assert body["store"] is False
    assert body["stream"] is True
    assert body["include"] == ["reasoning.encrypted_content"]
    assert body["input"] == [
        {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "hi"}]}
    ]


def test_rejected_parameters_are_dropped_with_one_warning_naming_them(caplog):
    caplog.set_level(logging.WARNING)
    req = build(temperature=0.2, top_p=0.9, max_tokens=10, stop=["x"], seed=1, logit_bias={"1": 2})
    for name in ("temperature", "top_p", "max_tokens", "stop", "seed", "logit_bias"):
        assert name not in req.body
        assert name in req.dropped
    warnings = [r for r in caplog.records if "dropped parameters" in r.getMessage()]
    assert len(warnings) == 1
    assert "temperature" in warnings[0].getMessage()


def test_effort_suffix_becomes_reasoning_effort_and_leaves_the_slug():
    req = build("codex/gpt-5.5-high")
    assert req.body["model"] == "gpt-5.5"
    assert req.body["reasoning"]["effort"] == "high"


def test_reasoning_effort_parameter_wins_over_the_suffix():
    assert build("codex/gpt-5.5-low", reasoning_effort="high").body["reasoning"]["effort"] == "high"


def test_reasoning_effort_in_extra_body_is_honoured():
    assert build(extra_body={"reasoning_effort": "low"}).body["reasoning"]["effort"] == "low"


def test_verbosity_goes_to_text_verbosity():
    assert build(verbosity="high").body["text"]["verbosity"] == "high"


def test_system_messages_reach_the_model_as_developer_messages_in_codex_mode():
    messages = [{"role": "system", "content": "Answer in French."}, {"role": "user", "content": "hi"}]
    body = build(messages=messages).body
    assert body["input"][0] == {
        "type": "message",
        "role": "developer",
        "content": [{"type": "input_text", "text": "Answer in French."}],
    }


def test_codex_mode_off_sends_the_system_prompt_as_instructions(monkeypatch):
    monkeypatch.setenv("CODEX_MODE", "0")
    messages = [{"role": "system", "content": "Answer in French."}, {"role": "user", "content": "hi"}]
    body = build(messages=messages).body
    assert body["instructions"] == "Answer in French."
    assert all(item.get("role") != "developer" for item in body["input"])


def test_assistant_text_and_content_parts_keep_their_roles():
    messages = [
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "look"},
                {"type": "image_url", "image_url": {"url": "https://x/y.png", "detail": "high"}},
            ],
        },
        {"role": "assistant", "content": "I see a cat."},
        {"role": "user", "content": "and now?"},
    ]
    items = build(messages=messages).body["input"]
    assert items[0]["content"] == [
        {"type": "input_text", "text": "look"},
        {"type": "input_image", "image_url": "https://x/y.png", "detail": "high"},
    ]
    assert items[1] == {
        "type": "message",
        "role": "assistant",
        "content": [{"type": "output_text", "text": "I see a cat."}],
    }


def test_tool_history_becomes_function_call_items_and_outputs():
    messages = [
        {"role": "user", "content": "weather?"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {"id": "call_1", "type": "function", "function": {"name": "w", "arguments": '{"c":"Paris"}'}},
                {"id": "call_2", "type": "function", "function": {"name": "w", "arguments": '{"c":"Rome"}'}},
            ],
        },
        {"role": "tool", "tool_call_id": "call_1", "content": "sunny"},
        {"role": "tool", "tool_call_id": "call_2", "content": "rain"},
        {"role": "tool", "tool_call_id": "call_404", "content": "orphan"},
    ]
    items = build(messages=messages).body["input"][1:]
    assert items[0] == {
        "type": "function_call",
        "call_id": "call_1",
        "name": "w",
        "arguments": '{"c":"Paris"}',
    }
    assert items[1]["call_id"] == "call_2"
    assert items[2] == {"type": "function_call_output", "call_id": "call_1", "output": "sunny"}
    assert items[3] == {"type": "function_call_output", "call_id": "call_2", "output": "rain"}
    assert items[4]["type"] == "message" and "orphan" in items[4]["content"][0]["text"]


def test_tools_are_flattened_and_nulls_left_out():
    tools = [
        {
            "type": "function",
            "function": {"name": "f", "description": None, "parameters": {"type": "object"}, "strict": None},
        }
    ]
    body = build(tools=tools, tool_choice={"type": "function", "function": {"name": "f"}}).body
    assert body["tools"] == [{"type": "function", "name": "f", "parameters": {"type": "object"}}]
    assert body["tool_choice"] == {"type": "function", "name": "f"}
    assert body["parallel_tool_calls"] is True


def test_response_format_json_schema_becomes_text_format():
    rf = {"type": "json_schema", "json_schema": {"name": "P", "schema": {"type": "object"}, "strict": True}}
    assert build(response_format=rf).body["text"]["format"] == {
        "type": "json_schema",
        "name": "P",
        "schema": {"type": "object"},
        "strict": True,
    }


def test_prompt_cache_key_is_stable_per_conversation_and_caller_key_wins():
    a = build(messages=[{"role": "user", "content": "first"}, {"role": "assistant", "content": "x"}])
    b = build(messages=[{"role": "user", "content": "first"}])
    c = build(messages=[{"role": "user", "content": "other"}])
    assert a.body["prompt_cache_key"] == b.body["prompt_cache_key"] == a.session_id
    assert c.body["prompt_cache_key"] != a.body["prompt_cache_key"]
    assert build(prompt_cache_key="mine").session_id == "mine"


def test_fast_suffix_sends_priority_tier():
    assert build("codex/gpt-5.5-fast").body["service_tier"] == "priority"


@pytest.mark.parametrize("content", ["plain", [{"type": "text", "text": "plain"}]])
def test_system_text_accepts_strings_and_parts(content):
    assert system_text([{"role": "system", "content": content}]) == "plain"


def test_web_search_options_become_the_backends_web_search_tool():
    req = build(
        web_search_options={
            "search_context_size": "high",
            "user_location": {"type": "approximate", "approximate": {"city": "Paris", "country": "FR"}},
        }
    )
    assert req.body["tools"] == [
        {
            "type": "web_search",
            "search_context_size": "high",
            "user_location": {"type": "approximate", "city": "Paris", "country": "FR"},
        }
    ]
    assert req.body["tool_choice"] == "auto" and req.dropped == []


def test_web_search_options_join_the_callers_function_tools():
    tools = [{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}]
    req = build(tools=tools, web_search_options={})
    assert [t["type"] for t in req.body["tools"]] == ["function", "web_search"]
