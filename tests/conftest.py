"""Shared fixtures: an isolated environment per test, a Codex login, and the fake backend."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"  # never fetch LiteLLM's price map from the internet

import litellm
import pytest

from litellm_codex_oauth_provider import config
from litellm_codex_oauth_provider.testing.fake_codex import FakeCodexBackend
from litellm_codex_oauth_provider.testing.logins import write_auth_file

#: Set by libraries in `os.environ` once, when a module of theirs is first imported (LiteLLM points
#: tiktoken at its bundled encodings this way); a test that triggered that import keeps them, or later
#: token counts would try to download the encodings.
_SET_ONCE_BY_LIBRARIES = ("TIKTOKEN_CACHE_DIR",)


def _restore_environment(pristine: dict[str, str]) -> None:
    kept = {name: os.environ[name] for name in _SET_ONCE_BY_LIBRARIES if name in os.environ}
    os.environ.clear()
    os.environ.update(pristine)
    for name, value in kept.items():
        os.environ.setdefault(name, value)


@pytest.fixture(autouse=True)
def isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No test sees the developer's real login, cache or backend; nothing can reach the internet.

    The whole environment is restored afterwards too: code under test may set variables itself
    (the CLI exports `CODEX_HOME` for its own process, and click's runner runs it in ours).
    """
    pristine = dict(os.environ)
    for setting in config.SETTINGS:
        monkeypatch.delenv(setting.name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("CODEX_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("CODEX_API_BASE", "http://127.0.0.1:9/backend-api/codex")  # closed port: fail fast
    monkeypatch.setenv("CODEX_REFRESH_TOKEN_URL_OVERRIDE", "http://127.0.0.1:9/oauth/token")
    monkeypatch.setenv("CODEX_INSTRUCTIONS_URL", "http://127.0.0.1:9/instructions")
    monkeypatch.setenv("CODEX_MAX_RETRIES", "0")
    saved = list(litellm.custom_provider_map)
    yield
    litellm.custom_provider_map = saved
    _restore_environment(pristine)


@pytest.fixture
def codex_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A Codex home with a valid ChatGPT login for account `acct-123`, selected via CODEX_HOME."""
    home = tmp_path / "codex-home"
    write_auth_file(home)
    monkeypatch.setenv("CODEX_HOME", str(home))
    return home


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty Codex home selected via CODEX_HOME, for tests that write their own login."""
    path = tmp_path / "codex-home"
    monkeypatch.setenv("CODEX_HOME", str(path))
    return path


@pytest.fixture
def provider():
    """A fresh provider registered as `codex` (fresh so no pooled client outlives its test)."""
    from litellm_codex_oauth_provider import CodexAuthProvider

    instance = CodexAuthProvider()
    litellm.custom_provider_map = [{"provider": "codex", "custom_handler": instance}]
    yield instance
    for pool in instance.pools():
        pool.close()


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch):
    """The fake Codex backend on 127.0.0.1, with CODEX_API_BASE and the token URL pointing at it."""

    with FakeCodexBackend() as backend:
        monkeypatch.setenv("CODEX_API_BASE", backend.base_url)
        monkeypatch.setenv("CODEX_REFRESH_TOKEN_URL_OVERRIDE", backend.token_url)
        yield backend
