"""Abandoned and closed streams: never a hang, and the backend stream is closed every way a stream can end."""

from __future__ import annotations

import asyncio
import gc
import os
import subprocess
import sys
import threading
from pathlib import Path

import litellm
import openai
import pytest

from litellm_codex_oauth_provider import AsyncCodexClient, CodexClient
from litellm_codex_oauth_provider.stream_lifetime import close_later, open_streams
from litellm_codex_oauth_provider.testing.fake_codex import Turn

ROOT = Path(__file__).resolve().parents[2]
MESSAGES = [{"role": "user", "content": "Say hello"}]
#: A hang is a failure: the child dumps every thread's stack and exits well before this.
HARD_TIMEOUT = 240
POOL_CONNECTIONS = 200  # httpx.Limits of the provider's pooled clients (openai_client.py)


def _drain_closer() -> None:
    """Wait until the closer thread has run everything handed to it before this call."""
    done = threading.Event()
    close_later(done.set)
    assert done.wait(60), "the closer thread did not run"


@pytest.mark.parametrize("mode", ["sync", "litellm", "async"])
def test_abandoning_streams_then_calling_again_never_hangs(mode):
    """The loop that once hung a caller: `for chunk in create(stream=True): break`, then another call, many rounds.

    The child collects garbage inside httpcore's pool lock on every request, the moment at
    which a finalizer that closes an abandoned stream waits for ever for its own thread.
    """
    # The child imports `tests.support` from the checkout and the package from wherever this process does.
    python_path = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    env = {**os.environ, "PYTHONPATH": python_path, "LITELLM_LOCAL_MODEL_COST_MAP": "True"}
    code = (
        f"import faulthandler, sys; faulthandler.dump_traceback_later({HARD_TIMEOUT - 30}, exit=True); "
        "from tests.support.abandoned_streams import main; sys.exit(main(sys.argv[1:]))"
    )
    try:
        result = subprocess.run(
            [sys.executable, "-c", code, mode, "25"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=HARD_TIMEOUT,
        )
    except subprocess.TimeoutExpired as exc:  # pragma: no cover - only when faulthandler could not fire
        pytest.fail(f"the {mode} loop hung:\n{exc.stderr}")
    assert result.returncode == 0, (
        f"the {mode} loop hung or failed:\n{result.stdout}\n{result.stderr[-6000:]}"
    )
    assert "completed 25 rounds" in result.stdout


@pytest.fixture
def client(codex_home, fake, provider) -> CodexClient:
    return CodexClient()


def slow_turn() -> Turn:
    return Turn().text("one two three four five six", chunks=6).delta_delay(0.05)


def test_reading_to_the_end_closes_the_backend_stream(client, fake):
    fake.enqueue(slow_turn())
    stream = client.chat.completions.create(model="gpt-5.5", messages=MESSAGES, stream=True)
    assert open_streams() == 1
    assert (
        "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
        == "one two three four five six"
    )
    assert open_streams() == 0


def test_close_closes_the_backend_stream_at_once(client, fake):
    fake.enqueue(slow_turn())
    stream = client.chat.completions.create(model="gpt-5.5", messages=MESSAGES, stream=True)
    next(stream)
    stream.close()
    assert open_streams() == 0
    assert list(stream) == []  # a closed stream is ended, like openai's
    stream.close()  # idempotent


def test_leaving_a_with_block_early_closes_the_backend_stream(client, fake):
    fake.enqueue(slow_turn())
    with client.chat.completions.create(model="gpt-5.5", messages=MESSAGES, stream=True) as stream:
        for _chunk in stream:
            break
    assert open_streams() == 0


def test_a_failing_stream_is_closed_before_the_error_reaches_the_caller(client, fake):
    fake.enqueue(Turn().text("partial answer").failed("server_is_overloaded", "Overloaded."))
    stream = client.chat.completions.create(model="gpt-5.5", messages=MESSAGES, stream=True)
    with pytest.raises(openai.InternalServerError):
        for _ in stream:
            assert open_streams() == 1
    assert open_streams() == 0


def test_a_dropped_stream_is_closed_by_the_closer_thread(client, fake):
    fake.enqueue(slow_turn(), slow_turn())
    stream = client.chat.completions.create(model="gpt-5.5", messages=MESSAGES, stream=True)
    next(stream)
    unread = client.chat.completions.create(model="gpt-5.5", messages=MESSAGES, stream=True)
    assert open_streams() == 2
    del stream, unread  # never closed; the second never even read
    gc.collect()  # the finalizers only hand the streams over; the closer thread closes them
    _drain_closer()
    assert open_streams() == 0
    reply = client.chat.completions.create(model="gpt-5.5", messages=MESSAGES)
    assert reply.choices[0].message.content == "Hello from fake Codex"


def test_streams_dropped_in_other_threads_while_this_one_calls(client, fake):
    """Finalizers run in whichever thread collects; none of them may stall another thread's request."""
    errors: list[BaseException] = []

    def abandon(rounds: int) -> None:
        try:
            for _ in range(rounds):
                for _chunk in client.chat.completions.create(model="gpt-5.5", messages=MESSAGES, stream=True):
                    break
                gc.collect()
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=abandon, args=(8,)) for _ in range(3)]
    for thread in threads:
        thread.start()
    for _ in range(8):
        assert client.chat.completions.create(model="gpt-5.5", messages=MESSAGES).choices
        gc.collect()
    for thread in threads:
        thread.join(HARD_TIMEOUT)
        assert not thread.is_alive(), "a thread hung"
    assert errors == []
    gc.collect()
    _drain_closer()
    assert open_streams() == 0


def test_litellm_streams_close_the_backend_stream_too(codex_home, fake, provider):
    fake.enqueue(slow_turn())
    stream = litellm.completion(model="codex/gpt-5.5", messages=MESSAGES, stream=True)
    next(stream)
    assert open_streams() == 1
    stream.completion_stream.close()
    assert open_streams() == 0


def test_async_streams_close_on_end_error_close_and_when_dropped(codex_home, fake, provider):
    async def scenario() -> None:
        client = AsyncCodexClient()
        fake.enqueue(slow_turn())
        stream = await client.chat.completions.create(model="gpt-5.5", messages=MESSAGES, stream=True)
        assert [c async for c in stream]
        with pytest.raises(StopAsyncIteration):
            await stream.__anext__()

        fake.enqueue(slow_turn())
        async with await client.chat.completions.create(
            model="gpt-5.5", messages=MESSAGES, stream=True
        ) as stream:
            async for _chunk in stream:
                break
        with pytest.raises(StopAsyncIteration):
            await stream.__anext__()

        fake.enqueue(Turn().text("partial").failed("server_is_overloaded", "Overloaded."))
        stream = await client.chat.completions.create(model="gpt-5.5", messages=MESSAGES, stream=True)
        with pytest.raises(openai.InternalServerError):
            async for _ in stream:
                pass

        for _ in range(5):  # dropped unclosed, some before their first chunk
            stream = await client.chat.completions.create(model="gpt-5.5", messages=MESSAGES, stream=True)
            del stream
            gc.collect()
            reply = await client.chat.completions.create(model="gpt-5.5", messages=MESSAGES)
            assert reply.choices[0].message.content == "Hello from fake Codex"

    asyncio.run(scenario())


def test_async_streams_dropped_before_their_first_chunk_give_their_connection_back(
    codex_home, fake, provider, monkeypatch
):
    """More dropped streams than the pool has connections: a leaked one would stall the next call."""
    monkeypatch.setenv("CODEX_STREAM_IDLE_TIMEOUT", "5")  # also the pool's wait for a free connection

    async def scenario() -> str:
        client = AsyncCodexClient()
        for round_ in range(POOL_CONNECTIONS + 10):
            stream = await client.chat.completions.create(model="gpt-5.5", messages=MESSAGES, stream=True)
            del stream  # never iterated, never closed
            if round_ % 20 == 0:
                gc.collect()
                await asyncio.sleep(0)
        reply = await client.chat.completions.create(model="gpt-5.5", messages=MESSAGES)
        return reply.choices[0].message.content

    assert asyncio.run(asyncio.wait_for(scenario(), HARD_TIMEOUT / 2)) == "Hello from fake Codex"
