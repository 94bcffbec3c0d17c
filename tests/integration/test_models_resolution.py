"""The catalog through `litellm.completion`: resolution happens before anything is sent."""

from __future__ import annotations

import asyncio

import litellm
import pytest

MESSAGES = [{"role": "user", "content": "hi"}]


def test_an_unknown_model_is_a_bad_request_before_any_turn(codex_home, fake, provider) -> None:
    with pytest.raises(litellm.BadRequestError) as info:
        litellm.completion(model="codex/gpt-6-sool-high", messages=MESSAGES)
    assert "Did you mean codex/gpt-6-sol" in str(info.value)
    assert fake.models_requests == 1 and fake.responses_count == 0


def test_an_unknown_model_is_a_bad_request_on_the_async_path_too(codex_home, fake, provider) -> None:
    async def go():
        return await litellm.acompletion(model="codex/gpt-6-sool", messages=MESSAGES)

    with pytest.raises(litellm.BadRequestError, match="gpt-6-sool"):
        asyncio.run(go())
    assert fake.responses_count == 0


def test_when_the_catalog_cannot_be_fetched_an_unknown_id_is_sent_as_written(
    codex_home, fake, provider
) -> None:
    fake.models_status = 502
    litellm.completion(model="codex/gpt-7-preview-high", messages=MESSAGES)
    body = fake.last_request.body
    assert body["model"] == "gpt-7-preview" and body["reasoning"]["effort"] == "high"


def test_a_retired_id_is_sent_as_its_successor(codex_home, fake, provider) -> None:
    litellm.completion(model="codex/gpt-5-codex-high", messages=MESSAGES)
    body = fake.last_request.body
    assert body["model"] == "gpt-5.5" and body["reasoning"]["effort"] == "high"


def test_calls_within_the_ttl_fetch_the_catalog_once(codex_home, fake, provider) -> None:
    async def twice():
        for _ in range(2):
            await litellm.acompletion(model="codex/gpt-6-sol", messages=MESSAGES)

    for _ in range(3):
        litellm.completion(model="codex/gpt-6-sol", messages=MESSAGES)
    asyncio.run(twice())
    assert fake.models_requests == 1 and fake.responses_count == 5
