"""Two LiteLLM proxies, each with its own copy of one login, share it through Redis (`codex_token_store`)."""

from __future__ import annotations

import shutil
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path

import pytest
from openai import OpenAI

from litellm_codex_oauth_provider.testing.fake_codex import FakeCodexBackend
from litellm_codex_oauth_provider.testing.redis_server import RedisServer
from tests.e2e.proxy import MASTER_KEY, backend_env, running_proxy

pytestmark = pytest.mark.e2e
TOKEN_LIFETIME = 6  # seconds; refreshed in the last quarter of its life
KEY = "e2e-token-store-key-0123456789abcdef0123"

CONFIG = """
general_settings:
  master_key: os.environ/LITELLM_MASTER_KEY
litellm_settings:
  custom_provider_map:
    - provider: codex
      custom_handler: litellm_codex_oauth_provider.codex_auth_provider
model_list:
  - model_name: codex/gpt-5.5
    litellm_params:
      model: codex/gpt-5.5
      codex_token_store: {url}
"""


def test_two_proxies_on_two_hosts_share_one_login_through_redis(tmp_path: Path) -> None:
    with RedisServer(tmp_path / "redis") as redis_server, FakeCodexBackend(check_tokens=True) as fake:
        fake.access_token_lifetime = TOKEN_LIFETIME
        fake.issue_login(tmp_path / "login", expires_in=TOKEN_LIFETIME)
        config = tmp_path / "config.yaml"
        config.write_text(CONFIG.format(url=redis_server.url), encoding="utf-8")
        with ExitStack() as stack:
            urls = []
            for name in ("host-a", "host-b"):
                home = tmp_path / name
                home.mkdir()
                shutil.copy2(tmp_path / "login" / "auth.json", home / "auth.json")
                env = backend_env(fake, tmp_path / f"cache-{name}", home)
                env["CODEX_TOKEN_STORE_KEY"] = KEY
                urls.append(
                    stack.enter_context(running_proxy(env, config=config, log=tmp_path / f"{name}.log"))
                )
            clients = [OpenAI(base_url=url, api_key=MASTER_KEY, max_retries=0) for url in urls]

            def ask(index: int) -> str:
                reply = clients[index % 2].chat.completions.create(
                    model="codex/gpt-5.5", messages=[{"role": "user", "content": "hi"}]
                )
                return reply.choices[0].message.content

            started = time.monotonic()
            answers: list[str] = []
            with ThreadPoolExecutor(max_workers=6) as pool:
                while time.monotonic() < started + 3 * TOKEN_LIFETIME:
                    answers.extend(pool.map(ask, range(6)))
                    time.sleep(0.2)
            elapsed = time.monotonic() - started
        # the deployment's `codex_token_store` reached the provider: the login is in Redis
        assert redis_server.client().hget("codex-litellm:{acct-123}:tokens", "v") is not None
    assert answers and set(answers) == {"Hello from fake Codex"}
    assert fake.reuse_errors == 0
    # each proxy alone would refresh once per expiry; together they do it once
    assert 2 <= fake.refresh_requests <= elapsed / (TOKEN_LIFETIME * 3 / 4) + 1, fake.refresh_requests
