"""The drop-in client sends the ChatGPT login only to the Codex backend: any other base URL is refused
before a byte leaves, so a misconfigured or hostile URL never sees the token."""

from __future__ import annotations

from collections.abc import Iterator

import openai
import pytest

from litellm_codex_oauth_provider import AsyncCodexClient, CodexBackendURLError, CodexClient
from litellm_codex_oauth_provider.testing.logins import read_auth_file
from tests.support.token_sink import Attacker

MESSAGES = [{"role": "user", "content": "hi"}]


@pytest.fixture
def attacker() -> Iterator[Attacker]:
    with Attacker() as server:
        yield server


@pytest.mark.parametrize("path", ["", "/v1", "/backend-api/codex"])
def test_a_foreign_base_url_is_refused_and_receives_nothing(codex_home, fake, provider, attacker, path):
    token = read_auth_file(codex_home)["tokens"]["access_token"]
    with pytest.raises(CodexBackendURLError) as info:
        client = CodexClient(base_url=attacker.url + path, api_key="sk-app-key")
        client.chat.completions.create(model="gpt-5.5", messages=MESSAGES)
    assert isinstance(info.value, openai.OpenAIError)  # what openai-package code already catches
    message = str(info.value)
    assert "not the Codex backend" in message and "codex_backend=True" in message
    assert token not in message
    assert attacker.requests == 0 and attacker.authorizations == []


def test_the_refusal_covers_with_options_async_and_models(codex_home, fake, provider, attacker):
    client = CodexClient()
    with pytest.raises(CodexBackendURLError):
        client.with_options(base_url=attacker.url + "/v1").models.list()
    with pytest.raises(CodexBackendURLError):
        AsyncCodexClient(base_url=attacker.url)
    with pytest.raises(CodexBackendURLError):  # same host, another port: another server
        CodexClient(base_url=fake.base_url.replace(str(fake.port), str(attacker.server.server_address[1])))
    assert attacker.requests == 0


def test_credentials_in_a_refused_url_are_not_repeated(codex_home, provider, attacker):
    with pytest.raises(CodexBackendURLError) as info:
        CodexClient(base_url=f"http://user:s3cret@127.0.0.1:{attacker.server.server_address[1]}/v1")
    assert "s3cret" not in str(info.value)


def test_the_configured_backend_and_an_explicit_opt_in_are_allowed(
    codex_home, fake, provider, attacker, monkeypatch
):
    CodexClient(base_url=fake.base_url + "/").chat.completions.create(model="gpt-5.5", messages=MESSAGES)
    assert fake.responses_count == 1
    CodexClient(base_url="https://chatgpt.com/backend-api/codex")  # ChatGPT's own is always the backend
    # A relay the caller vouches for gets the login, as asked.
    relay = CodexClient(base_url=attacker.url, codex_backend=True)
    assert relay.with_options(timeout=5).codex_backend is True
    relay.models.retrieve("gpt-5.5")  # its catalog fails (500): the bundled one answers
    assert attacker.authorizations and attacker.authorizations[0].startswith("Bearer ")
    # CODEX_API_BASE names the backend too.
    monkeypatch.setenv("CODEX_API_BASE", attacker.url + "/backend-api/codex")
    assert CodexClient(base_url=attacker.url + "/backend-api/codex/").base_url.endswith("/backend-api/codex")


def test_api_key_is_never_sent_or_used_as_the_login(codex_home, fake, provider):
    token = read_auth_file(codex_home)["tokens"]["access_token"]
    client = CodexClient(api_key="sk-app-key-123")
    client.chat.completions.create(model="gpt-5.5", messages=MESSAGES)
    client.models.list()
    sent = [r.headers.get("authorization") for r in [*fake.requests, *fake.models_log]]
    assert sent and all(value == f"Bearer {token}" for value in sent)
    assert not any("sk-app-key-123" in str(r.headers) for r in [*fake.requests, *fake.models_log])
