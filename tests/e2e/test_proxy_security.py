"""A proxy client with a valid key attacks the login: it may not choose, leak or spend it.

One real proxy subprocess serves two ChatGPT accounts behind `codex/gpt-5.5` (the shape of
docs/multi-account.yaml) plus single-account model names. Client-side credentials are allowed
proxy-wide, the most permissive setting an operator can choose, so the provider's own checks
are what stands between a request body and the login. A second fake backend plays the
attacker's server: any request it records carried a ChatGPT token out.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import openai
import pytest
import yaml

from litellm_codex_oauth_provider.testing.fake_codex import FakeCodexBackend, HttpError
from litellm_codex_oauth_provider.testing.logins import make_access_token
from tests.e2e.proxy import MASTER_KEY, backend_env, running_proxy

pytestmark = pytest.mark.e2e

MODEL = "codex/gpt-5.5"
ASK = [{"role": "user", "content": "hi"}]
SECRET_MODE = "file-contents-the-client-must-never-see-7f3a"


def _deployment(name: str, **params: Any) -> dict[str, Any]:
    return {"model_name": name, "litellm_params": {"model": MODEL, **params}}


@pytest.fixture(scope="module")
def attacker() -> Iterator[FakeCodexBackend]:
    with FakeCodexBackend() as server:
        yield server


@pytest.fixture(scope="module")
def shared_proxy(tmp_path_factory, attacker) -> Iterator[dict[str, Any]]:
    root = tmp_path_factory.mktemp("shared-proxy")
    homes = {account: root / account for account in ("acct-alice", "acct-bob")}
    odd_login = root / "odd" / "auth.json"
    odd_login.parent.mkdir()
    odd_login.write_text(json.dumps({"auth_mode": SECRET_MODE, "OPENAI_API_KEY": None}))
    fifo_login = root / "fifo" / "auth.json"
    fifo_login.parent.mkdir()
    os.mkfifo(fifo_login)  # an operator's mistake: opening it for reading would wait for a writer
    with FakeCodexBackend() as fake:
        for account, home in homes.items():
            fake.issue_login(home, account_id=account)
        config = {
            "general_settings": {
                "master_key": "os.environ/LITELLM_MASTER_KEY",
                "allow_client_side_credentials": True,
            },
            "litellm_settings": {
                "custom_provider_map": [
                    {
                        "provider": "codex",
                        "custom_handler": "litellm_codex_oauth_provider.codex_auth_provider",
                    }
                ]
            },
            "router_settings": {"allowed_fails": 0, "cooldown_time": 300, "num_retries": 0},
            "model_list": [
                _deployment(MODEL, codex_home=str(homes["acct-alice"])),
                _deployment(MODEL, codex_home=str(homes["acct-bob"])),
                _deployment("team-alice", codex_home=str(homes["acct-alice"])),
                _deployment("odd-login", codex_auth_file=str(odd_login)),
                _deployment("fifo-login", codex_auth_file=str(fifo_login)),
            ],
        }
        config_path = root / "config.yaml"
        config_path.write_text(yaml.safe_dump(config))
        env = backend_env(fake, root / "cache", homes["acct-alice"])
        with running_proxy(env, config=config_path, log=root / "proxy.log") as url:
            client = openai.OpenAI(base_url=url, api_key=MASTER_KEY, max_retries=0, timeout=60)
            yield {"fake": fake, "client": client, "homes": homes, "log": root / "proxy.log"}


@pytest.fixture
def proxy(shared_proxy) -> dict[str, Any]:
    shared_proxy["fake"].reset()
    shared_proxy["fake"].handler = None
    return shared_proxy


def accounts(fake: FakeCodexBackend) -> list[str]:
    return [r.headers.get("chatgpt-account-id", "") for r in fake.requests if r.path.endswith("/responses")]


def refused(call, *args: Any, **kwargs: Any) -> openai.BadRequestError:
    with pytest.raises(openai.BadRequestError) as info:
        result = call(*args, **kwargs)
        if kwargs.get("stream"):
            list(result)
    return info.value


@pytest.mark.parametrize("stream", [False, True])
def test_a_client_cannot_switch_its_deployment_to_another_login(proxy, stream):
    fake, client = proxy["fake"], proxy["client"]
    error = refused(
        client.chat.completions.create,
        model="team-alice",
        messages=ASK,
        stream=stream,
        extra_body={"codex_home": str(proxy["homes"]["acct-bob"])},
    )
    assert "codex_home" in str(error) and "server configuration" in str(error)
    assert "acct-bob" not in accounts(fake)
    # the deployment's own login keeps working for the same client
    client.chat.completions.create(model="team-alice", messages=ASK)
    assert accounts(fake) == ["acct-alice"]


def test_a_client_cannot_point_the_provider_at_a_file(proxy, tmp_path):
    stolen = tmp_path / "elsewhere.json"
    stolen.write_text(json.dumps({"auth_mode": "secret-value-from-a-file"}))
    for field, value in (
        ("codex_auth_file", str(stolen)),
        ("codex_auth_file", "/dev/zero"),
        ("codex_home", "/"),
    ):
        error = refused(
            proxy["client"].chat.completions.create, model=MODEL, messages=ASK, extra_body={field: value}
        )
        assert field in str(error)
        assert "secret-value-from-a-file" not in str(error)
    assert accounts(proxy["fake"]) == []


def test_the_login_is_never_sent_to_a_client_chosen_backend(proxy, attacker):
    attacker.reset()
    for stream in (False, True):
        error = refused(
            proxy["client"].chat.completions.create,
            model="team-alice",
            messages=ASK,
            stream=stream,
            extra_body={"api_base": attacker.base_url},
        )
        assert "api_base" in str(error)
    assert attacker.requests == []
    assert accounts(proxy["fake"]) == []


def test_an_attack_does_not_cool_deployments_down_for_everyone(proxy):
    fake, client = proxy["fake"], proxy["client"]
    for _ in range(4):
        refused(
            client.chat.completions.create, model=MODEL, messages=ASK, extra_body={"codex_home": "/nowhere"}
        )
    for _ in range(12):
        client.chat.completions.create(model=MODEL, messages=ASK)
    # simple-shuffle over two deployments: both still serve after the attack
    assert set(accounts(fake)) == {"acct-alice", "acct-bob"}


def test_many_distinct_logins_in_requests_create_nothing(proxy):
    for i in range(40):
        refused(
            proxy["client"].chat.completions.create,
            model=MODEL,
            messages=ASK,
            extra_body={"codex_home": f"/tmp/login-{i}"},
        )
    assert accounts(proxy["fake"]) == []


def test_n_is_capped_before_anything_is_sent(proxy):
    error = refused(proxy["client"].chat.completions.create, model=MODEL, messages=ASK, n=1000)
    assert "CODEX_MAX_N" in str(error) and "1000" in str(error)
    assert accounts(proxy["fake"]) == []
    answer = proxy["client"].chat.completions.create(model=MODEL, messages=ASK, n=2)
    assert len(answer.choices) == 2


@pytest.mark.parametrize("stream", [False, True])
def test_token_like_text_in_an_upstream_error_is_redacted(proxy, stream):
    token = make_access_token(account_id="acct-leak")
    fake = proxy["fake"]
    fake.handler = lambda request: HttpError(
        400, {"detail": f"Invalid header Authorization: Bearer {token} (refresh_token=rt_{'9' * 24})"}
    )
    with pytest.raises(openai.APIStatusError) as info:
        result = proxy["client"].chat.completions.create(model="team-alice", messages=ASK, stream=stream)
        list(result) if stream else None
    text = str(info.value) + json.dumps(info.value.body)
    assert token not in text and token.split(".")[1] not in text
    assert "rt_999999" not in text
    assert "[redacted]" in text
    assert token not in proxy["log"].read_text(errors="replace")


def test_an_error_about_a_login_file_does_not_echo_its_contents(proxy):
    with pytest.raises(openai.AuthenticationError) as info:
        proxy["client"].chat.completions.create(model="odd-login", messages=ASK)
    assert SECRET_MODE not in str(info.value)
    assert "codex login" in str(info.value)


def test_the_multi_account_example_still_routes_by_deployment(proxy):
    config = yaml.safe_load(Path("docs/multi-account.yaml").read_text())
    homes = [d["litellm_params"].get("codex_home") for d in config["model_list"]]
    assert all(homes) and len(set(homes)) == 2  # one Codex home per deployment, as served above
    for _ in range(12):
        proxy["client"].chat.completions.create(model=MODEL, messages=ASK)
    assert set(accounts(proxy["fake"])) == {"acct-alice", "acct-bob"}


def test_the_responses_path_serves_the_deployment_login_and_refuses_others(proxy, attacker):
    """`/v1/responses` (the Codex CLI's route) follows the same rule as chat completions."""
    fake, client = proxy["fake"], proxy["client"]
    attacker.reset()
    answer = client.responses.create(model="team-alice", input="hi")
    assert answer.output_text and accounts(fake) == ["acct-alice"]
    for field, value in (
        ("codex_home", str(proxy["homes"]["acct-bob"])),
        ("codex_auth_file", "/dev/zero"),
        ("api_base", attacker.base_url),
    ):
        for stream in (False, True):
            error = refused(
                client.responses.create,
                model="team-alice",
                input="hi",
                stream=stream,
                extra_body={field: value},
            )
            assert field in str(error)
    assert accounts(fake) == ["acct-alice"]
    assert attacker.requests == []


def test_a_fifo_for_a_login_fails_its_calls_and_stalls_no_one(proxy):
    """The login file is read off the event loop and only if it is a regular file."""
    client = proxy["client"]
    with ThreadPoolExecutor(max_workers=4) as pool:
        stuck = [
            pool.submit(client.chat.completions.create, model="fifo-login", messages=ASK) for _ in range(2)
        ]
        served = [
            pool.submit(client.chat.completions.create, model="team-alice", messages=ASK) for _ in range(2)
        ]
        assert all(f.result().choices[0].message.content for f in served)
        for future in stuck:
            with pytest.raises(openai.AuthenticationError, match=r"not a regular file|FIFO"):
                future.result()


def test_the_proxy_health_check_of_each_account_uses_its_own_login(proxy):
    """LiteLLM's health probe passes a deployment's own params without its `model_info`."""
    import httpx

    base = str(proxy["client"].base_url).rstrip("/").removesuffix("/v1")
    answer = httpx.get(
        f"{base}/health",
        params={"model": MODEL},
        headers={"Authorization": f"Bearer {MASTER_KEY}"},
        timeout=60,
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["healthy_count"] == 2 and body["unhealthy_count"] == 0, body
    catalog_accounts = {r.headers.get("chatgpt-account-id") for r in proxy["fake"].models_log}
    assert {"acct-alice", "acct-bob"} <= catalog_accounts
