"""The real Codex CLI and our provider on one login at the same time: nobody is ever signed out.

Both talk to the fake backend, whose token endpoint enforces single-use refresh tokens. The
CLI refreshes whenever a token has under 300 s left, before it takes `auth.lock`; we refresh
at 60 s, under the lock, after re-reading `auth.json`. With 310-second tokens the CLI
refreshes every few runs, and we must only ever pick up its tokens.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import litellm
import pytest

from litellm_codex_oauth_provider.testing.fake_codex import DEFAULT_TEXT, FakeCodexBackend, RecordedRequest
from litellm_codex_oauth_provider.testing.logins import (
    make_access_token,
    make_auth_json,
    read_auth_file,
    write_auth_json,
)
from tests.interop.conftest import write_cli_config

pytestmark = pytest.mark.interop

LIFETIME = 310  # a little over the CLI's 300 s refresh window
CONCURRENT_SECONDS = 40.0
OUR_AGENT = "litellm-codex-oauth-provider"
MESSAGES = [{"role": "user", "content": "hi"}]

CONFIG = """\
model = "gpt-5.5"
model_provider = "fake"
check_for_update_on_startup = false

[model_providers.fake]
name = "fake Codex backend"
base_url = "{base_url}"
wire_api = "responses"
requires_openai_auth = true
"""


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeCodexBackend]:
    with FakeCodexBackend(check_tokens=True) as backend:
        backend.access_token_lifetime = LIFETIME
        monkeypatch.setenv("CODEX_API_BASE", backend.base_url)
        monkeypatch.setenv("CODEX_REFRESH_TOKEN_URL_OVERRIDE", backend.token_url)
        yield backend


@pytest.fixture
def home(fake: FakeCodexBackend, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A Codex home for both sides: the CLI's config, and a login with 50 s left (we refresh first)."""
    path = tmp_path / "codex-home"
    path.mkdir()
    write_cli_config(path, CONFIG.format(base_url=fake.base_url))
    access = make_access_token(expires_in=LIFETIME, now=time.time() - (LIFETIME - 50))
    refresh = f"rt-{uuid.uuid4().hex}"
    fake.accept_refresh_token(refresh)
    fake.accept_access_token(access)
    write_auth_json(path, make_auth_json(access_token=access, refresh_token=refresh, extra={"future": 1}))
    monkeypatch.setenv("CODEX_HOME", str(path))
    return path


@dataclass
class CliRuns:
    """Outcomes of `codex exec` runs, one after another (two CLIs at once collide on their own)."""

    outcomes: list[tuple[int, str, str]] = field(default_factory=list)

    def run(self, codex: Path, home: Path, fake: FakeCodexBackend, workdir: Path) -> None:
        env = {
            **os.environ,
            "CODEX_HOME": str(home),
            "CODEX_REFRESH_TOKEN_URL_OVERRIDE": fake.token_url,
            "NO_COLOR": "1",
        }
        done = subprocess.run(
            [str(codex), "exec", "--skip-git-repo-check", "-C", str(workdir), "say hello"],
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=120,
        )
        self.outcomes.append((done.returncode, done.stdout, done.stderr[-2000:]))

    def failures(self) -> list[tuple[int, str, str]]:
        return [o for o in self.outcomes if o[0] != 0 or DEFAULT_TEXT not in o[1]]


def ours(request: RecordedRequest) -> bool:
    return OUR_AGENT in request.headers.get("user-agent", "")


@pytest.mark.usefixtures("provider")
def test_codex_cli_and_provider_share_a_login(
    codex_cli: Path, fake: FakeCodexBackend, home: Path, tmp_path: Path
) -> None:
    workdir = tmp_path / "work"
    workdir.mkdir()
    cli = CliRuns()

    # 1. We refresh the nearly expired login; the CLI then carries on from what we wrote.
    first = litellm.completion(model="codex/gpt-5.5", messages=MESSAGES)
    assert first.choices[0].message.content == DEFAULT_TEXT
    our_refresh_token = read_auth_file(home)["tokens"]["refresh_token"]
    assert read_auth_file(home)["future"] == 1
    cli.run(codex_cli, home, fake, workdir)
    assert not cli.failures(), cli.outcomes

    # 2. The CLI in a loop and our provider (threads and an event loop) at the same time.
    stop = threading.Event()
    our_errors: list[BaseException] = []
    our_calls = 0
    lock = threading.Lock()

    def count(error: BaseException | None = None) -> None:
        nonlocal our_calls
        with lock:
            our_calls += 1
            if error is not None:
                our_errors.append(error)

    def sync_caller() -> None:
        while not stop.is_set():
            try:
                litellm.completion(model="codex/gpt-5.5", messages=MESSAGES)
                count()
            except Exception as exc:
                count(exc)
            stop.wait(0.1)

    def async_caller() -> None:
        async def one() -> None:
            try:
                await litellm.acompletion(model="codex/gpt-5.5", messages=MESSAGES)
                count()
            except Exception as exc:
                count(exc)

        async def main() -> None:
            while not stop.is_set():
                await asyncio.gather(one(), one(), one())
                await asyncio.sleep(0.1)

        asyncio.run(main())

    callers = [threading.Thread(target=sync_caller) for _ in range(2)] + [
        threading.Thread(target=async_caller)
    ]
    for caller in callers:
        caller.start()
    try:
        deadline = time.monotonic() + CONCURRENT_SECONDS
        while time.monotonic() < deadline:
            cli.run(codex_cli, home, fake, workdir)
    finally:
        stop.set()
        for caller in callers:
            caller.join(60)

    # Every call on both sides succeeded, and nobody presented a used refresh token.
    assert not cli.failures(), cli.failures()
    assert not our_errors, our_errors[:3]
    assert fake.reuse_errors == 0
    refreshes = list(fake.token_log)
    our_refreshes = [r for r in refreshes if ours(r)]
    cli_refreshes = [r for r in refreshes if not ours(r)]
    assert len(our_refreshes) == 1 and our_refreshes[0].body["refresh_reason"] == "proactive_expiry"
    assert cli_refreshes and cli_refreshes[0].body["refresh_token"] == our_refresh_token
    assert len(cli_refreshes) >= 2, "the CLI should have refreshed while we were running"
    # We followed the CLI's refreshes: our turns carried several of the tokens it obtained.
    our_tokens = {r.bearer for r in fake.requests if ours(r)}
    assert len(our_tokens) >= 3
    assert our_calls >= 20 and len(cli.outcomes) >= 5
    assert fake.is_valid_refresh_token(read_auth_file(home)["tokens"]["refresh_token"])
    # Both ask for the CLI's codings on every request, and both read the zstd answers.
    everything = [*fake.requests, *fake.models_log, *fake.token_log]
    assert {r.headers.get("accept-encoding") for r in everything} == {"zstd,gzip"}
    assert {r.content_coding for r in fake.requests} == {"zstd"}
    assert {r.content_coding for r in fake.token_log} == {"zstd"}
