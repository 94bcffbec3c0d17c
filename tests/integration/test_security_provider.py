"""Limits the provider keeps in any process: bounded login pools, capped `n`, redacted upstream text.

The proxy-level attacks (a request choosing a login, a backend URL or a file) are in
tests/e2e/test_proxy_security.py; these are the same rules seen from Python.
"""

from __future__ import annotations

import json

import litellm
import pytest

from litellm_codex_oauth_provider.auth.record import parse_auth_data
from litellm_codex_oauth_provider.config import MAX_LOGIN_POOLS
from litellm_codex_oauth_provider.deployment import resolve_login
from litellm_codex_oauth_provider.exceptions import CodexAuthTokenError
from litellm_codex_oauth_provider.log import redact
from litellm_codex_oauth_provider.testing.fake_codex import HttpError
from litellm_codex_oauth_provider.testing.logins import make_access_token

ASK = [{"role": "user", "content": "hi"}]


def test_login_pools_are_bounded_and_keep_the_recent_ones(provider, tmp_path):
    first = provider.pool_for(codex_home=str(tmp_path / "first"))
    for i in range(3 * MAX_LOGIN_POOLS):
        provider.pool_for(codex_home=str(tmp_path / f"login-{i}"))
        provider.pool_for(codex_home=str(tmp_path / "first"))  # in use all along: kept
    pools = provider.pools()
    assert len(pools) == MAX_LOGIN_POOLS
    assert first in pools
    assert provider.pool_for(codex_home=str(tmp_path / "first")) is first


def test_python_callers_choose_their_own_login():
    """Outside a proxy the caller is the operator: its keyword arguments are the configuration."""
    params = {"codex_home": "/srv/codex/bob", "temperature": 0}
    login = resolve_login(params, {}, "http://127.0.0.1:1/backend")
    assert login.codex_home == "/srv/codex/bob" and login.api_base == "http://127.0.0.1:1/backend"
    assert params == {"temperature": 0}  # login settings are never sent on as request parameters


@pytest.mark.parametrize("n", [9, 1000, 0, -1])
def test_n_outside_the_cap_is_a_bad_request_and_nothing_is_sent(codex_home, fake, provider, n):
    with pytest.raises(litellm.BadRequestError, match="CODEX_MAX_N"):
        litellm.completion(model="codex/gpt-5.5", messages=ASK, n=n)
    assert fake.responses_count == 0


async def test_the_cap_is_a_setting_and_holds_for_async_calls(codex_home, fake, provider, monkeypatch):
    monkeypatch.setenv("CODEX_MAX_N", "2")
    with pytest.raises(litellm.BadRequestError, match="1 to 2 answers"):
        await litellm.acompletion(model="codex/gpt-5.5", messages=ASK, n=3)
    answer = await litellm.acompletion(model="codex/gpt-5.5", messages=ASK, n=2)
    assert len(answer.choices) == 2 and fake.responses_count == 2


def test_token_shapes_are_redacted():
    jwt = make_access_token()
    text = (
        f"Authorization: Bearer {jwt}; id_token={jwt[:40]}; "
        f'{{"refresh_token": "opaque-refresh-value"}} key sk-{"a" * 30} rt_{"b" * 30}'
    )
    redacted = redact(text)
    for secret in (jwt, jwt[:40], "opaque-refresh-value", "a" * 30, "b" * 30):
        assert secret not in redacted
    assert redact("a plain error about the model gpt-5.5") == "a plain error about the model gpt-5.5"


def test_upstream_error_text_is_redacted_before_litellm_sees_it(codex_home, fake, provider):

    token = make_access_token(account_id="acct-leak")
    fake.enqueue(HttpError(500, {"error": {"message": f"upstream echoed Bearer {token}", "code": "x"}}))
    with pytest.raises(litellm.InternalServerError) as info:
        litellm.completion(model="codex/gpt-5.5", messages=ASK)
    assert token not in str(info.value) and "[redacted]" in str(info.value)


def test_an_unknown_auth_mode_is_not_echoed(tmp_path):
    path = tmp_path / "auth.json"
    with pytest.raises(CodexAuthTokenError) as info:
        parse_auth_data(json.loads('{"auth_mode": "contents of some other file"}'), path)
    assert "contents of some other file" not in str(info.value)
    with pytest.raises(CodexAuthTokenError, match="'apikey'"):
        parse_auth_data({"auth_mode": "apikey", "OPENAI_API_KEY": "sk-x"}, path)
