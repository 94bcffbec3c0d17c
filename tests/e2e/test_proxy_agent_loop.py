"""Chat completions through the LiteLLM proxy, as an agent drives them with the `openai` package: parallel
streamed tool calls, the reasoning round trip, headers, body fields, the usage-limit status.

One fake backend and one proxy subprocess for the whole module.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import openai
import pytest
from openai import OpenAI

from litellm_codex_oauth_provider.testing.fake_codex import FakeCodexBackend, HttpError, Turn
from tests.e2e.proxy import MASTER_KEY, proxy_with_fake

pytestmark = pytest.mark.e2e

MODEL = "codex/gpt-5.5"
TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "weather",
            "description": "Current weather for a city",
            "parameters": {
                "type": "object",
                "properties": {"city": {"type": "string"}},
                "required": ["city"],
            },
        },
    }
]
ASK = [{"role": "user", "content": "What is the weather in Paris and in Rome?"}]


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    with proxy_with_fake(tmp_path_factory, CODEX_MAX_RETRIES="0") as (fake, url):
        yield fake, url


@pytest.fixture
def fake(stack) -> FakeCodexBackend:
    backend = stack[0]
    backend.reset()
    return backend


@pytest.fixture
def client(stack) -> OpenAI:
    return OpenAI(base_url=stack[1], api_key=MASTER_KEY, max_retries=0)


@pytest.fixture
def http(stack):
    with httpx.Client(base_url=stack[1], headers={"authorization": f"Bearer {MASTER_KEY}"}, timeout=30) as c:
        yield c


def extra(obj: Any, name: str) -> Any:
    """A field the openai package does not declare (kept as a pydantic extra)."""
    return getattr(obj, name, None) or (obj.model_extra or {}).get(name)


def collect(stream) -> dict[str, Any]:
    """What an agent keeps from a streamed turn: text, tool calls by index, reasoning items."""
    text, calls, reasoning_items, finish = [], {}, [], None
    for chunk in stream:
        if not chunk.choices:
            continue
        delta = chunk.choices[0].delta
        text.append(delta.content or "")
        for tc in delta.tool_calls or []:
            entry = calls.setdefault(tc.index, {"id": None, "name": None, "arguments": ""})
            entry["id"] = entry["id"] or tc.id
            entry["name"] = entry["name"] or tc.function.name
            entry["arguments"] += tc.function.arguments or ""
        reasoning_items.extend(extra(delta, "reasoning_items") or [])
        finish = chunk.choices[0].finish_reason or finish
    return {"text": "".join(text), "calls": calls, "reasoning_items": reasoning_items, "finish": finish}


def run_tool(name: str, arguments: str) -> str:
    city = json.loads(arguments)["city"]
    return {"Paris": "sunny, 24 C", "Rome": "rain, 18 C"}[city]


def test_agent_loop_with_parallel_streamed_tool_calls(fake, client):
    fake.enqueue(
        Turn()
        .reasoning("Two cities: call the tool twice.", encrypted_content="ENC-LOOP")
        .function_call("weather", {"city": "Paris"}, call_id="call_paris", arg_chunks=4)
        .function_call("weather", {"city": "Rome"}, call_id="call_rome", arg_chunks=4),
        Turn().text("Paris is sunny (24 C); Rome has rain (18 C).", chunks=5),
    )
    first = collect(client.chat.completions.create(model=MODEL, messages=ASK, tools=TOOLS, stream=True))
    assert first["finish"] == "tool_calls"
    assert [(c["id"], c["name"]) for c in first["calls"].values()] == [
        ("call_paris", "weather"),
        ("call_rome", "weather"),
    ]
    assert [i["encrypted_content"] for i in first["reasoning_items"]] == ["ENC-LOOP"]

    assistant = {
        "role": "assistant",
        "content": first["text"] or None,
        "tool_calls": [
            {"id": c["id"], "type": "function", "function": {"name": c["name"], "arguments": c["arguments"]}}
            for c in first["calls"].values()
        ],
        "reasoning_items": first["reasoning_items"],
    }
    results = [
        {"role": "tool", "tool_call_id": c["id"], "content": run_tool(c["name"], c["arguments"])}
        for c in first["calls"].values()
    ]
    final = collect(
        client.chat.completions.create(
            model=MODEL, messages=[*ASK, assistant, *results], tools=TOOLS, stream=True
        )
    )
    assert final["text"] == "Paris is sunny (24 C); Rome has rain (18 C)."
    assert final["finish"] == "stop"

    items = fake.last_request.body["input"]
    assert [(i["type"], i.get("call_id")) for i in items if i["type"] != "message"] == [
        ("reasoning", None),
        ("function_call", "call_paris"),
        ("function_call", "call_rome"),
        ("function_call_output", "call_paris"),
        ("function_call_output", "call_rome"),
    ]
    assert [i["output"] for i in items if i["type"] == "function_call_output"] == [
        "sunny, 24 C",
        "rain, 18 C",
    ]
    assert next(i for i in items if i["type"] == "reasoning")["encrypted_content"] == "ENC-LOOP"
    assert all("id" not in i for i in items)
    requests = fake.requests
    assert requests[0].body["prompt_cache_key"] == requests[1].body["prompt_cache_key"]  # one conversation


def test_reasoning_round_trips_through_the_proxys_json(fake, client):
    fake.enqueue(Turn().reasoning("Thinking.", encrypted_content="ENC-JSON").text("Answer."))
    message = client.chat.completions.create(model=MODEL, messages=ASK).choices[0].message
    assert [i["encrypted_content"] for i in extra(message, "reasoning_items")] == ["ENC-JSON"]
    assert extra(message, "thinking_blocks")[0]["signature"].endswith("ENC-JSON")
    again = [*ASK, message.model_dump(exclude_none=True), {"role": "user", "content": "Why?"}]
    client.chat.completions.create(model=MODEL, messages=again)
    replayed = [i for i in fake.last_request.body["input"] if i["type"] == "reasoning"]
    assert [i["encrypted_content"] for i in replayed] == ["ENC-JSON"]


def codex_headers(response: httpx.Response) -> dict[str, str]:
    return {k: v for k, v in response.headers.items() if k.startswith("llm_provider-x-codex-")}


def test_rate_limit_headers_on_a_non_streamed_response(fake, http):
    fake.rate_limit_headers = {**fake.rate_limit_headers, "x-codex-primary-used-percent": "63.0"}
    response = http.post("/v1/chat/completions", json={"model": MODEL, "messages": ASK})
    assert response.status_code == 200
    headers = codex_headers(response)
    assert headers["llm_provider-x-codex-primary-used-percent"] == "63.0"
    assert {
        "llm_provider-x-codex-secondary-reset-at",
        "llm_provider-x-codex-credits-balance",
    } <= headers.keys()


def test_rate_limit_headers_on_a_streamed_response(fake, http):
    fake.rate_limit_headers = {**fake.rate_limit_headers, "x-codex-primary-used-percent": "64.0"}
    body = {"model": MODEL, "messages": ASK, "stream": True}
    with http.stream("POST", "/v1/chat/completions", json=body) as response:
        assert response.status_code == 200
        headers = codex_headers(response)
        text = "".join(response.iter_text())
    assert headers["llm_provider-x-codex-primary-used-percent"] == "64.0"
    assert "llm_provider-x-codex-secondary-used-percent" in headers
    assert "[DONE]" in text


def test_callers_set_body_fields_top_level_or_in_extra_body(fake, client):
    client.chat.completions.create(
        model=MODEL,
        messages=ASK,
        reasoning_effort="low",
        prompt_cache_key="conv-e2e",
        service_tier="priority",
        extra_body={"verbosity": "high"},
    )
    sent = fake.last_request
    assert sent.body["reasoning"]["effort"] == "low"
    assert sent.body["text"]["verbosity"] == "high"
    assert sent.body["prompt_cache_key"] == "conv-e2e" == sent.headers["session-id"]
    assert sent.body["service_tier"] == "priority"
    client.chat.completions.create(
        model=MODEL,
        messages=ASK,
        extra_body={"reasoning_effort": "high", "prompt_cache_key": "conv-extra", "service_tier": "priority"},
    )
    sent = fake.last_request
    assert (sent.body["reasoning"]["effort"], sent.body["prompt_cache_key"]) == ("high", "conv-extra")


def test_rejected_parameters_do_not_fail_the_request(fake, client):
    response = client.chat.completions.create(
        model=MODEL,
        messages=ASK,
        temperature=0.2,
        top_p=0.5,
        max_tokens=30,
        stop=["\n"],
        seed=1,
        user="alice",
    )
    assert response.choices[0].message.content == "Hello from fake Codex"
    assert not {"temperature", "top_p", "max_tokens", "stop", "seed", "user"} & set(fake.last_request.body)


def test_structured_output_through_the_proxy(fake, client):
    fake.enqueue(Turn().text('{"city": "Paris"}'))
    schema = {
        "type": "object",
        "properties": {"city": {"type": "string"}},
        "required": ["city"],
        "additionalProperties": False,
    }
    response = client.chat.completions.create(
        model=MODEL,
        messages=ASK,
        response_format={
            "type": "json_schema",
            "json_schema": {"name": "Place", "schema": schema, "strict": True},
        },
    )
    assert json.loads(response.choices[0].message.content) == {"city": "Paris"}
    assert fake.last_request.body["text"]["format"] == {
        "type": "json_schema",
        "name": "Place",
        "schema": schema,
        "strict": True,
    }


@pytest.mark.parametrize("stream", [False, True])
def test_usage_limit_is_a_429_with_retry_after(fake, stack, stream):
    """Streamed or not, the spent plan is the request's status (the stream is opened before it is returned)."""
    fake.set_default(HttpError.usage_limit_reached(plan_type="plus", resets_in_seconds=900))
    client = OpenAI(base_url=stack[1], api_key=MASTER_KEY, max_retries=0)
    with pytest.raises(openai.RateLimitError, match="plus plan") as info:
        client.chat.completions.create(model=MODEL, messages=ASK, stream=stream)
    response = info.value.response
    assert "900 s" in response.text
    assert response.headers.get("retry-after") == "900"


def test_a_cut_stream_never_ends_like_a_finished_answer(fake, http):
    fake.enqueue(Turn().text("The first half", chunks=2).cut())
    body = {"model": MODEL, "messages": ASK, "stream": True}
    with http.stream("POST", "/v1/chat/completions", json=body) as response:
        text = "".join(response.iter_text())
    events = [json.loads(line[6:]) for line in text.splitlines() if line.startswith("data: {")]
    finishes = [c["choices"][0].get("finish_reason") for c in events if c.get("choices")]
    assert "stop" not in finishes
    assert any("error" in e for e in events)


@pytest.mark.parametrize(
    "extra_body",
    [{"litellm_session_id": "sess-proxy"}, {"metadata": {"session_id": "sess-proxy"}}],
    ids=["litellm_session_id", "metadata"],
)
def test_session_id_through_the_proxy_is_the_cache_key(fake, client, extra_body):
    client.chat.completions.create(model=MODEL, messages=ASK, extra_body=extra_body)
    assert (
        fake.last_request.body["prompt_cache_key"] == "sess-proxy" == fake.last_request.headers["session-id"]
    )


@pytest.mark.parametrize("stream", [False, True])
def test_anthropic_clients_get_the_reasoning_as_a_signed_thinking_block(fake, http, stream):
    """`/v1/messages`: the block comes out signed, and sending it back does not break the next turn.

    (LiteLLM 1.106's Anthropic adapter strips encrypted-reasoning blocks from incoming messages,
    so there the reasoning itself is not carried into the next turn.)
    """
    fake.enqueue(Turn().reasoning("Thinking.", encrypted_content="ENC-ANT").text("Answer."))
    ask = {
        "model": MODEL,
        "max_tokens": 256,
        "messages": [{"role": "user", "content": "hi"}],
        "stream": stream,
    }
    response = http.post("/v1/messages", json=ask)
    assert response.status_code == 200, response.text
    if stream:
        events = [json.loads(line[6:]) for line in response.text.splitlines() if line.startswith("data: {")]
        signatures = [
            e["delta"]["signature"] for e in events if e.get("delta", {}).get("type") == "signature_delta"
        ]
        texts = [e["delta"]["text"] for e in events if e.get("delta", {}).get("type") == "text_delta"]
        content = [
            {"type": "thinking", "thinking": "Thinking.", "signature": signatures[0]},
            {"type": "text", "text": "".join(texts)},
        ]
    else:
        content = response.json()["content"]
    thinking = [b for b in content if b["type"] == "thinking"]
    assert thinking and thinking[0]["signature"].endswith("ENC-ANT")
    again = {
        **ask,
        "stream": False,
        "messages": [
            *ask["messages"],
            {"role": "assistant", "content": content},
            {"role": "user", "content": "why?"},
        ],
    }
    answer = http.post("/v1/messages", json=again)
    assert answer.status_code == 200, answer.text
    assert fake.last_request.body["input"][-1]["content"][0]["text"] == "why?"
