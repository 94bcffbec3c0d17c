"""End to end: `litellm --config litellm_config.yaml` in a subprocess, driven with the openai package."""

from __future__ import annotations

import pytest
from openai import OpenAI

from litellm_codex_oauth_provider.testing.fake_codex import Turn
from tests.e2e.proxy import MASTER_KEY, proxy_with_fake

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    """One fake backend and one proxy for the module (the proxy takes seconds to start)."""
    with proxy_with_fake(tmp_path_factory) as (fake, url):
        yield fake, OpenAI(base_url=url, api_key=MASTER_KEY, max_retries=0)


def test_non_streaming_chat_completion(stack):
    fake, client = stack
    fake.enqueue(Turn().text("Hello through the proxy").usage(input_tokens=9, output_tokens=4))
    response = client.chat.completions.create(
        model="codex/gpt-5.5", messages=[{"role": "user", "content": "hi"}]
    )
    assert response.choices[0].message.content == "Hello through the proxy"
    assert response.choices[0].finish_reason == "stop"
    assert response.usage.prompt_tokens == 9 and response.usage.completion_tokens == 4
    assert fake.last_request.body["model"] == "gpt-5.5"


def test_streaming_chat_completion_with_usage(stack):
    fake, client = stack
    fake.enqueue(
        Turn()
        .reasoning("hmm", encrypted_content="e")
        .text("one two three", chunks=3)
        .usage(input_tokens=20, cached_tokens=8, output_tokens=6, reasoning_tokens=2)
    )
    chunks = list(
        client.chat.completions.create(
            model="codex/gpt-5.5",
            messages=[{"role": "user", "content": "count"}],
            stream=True,
            stream_options={"include_usage": True},
        )
    )
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "one two three"
    assert [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason] == [
        "stop"
    ]
    usage = next(c.usage for c in chunks if c.usage)
    assert usage.prompt_tokens == 20 and usage.prompt_tokens_details.cached_tokens == 8


def test_streamed_parallel_tool_calls(stack):
    fake, client = stack
    fake.enqueue(
        Turn()
        .function_call("f", '{"a": 1}', call_id="call_1")
        .function_call("f", '{"a": 2}', call_id="call_2")
    )
    tools = [{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}]
    calls: dict[int, dict] = {}
    finish = None
    for chunk in client.chat.completions.create(
        model="codex/gpt-5.5", messages=[{"role": "user", "content": "go"}], tools=tools, stream=True
    ):
        if not chunk.choices:
            continue
        for tc in chunk.choices[0].delta.tool_calls or []:
            entry = calls.setdefault(tc.index, {"id": tc.id, "args": ""})
            entry["args"] += tc.function.arguments or ""
        finish = chunk.choices[0].finish_reason or finish
    assert calls == {0: {"id": "call_1", "args": '{"a": 1}'}, 1: {"id": "call_2", "args": '{"a": 2}'}}
    assert finish == "tool_calls"


def test_wildcard_entry_serves_effort_suffixes_and_body_fields(stack):
    fake, client = stack
    client.chat.completions.create(model="codex/gpt-5.5-high", messages=[{"role": "user", "content": "hi"}])
    assert fake.last_request.body["model"] == "gpt-5.5"
    assert fake.last_request.body["reasoning"]["effort"] == "high"
    client.chat.completions.create(
        model="codex/gpt-5.5",
        messages=[{"role": "user", "content": "hi"}],
        reasoning_effort="low",
        extra_body={"verbosity": "high"},
    )
    assert fake.last_request.body["reasoning"]["effort"] == "low"
    assert fake.last_request.body["text"]["verbosity"] == "high"


def test_models_are_listed(stack):
    _, client = stack
    ids = {m.id for m in client.models.list()}
    assert "codex/gpt-5.5" in ids


def test_health_check_revalidates_the_catalog_without_a_model_turn(stack):
    fake, client = stack
    import httpx

    from tests.e2e.proxy import MASTER_KEY

    turns, catalog_calls = fake.responses_count, fake.models_requests
    base = str(client.base_url).rstrip("/").removesuffix("/v1")
    answer = httpx.get(
        f"{base}/health",
        params={"model": "codex/gpt-5.5"},
        headers={"Authorization": f"Bearer {MASTER_KEY}"},
        timeout=60,
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["healthy_count"] >= 1 and body["unhealthy_count"] == 0, body
    assert fake.responses_count == turns  # no model turn spent
    assert fake.models_requests > catalog_calls
