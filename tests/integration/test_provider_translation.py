"""The chat → Responses translation end to end: `litellm.completion` against the socket fake, `n`,
reasoning through `stream_chunk_builder`."""

from __future__ import annotations

import logging

import litellm
import pytest
from pydantic import BaseModel

from litellm_codex_oauth_provider.encrypted_reasoning import ENCRYPTED_REASONING_PREFIX
from litellm_codex_oauth_provider.testing.fake_codex import Turn

MODEL = "codex/gpt-5.5"
ASK = [{"role": "user", "content": "Weather in Paris and Rome?"}]
WEATHER = {
    "type": "function",
    "function": {
        "name": "weather",
        "description": None,
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}


def two_calls() -> Turn:
    return (
        Turn()
        .reasoning("Two cities, two calls.", encrypted_content="ENC-1")
        .function_call("weather", '{"city": "Paris"}', call_id="call_paris")
        .function_call("weather", '{"city": "Rome"}', call_id="call_rome")
    )


def results_for(message) -> list[dict]:
    return [
        {
            "role": "tool",
            "tool_call_id": c.id,
            "content": "sunny" if "Paris" in c.function.arguments else "rain",
        }
        for c in message.tool_calls
    ]


# -- 1. tools through LiteLLM ---------------------------------------------------------------------


def test_tool_loop_sends_calls_and_results_back_with_matching_call_ids(codex_home, fake, provider):
    fake.enqueue(two_calls(), Turn().text("Paris is sunny, Rome rainy."))
    first = litellm.completion(
        model=MODEL, messages=ASK, tools=[WEATHER], tool_choice="required", parallel_tool_calls=True
    )
    message = first.choices[0].message
    assert first.choices[0].finish_reason == "tool_calls"
    sent = fake.last_request.body
    assert sent["tools"] == [
        {"type": "function", "name": "weather", "parameters": WEATHER["function"]["parameters"]}
    ]
    assert (sent["tool_choice"], sent["parallel_tool_calls"]) == ("required", True)

    final = litellm.completion(model=MODEL, messages=[*ASK, message, *results_for(message)], tools=[WEATHER])
    assert final.choices[0].message.content == "Paris is sunny, Rome rainy."
    items = fake.last_request.body["input"]
    kinds = [(i["type"], i.get("call_id")) for i in items if i["type"] != "message"]
    assert kinds == [
        ("reasoning", None),
        ("function_call", "call_paris"),
        ("function_call", "call_rome"),
        ("function_call_output", "call_paris"),
        ("function_call_output", "call_rome"),
    ]
    assert [i["output"] for i in items if i["type"] == "function_call_output"] == ["sunny", "rain"]


# -- 2. structured output -------------------------------------------------------------------------


class City(BaseModel):
    name: str
    population: int


def test_pydantic_response_format_arrives_as_a_strict_json_schema(codex_home, fake, provider):
    fake.enqueue(Turn().text('{"name": "Paris", "population": 2100000}'))
    response = litellm.completion(model=MODEL, messages=ASK, response_format=City)
    assert City.model_validate_json(response.choices[0].message.content).name == "Paris"
    fmt = fake.last_request.body["text"]["format"]
    assert (fmt["type"], fmt["name"], fmt["strict"]) == ("json_schema", "City", True)
    assert fmt["schema"]["properties"].keys() == {"name", "population"}
    assert fmt["schema"]["additionalProperties"] is False


def test_json_object_mode_is_sent_as_an_open_schema(codex_home, fake, provider):
    litellm.completion(model=MODEL, messages=ASK, response_format={"type": "json_object"})
    assert fake.last_request.body["text"]["format"]["type"] == "json_schema"


# -- 3. images ------------------------------------------------------------------------------------


def test_image_parts_reach_the_backend_as_input_image(codex_home, fake, provider):
    content = [
        {"type": "text", "text": "What is on these?"},
        {"type": "image_url", "image_url": {"url": "https://example.com/a.png", "detail": "high"}},
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}},
    ]
    litellm.completion(model=MODEL, messages=[{"role": "user", "content": content}])
    [item] = [i for i in fake.last_request.body["input"] if i.get("role") == "user"]
    assert item["content"][1:] == [
        {"type": "input_image", "image_url": "https://example.com/a.png", "detail": "high"},
        {"type": "input_image", "image_url": "data:image/png;base64,iVBORw0KGgo=", "detail": "auto"},
    ]


def test_audio_input_is_a_bad_request_and_nothing_is_sent(codex_home, fake, provider):
    audio = {"type": "input_audio", "input_audio": {"data": "AAAA", "format": "wav"}}
    with pytest.raises(litellm.BadRequestError, match="audio"):
        litellm.completion(model=MODEL, messages=[{"role": "user", "content": [audio]}])
    assert fake.responses_count == 0


# -- 4. reasoning across turns --------------------------------------------------------------------


def reasoning_turn() -> Turn:
    return (
        Turn()
        .reasoning(["First thought.", "Second thought."], encrypted_content="ENC-A")
        .reasoning("Another item.", encrypted_content="ENC-B")
        .text("The answer.")
    )


def assert_replayed(body: dict) -> None:
    replayed = [i for i in body["input"] if i["type"] == "reasoning"]
    assert [i["encrypted_content"] for i in replayed] == ["ENC-A", "ENC-B"]
    assert all("id" not in i for i in body["input"])


def test_reasoning_survives_a_non_streamed_turn_and_is_sent_back(codex_home, fake, provider):
    fake.enqueue(reasoning_turn())
    message = litellm.completion(model=MODEL, messages=ASK).choices[0].message
    assert message.reasoning_content == "First thought.\n\nSecond thought.\n\nAnother item."
    assert [i["encrypted_content"] for i in message.reasoning_items] == ["ENC-A", "ENC-B"]
    assert [b["signature"] for b in message.thinking_blocks] == [
        ENCRYPTED_REASONING_PREFIX + "ENC-A",
        ENCRYPTED_REASONING_PREFIX + "ENC-B",
    ]
    litellm.completion(model=MODEL, messages=[*ASK, message, {"role": "user", "content": "Why?"}])
    assert_replayed(fake.last_request.body)
    assert fake.last_request.body["store"] is False


def test_reasoning_survives_streaming_and_stream_chunk_builder(codex_home, fake, provider):
    fake.enqueue(reasoning_turn())
    chunks = list(litellm.completion(model=MODEL, messages=ASK, stream=True))
    message = litellm.stream_chunk_builder(chunks, messages=ASK).choices[0].message
    assert message.content == "The answer."
    assert message.reasoning_content == "First thought.\n\nSecond thought.\n\nAnother item."
    litellm.completion(
        model=MODEL, messages=[*ASK, message.model_dump(), {"role": "user", "content": "Why?"}]
    )
    assert_replayed(fake.last_request.body)


def test_each_streamed_reasoning_item_arrives_once_in_its_own_chunk(codex_home, fake, provider):
    fake.enqueue(reasoning_turn())
    deltas = [
        c.choices[0].delta for c in litellm.completion(model=MODEL, messages=ASK, stream=True) if c.choices
    ]
    items = [i for d in deltas for i in (getattr(d, "reasoning_items", None) or [])]
    blocks = [b for d in deltas for b in (getattr(d, "thinking_blocks", None) or [])]
    assert [i["encrypted_content"] for i in items] == ["ENC-A", "ENC-B"]
    assert [b["signature"].removeprefix(ENCRYPTED_REASONING_PREFIX) for b in blocks] == ["ENC-A", "ENC-B"]


async def test_reasoning_survives_async_streaming(codex_home, fake, provider):
    fake.enqueue(reasoning_turn())
    stream = await litellm.acompletion(model=MODEL, messages=ASK, stream=True)
    chunks = [c async for c in stream]
    message = litellm.stream_chunk_builder(chunks, messages=ASK).choices[0].message
    await litellm.acompletion(model=MODEL, messages=[*ASK, message, {"role": "user", "content": "Why?"}])
    assert_replayed(fake.last_request.body)


# -- 5. prompt caching ----------------------------------------------------------------------------


def sent_keys(fake) -> tuple[str, str]:
    request = fake.last_request
    return request.body["prompt_cache_key"], request.headers["session-id"]


def test_prompt_cache_key_parameter_is_used(codex_home, fake, provider):
    litellm.completion(model=MODEL, messages=ASK, prompt_cache_key="conv-7")
    assert sent_keys(fake) == ("conv-7", "conv-7")


def test_litellm_session_id_is_the_cache_key(codex_home, fake, provider):
    litellm.completion(model=MODEL, messages=ASK, litellm_session_id="sess-1")
    assert sent_keys(fake) == ("sess-1", "sess-1")


def test_metadata_session_id_is_the_cache_key(codex_home, fake, provider):
    litellm.completion(model=MODEL, messages=ASK, metadata={"session_id": "sess-2"})
    assert sent_keys(fake) == ("sess-2", "sess-2")
    assert "metadata" not in fake.last_request.body


def test_without_a_key_each_conversation_keeps_one_derived_key(codex_home, fake, provider):
    litellm.completion(model=MODEL, messages=ASK)
    first = sent_keys(fake)
    litellm.completion(
        model=MODEL, messages=[*ASK, {"role": "assistant", "content": "x"}, {"role": "user", "content": "y"}]
    )
    assert sent_keys(fake) == first and first[0] == first[1]
    litellm.completion(model=MODEL, messages=[{"role": "user", "content": "A different conversation"}])
    assert sent_keys(fake) != first


# -- 6. dropped parameters, n, user -----------------------------------------------------------------

DROPPED = {
    "temperature": 0.1,
    "top_p": 0.5,
    "max_tokens": 20,
    "stop": ["\n"],
    "seed": 3,
    "presence_penalty": 0.5,
    "user": "alice",
}


def test_dropped_parameters_are_warned_once_and_listed_in_hidden_params(codex_home, fake, provider, caplog):
    caplog.set_level(logging.WARNING, logger="litellm_codex_oauth_provider")
    response = litellm.completion(model=MODEL, messages=ASK, **DROPPED)
    assert set(response._hidden_params["codex_dropped_params"]) == set(DROPPED)
    assert not set(DROPPED) & set(fake.last_request.body)
    warnings = [r.getMessage() for r in caplog.records if "dropped parameters" in r.getMessage()]
    assert len(warnings) == 1 and all(name in warnings[0] for name in DROPPED)


def test_dropped_parameters_are_listed_on_a_sync_stream(codex_home, fake, provider):
    stream = litellm.completion(model=MODEL, messages=ASK, stream=True, **DROPPED)
    assert set(stream._hidden_params["codex_dropped_params"]) == set(DROPPED)
    assert "".join(c.choices[0].delta.content or "" for c in stream if c.choices) == "Hello from fake Codex"


async def test_dropped_parameters_are_listed_on_an_async_stream_once_it_starts(codex_home, fake, provider):
    stream = await litellm.acompletion(model=MODEL, messages=ASK, stream=True, **DROPPED)
    [c async for c in stream]
    assert set(stream._hidden_params["codex_dropped_params"]) == set(DROPPED)


def test_n_runs_that_many_requests_and_returns_that_many_choices(codex_home, fake, provider):
    fake.enqueue(
        Turn().text("one").usage(10, 0, 1),
        Turn().text("two").usage(10, 0, 2),
        Turn().text("three").usage(10, 0, 3),
    )
    response = litellm.completion(model=MODEL, messages=ASK, n=3)
    assert fake.responses_count == 3
    assert [c.index for c in response.choices] == [0, 1, 2]
    assert sorted(c.message.content for c in response.choices) == ["one", "three", "two"]
    assert (response.usage.prompt_tokens, response.usage.completion_tokens) == (30, 6)
    assert all("n" not in r.body for r in fake.requests)


async def test_n_runs_concurrently_on_the_async_path(codex_home, fake, provider):
    latency = 2.0
    fake.set_default(Turn().text("same").latency(latency))
    response = await litellm.acompletion(model=MODEL, messages=ASK, n=4)
    assert len(response.choices) == 4 and fake.responses_count == 4
    # All four requests reached the backend before the first could have been answered:
    # they were in flight together, not sent one after another.
    arrivals = [r.received_at for r in fake.requests]
    assert max(arrivals) - min(arrivals) < latency


def test_streaming_with_n_above_one_is_a_clear_error(codex_home, fake, provider):
    with pytest.raises(litellm.BadRequestError, match="n > 1"):
        litellm.completion(model=MODEL, messages=ASK, n=2, stream=True)
    assert fake.responses_count == 0
