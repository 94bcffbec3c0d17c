"""The backend's plan-usage headers (`x-codex-*`) reach the caller on every response, streamed or not."""

from __future__ import annotations

import litellm
import pytest

from litellm_codex_oauth_provider.testing.fake_codex import Turn, default_rate_limit_headers

MODEL = "codex/gpt-5.5"
ASK = [{"role": "user", "content": "hi"}]


@pytest.fixture
def headers(fake) -> dict[str, str]:
    """Distinct values per test, so a stale copy could not pass."""
    values = default_rate_limit_headers()
    values["x-codex-primary-used-percent"] = "41.5"
    values["x-codex-secondary-used-percent"] = "77.0"
    fake.rate_limit_headers = values
    return {f"llm_provider-{k}": v for k, v in values.items()}


def test_non_streamed_response_carries_every_codex_header(codex_home, fake, provider, headers):
    response = litellm.completion(model=MODEL, messages=ASK)
    got = response._hidden_params["additional_headers"]
    assert {k: got[k] for k in headers} == headers
    assert not any(k.startswith("llm_provider-x-codex") and k not in headers for k in got)


async def test_async_non_streamed_response_carries_them(codex_home, fake, provider, headers):
    response = await litellm.acompletion(model=MODEL, messages=ASK)
    assert headers.items() <= response._hidden_params["additional_headers"].items()


def test_sync_stream_carries_them_before_the_first_chunk(codex_home, fake, provider, headers):
    stream = litellm.completion(model=MODEL, messages=ASK, stream=True)
    assert headers.items() <= stream._hidden_params["additional_headers"].items()
    list(stream)


async def test_async_stream_carries_them_from_the_first_chunk_on(codex_home, fake, provider, headers):
    stream = await litellm.acompletion(model=MODEL, messages=ASK, stream=True)
    first = await stream.__anext__()
    assert first.choices
    assert headers.items() <= stream._hidden_params["additional_headers"].items()
    [c async for c in stream]


def test_each_response_carries_its_own_values(codex_home, fake, provider, headers):
    litellm.completion(model=MODEL, messages=ASK)
    fake.rate_limit_headers = {**fake.rate_limit_headers, "x-codex-primary-used-percent": "99.0"}
    response = litellm.completion(model=MODEL, messages=ASK)
    assert (
        response._hidden_params["additional_headers"]["llm_provider-x-codex-primary-used-percent"] == "99.0"
    )


def test_n_choices_carry_them_too(codex_home, fake, provider, headers):
    fake.set_default(Turn().text("x"))
    response = litellm.completion(model=MODEL, messages=ASK, n=2)
    assert headers.items() <= response._hidden_params["additional_headers"].items()


def test_other_providers_streams_are_left_alone(codex_home, fake, provider):
    stream = litellm.completion(model="openai/gpt-4o", messages=ASK, stream=True, mock_response="hello")
    assert not any(k.startswith("llm_provider-x-codex") for k in stream._hidden_params["additional_headers"])
    assert "codex_dropped_params" not in stream._hidden_params
