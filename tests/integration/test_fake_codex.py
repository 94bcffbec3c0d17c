"""Tests of the fake Codex backend itself, so other tests can trust it."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import openai
import pydantic
import pytest

from litellm_codex_oauth_provider.testing.fake_codex import (
    DEFAULT_TEXT,
    TERMINAL_EVENTS,
    FakeCodexBackend,
    HttpError,
    Turn,
    parse_sse,
)
from litellm_codex_oauth_provider.testing.logins import CLIENT_ID, decode_jwt, read_auth_file

BODY = {"model": "gpt-5.5", "input": "hi", "stream": True, "store": False}


@pytest.fixture
def fake() -> Iterator[FakeCodexBackend]:
    with FakeCodexBackend() as backend:
        yield backend


def typed_events(fake: FakeCodexBackend, *, strict: bool) -> list[object]:
    """Stream one turn through the openai SDK; `strict` validates every event fully."""
    client = openai.OpenAI(base_url=fake.base_url, api_key="x", _strict_response_validation=strict)
    with client:
        return list(client.responses.create(model="gpt-5.5", input="hi", stream=True))


def post_turn(fake: FakeCodexBackend, **body: object) -> httpx.Response:
    return httpx.post(fake.responses_url, json=BODY | body, timeout=10)


TURNS = {
    "default": None,
    "two_function_calls": Turn()
    .function_call("get_weather", {"city": "Paris"}, call_id="call_a")
    .function_call("get_time", '{"tz": "CET"}', call_id="call_b"),
    "reasoning": Turn().reasoning("thinking about it", encrypted_content="enc-abc").text("Hello world"),
}


@pytest.mark.parametrize("name", TURNS)
@pytest.mark.parametrize("strict", [False, True])
def test_openai_sdk_parses_every_event_typed(fake: FakeCodexBackend, name: str, strict: bool) -> None:
    fake.openai_compat = strict  # the real usage block lacks cache_write_tokens, which strict needs
    if TURNS[name] is not None:
        fake.enqueue(TURNS[name])
    events = typed_events(fake, strict=strict)
    assert all(isinstance(event, pydantic.BaseModel) for event in events)
    assert [event.sequence_number for event in events] == list(range(len(events)))
    completed = events[-1]
    assert completed.type == "response.completed"
    assert completed.response.output == []
    assert completed.response.usage.total_tokens > 0
    done = [event.item for event in events if event.type == "response.output_item.done"]
    if name == "default":
        assert done[0].content[0].text == DEFAULT_TEXT
    elif name == "two_function_calls":
        assert [(item.call_id, item.name) for item in done] == [
            ("call_a", "get_weather"),
            ("call_b", "get_time"),
        ]
        assert [e.output_index for e in events if e.type == "response.output_item.added"] == [0, 1]
    else:
        assert done[0].type == "reasoning" and done[0].encrypted_content == "enc-abc"
        assert done[0].summary[0].text == "thinking about it"


def test_endings_come_back_typed(fake: FakeCodexBackend) -> None:
    fake.enqueue(
        Turn().text("partial").incomplete("max_output_tokens"),
        Turn().failed("context_length_exceeded", "too long"),
        Turn().error_event("server_error", "boom"),
    )
    incomplete, failed, error = (typed_events(fake, strict=False)[-1] for _ in range(3))
    assert incomplete.response.incomplete_details.reason == "max_output_tokens"
    # openai's ResponseError.code is a closed Literal without the Codex codes: lenient parsing keeps it
    assert failed.type == "response.failed" and failed.response.error.code == "context_length_exceeded"
    assert error.type == "error" and error.message == "boom"


def test_cut_ends_without_terminal_event(fake: FakeCodexBackend) -> None:
    fake.enqueue(Turn().text("Hello world").cut(), Turn().text("Hello").cut(after_events=3))
    first, second = post_turn(fake), post_turn(fake)
    types = [name for name, _ in parse_sse(first.text)]
    assert "response.output_item.done" in types and not TERMINAL_EVENTS & set(types)
    assert len(parse_sse(second.text)) == 3
    fake.enqueue(Turn().text("Hello").cut(abort=True))
    with pytest.raises(httpx.RemoteProtocolError):
        post_turn(fake)


def test_http_errors_queue_handler_and_rate_limit_headers(fake: FakeCodexBackend) -> None:
    fake.enqueue(HttpError.usage_limit_reached(resets_in_seconds=60), HttpError.overloaded())
    limited, overloaded, ok = post_turn(fake), post_turn(fake), post_turn(fake)
    assert limited.status_code == 429 and limited.json()["error"]["type"] == "usage_limit_reached"
    assert overloaded.json()["error"]["code"] == "server_is_overloaded"
    assert (
        ok.headers["x-codex-primary-used-percent"] == fake.rate_limit_headers["x-codex-primary-used-percent"]
    )
    fake.handler = lambda record: Turn().text(record.body["input"].upper())
    assert "SHOUT" in post_turn(fake, input="shout").text
    assert post_turn(fake, temperature=0.2).json() == {"detail": "Unsupported parameter: temperature"}
    assert [r.status for r in fake.requests] == [429, 503, 200, 200, 400]
    fake.handler = lambda record: 1 / 0
    assert post_turn(fake).status_code == 500 and isinstance(fake.errors[0], ZeroDivisionError)


def test_render_gives_the_same_sse_without_a_server() -> None:
    events = parse_sse(Turn().text("Hi there", chunks=2).render())
    assert [data["delta"] for name, data in events if name == "response.output_text.delta"] == [
        "Hi t",
        "here",
    ]
    assert events[-1][0] == "response.completed" and events[-1][1]["sequence_number"] == len(events) - 1


def test_big_text_streams_in_chunks(fake: FakeCodexBackend) -> None:
    fake.enqueue(Turn().big_text(300_000, chunk_size=1000))
    events = parse_sse(post_turn(fake).content)
    deltas = [data["delta"] for name, data in events if name == "response.output_text.delta"]
    assert len(deltas) == 300 and {len(delta) for delta in deltas} == {1000}
    done = next(data for name, data in events if name == "response.output_text.done")
    assert done["text"] == "".join(deltas)


def test_models_etag_and_304(fake: FakeCodexBackend) -> None:
    first = httpx.get(fake.models_url, params={"client_version": "0.169.0"})
    assert first.status_code == 200 and "gpt-5.5" in [m["slug"] for m in first.json()["models"]]
    again = httpx.get(fake.models_url, headers={"if-none-match": first.headers["etag"]})
    assert again.status_code == 304 and again.content == b""
    fake.models_status = 500
    assert httpx.get(fake.models_url).status_code == 500
    assert fake.models_requests == 3 and fake.models_log[0].query == {"client_version": "0.169.0"}


def refresh(fake: FakeCodexBackend, token: str) -> httpx.Response:
    body = {"client_id": CLIENT_ID, "grant_type": "refresh_token", "refresh_token": token}
    return httpx.post(fake.token_url, json=body | {"refresh_reason": "proactive_expiry"})


def test_refresh_tokens_are_single_use(fake: FakeCodexBackend, tmp_path: Path) -> None:
    fake.check_tokens = True
    path = fake.issue_login(tmp_path, expires_in=3600, account_id="acct-9")
    assert path.stat().st_mode & 0o777 == 0o600
    tokens = read_auth_file(tmp_path)["tokens"]
    first = refresh(fake, tokens["refresh_token"])
    assert first.status_code == 200
    minted = first.json()
    assert minted["refresh_token"] != tokens["refresh_token"]
    assert decode_jwt(minted["access_token"])["https://api.openai.com/auth"]["chatgpt_account_id"] == "acct-9"
    reused = refresh(fake, tokens["refresh_token"])
    assert reused.status_code == 401 and reused.json()["error"]["code"] == "refresh_token_reused"
    assert refresh(fake, "rt-unknown").json()["error"]["code"] == "refresh_token_invalidated"
    assert refresh(fake, minted["refresh_token"]).status_code == 200
    assert (fake.refresh_requests, fake.reuse_errors) == (4, 1)

    def call(token: str) -> int:
        return httpx.post(
            fake.responses_url, json=BODY, headers={"authorization": f"Bearer {token}"}
        ).status_code

    assert (call(tokens["access_token"]), call(minted["access_token"]), call("nope")) == (200, 200, 401)


async def test_100_concurrent_streams(fake: FakeCodexBackend) -> None:
    fake.set_default(Turn().text("Hello world", chunks=5).latency(0.1))
    limits = httpx.Limits(max_connections=200, max_keepalive_connections=200)
    async with httpx.AsyncClient(limits=limits, timeout=30) as client:

        async def one() -> str:
            async with client.stream("POST", fake.responses_url, json=BODY) as response:
                return "".join([chunk async for chunk in response.aiter_text()])

        started = time.perf_counter()
        bodies = await asyncio.gather(*(one() for _ in range(100)))
        elapsed = time.perf_counter() - started
    assert all("response.completed" in body for body in bodies)
    assert elapsed < 5, f"100 concurrent streams took {elapsed:.2f}s"


def test_standalone_process_prints_base_url(tmp_path: Path) -> None:
    # Run from an empty folder: the fake is importable from the installed package, not the checkout.
    command = [sys.executable, "-m", "litellm_codex_oauth_provider.testing.fake_codex", "--port", "0"]
    with subprocess.Popen(command, cwd=tmp_path, stdout=subprocess.PIPE, text=True) as process:
        try:
            base_url = process.stdout.readline().strip()
            assert base_url.startswith("http://127.0.0.1:") and base_url.endswith("/backend-api/codex")
            response = httpx.post(base_url + "/responses", json=BODY, timeout=10)
            deltas = [data["delta"] for name, data in parse_sse(response.text) if name.endswith(".delta")]
            assert "".join(deltas) == DEFAULT_TEXT and len(deltas) == 4
        finally:
            process.terminate()
            assert process.wait(10) == 0


def test_the_provider_does_not_import_the_testing_package() -> None:
    """The fake needs aiohttp and the tests' logins; a user of the provider loads neither."""
    probe = (
        "import sys, litellm_codex_oauth_provider as package\n"
        "package.codex_auth_provider\n"
        "loaded = sorted(name for name in sys.modules if name.startswith(package.__name__ + '.testing'))\n"
        "assert not loaded, loaded\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
