"""Child program for tests/integration/test_dropin_streams.py: abandon streams, keep calling, never hang.

Runs the loop that once hung a caller (start a stream, read one chunk, break without closing, make a
non-streamed call) against a fake backend started here, with the garbage collector made to run
at every chance, so a finalizer that closes an abandoned stream under httpx's pool lock (held by
the next request in the same thread) deadlocks at once instead of in one run out of five.

    python -m tests.support.abandoned_streams {sync|async|litellm} ROUNDS

The parent gives it a hard timeout; `faulthandler` dumps every thread's stack first.
"""

from __future__ import annotations

import asyncio
import faulthandler
import gc
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

MESSAGES = [{"role": "user", "content": "hi"}]


def _collect_under_pool_lock(frame: Any, event: str, arg: Any) -> None:
    """Collect garbage where httpcore holds its pool lock: the moment a finalizer must not block."""
    if event == "call" and frame.f_code.co_name == "_assign_requests_to_connections":
        gc.collect(1)  # the young generations: where this round's abandoned stream is


def _sync_rounds(rounds: int) -> None:
    from litellm_codex_oauth_provider import CodexClient

    client = CodexClient()
    for _ in range(rounds):
        for chunk in client.chat.completions.create(model="gpt-5.5", messages=MESSAGES, stream=True):
            assert chunk.choices is not None
            break  # abandoned: neither read to the end nor closed
        reply = client.chat.completions.create(model="gpt-5.5", messages=MESSAGES)
        assert reply.choices[0].message.content


def _litellm_rounds(rounds: int) -> None:
    import litellm

    from litellm_codex_oauth_provider import codex_auth_provider

    litellm.custom_provider_map = [{"provider": "codex", "custom_handler": codex_auth_provider}]
    for _ in range(rounds):
        for _chunk in litellm.completion(model="codex/gpt-5.5", messages=MESSAGES, stream=True):
            break
        reply = litellm.completion(model="codex/gpt-5.5", messages=MESSAGES)
        assert reply.choices[0].message.content


async def _async_rounds(rounds: int) -> None:
    from litellm_codex_oauth_provider import AsyncCodexClient

    client = AsyncCodexClient()
    for _ in range(rounds):
        stream = await client.chat.completions.create(model="gpt-5.5", messages=MESSAGES, stream=True)
        async for _chunk in stream:
            break
        del stream
        reply = await client.chat.completions.create(model="gpt-5.5", messages=MESSAGES)
        assert reply.choices[0].message.content


def main(argv: list[str]) -> int:
    mode, rounds = argv[0], int(argv[1])
    faulthandler.enable()
    os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"
    from litellm_codex_oauth_provider.testing.fake_codex import FakeCodexBackend

    with tempfile.TemporaryDirectory() as tmp, FakeCodexBackend(record=False) as fake:
        home = Path(tmp) / "codex-home"
        fake.issue_login(home)
        os.environ.update(
            CODEX_HOME=str(home),
            CODEX_CACHE_DIR=str(Path(tmp) / "cache"),
            CODEX_API_BASE=fake.base_url,
            CODEX_REFRESH_TOKEN_URL_OVERRIDE=fake.token_url,
            CODEX_INSTRUCTIONS_URL=fake.url + "/instructions",
        )
        gc.disable()  # abandoned streams in reference cycles wait for the collections below
        sys.setprofile(_collect_under_pool_lock)
        if mode == "sync":
            _sync_rounds(rounds)
        elif mode == "litellm":
            _litellm_rounds(rounds)
        else:
            asyncio.run(_async_rounds(rounds))
        sys.setprofile(None)
        gc.enable()
        gc.collect()
        from litellm_codex_oauth_provider.stream_lifetime import open_streams

        left = open_streams()
        if left:
            print(f"{left} backend streams left open")
            return 1
    print(f"completed {rounds} rounds")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
