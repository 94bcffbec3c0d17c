"""What an OpenAI chat call becomes in the Responses body: tools, tool choice, call/result pairing,
content parts, structured output, reasoning sent back, the prompt-cache key, dropped parameters."""

from __future__ import annotations

import json
import logging

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from litellm_codex_oauth_provider.encrypted_reasoning import ENCRYPTED_REASONING_PREFIX
from litellm_codex_oauth_provider.models.catalog import bundled_catalog
from litellm_codex_oauth_provider.models.ids import normalize_model
from litellm_codex_oauth_provider.request.body import REJECTED_PARAMS, build_request
from litellm_codex_oauth_provider.request.items import ABORTED_OUTPUT, REASONING_ITEMS_KEY, messages_to_input
from litellm_codex_oauth_provider.testing.fake_codex import REJECTED_PARAMS as BACKEND_400

CATALOG = bundled_catalog()
USER = {"role": "user", "content": "hi"}


def build(messages=None, model: str = "codex/gpt-5.5", litellm_params=None, **params):
    spec = normalize_model(model, CATALOG.slugs)
    return build_request(spec, CATALOG.get(spec.slug), messages or [USER], params, litellm_params)


def body(messages=None, **params) -> dict:
    return build(messages, **params).body


def call(call_id: str, name: str = "weather", arguments: str = '{"city": "Paris"}') -> dict:
    return {"id": call_id, "type": "function", "function": {"name": name, "arguments": arguments}}


# -- 1. tools -------------------------------------------------------------------------------------

WEATHER = {
    "type": "function",
    "function": {
        "name": "weather",
        "description": "Weather for a city",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
            "additionalProperties": False,
        },
        "strict": True,
    },
}


def test_function_tools_become_flat_responses_tools_with_schema_and_strict():
    sent = body(tools=[WEATHER])
    assert sent["tools"] == [
        {
            "type": "function",
            "name": "weather",
            "description": "Weather for a city",
            "parameters": WEATHER["function"]["parameters"],
            "strict": True,
        }
    ]
    assert sent["tool_choice"] == "auto" and sent["parallel_tool_calls"] is True


@pytest.mark.parametrize("missing", ["description", "strict", "parameters"])
def test_null_or_missing_tool_fields_are_left_out_not_sent_as_null(missing):
    function = {"name": "f", "description": "d", "parameters": {"type": "object"}, "strict": False}
    function[missing] = None
    [tool] = body(tools=[{"type": "function", "function": function}])["tools"]
    assert None not in tool.values()
    if missing == "parameters":
        assert tool["parameters"] == {"type": "object", "properties": {}}
    else:
        assert missing not in tool


@pytest.mark.parametrize(
    ("choice", "sent"),
    [
        ("auto", "auto"),
        ("none", "none"),
        ("required", "required"),
        ({"type": "function", "function": {"name": "weather"}}, {"type": "function", "name": "weather"}),
        (
            {"type": "allowed_tools", "allowed_tools": {"mode": "required", "tools": [WEATHER]}},
            {"type": "allowed_tools", "mode": "required", "tools": [{"type": "function", "name": "weather"}]},
        ),
    ],
)
def test_tool_choice_is_passed_on(choice, sent):
    assert body(tools=[WEATHER], tool_choice=choice)["tool_choice"] == sent


@pytest.mark.parametrize("parallel", [True, False])
def test_parallel_tool_calls_is_passed_on(parallel):
    assert body(tools=[WEATHER], parallel_tool_calls=parallel)["parallel_tool_calls"] is parallel


def test_legacy_functions_and_function_call_still_work():
    sent = body(functions=[WEATHER["function"]], function_call={"name": "weather"})
    assert sent["tools"][0]["name"] == "weather"
    assert sent["tool_choice"] == {"type": "function", "name": "weather"}


def test_tool_choice_without_tools_is_dropped_and_reported():
    req = build(tool_choice="required")
    assert "tool_choice" not in req.body and "tools" not in req.body
    assert "tool_choice" in req.dropped


def test_responses_style_tools_pass_through_and_custom_tools_are_flattened():
    tools = [
        {"type": "web_search"},
        {"type": "custom", "custom": {"name": "apply_patch", "description": "Patch files", "format": None}},
    ]
    assert body(tools=tools)["tools"] == [
        {"type": "web_search"},
        {"type": "custom", "name": "apply_patch", "description": "Patch files"},
    ]


def test_several_tool_calls_become_one_function_call_each_and_results_match_by_call_id():
    messages = [
        USER,
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [call("call_a"), call("call_b", arguments="{}")],
        },
        {"role": "tool", "tool_call_id": "call_a", "content": "sunny"},
        {"role": "tool", "tool_call_id": "call_b", "content": [{"type": "text", "text": "rain"}]},
    ]
    items = body(messages, tools=[WEATHER])["input"][1:]
    assert items == [
        {"type": "function_call", "call_id": "call_a", "name": "weather", "arguments": '{"city": "Paris"}'},
        {"type": "function_call", "call_id": "call_b", "name": "weather", "arguments": "{}"},
        {"type": "function_call_output", "call_id": "call_a", "output": "sunny"},
        {"type": "function_call_output", "call_id": "call_b", "output": "rain"},
    ]


def test_dict_arguments_are_sent_as_json_text():
    messages = [
        USER,
        {"role": "assistant", "tool_calls": [call("c", arguments={"x": 1})]},
        {"role": "tool", "tool_call_id": "c", "content": "ok"},
    ]
    assert json.loads(body(messages)["input"][1]["arguments"]) == {"x": 1}


def test_a_result_whose_call_is_missing_is_delivered_as_text():
    messages = [USER, {"role": "tool", "tool_call_id": "call_gone", "name": "weather", "content": "sunny"}]
    [_, item] = body(messages)["input"]
    assert item["type"] == "message" and item["role"] == "user"
    assert "weather" in item["content"][0]["text"] and "sunny" in item["content"][0]["text"]


def test_a_call_that_never_got_its_result_is_answered_aborted_like_the_cli_does():
    messages = [
        USER,
        {"role": "assistant", "tool_calls": [call("call_a"), call("call_b")]},
        {"role": "tool", "tool_call_id": "call_b", "content": "rain"},
        {"role": "user", "content": "go on"},
    ]
    items = body(messages)["input"]
    outputs = {i["call_id"]: i["output"] for i in items if i["type"] == "function_call_output"}
    assert outputs == {"call_a": ABORTED_OUTPUT, "call_b": "rain"}


def test_images_a_tool_returned_follow_its_text_output_as_user_input():
    content = [
        {"type": "text", "text": "screenshot"},
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,AA"}},
    ]
    messages = [
        USER,
        {"role": "assistant", "tool_calls": [call("c")]},
        {"role": "tool", "tool_call_id": "c", "content": content},
    ]
    items = body(messages)["input"]
    assert items[2] == {"type": "function_call_output", "call_id": "c", "output": "screenshot"}
    assert items[3]["role"] == "user" and items[3]["content"][0]["type"] == "input_image"


# -- 2. structured output -------------------------------------------------------------------------


def test_json_schema_becomes_text_format_with_name_schema_and_strict():
    schema = {"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"]}
    rf = {"type": "json_schema", "json_schema": {"name": "Answer", "schema": schema, "strict": True}}
    assert body(response_format=rf)["text"]["format"] == {
        "type": "json_schema",
        "name": "Answer",
        "schema": schema,
        "strict": True,
    }


def test_schema_names_are_made_acceptable():
    rf = {"type": "json_schema", "json_schema": {"name": "my answer (v2)", "schema": {"type": "object"}}}
    assert body(response_format=rf)["text"]["format"]["name"] == "my_answer__v2_"


def test_json_object_becomes_the_closest_schema_the_backend_takes():
    assert body(response_format={"type": "json_object"})["text"]["format"] == {
        "type": "json_schema",
        "name": "json_object",
        "schema": {"type": "object"},
        "strict": False,
    }


def test_text_format_and_verbosity_share_the_text_field():
    rf = {"type": "json_schema", "json_schema": {"name": "A", "schema": {"type": "object"}}}
    text = body(response_format=rf, verbosity="low")["text"]
    assert text["verbosity"] == "low" and text["format"]["name"] == "A"


# -- 3. content parts -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("image_url", "sent"),
    [
        ({"url": "https://example.com/cat.png", "detail": "low"}, ("https://example.com/cat.png", "low")),
        ({"url": "data:image/png;base64,iVBORw0KGgo="}, ("data:image/png;base64,iVBORw0KGgo=", "auto")),
        ("https://example.com/dog.jpg", ("https://example.com/dog.jpg", "auto")),
    ],
)
def test_image_parts_become_input_image_with_detail(image_url, sent):
    messages = [
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "what is it?"},
                {"type": "image_url", "image_url": image_url},
            ],
        }
    ]
    [item] = body(messages)["input"]
    assert item["content"] == [
        {"type": "input_text", "text": "what is it?"},
        {"type": "input_image", "image_url": sent[0], "detail": sent[1]},
    ]


def test_text_parts_are_input_or_output_text_by_role():
    messages = [
        {"role": "system", "content": [{"type": "text", "text": "be brief"}]},
        {"role": "user", "content": [{"type": "text", "text": "q"}]},
        {
            "role": "assistant",
            "content": [{"type": "text", "text": "a"}, {"type": "refusal", "refusal": "no"}],
        },
    ]
    items = body(messages)["input"]
    assert [(i["role"], [p["type"] for p in i["content"]]) for i in items] == [
        ("developer", ["input_text"]),
        ("user", ["input_text"]),
        ("assistant", ["output_text", "output_text"]),
    ]


def test_file_parts_become_input_file():
    file = {
        "type": "file",
        "file": {"file_data": "data:application/pdf;base64,JVBERi0=", "filename": "a.pdf"},
    }
    [item] = body([{"role": "user", "content": [file]}])["input"]
    assert item["content"] == [
        {"type": "input_file", "file_data": "data:application/pdf;base64,JVBERi0=", "filename": "a.pdf"}
    ]


def test_audio_input_is_refused_with_a_clear_error_rather_than_dropped():
    audio = {"type": "input_audio", "input_audio": {"data": "AAAA", "format": "wav"}}
    with pytest.raises(ValueError, match="audio"):
        build([{"role": "user", "content": [audio]}])


# -- 4. reasoning items sent back -----------------------------------------------------------------

ITEM = {
    "type": "reasoning",
    "id": "rs_1",
    "summary": [{"type": "summary_text", "text": "hm"}],
    "encrypted_content": "E1",
}


@pytest.mark.parametrize(
    "carrier",
    [
        {"reasoning_items": [ITEM]},
        {
            "thinking_blocks": [
                {"type": "thinking", "thinking": "hm", "signature": ENCRYPTED_REASONING_PREFIX + "E1"}
            ]
        },
        {"provider_specific_fields": {REASONING_ITEMS_KEY: [ITEM]}},
    ],
    ids=["reasoning_items", "thinking_blocks", "provider_specific_fields"],
)
def test_reasoning_items_are_sent_back_without_ids_from_any_place_litellm_keeps_them(carrier):
    messages = [
        USER,
        {"role": "assistant", "content": "hello", **carrier},
        {"role": "user", "content": "more"},
    ]
    items = body(messages)["input"]
    assert items[1] == {
        "type": "reasoning",
        "summary": [{"type": "summary_text", "text": "hm"}],
        "encrypted_content": "E1",
    }
    assert items[2]["role"] == "assistant"
    assert not any("id" in item for item in items)


def test_reasoning_without_encrypted_content_or_from_other_providers_is_not_sent():
    messages = [
        USER,
        {
            "role": "assistant",
            "content": "x",
            "reasoning_items": [{"type": "reasoning", "id": "rs_9", "summary": []}],
            "thinking_blocks": [{"type": "thinking", "thinking": "t", "signature": "anthropic-sig"}],
        },
    ]
    assert [i["type"] for i in body(messages)["input"]] == ["message", "message"]


def test_prefix_matches_litellms_own_encrypted_reasoning_marker():
    from litellm.litellm_core_utils.prompt_templates.common_utils import ENCRYPTED_REASONING_SIGNATURE_PREFIX

    assert ENCRYPTED_REASONING_PREFIX == ENCRYPTED_REASONING_SIGNATURE_PREFIX


# -- 5. prompt caching ----------------------------------------------------------------------------


def test_caller_prompt_cache_key_is_used_and_sent_as_session_id():
    req = build(prompt_cache_key="conv-42")
    assert req.body["prompt_cache_key"] == "conv-42" == req.session_id


def test_derived_key_is_stable_across_the_turns_of_one_conversation():
    system = {"role": "system", "content": "You are terse."}
    turn1 = build([system, USER])
    turn3 = build(
        [system, USER, {"role": "assistant", "content": "hello"}, {"role": "user", "content": "and?"}]
    )
    assert turn1.session_id == turn3.session_id == turn1.body["prompt_cache_key"]


def test_derived_key_differs_by_first_user_message_and_by_system_prompt():
    base = build([{"role": "system", "content": "A"}, USER]).session_id
    assert build([{"role": "system", "content": "B"}, USER]).session_id != base
    assert (
        build([{"role": "system", "content": "A"}, {"role": "user", "content": "other"}]).session_id != base
    )


@pytest.mark.parametrize(
    "litellm_params",
    [
        {"litellm_session_id": "sess-1"},
        {"metadata": {"session_id": "sess-1"}},
        {"litellm_metadata": {"session_id": "sess-1"}},
    ],
)
def test_litellm_session_id_wins_over_the_derived_key(litellm_params):
    assert build(litellm_params=litellm_params).session_id == "sess-1"


def test_explicit_prompt_cache_key_wins_over_the_session_id():
    assert build(prompt_cache_key="k", litellm_params={"litellm_session_id": "s"}).session_id == "k"


# -- 6. parameters the backend rejects ------------------------------------------------------------

REJECTED_CALL = {
    "temperature": 0.2,
    "top_p": 0.9,
    "max_tokens": 10,
    "max_completion_tokens": 10,
    "frequency_penalty": 0.1,
    "presence_penalty": 0.1,
    "logit_bias": {"1": 1},
    "stop": ["x"],
    "seed": 7,
    "logprobs": True,
    "top_logprobs": 2,
    "user": "u-1",
    "metadata": {"k": "v"},
    "store": True,
    "modalities": ["text", "audio"],
    "audio": {"voice": "x"},
    "prediction": {"type": "content", "content": "x"},
    "safety_identifier": "s",
}


def test_every_rejected_parameter_is_left_out_and_named_in_one_warning(caplog):
    caplog.set_level(logging.WARNING, logger="litellm_codex_oauth_provider")
    req = build(**REJECTED_CALL)
    assert set(req.dropped) == set(REJECTED_CALL)
    assert not set(REJECTED_CALL) & (set(req.body) - {"store"})
    assert req.body["store"] is False
    [warning] = [r.getMessage() for r in caplog.records if "dropped parameters" in r.getMessage()]
    assert all(name in warning for name in REJECTED_CALL)


def test_rejected_list_covers_what_the_backend_answers_400():

    assert set(BACKEND_400) - {"n", "max_output_tokens"} <= REJECTED_PARAMS


def test_none_values_are_not_reported_as_dropped():
    assert build(temperature=None, stop=None).dropped == []


def test_unknown_parameters_are_dropped_too():
    req = build(frobnicate=1)
    assert "frobnicate" in req.dropped and "frobnicate" not in req.body


def test_responses_style_extras_are_merged():
    sent = body(include=["message.output_text.logprobs"], client_metadata={"team": "a", "n": 1})
    assert sent["include"] == ["reasoning.encrypted_content", "message.output_text.logprobs"]
    assert sent["client_metadata"] == {"team": "a", "n": "1"}


# -- 7. body fields callers set -------------------------------------------------------------------


def test_body_fields_are_read_from_extra_body_too():
    sent = body(
        extra_body={
            "reasoning_effort": "low",
            "verbosity": "high",
            "prompt_cache_key": "pk",
            "service_tier": "priority",
        }
    )
    assert sent["reasoning"]["effort"] == "low"
    assert sent["text"]["verbosity"] == "high"
    assert sent["prompt_cache_key"] == "pk"
    assert sent["service_tier"] == "priority"


def test_default_service_tier_is_not_sent():
    assert "service_tier" not in body(service_tier="auto")


# -- properties over whole conversations ----------------------------------------------------------

_ids = st.sampled_from(["call_1", "call_2", "call_3", "call_4"])
_text = st.text(alphabet="abc xyz", max_size=8)
_message = st.one_of(
    st.builds(lambda t: {"role": "user", "content": t}, _text),
    st.builds(lambda t: {"role": "system", "content": t}, _text),
    st.builds(
        lambda t, ids: {
            "role": "assistant",
            "content": t or None,
            "tool_calls": [call(i) for i in dict.fromkeys(ids)] or None,
            "reasoning_items": [{**ITEM, "id": "rs_x"}],
        },
        _text,
        st.lists(_ids, max_size=3),
    ),
    st.builds(lambda i, t: {"role": "tool", "tool_call_id": i, "content": t}, _ids, _text),
)


@settings(max_examples=150, deadline=None)
@given(st.lists(_message, min_size=1, max_size=10))
def test_any_history_gives_input_the_backend_accepts(messages):
    items = messages_to_input(messages)
    calls = [i["call_id"] for i in items if i["type"] == "function_call"]
    outputs = [i["call_id"] for i in items if i["type"] == "function_call_output"]
    # every output follows its call, every call has an output, and no stored id is referenced
    for index, item in enumerate(items):
        if item["type"] == "function_call_output":
            assert any(
                i["type"] == "function_call" and i["call_id"] == item["call_id"] for i in items[:index]
            )
    assert set(calls) <= set(outputs)
    assert all("id" not in item for item in items)
    # every tool result reaches the model, as an output or as text
    results = [m for m in messages if m["role"] == "tool"]
    texts = [
        i
        for i in items
        if i["type"] == "message" and i["role"] == "user" and i["content"][0]["text"].startswith("Result of")
    ]
    delivered = len([o for o in outputs if o]) - len([i for i in items if i.get("output") == ABORTED_OUTPUT])
    assert delivered + len(texts) == len(results)


def test_values_that_ask_for_what_is_sent_anyway_are_not_reported():
    req = build(store=False, logprobs=False, modalities=["text"])
    assert req.dropped == [] and req.body["store"] is False
