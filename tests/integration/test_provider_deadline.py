"""A call's `timeout` bounds the whole call: the catalog fetch and the wait for a refresh included.

The refresh the call started is not cut short (that could spend the refresh token and lose the
answer): the call stops waiting, and the refresh finishes and saves for the next call.
"""

from __future__ import annotations

import time

import litellm
import pytest

from litellm_codex_oauth_provider.testing.logins import read_auth_file

ASK = [{"role": "user", "content": "hi"}]


def _wait_for_refresh(fake, home, before: str) -> None:
    """Until the refresh the timed-out call started has saved its tokens (bounded, no timing claim)."""
    for _ in range(200):
        if read_auth_file(home)["tokens"]["refresh_token"] != before:
            return
        time.sleep(0.05)
    raise AssertionError("the refresh never saved its tokens")


@pytest.mark.parametrize("path", ["sync", "async"])
async def test_a_slow_refresh_ends_the_call_at_its_timeout_and_still_saves(home, fake, provider, path):
    fake.issue_login(home, expires_in=-60)  # expired: the call must refresh first
    before = read_auth_file(home)["tokens"]["refresh_token"]
    fake.token_delay = 3.0
    with pytest.raises(litellm.Timeout, match="did not finish within the call's timeout"):
        if path == "sync":
            litellm.completion(model="codex/gpt-5.5", messages=ASK, timeout=1)
        else:
            await litellm.acompletion(model="codex/gpt-5.5", messages=ASK, timeout=1)
    assert fake.responses_count == 0
    _wait_for_refresh(fake, home, before)
    fake.token_delay = 0.0
    answer = litellm.completion(model="codex/gpt-5.5", messages=ASK)
    assert answer.choices[0].message.content
    assert fake.refresh_requests == 1 and fake.reuse_errors == 0


@pytest.mark.parametrize("path", ["sync", "async"])
async def test_a_slow_catalog_leaves_the_turn_its_time(codex_home, fake, provider, path):
    """The catalog falls back to the bundled copy within half the call's time; the turn runs."""
    fake.models_delay = 6.0  # under CODEX_CATALOG_TIMEOUT (10 s), over the call's timeout
    if path == "sync":
        answer = litellm.completion(model="codex/gpt-5.5", messages=ASK, timeout=3)
    else:
        answer = await litellm.acompletion(model="codex/gpt-5.5", messages=ASK, timeout=3)
    assert answer.choices[0].message.content
    assert fake.responses_count == 1
