"""The provider through LiteLLM against the fake backend over real sockets."""

from __future__ import annotations

import asyncio
import threading

import litellm
import pytest

from litellm_codex_oauth_provider.testing.fake_codex import HttpError, Turn

MESSAGES = [{"role": "user", "content": "Say hello"}]
TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "weather",
            "description": "Weather for a city",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
        },
    }
]


def rich_turn() -> Turn:
    return (
        Turn()
        .reasoning("Looking up two cities", encrypted_content="enc-1")
        .function_call("weather", '{"city": "Paris"}', call_id="call_paris", arg_chunks=3)
        .function_call("weather", '{"city": "Rome"}', call_id="call_rome", arg_chunks=3)
        .usage(input_tokens=120, cached_tokens=64, output_tokens=30, reasoning_tokens=12)
    )


def test_sync_calls_work_many_times_in_a_row(codex_home, fake, provider):
    for _ in range(6):
        response = litellm.completion(model="codex/gpt-5.5", messages=MESSAGES)
        assert response.choices[0].message.content == "Hello from fake Codex"
        assert response.choices[0].finish_reason == "stop"
    assert fake.responses_count == 6


def test_sync_calls_from_several_threads_at_once(codex_home, fake, provider):
    results, errors = [], []

    def worker() -> None:
        try:
            results.append(
                litellm.completion(model="codex/gpt-5.5", messages=MESSAGES).choices[0].message.content
            )
        except Exception as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert results == ["Hello from fake Codex"] * 8


def test_async_calls_run_concurrently_and_from_any_loop(codex_home, fake, provider):
    async def many() -> list[str]:
        responses = await asyncio.gather(
            *(litellm.acompletion(model="codex/gpt-5.5", messages=MESSAGES) for _ in range(10))
        )
        return [r.choices[0].message.content for r in responses]

    assert asyncio.run(many()) == ["Hello from fake Codex"] * 10
    assert asyncio.run(many()) == ["Hello from fake Codex"] * 10  # a second, new event loop


def test_request_carries_the_login_and_codex_headers(codex_home, fake, provider):
    litellm.completion(model="codex/gpt-5.5", messages=MESSAGES)
    request = fake.last_request
    assert request.bearer and request.bearer.count(".") == 2
    assert request.headers["chatgpt-account-id"] == "acct-123"
    assert request.headers["originator"] == "codex_cli_rs"
    assert request.headers["user-agent"].startswith("codex_cli_rs/")
    assert request.headers["session-id"] == request.body["prompt_cache_key"]
    assert request.body["store"] is False and request.body["stream"] is True


def test_plain_reasoning_effort_just_works(codex_home, fake, provider):
    litellm.completion(model="codex/gpt-5.5", messages=MESSAGES, reasoning_effort="high", verbosity="low")
    assert fake.last_request.body["reasoning"]["effort"] == "high"
    assert fake.last_request.body["text"]["verbosity"] == "low"


def test_effort_suffix_is_parsed_off_the_model(codex_home, fake, provider):
    litellm.completion(model="codex/gpt-5.5-xhigh", messages=MESSAGES)
    assert fake.last_request.body["model"] == "gpt-5.5"
    assert fake.last_request.body["reasoning"]["effort"] == "xhigh"


def test_rejected_params_are_dropped_and_reported(codex_home, fake, provider):
    response = litellm.completion(model="codex/gpt-5.5", messages=MESSAGES, temperature=0.1, max_tokens=50)
    assert "temperature" not in fake.last_request.body
    assert set(response._hidden_params["codex_dropped_params"]) >= {"temperature", "max_tokens"}


def test_rate_limit_headers_reach_the_caller(codex_home, fake, provider):
    response = litellm.completion(model="codex/gpt-5.5", messages=MESSAGES)
    headers = response._hidden_params["additional_headers"]
    assert "llm_provider-x-codex-primary-used-percent" in headers


def test_non_streaming_tool_calls_reasoning_and_usage(codex_home, fake, provider):
    fake.enqueue(rich_turn())
    response = litellm.completion(model="codex/gpt-5.5", messages=MESSAGES, tools=TOOLS)
    message = response.choices[0].message
    assert [c.id for c in message.tool_calls] == ["call_paris", "call_rome"]
    assert message.tool_calls[1].function.arguments == '{"city": "Rome"}'
    assert message.reasoning_content == "Looking up two cities"
    assert response.choices[0].finish_reason == "tool_calls"
    usage = response.usage
    assert (usage.prompt_tokens, usage.completion_tokens, usage.total_tokens) == (120, 30, 150)
    assert usage.prompt_tokens_details.cached_tokens == 64
    assert usage.completion_tokens_details.reasoning_tokens == 12
    assert fake.last_request.body["tools"][0]["name"] == "weather"


def _collect(chunks) -> dict:
    text, reasoning, calls, finish, usage = [], [], {}, None, None
    for chunk in chunks:
        if getattr(chunk, "usage", None):
            usage = chunk.usage
        if not chunk.choices:
            continue
        delta = chunk.choices[0].delta
        text.append(delta.content or "")
        reasoning.append(getattr(delta, "reasoning_content", None) or "")
        for call in delta.tool_calls or []:
            entry = calls.setdefault(call.index, {"id": None, "name": None, "args": ""})
            entry["id"] = entry["id"] or call.id
            entry["name"] = entry["name"] or call.function.name
            entry["args"] += call.function.arguments or ""
        finish = chunk.choices[0].finish_reason or finish
    return {
        "text": "".join(text),
        "reasoning": "".join(reasoning),
        "calls": calls,
        "finish": finish,
        "usage": usage,
    }


def test_sync_stream_yields_reasoning_parallel_calls_finish_and_usage(codex_home, fake, provider):
    fake.enqueue(rich_turn())
    got = _collect(
        litellm.completion(
            model="codex/gpt-5.5",
            messages=MESSAGES,
            tools=TOOLS,
            stream=True,
            stream_options={"include_usage": True},
        )
    )
    assert got["reasoning"] == "Looking up two cities"
    assert got["calls"] == {
        0: {"id": "call_paris", "name": "weather", "args": '{"city": "Paris"}'},
        1: {"id": "call_rome", "name": "weather", "args": '{"city": "Rome"}'},
    }
    assert got["finish"] == "tool_calls"
    assert got["usage"].prompt_tokens == 120 and got["usage"].prompt_tokens_details.cached_tokens == 64


async def test_async_stream_yields_text_deltas_and_stop(codex_home, fake, provider):
    fake.enqueue(Turn().text("one two three four", chunks=4))
    stream = await litellm.acompletion(model="codex/gpt-5.5", messages=MESSAGES, stream=True)
    contents = [c.choices[0].delta.content async for c in stream if c.choices and c.choices[0].delta.content]
    # Deltas that arrive together may go out as one chunk (see test_events_coalescing.py).
    assert 1 <= len(contents) <= 4 and "".join(contents) == "one two three four"


async def test_first_chunk_arrives_before_the_stream_ends(codex_home, fake, provider):
    fake.enqueue(Turn().text("early late", chunks=2).delta_delay(0.5))
    loop = asyncio.get_running_loop()
    start = loop.time()
    stream = await litellm.acompletion(model="codex/gpt-5.5", messages=MESSAGES, stream=True)
    first_at = None
    async for chunk in stream:
        if chunk.choices and chunk.choices[0].delta.content and first_at is None:
            first_at = loop.time() - start
    total = loop.time() - start
    assert first_at is not None and first_at < total - 0.3


def test_per_model_api_base_wins_over_the_environment(codex_home, fake, provider, monkeypatch):
    monkeypatch.setenv("CODEX_API_BASE", "http://127.0.0.1:9/nowhere")
    response = litellm.completion(model="codex/gpt-5.5", messages=MESSAGES, api_base=fake.base_url)
    assert response.choices[0].message.content == "Hello from fake Codex"


def test_usage_limit_is_a_rate_limit_error_with_retry_after(codex_home, fake, provider):
    fake.enqueue(HttpError.usage_limit_reached(plan_type="plus", resets_in_seconds=1800))
    with pytest.raises(litellm.RateLimitError) as info:
        litellm.completion(model="codex/gpt-5.5", messages=MESSAGES)
    assert "plus" in str(info.value) and "1800 s" in str(info.value)
    assert info.value.response.headers["retry-after"] == "1800"
    assert fake.responses_count == 1  # not retried


def test_failed_turn_with_context_length_is_context_window_error(codex_home, fake, provider):
    fake.enqueue(Turn().failed("context_length_exceeded", "Your input exceeds the context window"))
    with pytest.raises(litellm.ContextWindowExceededError):
        litellm.completion(model="codex/gpt-5.5", messages=MESSAGES)


def test_stream_cut_short_raises_to_the_consumer(codex_home, fake, provider):
    fake.enqueue(Turn().text("partial answer").cut())
    # LiteLLM reports errors after the first chunk as MidStreamFallbackError, so routers can fall back.
    with pytest.raises(
        (litellm.APIConnectionError, litellm.exceptions.MidStreamFallbackError),
        match="before the turn completed",
    ):
        for _ in litellm.completion(model="codex/gpt-5.5", messages=MESSAGES, stream=True):
            pass


def test_missing_login_is_an_authentication_error_naming_the_file(fake, provider, tmp_path, monkeypatch):
    monkeypatch.setenv("CODEX_HOME", str(tmp_path / "nobody"))
    with pytest.raises(litellm.AuthenticationError) as info:
        litellm.completion(model="codex/gpt-5.5", messages=MESSAGES)
    assert "nobody/auth.json" in str(info.value) and "codex login" in str(info.value)
    assert fake.responses_count == 0


HEALTH = {"tags": ["litellm-internal-health-check"]}


def test_health_probe_reads_the_catalog_instead_of_spending_a_turn(codex_home, fake, provider):
    response = litellm.completion(model="codex/gpt-5.5", messages=MESSAGES, metadata=HEALTH)
    assert response.choices[0].message.content == "ok"
    assert fake.responses_count == 0 and fake.models_requests >= 1


async def test_failed_health_probe_is_service_unavailable(codex_home, fake, provider):
    await litellm.acompletion(model="codex/gpt-5.5", messages=MESSAGES, metadata=HEALTH)  # warms the cache
    fake.models_status = 500
    with pytest.raises(litellm.ServiceUnavailableError, match="health check"):
        await litellm.acompletion(model="codex/gpt-5.5", messages=MESSAGES, metadata=HEALTH)
    assert fake.responses_count == 0


# --------------------------------------------------------------------------- one retry rule on every path

PATHS = ["sync", "async", "sync stream", "async stream"]


async def _answer(path: str, **kwargs) -> str:
    """The text of one call to `codex/gpt-5.5` made the way `path` names."""
    call = {"model": "codex/gpt-5.5", "messages": MESSAGES, **kwargs}
    if path == "sync":
        return litellm.completion(**call).choices[0].message.content
    if path == "async":
        return (await litellm.acompletion(**call)).choices[0].message.content
    if path == "sync stream":
        return "".join(c.choices[0].delta.content or "" for c in litellm.completion(**call, stream=True))
    stream = await litellm.acompletion(**call, stream=True)
    return "".join([c.choices[0].delta.content or "" async for c in stream])


@pytest.mark.parametrize("path", PATHS)
async def test_an_http_error_is_retried_only_by_the_client_on_every_path(codex_home, fake, provider, path):
    """One budget per call: `max_retries=2` makes three attempts on a 500, and the turn adds none."""
    fake.set_default(HttpError(500, {"error": {"message": "boom"}}))
    with pytest.raises(litellm.InternalServerError):
        await _answer(path, max_retries=2)
    assert fake.responses_count == 3


@pytest.mark.parametrize("path", PATHS)
async def test_a_turn_cut_before_its_first_chunk_is_sent_again_on_every_path(
    codex_home, fake, provider, path
):
    fake.enqueue(Turn().text("never seen").cut(after_events=1))
    assert await _answer(path, max_retries=1) == "Hello from fake Codex"
    assert fake.responses_count == 2


@pytest.mark.parametrize("path", PATHS)
async def test_a_turn_cut_with_no_retry_left_is_an_error_on_every_path(codex_home, fake, provider, path):
    fake.enqueue(Turn().text("never seen").cut(after_events=1))
    # a stream's error reaches the caller wrapped by LiteLLM's stream wrapper (MidStreamFallbackError)
    with pytest.raises(litellm.APIConnectionError, match="closed the stream before the turn completed"):
        try:
            await _answer(path, max_retries=0)
        except litellm.exceptions.MidStreamFallbackError as exc:
            raise exc.original_exception from exc
    assert fake.responses_count == 1
