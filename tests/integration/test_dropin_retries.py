"""One retry budget per call: retries of the drop-in, the provider's turns and the openai client no longer multiply.

Attempts are counted by the fake backend's request log. `CODEX_MAX_RETRIES` is set to its
default (4) in every test here: with it, `max_retries=0` used to make 5 attempts, and a
Router's retries multiplied those again.
"""

from __future__ import annotations

import asyncio

import litellm
import openai
import pytest

from litellm_codex_oauth_provider import AsyncCodexClient, CodexClient
from litellm_codex_oauth_provider.testing.fake_codex import Disconnect, HttpError, Turn

MESSAGES = [{"role": "user", "content": "Say hello"}]
ANSWER = "Hello from fake Codex"


@pytest.fixture(autouse=True)
def default_retries(monkeypatch):
    monkeypatch.setenv("CODEX_MAX_RETRIES", "4")


@pytest.fixture
def client(codex_home, fake, provider) -> CodexClient:
    return CodexClient()


def _text(stream) -> str:
    return "".join(c.choices[0].delta.content or "" for c in stream if c.choices)


FAILURES = {
    "503": HttpError.overloaded(),
    "500": HttpError(500, {"error": {"message": "boom"}}),
    "no answer": Disconnect(),
    "turn cut short": Turn().text("half an ans").cut(),
}


@pytest.mark.parametrize("failure", FAILURES.values(), ids=FAILURES.keys())
@pytest.mark.parametrize("retries", [0, 2])
def test_max_retries_bounds_the_backend_attempts(client, fake, failure, retries):
    fake.set_default(failure)
    with pytest.raises(openai.APIError):
        client.with_options(max_retries=retries).chat.completions.create(model="gpt-5.5", messages=MESSAGES)
    assert fake.responses_count == retries + 1


@pytest.mark.parametrize("retries", [0, 2])
def test_max_retries_bounds_a_stream_cut_before_its_first_chunk(client, fake, retries):
    fake.set_default(Turn().text("never seen").cut(after_events=1))
    stream = client.with_options(max_retries=retries).chat.completions.create(
        model="gpt-5.5", messages=MESSAGES, stream=True
    )
    with pytest.raises(openai.APIConnectionError):
        _text(stream)
    assert fake.responses_count == retries + 1


def test_http_and_turn_failures_share_one_budget(client, fake):
    fake.enqueue(HttpError.overloaded(), Turn().text("half").cut(), Disconnect())
    with pytest.raises(openai.APIConnectionError):
        client.with_options(max_retries=2).chat.completions.create(model="gpt-5.5", messages=MESSAGES)
    assert fake.responses_count == 3
    fake.reset()
    fake.enqueue(HttpError.overloaded(), Turn().text("half").cut())
    reply = client.with_options(max_retries=2).chat.completions.create(model="gpt-5.5", messages=MESSAGES)
    assert reply.choices[0].message.content == ANSWER
    assert fake.responses_count == 3


def test_without_max_retries_the_budget_is_codex_max_retries(client, fake, monkeypatch):
    monkeypatch.setenv("CODEX_MAX_RETRIES", "2")
    fake.set_default(HttpError.overloaded())
    with pytest.raises(openai.InternalServerError):
        client.chat.completions.create(model="gpt-5.5", messages=MESSAGES)
    assert fake.responses_count == 3


def test_a_spent_plan_is_never_retried(client, fake):
    fake.set_default(HttpError.usage_limit_reached())
    with pytest.raises(openai.RateLimitError):
        client.with_options(max_retries=3).chat.completions.create(model="gpt-5.5", messages=MESSAGES)
    assert fake.responses_count == 1


def test_async_client_has_the_same_budget(codex_home, fake, provider):
    async def call(retries: int, stream: bool = False) -> None:
        client = AsyncCodexClient(max_retries=retries)
        if stream:
            chunks = await client.chat.completions.create(model="gpt-5.5", messages=MESSAGES, stream=True)
            async for _ in chunks:
                pass
        else:
            await client.chat.completions.create(model="gpt-5.5", messages=MESSAGES)

    fake.set_default(HttpError.overloaded())
    for retries in (0, 2):
        fake.reset()
        fake.set_default(HttpError.overloaded())
        with pytest.raises(openai.InternalServerError):
            asyncio.run(call(retries))
        assert fake.responses_count == retries + 1
    fake.reset()
    fake.set_default(Turn().text("never seen").cut(after_events=1))
    with pytest.raises(openai.APIConnectionError):
        asyncio.run(call(1, stream=True))
    assert fake.responses_count == 2


def test_litellm_max_retries_is_the_budget(codex_home, fake, provider):
    """LiteLLM hands a call's `max_retries` (and `num_retries`, on its first attempt) to the provider."""
    fake.set_default(HttpError.overloaded())
    with pytest.raises(litellm.ServiceUnavailableError):
        litellm.completion(model="codex/gpt-5.5", messages=MESSAGES, max_retries=1)
    assert fake.responses_count == 2
    fake.reset()
    fake.set_default(HttpError.overloaded())
    with pytest.raises(litellm.ServiceUnavailableError):
        litellm.completion(model="codex/gpt-5.5", messages=MESSAGES, max_retries=0, stream=True)
    assert fake.responses_count == 1


def test_a_router_retries_and_the_provider_adds_none(codex_home, fake, provider):
    router = litellm.Router(
        model_list=[{"model_name": "gpt", "litellm_params": {"model": "codex/gpt-5.5"}}],
        num_retries=2,
        retry_after=0,
    )
    fake.set_default(HttpError.overloaded())
    with pytest.raises(litellm.ServiceUnavailableError):
        router.completion(model="gpt", messages=MESSAGES)
    assert fake.responses_count == 3  # the Router's 1 + 2, not (1 + 2) x (1 + CODEX_MAX_RETRIES)


def test_a_stream_a_router_returned_is_still_sent_again_before_its_first_chunk(codex_home, fake, provider):
    """A Router cannot retry a stream it has handed out, so that re-send is not a second layer."""
    router = litellm.Router(
        model_list=[{"model_name": "gpt", "litellm_params": {"model": "codex/gpt-5.5"}}],
        num_retries=2,
        retry_after=0,
    )
    fake.enqueue(Turn().text("never seen").cut(after_events=1))
    assert _text(router.completion(model="gpt", messages=MESSAGES, stream=True)) == ANSWER
    assert fake.responses_count == 2

    async def astream() -> str:
        chunks = await router.acompletion(model="gpt", messages=MESSAGES, stream=True)
        return "".join([c.choices[0].delta.content or "" async for c in chunks if c.choices])

    fake.reset()
    fake.enqueue(Turn().text("never seen").cut(after_events=1))
    assert asyncio.run(astream()) == ANSWER
    assert fake.responses_count == 2


@pytest.mark.parametrize("retries", [0, 2])
def test_responses_create_retries_passing_failures_within_max_retries(client, fake, retries):
    """LiteLLM's Responses handler has no retries of its own: the drop-in's `max_retries` is the budget."""
    fake.set_default(HttpError.overloaded())
    with pytest.raises(openai.InternalServerError):
        client.with_options(max_retries=retries).responses.create(model="gpt-5.5", input="hi")
    assert fake.responses_count == retries + 1
    fake.reset()
    fake.enqueue(HttpError.overloaded(), Disconnect())
    reply = client.with_options(max_retries=2).responses.create(model="gpt-5.5", input="hi")
    assert reply.output_text == ANSWER
    assert fake.responses_count == 3


def test_responses_create_never_retries_a_spent_plan_or_a_bad_request(client, fake):
    retrying = client.with_options(max_retries=3)
    fake.enqueue(HttpError.usage_limit_reached(resets_in_seconds=60))
    with pytest.raises(openai.RateLimitError) as info:
        retrying.responses.create(model="gpt-5.5", input="hi")
    assert info.value.response.headers["retry-after"] == "60"
    fake.enqueue(HttpError.bad_request("nope"))
    with pytest.raises(openai.BadRequestError):
        retrying.responses.create(model="gpt-5.5", input="hi")
    assert fake.responses_count == 2


def test_async_responses_create_has_the_same_retries(codex_home, fake, provider):
    async def call(retries: int) -> str:
        reply = await AsyncCodexClient(max_retries=retries).responses.create(model="gpt-5.5", input="hi")
        return reply.output_text

    fake.set_default(HttpError.overloaded())
    with pytest.raises(openai.InternalServerError):
        asyncio.run(call(1))
    assert fake.responses_count == 2
    fake.reset()
    fake.enqueue(HttpError.overloaded())
    assert asyncio.run(call(1)) == ANSWER
    assert fake.responses_count == 2
