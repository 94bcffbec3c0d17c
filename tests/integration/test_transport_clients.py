"""The subclassed OpenAI clients: respx stands in for the backend of the sync client; the pooled async
client (on the aiohttp transport, which respx cannot see) talks to the fake over a socket."""

from __future__ import annotations

import httpx
import openai
import pytest
import respx

from litellm_codex_oauth_provider.auth.manager import CodexTokenManager
from litellm_codex_oauth_provider.testing.fake_codex import HttpError, Turn
from litellm_codex_oauth_provider.transport import ClientPool, CodexOpenAIClient

BASE = "http://codex.test/backend-api/codex"


def sse(turn: Turn | None = None) -> httpx.Response:
    return httpx.Response(
        200, content=(turn or Turn().text("hi")).render(), headers={"content-type": "text/event-stream"}
    )


@respx.mock
def test_sync_client_sends_login_and_codex_headers_not_an_api_key(codex_home):
    route = respx.post(f"{BASE}/responses").mock(return_value=sse())
    client = CodexOpenAIClient(base_url=BASE, token_manager=CodexTokenManager())
    events = list(client.responses.create(model="gpt-5.5", input="hi", stream=True))
    assert events[-1].type == "response.completed"
    headers = route.calls.last.request.headers
    assert headers["authorization"].startswith("Bearer ey")
    assert headers["chatgpt-account-id"] == "acct-123"
    assert headers["originator"] == "codex_cli_rs"
    assert "codex-oauth" not in headers["authorization"]


async def test_async_client_sends_the_same_headers(codex_home, fake):
    # The pooled async client sends through LiteLLM's aiohttp transport, which respx cannot see:
    # the real fake over a socket records what arrived.
    pool = ClientPool(CodexTokenManager())
    stream = await pool.async_client(fake.base_url).responses.create(model="gpt-5.5", input="hi", stream=True)
    assert [e.type async for e in stream][-1] == "response.completed"
    headers = fake.last_request.headers
    assert fake.last_request.bearer.startswith("ey") and "codex-oauth" not in headers["authorization"]
    assert headers["chatgpt-account-id"] == "acct-123"
    assert headers["originator"] == "codex_cli_rs"
    await pool.aclose()


async def test_open_turn_posts_the_body_as_it_is_and_streams_typed_events(codex_home, fake):
    pool = ClientPool(CodexTokenManager())
    body = {"model": "gpt-5.5", "stream": True, "input": [], "store": False, "x_unknown": {"kept": 1}}
    stream = await pool.async_client(fake.base_url).open_turn(body, headers={"session_id": "s-1"})
    events = [event async for event in stream]
    assert isinstance(events[-1], openai.types.responses.ResponseCompletedEvent)
    assert fake.last_request.body == body
    assert fake.last_request.headers["session_id"] == "s-1"
    await pool.aclose()


@respx.mock
@pytest.mark.parametrize("status", [429, 404])
def test_usage_limits_are_never_retried_by_the_client(codex_home, status):
    error = HttpError.usage_limit_reached(plan_type="plus", resets_in_seconds=60)
    route = respx.post(f"{BASE}/responses").mock(return_value=httpx.Response(status, json=error.json_body))
    client = CodexOpenAIClient(base_url=BASE, token_manager=CodexTokenManager(), max_retries=3)
    with pytest.raises(openai.APIStatusError):  # mapped to LiteLLM's exceptions by the provider
        client.responses.create(model="gpt-5.5", input="hi", stream=True)
    assert route.call_count == 1


@respx.mock
def test_server_errors_are_retried_by_the_client(codex_home):
    route = respx.post(f"{BASE}/responses").mock(side_effect=[httpx.Response(503, json={}), sse()])
    client = CodexOpenAIClient(base_url=BASE, token_manager=CodexTokenManager(), max_retries=2)
    list(client.responses.create(model="gpt-5.5", input="hi", stream=True))
    assert route.call_count == 2


def test_pool_reuses_one_client_per_base_url(codex_home):
    pool = ClientPool(CodexTokenManager())
    assert pool.sync_client(BASE) is pool.sync_client(BASE)
    assert pool.sync_client(BASE) is not pool.sync_client(BASE + "/other")
    pool.close()
