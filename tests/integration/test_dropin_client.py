"""`CodexClient` / `AsyncCodexClient`: code written for the openai package gets the openai package's own types."""

from __future__ import annotations

import asyncio
import json

import litellm
import openai
import pytest
from openai.pagination import AsyncPage, SyncPage
from openai.types import Model
from openai.types.chat import ChatCompletion, ChatCompletionChunk

from litellm_codex_oauth_provider import AsyncCodexClient, CodexClient
from litellm_codex_oauth_provider.dropin import errors as dropin_errors
from litellm_codex_oauth_provider.testing.fake_codex import Disconnect, HttpError, Turn

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
SCHEMA = {
    "type": "json_schema",
    "json_schema": {
        "name": "greeting",
        "schema": {"type": "object", "properties": {"text": {"type": "string"}}, "required": ["text"]},
        "strict": True,
    },
}


@pytest.fixture
def client(codex_home, fake, provider) -> CodexClient:
    return CodexClient()


def tool_turn() -> Turn:
    return (
        Turn()
        .reasoning("Two cities", encrypted_content="enc-1")
        .function_call("weather", '{"city": "Paris"}', call_id="call_paris")
        .function_call("weather", '{"city": "Rome"}', call_id="call_rome")
        .usage(input_tokens=50, output_tokens=20, reasoning_tokens=5)
    )


def test_it_imports_as_openai():
    from litellm_codex_oauth_provider import CodexClient as OpenAI

    assert OpenAI is CodexClient
    # openai's constructor options are accepted (and the key ignored: the login is the Codex CLI's)
    assert OpenAI(api_key="ignored", organization="org", project="p").chat.completions is not None


def test_registers_the_provider_when_nothing_is_registered(codex_home, fake):
    from litellm_codex_oauth_provider import codex_auth_provider

    litellm.custom_provider_map = []
    response = CodexClient().chat.completions.create(model="gpt-5.5", messages=MESSAGES)
    assert type(response) is ChatCompletion
    assert [e["custom_handler"] for e in litellm.custom_provider_map] == [codex_auth_provider]


def test_create_returns_openai_chat_completion(client, fake):
    fake.enqueue(Turn().text("Hello there").usage(input_tokens=9, output_tokens=4))
    response = client.chat.completions.create(model="gpt-5.5", messages=MESSAGES)
    assert type(response) is ChatCompletion
    assert response.choices[0].message.content == "Hello there"
    assert response.choices[0].finish_reason == "stop"
    assert (response.usage.prompt_tokens, response.usage.completion_tokens) == (9, 4)
    assert fake.last_request.body["model"] == "gpt-5.5"


def test_model_names_with_and_without_the_prefix(client, fake):
    client.chat.completions.create(model="codex/gpt-5.5-high", messages=MESSAGES)
    assert fake.last_request.body["model"] == "gpt-5.5"
    assert fake.last_request.body["reasoning"]["effort"] == "high"
    client.chat.completions.create(model="gpt-5.5-low", messages=MESSAGES)
    assert fake.last_request.body["reasoning"]["effort"] == "low"


def test_tools_reasoning_and_usage_non_streaming(client, fake):
    fake.enqueue(tool_turn())
    response = client.chat.completions.create(model="gpt-5.5", messages=MESSAGES, tools=TOOLS)
    message = response.choices[0].message
    assert type(message.tool_calls[0]).__module__.startswith("openai.types")
    assert [c.id for c in message.tool_calls] == ["call_paris", "call_rome"]
    assert json.loads(message.tool_calls[1].function.arguments) == {"city": "Rome"}
    assert response.choices[0].finish_reason == "tool_calls"
    assert message.reasoning_content == "Two cities"  # LiteLLM's extra field survives as an openai extra
    assert response.usage.completion_tokens_details.reasoning_tokens == 5


def test_streaming_yields_openai_chunks_with_tool_calls_and_usage(client, fake):
    fake.enqueue(tool_turn())
    stream = client.chat.completions.create(
        model="gpt-5.5",
        messages=MESSAGES,
        tools=TOOLS,
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    assert chunks and all(type(c) is ChatCompletionChunk for c in chunks)
    calls: dict[int, dict] = {}
    for chunk in chunks:
        for choice in chunk.choices:
            for tc in choice.delta.tool_calls or []:
                entry = calls.setdefault(tc.index, {"id": tc.id, "args": ""})
                entry["args"] += tc.function.arguments or ""
    assert calls == {
        0: {"id": "call_paris", "args": '{"city": "Paris"}'},
        1: {"id": "call_rome", "args": '{"city": "Rome"}'},
    }
    finishes = [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason]
    assert finishes == ["tool_calls"]
    last = chunks[-1]
    assert last.choices == [] and last.usage.prompt_tokens == 50  # openai's shape of the usage chunk


def test_streaming_text_and_context_manager(client, fake):
    fake.enqueue(Turn().text("one two three", chunks=3))
    with client.chat.completions.create(model="gpt-5.5", messages=MESSAGES, stream=True) as stream:
        text = "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
    assert text == "one two three"


def test_response_format_n_and_extra_body(client, fake):
    response = client.chat.completions.create(
        model="gpt-5.5",
        messages=MESSAGES,
        response_format=SCHEMA,
        n=2,
        extra_body={"verbosity": "low"},
        temperature=openai.NOT_GIVEN,  # openai's "not given" markers are dropped, as openai does
        max_tokens=openai.omit,
    )
    assert len(response.choices) == 2 and [c.index for c in response.choices] == [0, 1]
    assert fake.responses_count == 2
    text = fake.last_request.body["text"]
    assert text["format"]["type"] == "json_schema" and text["format"]["name"] == "greeting"
    assert text["verbosity"] == "low"


def test_models_list_and_retrieve(client, fake):
    page = client.models.list()
    assert isinstance(page, SyncPage)
    models = list(page)
    assert models and all(type(m) is Model for m in models)
    ids = [m.id for m in models]
    assert "gpt-5.5" in ids and "codex-auto-review" not in ids  # hidden models are not listed
    assert fake.models_requests == 1
    model = client.models.retrieve("codex/gpt-5.5")
    assert type(model) is Model and model.id == "gpt-5.5" and model.owned_by == "openai"
    assert model.context_window == 272000 and model.default_reasoning_effort == "medium"
    with pytest.raises(openai.NotFoundError):
        client.models.retrieve("gpt-nonexistent")


@pytest.mark.parametrize(
    ("answer", "expected", "status"),
    [
        (HttpError.usage_limit_reached(resets_in_seconds=1200), openai.RateLimitError, 429),
        (HttpError.bad_request("Unsupported parameter: foo"), openai.BadRequestError, 400),
        (HttpError.overloaded(), openai.InternalServerError, 503),
        (HttpError(500, {"error": {"message": "boom"}}), openai.InternalServerError, 500),
        (HttpError(403, {"detail": "forbidden"}), openai.PermissionDeniedError, 403),
    ],
)
def test_http_failures_raise_openai_exception_classes(client, fake, answer, expected, status):
    fake.enqueue(answer)
    with pytest.raises(openai.APIStatusError) as info:
        client.chat.completions.create(model="gpt-5.5", messages=MESSAGES)
    assert type(info.value) is expected
    assert info.value.status_code == status
    assert not str(info.value).startswith("litellm.")
    assert type(info.value.__cause__).__module__ == "litellm.exceptions"  # LiteLLM's error is the cause


def test_usage_limit_keeps_retry_after(client, fake):
    fake.enqueue(HttpError.usage_limit_reached(resets_in_seconds=1200))
    with pytest.raises(openai.RateLimitError) as info:
        client.chat.completions.create(model="gpt-5.5", messages=MESSAGES)
    assert info.value.response.headers["retry-after"] == "1200"
    assert "usage limit" in info.value.message


def test_context_window_error_is_a_bad_request_with_its_code(client, fake):
    fake.enqueue(Turn().failed("context_length_exceeded", "Your input exceeds the context window."))
    with pytest.raises(openai.BadRequestError) as info:
        client.chat.completions.create(model="gpt-5.5", messages=MESSAGES)
    assert type(info.value) is openai.BadRequestError and info.value.code == "context_length_exceeded"


def test_missing_login_is_an_authentication_error(tmp_path, fake, provider):
    client = CodexClient(codex_home=tmp_path / "nobody")
    with pytest.raises(openai.AuthenticationError) as info:
        client.chat.completions.create(model="gpt-5.5", messages=MESSAGES)
    assert type(info.value) is openai.AuthenticationError and "codex login" in str(info.value)
    with pytest.raises(openai.AuthenticationError):
        client.models.list()


def test_timeout_is_an_api_timeout_error(client, fake):
    fake.enqueue(Turn().text("late").latency(3))
    with pytest.raises(openai.APITimeoutError) as info:
        client.with_options(timeout=0.5).chat.completions.create(model="gpt-5.5", messages=MESSAGES)
    assert type(info.value) is openai.APITimeoutError


def test_unreachable_backend_is_an_api_connection_error(codex_home, provider):
    client = CodexClient(base_url="http://127.0.0.1:9/backend-api/codex")  # closed port
    with pytest.raises(openai.APIConnectionError) as info:
        client.chat.completions.create(model="gpt-5.5", messages=MESSAGES)
    assert type(info.value) is openai.APIConnectionError


def test_dropped_connection_is_an_api_connection_error(client, fake):
    fake.enqueue(Disconnect())
    with pytest.raises(openai.APIConnectionError) as info:
        client.chat.completions.create(model="gpt-5.5", messages=MESSAGES)
    assert type(info.value) is openai.APIConnectionError


def test_failure_inside_a_stream_raises_an_openai_error_while_iterating(client, fake):
    fake.enqueue(Turn().text("partial answer").failed("server_is_overloaded", "Overloaded."))
    stream = client.chat.completions.create(model="gpt-5.5", messages=MESSAGES, stream=True)
    with pytest.raises(openai.InternalServerError):
        for _ in stream:
            pass


def test_options_base_url_and_login(tmp_path, fake, provider):
    home = tmp_path / "other-home"
    fake.issue_login(home, account_id="acct-other")
    client = CodexClient(codex_home=home, base_url=fake.base_url + "/")
    client.chat.completions.create(model="gpt-5.5", messages=MESSAGES)
    assert fake.last_request.headers["chatgpt-account-id"] == "acct-other"
    assert client.with_options(max_retries=3).max_retries == 3
    assert client.with_options(max_retries=3).codex_home == str(home)


def test_max_retries_retries_passing_failures(client, fake):
    fake.enqueue(HttpError.overloaded(), HttpError(502, {"error": {"message": "bad gateway"}}))
    response = client.with_options(max_retries=2).chat.completions.create(model="gpt-5.5", messages=MESSAGES)
    assert response.choices[0].message.content == "Hello from fake Codex"
    assert fake.responses_count == 3


def test_max_retries_never_retries_a_used_up_plan_or_a_bad_request(client, fake):
    retrying = client.with_options(max_retries=3)
    fake.enqueue(HttpError.usage_limit_reached())
    with pytest.raises(openai.RateLimitError):
        retrying.chat.completions.create(model="gpt-5.5", messages=MESSAGES)
    fake.enqueue(HttpError.bad_request("nope"))
    with pytest.raises(openai.BadRequestError):
        retrying.chat.completions.create(model="gpt-5.5", messages=MESSAGES)
    assert fake.responses_count == 2


def test_no_client_retries_by_default(client, fake):
    fake.enqueue(HttpError.overloaded())
    with pytest.raises(openai.InternalServerError):
        client.chat.completions.create(model="gpt-5.5", messages=MESSAGES)
    assert fake.responses_count == 1


def test_async_client_returns_openai_types(codex_home, fake, provider):
    async def scenario() -> None:
        async with AsyncCodexClient() as client:
            fake.enqueue(Turn().text("async hello"))
            response = await client.chat.completions.create(model="gpt-5.5", messages=MESSAGES)
            assert type(response) is ChatCompletion
            assert response.choices[0].message.content == "async hello"

            fake.enqueue(tool_turn())
            stream = await client.chat.completions.create(
                model="gpt-5.5", messages=MESSAGES, tools=TOOLS, stream=True
            )
            chunks = [chunk async for chunk in stream]
            assert chunks and all(type(c) is ChatCompletionChunk for c in chunks)
            ids = [tc.id for c in chunks for ch in c.choices for tc in ch.delta.tool_calls or [] if tc.id]
            assert ids == ["call_paris", "call_rome"]

            page = await client.models.list()
            assert isinstance(page, AsyncPage) and all(type(m) is Model for m in page.data)
            assert "gpt-5.5" in [m.id async for m in client.models.list()]
            assert (await client.models.retrieve("gpt-5.5")).id == "gpt-5.5"

            fake.enqueue(HttpError.usage_limit_reached())
            with pytest.raises(openai.RateLimitError) as info:
                await client.chat.completions.create(model="gpt-5.5", messages=MESSAGES)
            assert type(info.value) is openai.RateLimitError

            fake.enqueue(Turn().text("partial").failed("server_is_overloaded", "Overloaded."))
            stream = await client.chat.completions.create(model="gpt-5.5", messages=MESSAGES, stream=True)
            with pytest.raises(openai.InternalServerError):
                async for _ in stream:
                    pass

    asyncio.run(scenario())


def test_async_max_retries(codex_home, fake, provider):
    async def scenario() -> ChatCompletion:
        client = AsyncCodexClient(max_retries=1)
        fake.enqueue(HttpError.overloaded())
        return await client.chat.completions.create(model="gpt-5.5", messages=MESSAGES)

    assert type(asyncio.run(scenario())) is ChatCompletion
    assert fake.responses_count == 2


def test_non_litellm_errors_pass_through_unchanged():
    error = ValueError("not ours")
    assert dropin_errors.to_openai_error(error) is error
    native = openai.APIConnectionError(request=dropin_errors.FALLBACK_REQUEST)
    assert dropin_errors.to_openai_error(native) is native


def test_an_unknown_model_is_not_found_as_with_openai(client, fake):
    for stream in (False, True):
        with pytest.raises(openai.NotFoundError) as info:
            client.chat.completions.create(model="gpt-nonexistent", messages=MESSAGES, stream=stream)
        assert type(info.value) is openai.NotFoundError and info.value.status_code == 404
        assert info.value.code == "model_not_found" and "gpt-nonexistent" in info.value.message
    assert fake.responses_count == 0

    async def scenario() -> None:
        with pytest.raises(openai.NotFoundError) as info:
            await AsyncCodexClient().chat.completions.create(model="gpt-nonexistent", messages=MESSAGES)
        assert info.value.status_code == 404

    asyncio.run(scenario())


def test_litellm_still_answers_an_unknown_model_with_a_bad_request(codex_home, fake, provider):
    """Only the drop-in says 404: a proxy's router cools a deployment down on 404s a client can cause."""
    with pytest.raises(litellm.BadRequestError):
        litellm.completion(model="codex/gpt-nonexistent", messages=MESSAGES)
