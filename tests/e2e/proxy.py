"""Start the LiteLLM proxy as a subprocess, the way a user does, pointed at a fake backend."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from litellm_codex_oauth_provider.testing.fake_codex import FakeCodexBackend

MASTER_KEY = "sk-e2e-" + "5f2b8c0d9e1a4f7b" * 4
ROOT = Path(__file__).resolve().parents[2]
LITELLM = Path(sys.executable).with_name("litellm")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def serving(
    command: list[str],
    *,
    port: int,
    env: Mapping[str, str],
    cwd: Path,
    log: Path | None = None,
    startup_timeout: float = 120.0,
) -> Iterator[str]:
    """Start a LiteLLM proxy command; yield its URL once `/health/liveliness` answers; stop it afterwards."""
    out = open(log, "wb") if log else subprocess.DEVNULL  # noqa: SIM115 - closed below
    proc = subprocess.Popen(command, env=dict(env), stdout=out, stderr=subprocess.STDOUT, cwd=cwd)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + startup_timeout
        while True:
            if proc.poll() is not None:
                tail = log.read_text(errors="replace")[-3000:] if log else ""
                raise RuntimeError(f"the proxy exited with {proc.returncode}:\n{tail}")
            try:
                if httpx.get(f"{url}/health/liveliness", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("the proxy did not start in time")
            time.sleep(0.3)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if log:
            out.close()


@contextmanager
def running_proxy(
    env: Mapping[str, str],
    *,
    config: Path = ROOT / "litellm_config.yaml",
    extra_args: tuple[str, ...] = (),
    log: Path | None = None,
    startup_timeout: float = 120.0,
) -> Iterator[str]:
    """`litellm --config …` pointed at `env`, as a user starts it; yields the proxy's base URL."""
    port = free_port()
    full_env = {
        **os.environ,
        "LITELLM_LOCAL_MODEL_COST_MAP": "True",
        "LITELLM_LOG": "ERROR",
        "LITELLM_MASTER_KEY": MASTER_KEY,
        **env,
    }
    command = [str(LITELLM), "--config", str(config), "--host", "127.0.0.1", "--port", str(port), *extra_args]
    with serving(command, port=port, env=full_env, cwd=ROOT, log=log, startup_timeout=startup_timeout) as url:
        yield url


def backend_env(fake: Any, cache_dir: Path, codex_home: Path) -> dict[str, str]:
    """The environment that points the provider in a proxy at `fake` (and at nothing outside)."""
    return {
        "CODEX_HOME": str(codex_home),
        "CODEX_API_BASE": fake.base_url,
        "CODEX_REFRESH_TOKEN_URL_OVERRIDE": fake.token_url,
        "CODEX_CACHE_DIR": str(cache_dir),
        "CODEX_INSTRUCTIONS_URL": "http://127.0.0.1:9/none",
    }


@contextmanager
def proxy_with_fake(tmp_path_factory: Any, **extra_env: str) -> Iterator[tuple[Any, str]]:
    """A fake backend with a login issued for it, and a proxy in front: `(fake, proxy_url)`."""

    home = tmp_path_factory.mktemp("codex-home")
    with FakeCodexBackend() as fake:
        fake.issue_login(home)
        env = {**backend_env(fake, tmp_path_factory.mktemp("cache"), home), **extra_env}
        with running_proxy(env, log=tmp_path_factory.mktemp("logs") / "proxy.log") as url:
            yield fake, url
