"""The fake Codex backend in its own process, the logins for both providers, and the environment."""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .common import ENTRY, ROOT, TEXT, Plan, drip_text, local_only, pin

# --------------------------------------------------------------------------- the fake backend process


def serve_fake(workdir: Path) -> None:
    """Serve the fake backend until stdin closes; print `{"base_url", "token_url"}` first.

    The turn depends on a marker in the user message: `bench:fast`, `bench:ttfc`,
    `bench:slow` (with latency), `bench:big:<bytes>[:<delta bytes>]`. Tokens are checked:
    only the login issued here (written for both providers) is accepted.
    """
    local_only()
    pin(1)
    from litellm_codex_oauth_provider.testing.fake_codex import FakeCodexBackend, Turn

    settings = json.loads(os.environ["BENCH_FAKE"])
    turns = {
        "fast": Turn().text(TEXT, chunks=4),
        "ttfc": Turn().text(TEXT, chunks=4).first_delta_delay(settings["first_delta_delay"]),
        "slow": Turn().text(TEXT, chunks=4).latency(settings["latency"]),
    }
    marker = re.compile(r"bench:(\w+)(?::(\d+))?(?::(\d+))?")

    def handler(record: Any) -> Any:
        body = record.body if isinstance(record.body, dict) else {}
        found = marker.search(json.dumps(body.get("input", "")))
        if found is None:
            return None
        kind, size, chunk = found.group(1), found.group(2), found.group(3)
        if kind == "big":
            return Turn().big_text(int(size), int(chunk or settings["big_chunk"]))
        if kind == "drip":  # `bench:drip:<deltas>:<ms apart>`: 4-character deltas at a steady pace
            deltas, gap = int(size), int(chunk) / 1000
            return Turn().text(drip_text(deltas), chunks=deltas).first_delta_delay(gap).delta_delay(gap)
        return turns.get(kind)

    fake = FakeCodexBackend(check_tokens=True, record=False)
    fake.handler = handler
    with fake:
        auth = fake.issue_login(workdir / "codex", expires_in=24 * 3600)
        write_chatgpt_login(auth, workdir / "chatgpt")
        print(json.dumps({"base_url": fake.base_url, "token_url": fake.token_url}), flush=True)
        sys.stdin.read()  # the parent closes our stdin (or kills us) when it is done


def write_chatgpt_login(codex_auth: Path, token_dir: Path) -> None:
    """The same login in the file format of LiteLLM's `chatgpt/` Authenticator (flat, with expires_at)."""
    import jwt

    tokens = json.loads(codex_auth.read_text())["tokens"]
    claims = jwt.decode(tokens["access_token"], options={"verify_signature": False})
    token_dir.mkdir(parents=True, exist_ok=True)
    record = {
        "access_token": tokens["access_token"],
        "refresh_token": tokens["refresh_token"],
        "id_token": tokens["id_token"],
        "expires_at": claims["exp"],
        "account_id": tokens["account_id"],
    }
    (token_dir / "auth.json").write_text(json.dumps(record))


@contextlib.contextmanager
def fake_backend(workdir: Path, plan: Plan) -> Iterator[dict[str, str]]:
    env = {
        **os.environ,
        "BENCH_FAKE": json.dumps(
            {
                "first_delta_delay": plan.first_delta_delay,
                "latency": plan.latency,
                "big_chunk": plan.big_chunk,
            }
        ),
    }
    proc = subprocess.Popen(
        [sys.executable, str(ENTRY), "--serve-fake", str(workdir)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        env=env,
        text=True,
        cwd=ROOT,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        if not line:
            raise RuntimeError("the fake backend did not start")
        yield json.loads(line)
    finally:
        with contextlib.suppress(Exception):
            assert proc.stdin is not None
            proc.stdin.close()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGKILL)
            proc.wait()


def configure_environment(workdir: Path, fake: dict[str, str]) -> None:
    """Point both providers at the fake and keep everything inside `workdir` (inherited by workers)."""
    os.environ.update(
        {
            "LITELLM_LOCAL_MODEL_COST_MAP": "True",
            "HOME": str(workdir / "home"),
            "CODEX_HOME": str(workdir / "codex"),
            "CODEX_CACHE_DIR": str(workdir / "cache"),
            "CODEX_API_BASE": fake["base_url"],
            "CODEX_REFRESH_TOKEN_URL_OVERRIDE": fake["token_url"],
            "CODEX_INSTRUCTIONS_URL": "http://127.0.0.1:9/x",
            "CHATGPT_TOKEN_DIR": str(workdir / "chatgpt"),
            "CHATGPT_API_BASE": fake["base_url"],
            "BENCH_WORKDIR": str(workdir),
        }
    )
    for name in (
        "CODEX_AUTH_FILE",
        "CODEX_MODE",
        "CODEX_DEBUG",
        "CHATGPT_AUTH_FILE",
        "OPENAI_CHATGPT_API_BASE",
    ):
        os.environ.pop(name, None)
