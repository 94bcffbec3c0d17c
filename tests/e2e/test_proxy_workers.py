"""Two proxy workers share one login while its tokens keep expiring: no refresh token is spent twice."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from openai import OpenAI

from litellm_codex_oauth_provider.testing.fake_codex import FakeCodexBackend
from litellm_codex_oauth_provider.testing.logins import read_auth_file
from tests.e2e.proxy import MASTER_KEY, backend_env, running_proxy

pytestmark = pytest.mark.e2e
TOKEN_LIFETIME = 6  # seconds; a worker refreshes inside the last quarter of a short token's life


def test_two_workers_refresh_one_login_without_reuse(tmp_path):
    home = tmp_path / "codex-home"
    with FakeCodexBackend(check_tokens=True) as fake:
        fake.access_token_lifetime = TOKEN_LIFETIME
        fake.issue_login(home, expires_in=TOKEN_LIFETIME)
        env = backend_env(fake, tmp_path / "cache", home)
        with running_proxy(env, extra_args=("--num_workers", "2"), log=tmp_path / "proxy.log") as url:
            client = OpenAI(base_url=url, api_key=MASTER_KEY, max_retries=0)

            def ask(_: int) -> str:
                reply = client.chat.completions.create(
                    model="codex/gpt-5.5", messages=[{"role": "user", "content": "hi"}]
                )
                return reply.choices[0].message.content

            deadline = time.monotonic() + 3 * TOKEN_LIFETIME
            answers: list[str] = []
            with ThreadPoolExecutor(max_workers=6) as pool:
                while time.monotonic() < deadline:
                    answers.extend(pool.map(ask, range(6)))
                    time.sleep(0.2)
    assert answers and set(answers) == {"Hello from fake Codex"}
    assert fake.reuse_errors == 0
    assert fake.refresh_requests >= 2  # the tokens really expired and were renewed meanwhile
    assert read_auth_file(home)["tokens"]["refresh_token"]  # the file still holds a live login
