"""The login through LiteLLM: refreshes are invisible, failures are 401s that say what to do, secrets stay secret."""

from __future__ import annotations

import json
import logging
import time
import uuid
from pathlib import Path
from typing import Any

import litellm
import pytest

from litellm_codex_oauth_provider.auth.manager import CodexTokenManager
from litellm_codex_oauth_provider.testing.fake_codex import FakeCodexBackend
from litellm_codex_oauth_provider.testing.logins import (
    make_access_token,
    make_auth_json,
    read_auth_file,
    write_auth_json,
)

MESSAGES = [{"role": "user", "content": "hi"}]


def completion() -> Any:
    return litellm.completion(model="codex/gpt-5.5", messages=MESSAGES)


# --------------------------------------------------------------------------- refreshing through LiteLLM


@pytest.mark.usefixtures("provider")
def test_expired_login_is_refreshed_before_the_turn(fake: FakeCodexBackend, home: Path) -> None:
    fake.check_tokens = True
    old = fake.write_login(home, seconds_left=-30)
    response = completion()
    assert response.choices[0].message.content == "Hello from fake Codex"
    assert fake.refresh_requests == 1
    new_token = read_auth_file(home)["tokens"]["access_token"]
    assert new_token != old["tokens"]["access_token"]
    assert {r.bearer for r in fake.requests} == {new_token}


@pytest.mark.usefixtures("provider")
async def test_401_during_a_turn_is_refreshed_and_retried(fake: FakeCodexBackend, home: Path) -> None:
    old = fake.write_login(home)
    fake.expected_access_token = lambda token: token != old["tokens"]["access_token"]
    response = await litellm.acompletion(model="codex/gpt-5.5", messages=MESSAGES)
    assert response.choices[0].message.content == "Hello from fake Codex"
    assert fake.refresh_requests == 1


# --------------------------------------------------------------------------- failures as 401s


def _reused(fake: FakeCodexBackend, home: Path) -> str:
    data = fake.write_login(home, seconds_left=-30)
    fake.spend_refresh_token(data["tokens"]["refresh_token"])
    return "refresh_token_reused"


def _expired(fake: FakeCodexBackend, home: Path) -> str:
    data = fake.write_login(home, seconds_left=-30)
    fake.expire_refresh_token(data["tokens"]["refresh_token"])
    return "refresh_token_expired"


def _invalidated(fake: FakeCodexBackend, home: Path) -> str:
    write_auth_json(
        home, make_auth_json(access_token=make_access_token(expires_in=-30), refresh_token="rt-x")
    )
    return "refresh_token_invalidated"


def _missing(fake: FakeCodexBackend, home: Path) -> str:
    return "No Codex login found"


def _malformed(fake: FakeCodexBackend, home: Path) -> str:
    home.mkdir(parents=True)
    (home / "auth.json").write_text('{"tokens": ')
    return "is not valid JSON"


def _no_tokens(fake: FakeCodexBackend, home: Path) -> str:
    write_auth_json(home, {"auth_mode": "apikey", "OPENAI_API_KEY": "sk-test"})
    return "has no ChatGPT `tokens`"


def _not_a_jwt(fake: FakeCodexBackend, home: Path) -> str:
    write_auth_json(home, make_auth_json(access_token="opaque-token"))
    return "is not a valid JWT"


FAILURES = {
    "reused": _reused,
    "expired": _expired,
    "invalidated": _invalidated,
    "missing": _missing,
    "malformed": _malformed,
    "no-tokens": _no_tokens,
    "not-a-jwt": _not_a_jwt,
}


@pytest.mark.usefixtures("provider")
@pytest.mark.parametrize("name", FAILURES)
@pytest.mark.parametrize("mode", ["sync", "async", "stream"])
async def test_login_failures_surface_as_authentication_errors(
    fake: FakeCodexBackend, home: Path, name: str, mode: str
) -> None:
    expected = FAILURES[name](fake, home)
    before = (home / "auth.json").read_bytes() if (home / "auth.json").exists() else None
    refreshes, started = fake.refresh_requests, time.monotonic()

    with pytest.raises(litellm.AuthenticationError) as caught:
        if mode == "sync":
            completion()
        elif mode == "async":
            await litellm.acompletion(model="codex/gpt-5.5", messages=MESSAGES)
        else:
            async for _ in await litellm.acompletion(model="codex/gpt-5.5", messages=MESSAGES, stream=True):
                pass

    error = caught.value
    assert error.status_code == 401
    assert expected in error.message and "codex login" in error.message
    assert str(home / "auth.json") in error.message
    assert fake.refresh_requests - refreshes <= 1  # final: one refresh request at most, never retried
    assert time.monotonic() - started < 10  # not retried with backoff as if it were a network error
    after = (home / "auth.json").read_bytes() if (home / "auth.json").exists() else None
    assert after == before


# --------------------------------------------------------------------------- redaction


def _secrets(data: dict[str, Any]) -> set[str]:
    tokens = data.get("tokens") or {}
    return {tokens[k] for k in ("access_token", "id_token", "refresh_token") if tokens.get(k)}


@pytest.mark.usefixtures("provider")
def test_no_token_reaches_a_log_an_error_a_repr_or_another_file(
    fake: FakeCodexBackend,
    home: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    canary = f"rt-CANARY-{uuid.uuid4().hex}"
    monkeypatch.setenv("CODEX_DEBUG", "1")
    monkeypatch.setattr(litellm, "set_verbose", True)
    litellm._turn_on_debug()
    caplog.set_level(logging.DEBUG)
    seen: set[str] = {canary}
    texts: list[str] = []
    try:
        # a proactive refresh, then a 401 and a forced refresh, then a refused refresh
        seen |= _secrets(fake.write_login(home, seconds_left=-30, refresh_token=canary))
        completion()
        seen |= _secrets(read_auth_file(home))
        current = read_auth_file(home)["tokens"]["access_token"]
        fake.expected_access_token = lambda token: token != current
        completion()
        seen |= _secrets(read_auth_file(home))
        fake.expected_access_token = None
        data = fake.write_login(home, seconds_left=-30)
        seen |= _secrets(data)
        fake.spend_refresh_token(data["tokens"]["refresh_token"])
        with pytest.raises(litellm.AuthenticationError) as caught:
            completion()
        manager = CodexTokenManager()
        texts += [str(caught.value), repr(caught.value), repr(caught.value.__cause__), repr(manager)]
        with pytest.raises(Exception) as direct:
            manager.get_credentials()
        texts += [str(direct.value), repr(direct.value)]
    finally:
        logging.getLogger("LiteLLM").setLevel(logging.WARNING)
        litellm.suppress_debug_info = False

    assert fake.refresh_requests == 4  # ours: proactive, after the 401, refused; and the spending one
    out, err = capfd.readouterr()
    texts += [caplog.text, out, err, *(repr(r.__dict__) for r in caplog.records)]
    assert any("refreshed" in text for text in texts)  # the logs did talk about the refreshes
    for text in texts:
        for secret in seen:
            assert secret not in text
    for path in tmp_path.rglob("*"):
        if path.is_file() and path != home / "auth.json":
            content = path.read_bytes()
            assert not any(secret.encode() in content for secret in seen), path
    assert json.loads((home / "auth.json").read_text())["tokens"]["refresh_token"] in seen


@pytest.mark.usefixtures("provider")
def test_unreachable_token_endpoint_is_transient_not_a_logout(
    fake: FakeCodexBackend, home: Path, monkeypatch
) -> None:
    """A refresh that cannot reach the token endpoint is a 503 the router may retry, not a 401."""
    monkeypatch.setenv("CODEX_REFRESH_TOKEN_URL_OVERRIDE", "http://127.0.0.1:9/oauth/token")
    write_auth_json(home, make_auth_json(expires_in=-10))  # expired: a refresh is needed
    before = (home / "auth.json").read_bytes()
    with pytest.raises(litellm.ServiceUnavailableError, match="stored login is unchanged"):
        completion()
    assert (home / "auth.json").read_bytes() == before
