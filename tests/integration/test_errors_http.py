"""HTTP-level failures of the backend (usage limits, 401, 400, 5xx, a dropped connection), retries and
backoff, as the LiteLLM errors callers handle."""

from __future__ import annotations

import datetime as dt

import httpx
import litellm
import openai
import pytest
import respx

from litellm_codex_oauth_provider.auth.manager import CodexTokenManager
from litellm_codex_oauth_provider.retries import backoff_seconds
from litellm_codex_oauth_provider.testing.fake_codex import Disconnect, HttpError, Turn
from litellm_codex_oauth_provider.transport import CodexOpenAIClient

MODEL = "codex/gpt-5.5"
ASK = [{"role": "user", "content": "hi"}]


@pytest.fixture
def retries(monkeypatch):
    """Let the client retry (conftest sets 0); the provider's clients read it when first made."""

    def set_retries(count: int) -> int:
        monkeypatch.setenv("CODEX_MAX_RETRIES", str(count))
        return count

    return set_retries


def local_reset_times(seconds: int) -> set[str]:
    """The reset as the message prints it, allowing for the minute turning over during the test."""
    now = dt.datetime.now().astimezone()
    return {(now + dt.timedelta(seconds=seconds + d)).strftime("%Y-%m-%d %H:%M") for d in (-60, 0, 60)}


# -- 8. usage limits ------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [429, 404])
def test_usage_limit_is_a_rate_limit_error_with_plan_reset_and_retry_after(
    codex_home, fake, provider, retries, status
):
    retries(3)
    limit = HttpError.usage_limit_reached(plan_type="pro", resets_in_seconds=5400)
    fake.enqueue(HttpError(status, limit.json_body))
    with pytest.raises(litellm.RateLimitError) as info:
        litellm.completion(model=MODEL, messages=ASK)
    text = str(info.value)
    assert "ChatGPT pro plan" in text and "(in 5400 s)" in text
    assert any(stamp in text for stamp in local_reset_times(5400))
    assert info.value.response.headers["retry-after"] == "5400"
    assert fake.responses_count == 1  # never retried: it cannot succeed before the reset


def test_usage_limit_without_seconds_uses_resets_at(codex_home, fake, provider):
    resets_at = int(dt.datetime.now(dt.UTC).timestamp()) + 600
    body = {"error": {"type": "usage_limit_reached", "plan_type": "plus", "resets_at": resets_at}}
    fake.enqueue(HttpError(429, body))
    with pytest.raises(litellm.RateLimitError) as info:
        litellm.completion(model=MODEL, messages=ASK)
    assert 595 <= int(info.value.response.headers["retry-after"]) <= 600


def test_usage_limit_on_a_stream_fails_the_call_before_any_chunk(codex_home, fake, provider):
    fake.enqueue(HttpError.usage_limit_reached(resets_in_seconds=60))
    with pytest.raises(litellm.RateLimitError, match="in 60 s"):
        litellm.completion(model=MODEL, messages=ASK, stream=True)


async def test_usage_limit_on_an_async_stream(codex_home, fake, provider):
    fake.enqueue(HttpError.usage_limit_reached(resets_in_seconds=60))
    with pytest.raises(litellm.RateLimitError, match="in 60 s"):
        stream = await litellm.acompletion(model=MODEL, messages=ASK, stream=True)
        async for _ in stream:
            pass


@pytest.mark.parametrize("status", [429, 403])
def test_usage_not_included_says_the_plan_has_no_codex(codex_home, fake, provider, status):
    fake.enqueue(HttpError(status, {"error": {"type": "usage_not_included", "message": "nope"}}))
    with pytest.raises(litellm.PermissionDeniedError, match="does not include Codex"):
        litellm.completion(model=MODEL, messages=ASK)
    assert fake.responses_count == 1


def test_plain_rate_limit_reads_retry_after_from_the_message(codex_home, fake, provider, retries):
    retries(2)
    error = {
        "error": {"code": "rate_limit_exceeded", "message": "Rate limit reached. Please try again in 2.5s."}
    }
    fake.enqueue(HttpError(429, error))
    with pytest.raises(litellm.RateLimitError) as info:
        litellm.completion(model=MODEL, messages=ASK)
    assert info.value.response.headers["retry-after"] == "3"
    assert fake.responses_count == 1


# -- 9. login and request errors ------------------------------------------------------------------


def test_second_401_after_the_refresh_is_an_authentication_error(fake, provider, tmp_path, monkeypatch):
    home = tmp_path / "home-401"
    fake.issue_login(home)
    monkeypatch.setenv("CODEX_HOME", str(home))
    fake.enqueue(HttpError.unauthorized(), HttpError.unauthorized())
    with pytest.raises(litellm.AuthenticationError, match="codex login"):
        litellm.completion(model=MODEL, messages=ASK)
    assert fake.responses_count == 2 and fake.refresh_requests == 1


def test_bad_request_carries_the_backends_message_and_is_not_retried(codex_home, fake, provider, retries):
    retries(3)
    fake.enqueue(HttpError.bad_request("Unsupported parameter: frobnicate"))
    with pytest.raises(litellm.BadRequestError, match="Unsupported parameter: frobnicate") as info:
        litellm.completion(model=MODEL, messages=ASK)
    assert "Error code" not in str(info.value)
    assert fake.responses_count == 1


def test_bad_request_names_the_parameter(codex_home, fake, provider):
    error = {
        "message": "Invalid type for 'input[1].content'",
        "type": "invalid_request_error",
        "param": "input[1].content",
        "code": "invalid_type",
    }
    fake.enqueue(HttpError(400, {"error": error}))
    with pytest.raises(litellm.BadRequestError, match=r"parameter: input\[1\]\.content"):
        litellm.completion(model=MODEL, messages=ASK)


def test_context_length_status_is_a_context_window_error(codex_home, fake, provider):
    error = {
        "message": "Your input exceeds the context window of this model.",
        "type": "invalid_request_error",
        "code": "context_length_exceeded",
        "param": "input",
    }
    fake.enqueue(HttpError(400, {"error": error}))
    with pytest.raises(litellm.ContextWindowExceededError, match="context window"):
        litellm.completion(model=MODEL, messages=ASK)


# -- 10. retries ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("answer", "error"),
    [
        (HttpError(500, {"error": {"message": "boom"}}), litellm.InternalServerError),
        (HttpError(502, {"error": {"message": "bad gateway"}}), litellm.InternalServerError),
        (HttpError.overloaded("server_is_overloaded"), litellm.ServiceUnavailableError),
        (HttpError.overloaded("slow_down"), litellm.ServiceUnavailableError),
        (Disconnect(), litellm.APIConnectionError),
    ],
    ids=["500", "502", "503-overloaded", "503-slow_down", "connection"],
)
def test_passing_failures_are_retried_a_bounded_number_of_times_then_surface(
    codex_home, fake, provider, retries, answer, error
):
    count = retries(2)
    fake.set_default(answer)
    with pytest.raises(error):
        litellm.completion(model=MODEL, messages=ASK)
    assert fake.responses_count == count + 1


async def test_a_retry_that_succeeds_is_invisible_to_the_caller(codex_home, fake, provider, retries):
    retries(3)
    fake.enqueue(HttpError.overloaded(), Disconnect(), HttpError(500, {}), Turn().text("made it"))
    response = await litellm.acompletion(model=MODEL, messages=ASK)
    assert response.choices[0].message.content == "made it"
    assert fake.responses_count == 4


def test_a_retry_the_calls_timeout_leaves_no_time_for_is_not_started(codex_home, fake, provider, retries):
    retries(3)
    fake.set_default(HttpError.overloaded(retry_after=30))
    with pytest.raises(litellm.Timeout, match="no time is left for another attempt"):
        litellm.completion(model=MODEL, messages=ASK, timeout=5)
    assert fake.responses_count == 1  # the 30 s wait was never begun


def test_default_retry_count_is_the_clis_four(codex_home, monkeypatch):
    monkeypatch.delenv("CODEX_MAX_RETRIES")
    client = CodexOpenAIClient(base_url="http://127.0.0.1:9", token_manager=CodexTokenManager())
    assert client.max_retries == 4


def test_backoff_starts_at_200ms_doubles_with_jitter_and_is_capped():
    for attempt, base in enumerate([0.2, 0.4, 0.8, 1.6, 3.2, 6.4, 8.0, 8.0]):
        delays = {backoff_seconds(attempt) for _ in range(30)}
        assert all(base * 0.9 <= d <= base * 1.1 for d in delays)
        assert len(delays) > 1  # jittered


@respx.mock
def test_client_sleeps_by_the_schedule_and_honours_retry_after(codex_home, monkeypatch):
    sleeps: list[float] = []
    monkeypatch.setattr("openai._base_client.time.sleep", sleeps.append)
    route = respx.post("http://codex.test/responses").mock(
        side_effect=[
            httpx.Response(503, json={}),
            httpx.Response(503, json={}),
            httpx.Response(503, json={}, headers={"retry-after": "3"}),
            httpx.Response(503, json={}),
        ]
    )
    client = CodexOpenAIClient(base_url="http://codex.test", token_manager=CodexTokenManager(), max_retries=3)
    with pytest.raises(openai.InternalServerError):
        client.responses.create(model="gpt-5.5", input="hi", stream=True)
    assert route.call_count == 4
    assert 0.18 <= sleeps[0] <= 0.22 and 0.36 <= sleeps[1] <= 0.44 and sleeps[2] == 3.0
