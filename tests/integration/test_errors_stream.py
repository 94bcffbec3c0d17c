"""Turns that fail inside the event stream, cut streams, turn retries, timeouts."""

from __future__ import annotations

import time

import httpx
import litellm
import pytest
import respx

from litellm_codex_oauth_provider.testing.fake_codex import SseEvent, Turn

MODEL = "codex/gpt-5.5"
ASK = [{"role": "user", "content": "hi"}]


def complete(**kw):
    return litellm.completion(model=MODEL, messages=ASK, **kw)


def stream_text(**kw) -> str:
    return "".join(c.choices[0].delta.content or "" for c in complete(stream=True, **kw) if c.choices)


def original(exc: BaseException) -> BaseException:
    """LiteLLM reports an error after the first chunk as MidStreamFallbackError wrapping ours."""
    return getattr(exc, "original_exception", None) or exc


# -- response.failed, response.incomplete, error ------------------------------------------------

FAILED = [
    ("context_length_exceeded", "Your input exceeds the context window.", litellm.ContextWindowExceededError),
    ("insufficient_quota", "You exceeded your current quota.", litellm.RateLimitError),
    ("usage_limit_reached", "The usage limit has been reached.", litellm.RateLimitError),
    ("rate_limit_exceeded", "Rate limit reached. Please try again in 11.5s.", litellm.RateLimitError),
    ("usage_not_included", "Not included.", litellm.PermissionDeniedError),
    ("invalid_prompt", "Invalid prompt: flagged.", litellm.BadRequestError),
    ("server_is_overloaded", "The server is overloaded.", litellm.ServiceUnavailableError),
    ("server_error", "Something went wrong.", litellm.InternalServerError),
    ("some_new_code", "Something else.", litellm.InternalServerError),
]
#: What the caller reads; our wording where the backend's says less than it should.
SAYS = {
    "usage_limit_reached": "usage limit of your ChatGPT plan",
    "usage_not_included": "does not include Codex",
}


@pytest.mark.parametrize(("code", "message", "error"), FAILED, ids=[f[0] for f in FAILED])
def test_failed_turn_is_the_matching_litellm_error(codex_home, fake, provider, code, message, error):
    fake.enqueue(Turn().reasoning("hm").failed(code, message))
    with pytest.raises(error) as info:
        complete()
    assert SAYS.get(code, message.rstrip(".")) in str(info.value)


@pytest.mark.parametrize(("code", "message", "error"), FAILED[:4], ids=[f[0] for f in FAILED[:4]])
async def test_failed_turn_on_an_async_stream_raises_the_same_error(
    codex_home, fake, provider, code, message, error
):
    fake.enqueue(Turn().text("partial").failed(code, message))
    stream = await litellm.acompletion(model=MODEL, messages=ASK, stream=True)
    with pytest.raises(Exception) as info:
        async for _ in stream:
            pass
    assert isinstance(original(info.value), error)


def test_rate_limit_in_the_stream_carries_retry_after_from_the_message(codex_home, fake, provider):
    fake.enqueue(Turn().failed("rate_limit_exceeded", "Rate limit reached. Please try again in 11.5s."))
    with pytest.raises(litellm.RateLimitError) as info:
        complete()
    assert info.value.response.headers["retry-after"] == "12"


def test_incomplete_for_max_output_tokens_is_a_normal_answer_with_length(codex_home, fake, provider):
    fake.enqueue(Turn().text("cut off here").incomplete("max_output_tokens"))
    response = complete()
    assert response.choices[0].finish_reason == "length"
    assert response.choices[0].message.content == "cut off here"


def test_incomplete_for_max_output_tokens_streams_with_length(codex_home, fake, provider):
    fake.enqueue(Turn().text("cut off here").incomplete("max_output_tokens"))
    chunks = [c for c in complete(stream=True) if c.choices]
    assert [c.choices[0].finish_reason for c in chunks if c.choices[0].finish_reason] == ["length"]


def test_incomplete_for_content_filter_finishes_with_content_filter(codex_home, fake, provider):
    fake.enqueue(Turn().text("").incomplete("content_filter"))
    assert complete().choices[0].finish_reason == "content_filter"


def test_incomplete_for_another_reason_is_an_error(codex_home, fake, provider):
    fake.enqueue(Turn().text("x").incomplete("interrupted"))
    with pytest.raises(litellm.InternalServerError, match="interrupted"):
        complete()


@pytest.mark.parametrize(
    ("code", "error"),
    [
        ("server_error", litellm.InternalServerError),
        ("context_length_exceeded", litellm.ContextWindowExceededError),
    ],
)
def test_bare_error_event_is_the_matching_error(codex_home, fake, provider, code, error):
    fake.enqueue(Turn().text("partial").error_event(code, "it broke"))
    with pytest.raises(error, match="it broke"):
        complete()


@respx.mock
def test_error_event_in_the_openai_shape_is_mapped_too(codex_home, provider, monkeypatch):
    monkeypatch.setenv("CODEX_API_BASE", "http://codex.test/backend-api/codex")
    respx.get("http://codex.test/backend-api/codex/models").mock(return_value=httpx.Response(503))
    # The openai SDK's shape nests the details under `error`; the backend's own error event is flat.
    details = {
        "type": "invalid_request_error",
        "code": "context_length_exceeded",
        "message": "Input too long",
    }
    error = SseEvent("error", {"type": "error", "error": {**details, "param": "input"}})
    respx.post("http://codex.test/backend-api/codex/responses").mock(
        return_value=httpx.Response(
            200, content=b"".join(error.encode()), headers={"content-type": "text/event-stream"}
        )
    )
    with pytest.raises(litellm.ContextWindowExceededError, match="Input too long"):
        complete()


# -- streams that end early -----------------------------------------------------------------------


@pytest.mark.parametrize("abort", [False, True], ids=["eof", "reset"])
def test_a_cut_stream_is_an_error_never_a_short_answer(codex_home, fake, provider, abort):
    fake.enqueue(Turn().text("The first half of").cut(abort=abort))
    with pytest.raises(litellm.APIConnectionError):
        complete()


@pytest.mark.parametrize("abort", [False, True], ids=["eof", "reset"])
def test_a_cut_stream_raises_to_the_stream_consumer_after_its_chunks(codex_home, fake, provider, abort):
    fake.enqueue(Turn().text("The first half of", chunks=3).cut(abort=abort))
    received = []
    with pytest.raises(Exception) as info:
        for chunk in complete(stream=True):
            received.append(chunk)
    assert isinstance(original(info.value), litellm.APIConnectionError)
    assert received and not any(c.choices and c.choices[0].finish_reason for c in received)


async def test_a_cut_async_stream_raises_too(codex_home, fake, provider):
    fake.enqueue(Turn().text("The first half of").cut(after_events=8))
    stream = await litellm.acompletion(model=MODEL, messages=ASK, stream=True)
    with pytest.raises(Exception) as info:
        async for _ in stream:
            pass
    assert isinstance(original(info.value), litellm.APIConnectionError)


# -- retries of turns that broke off --------------------------------------------------------------


def test_non_streamed_turn_that_broke_off_is_sent_again(codex_home, fake, provider, monkeypatch):
    monkeypatch.setenv("CODEX_MAX_RETRIES", "2")
    fake.enqueue(
        Turn().text("lost").cut(), Turn().failed("server_is_overloaded", "busy"), Turn().text("whole")
    )
    assert complete().choices[0].message.content == "whole"
    assert fake.responses_count == 3


async def test_async_non_streamed_turn_that_broke_off_is_sent_again(codex_home, fake, provider, monkeypatch):
    monkeypatch.setenv("CODEX_MAX_RETRIES", "1")
    fake.enqueue(Turn().text("lost").cut(abort=True), Turn().text("whole"))
    response = await litellm.acompletion(model=MODEL, messages=ASK)
    assert response.choices[0].message.content == "whole"


def test_turn_retries_are_bounded(codex_home, fake, provider, monkeypatch):
    monkeypatch.setenv("CODEX_MAX_RETRIES", "2")
    fake.set_default(Turn().text("lost").cut())
    with pytest.raises(litellm.APIConnectionError):
        complete()
    assert fake.responses_count == 3


def test_failures_about_the_request_are_not_sent_again(codex_home, fake, provider, monkeypatch):
    monkeypatch.setenv("CODEX_MAX_RETRIES", "3")
    fake.set_default(Turn().failed("context_length_exceeded", "too long"))
    with pytest.raises(litellm.ContextWindowExceededError):
        complete()
    assert fake.responses_count == 1


def test_stream_that_broke_before_its_first_chunk_is_sent_again(codex_home, fake, provider, monkeypatch):
    monkeypatch.setenv("CODEX_MAX_RETRIES", "1")
    fake.enqueue(
        Turn().text("x").failed("server_is_overloaded", "busy").cut(after_events=2), Turn().text("fine")
    )
    assert stream_text() == "fine"
    assert fake.responses_count == 2


async def test_async_stream_that_broke_before_its_first_chunk_is_sent_again(
    codex_home, fake, provider, monkeypatch
):
    monkeypatch.setenv("CODEX_MAX_RETRIES", "1")
    fake.enqueue(Turn().failed("server_is_overloaded", "busy"), Turn().text("fine"))
    stream = await litellm.acompletion(model=MODEL, messages=ASK, stream=True)
    assert "".join([c.choices[0].delta.content or "" async for c in stream if c.choices]) == "fine"


def test_stream_that_broke_after_a_chunk_is_not_sent_again(codex_home, fake, provider, monkeypatch):
    monkeypatch.setenv("CODEX_MAX_RETRIES", "3")
    fake.enqueue(Turn().text("already shown").cut(), Turn().text("must not be appended"))
    with pytest.raises(Exception, match="before the turn completed"):
        stream_text()
    assert fake.responses_count == 1


# -- timeouts -------------------------------------------------------------------------------------


def elapsed(fn) -> tuple[float, BaseException]:
    start = time.monotonic()
    with pytest.raises(Exception) as info:
        fn()
    return time.monotonic() - start, original(info.value)


def test_litellm_timeout_bounds_the_wait_for_the_answer(codex_home, fake, provider):
    fake.enqueue(Turn().text("late").latency(5))
    took, error = elapsed(lambda: complete(timeout=0.5))
    assert isinstance(error, litellm.Timeout)
    assert took < 3


def test_litellm_timeout_bounds_a_slowly_trickling_non_streamed_answer(codex_home, fake, provider):
    fake.enqueue(Turn().text("a b c d e f g h i j", chunks=10).delta_delay(0.3))
    took, error = elapsed(lambda: complete(timeout=0.8))
    assert isinstance(error, litellm.Timeout)
    assert took < 2.5


@pytest.mark.parametrize("stream", [False, True])
def test_idle_stream_timeout_ends_a_stream_that_went_quiet(codex_home, fake, provider, monkeypatch, stream):
    monkeypatch.setenv("CODEX_STREAM_IDLE_TIMEOUT", "0.4")
    monkeypatch.setenv("CODEX_MAX_RETRIES", "2")  # a timeout is not retried: each would wait again
    fake.enqueue(Turn().text("one two three", chunks=3).delta_delay(5))
    took, error = elapsed(lambda: list(complete(stream=True)) if stream else complete())
    assert isinstance(error, litellm.Timeout)
    assert took < 4
    assert fake.responses_count == 1


def test_idle_timeout_does_not_limit_a_long_steady_stream(codex_home, fake, provider, monkeypatch):
    monkeypatch.setenv("CODEX_STREAM_IDLE_TIMEOUT", "0.5")
    fake.enqueue(Turn().text("x" * 12, chunks=12).delta_delay(0.1))  # 1.2 s in all, never 0.5 s quiet
    assert complete().choices[0].message.content == "x" * 12


def test_client_retries_stop_at_the_calls_timeout(codex_home, fake, provider, monkeypatch):
    monkeypatch.setenv("CODEX_MAX_RETRIES", "4")
    fake.set_default(Turn().text("late").latency(5))  # every attempt would time out
    took, error = elapsed(lambda: complete(timeout=0.6))
    assert isinstance(error, litellm.Timeout)
    assert took < 3  # not five attempts of 0.6 s plus backoff
    assert fake.responses_count <= 2
