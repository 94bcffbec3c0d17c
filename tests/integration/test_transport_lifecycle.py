"""The async transport: one connection pool per event loop, closed with the loop, over real sockets."""

from __future__ import annotations

import asyncio
import gc
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import httpx
import litellm
import pytest

from litellm_codex_oauth_provider import CodexAuthProvider
from litellm_codex_oauth_provider.auth.manager import CodexTokenManager
from litellm_codex_oauth_provider.transport import ClientPool, aiohttp_transport

ROOT = Path(__file__).resolve().parents[2]
MESSAGES = [{"role": "user", "content": "hi"}]

#: A program that makes calls in several event loops and prints its open sockets after each one.
PROGRAM = textwrap.dedent(
    """
    import asyncio, gc, json, os, sys
    import litellm
    from litellm_codex_oauth_provider import CodexAuthProvider

    provider = CodexAuthProvider()
    litellm.custom_provider_map = [{"provider": "codex", "custom_handler": provider}]
    MESSAGES = [{"role": "user", "content": "hi"}]

    def sockets():
        found = 0
        for fd in os.listdir("/proc/self/fd"):
            try:
                found += os.readlink(f"/proc/self/fd/{fd}").startswith("socket:")
            except OSError:
                pass
        return found

    async def main():
        answers = await asyncio.gather(
            *(litellm.acompletion(model="codex/gpt-5.5", messages=MESSAGES) for _ in range(5))
        )
        stream = await litellm.acompletion(model="codex/gpt-5.5", messages=MESSAGES, stream=True)
        streamed = "".join([c.choices[0].delta.content or "" async for c in stream if c.choices])
        return [a.choices[0].message.content for a in answers] + [streamed]

    texts, counts = [], []
    for _ in range(4):
        if sys.argv[1] == "asyncio.run":
            texts += asyncio.run(main())
        else:  # a loop closed without shutting down its async generators
            loop = asyncio.new_event_loop()
            texts += loop.run_until_complete(main())
            loop.close()
        gc.collect()
        counts.append(sockets())
    asyncio.run(main())  # the next loop's first call cleans up after a loop closed that way
    gc.collect()
    counts.append(sockets())
    print(json.dumps({"texts": sorted(set(texts)), "sockets": counts}))
    """
)


def _run_program(fake, tmp_path: Path, mode: str, *flags: str) -> tuple[dict, str]:
    home = tmp_path / "codex"
    fake.issue_login(home)
    env = {
        **os.environ,
        "CODEX_HOME": str(home),
        "CODEX_API_BASE": fake.base_url,
        "CODEX_REFRESH_TOKEN_URL_OVERRIDE": fake.token_url,
        "CODEX_CACHE_DIR": str(tmp_path / "cache"),
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    }
    out = subprocess.run(
        [sys.executable, *flags, "-c", PROGRAM, mode],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1]), out.stderr


def test_each_asyncio_run_closes_its_connections_with_no_warning(fake, tmp_path):
    result, stderr = _run_program(fake, tmp_path, "asyncio.run", "-W", "error")
    assert result["texts"] == ["Hello from fake Codex"]
    # Every loop's connections are closed when asyncio.run() closes the loop, not left to the GC.
    assert result["sockets"] == [0, 0, 0, 0, 0]
    for complaint in ("Unclosed", "ResourceWarning", "Exception ignored", "Traceback"):
        assert complaint not in stderr


def test_a_loop_closed_without_shutdown_is_cleaned_up_on_the_next_use(fake, tmp_path):
    result, _ = _run_program(fake, tmp_path, "bare loop")
    assert result["texts"] == ["Hello from fake Codex"]
    # The clients of a loop closed that way are dropped when the next loop makes its own:
    # connections do not pile up loop after loop, and none are left at the end.
    counts = result["sockets"]
    assert counts[0] > 0 and counts[3] <= counts[0] + 2  # one loop's worth, not four (5 per loop)
    assert counts[-1] == 0


async def test_a_pool_closes_its_clients_on_request_and_makes_new_ones(codex_home, fake):
    pool = ClientPool(CodexTokenManager())
    first = pool.async_client(fake.base_url)
    assert pool.async_client(fake.base_url) is first
    await first.models.list()
    await pool.aclose()
    assert first.is_closed()
    second = pool.async_client(fake.base_url)
    assert second is not first and not second.is_closed()
    await pool.aclose()


def test_without_litellms_aiohttp_transport_httpx_sends(codex_home, fake, monkeypatch):
    monkeypatch.setitem(sys.modules, "litellm.llms.custom_httpx.aiohttp_transport", None)
    assert aiohttp_transport() is None
    provider = CodexAuthProvider()
    monkeypatch.setattr(litellm, "custom_provider_map", [{"provider": "codex", "custom_handler": provider}])

    async def call() -> str:
        response = await litellm.acompletion(model="codex/gpt-5.5", messages=MESSAGES)
        return response.choices[0].message.content

    assert asyncio.run(call()) == "Hello from fake Codex"


def test_litellms_aiohttp_transport_is_found_here():
    assert isinstance(aiohttp_transport(), httpx.AsyncBaseTransport)


pytestmark = pytest.mark.filterwarnings("error::ResourceWarning")


async def test_a_pool_dropped_while_its_loop_runs_closes_its_clients_on_that_loop(codex_home, fake):
    pool = ClientPool(CodexTokenManager())  # e.g. a login pool the provider evicted
    client = pool.async_client(fake.base_url)
    await client.models.list()
    del pool
    gc.collect()
    for _ in range(5):  # the loop's finalizer hook schedules the close as a task
        await asyncio.sleep(0.01)
    assert client.is_closed()
