"""The real Codex CLI pointed at the LiteLLM proxy (a subprocess), which talks to the fake backend.

The CLI speaks the Responses API to the proxy's `/v1/responses` (`wire_api = "responses"`), the
setup of a team that shares one plan through a proxy. A turn with a tool call must
reach the backend as the CLI sent it: the follow-up carries the first turn's reasoning item with
the same `encrypted_content`, the CLI's Codex prompt is in the request once, and the CLI's
`web_search` tool arrives.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from litellm_codex_oauth_provider.testing.fake_codex import FakeCodexBackend, Turn
from tests.e2e.proxy import MASTER_KEY, backend_env, running_proxy
from tests.interop.conftest import write_cli_config

pytestmark = [pytest.mark.interop, pytest.mark.e2e]

CONFIG = """\
model = "codex/gpt-5.5"
model_provider = "litellm"
check_for_update_on_startup = false
web_search = "live"

[model_providers.litellm]
name = "LiteLLM"
base_url = "{url}/v1"
env_key = "LITELLM_API_KEY"
wire_api = "responses"
"""
ENCRYPTED = "enc-cli-turn-1-" + "x" * 64
TOOL_OUTPUT = "hi-from-the-tool"


def _run_cli(codex: Path, home: Path, workdir: Path, prompt: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CODEX_HOME": str(home), "LITELLM_API_KEY": MASTER_KEY, "NO_COLOR": "1"}
    return subprocess.run(
        [str(codex), "exec", "--skip-git-repo-check", "-C", str(workdir), prompt],
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=240,
    )


def test_codex_cli_tool_turn_through_the_proxy_loses_nothing(codex_cli: Path, tmp_path: Path) -> None:
    proxy_home, cli_home, workdir = tmp_path / "proxy-home", tmp_path / "cli-home", tmp_path / "work"
    for folder in (proxy_home, cli_home, workdir):
        folder.mkdir()
    with FakeCodexBackend() as fake:
        fake.issue_login(proxy_home)  # the proxy's login; the CLI only holds the proxy key
        fake.enqueue(
            Turn()
            .reasoning("I will run it.", encrypted_content=ENCRYPTED)
            .function_call("exec_command", {"cmd": f"echo {TOOL_OUTPUT}"}, call_id="call_cli_1"),
            Turn().text("All done."),
        )
        env = backend_env(fake, tmp_path / "cache", proxy_home)
        with running_proxy(env, log=tmp_path / "proxy.log") as url:
            write_cli_config(cli_home, CONFIG.format(url=url))
            done = _run_cli(codex_cli, cli_home, workdir, "run the echo command")
        turns = [r for r in fake.requests if r.path.endswith("/responses")]

    assert done.returncode == 0, done.stderr[-3000:]
    assert "All done." in done.stdout
    assert len(turns) == 2, [t.body.get("input") for t in turns]
    first, follow_up = (t.body for t in turns)

    # 1. The follow-up carries the first turn's reasoning item, encrypted content intact.
    replayed = [i for i in follow_up["input"] if i.get("type") == "reasoning"]
    assert [r["encrypted_content"] for r in replayed] == [ENCRYPTED]
    outputs = [i for i in follow_up["input"] if i.get("type") == "function_call_output"]
    assert [o["call_id"] for o in outputs] == ["call_cli_1"] and TOOL_OUTPUT in outputs[0]["output"]

    # 2. The CLI's Codex prompt (its first developer message) reaches the backend once.
    prompt = first["input"][0]
    assert prompt["role"] == "developer"
    prompt_text = prompt["content"][0]["text"]
    assert len(prompt_text) > 1000
    for body in (first, follow_up):
        assert json.dumps(body).count(json.dumps(prompt_text[:200])[1:-1]) == 1
        assert not body.get("instructions")

    # 3. The CLI's hosted tools arrive as it sent them.
    kinds = {tool["type"] for tool in first["tools"]}
    assert "web_search" in kinds and "tool_search" in kinds
    web_search = next(tool for tool in first["tools"] if tool["type"] == "web_search")
    assert web_search.get("external_web_access") is True  # `web_search = "live"`
    assert any(tool.get("name") == "exec_command" for tool in first["tools"])

    # What the CLI asked for besides reaches the backend too.
    assert first["include"] == ["reasoning.encrypted_content"]
    assert first["client_metadata"] and first["prompt_cache_key"] == follow_up["prompt_cache_key"]
    assert first["store"] is False and first["stream"] is True
