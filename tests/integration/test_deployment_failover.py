"""A LiteLLM Router with two Codex logins for one model moves on when one plan is spent.

Each deployment names its own `CODEX_HOME` in `litellm_params` (`codex_home`); the fake answers
by the `chatgpt-account-id` header, so account A's plan is spent while account B's is not.
"""

from __future__ import annotations

import litellm
import pytest
from litellm.types.router import RouterRateLimitError

from litellm_codex_oauth_provider.testing.fake_codex import HttpError, RecordedRequest

MODEL = "codex/gpt-5.5"
ASK = [{"role": "user", "content": "hi"}]


@pytest.fixture
def logins(fake, tmp_path) -> dict[str, str]:
    homes = {}
    for account in ("acct-a", "acct-b"):
        home = tmp_path / account
        fake.issue_login(home, account_id=account)
        homes[account] = str(home)
    return homes


@pytest.fixture
def spent_a(fake):
    """Account A's plan is used up (429 usage_limit_reached); B answers normally."""

    def answer(request: RecordedRequest):
        if request.headers.get("chatgpt-account-id") == "acct-a":
            return HttpError.usage_limit_reached(plan_type="plus", resets_in_seconds=3600)
        return None

    fake.handler = answer
    return fake


def router(logins: dict[str, str], **kw) -> litellm.Router:
    """A first, B second (`order`), so the first attempt always meets the spent plan."""
    deployments = [
        {
            "model_name": "codex-gpt",
            "litellm_params": {"model": MODEL, "codex_home": logins[a], "order": i + 1},
            "model_info": {"id": a},
        }
        for i, a in enumerate(("acct-a", "acct-b"))
    ]
    return litellm.Router(model_list=deployments, num_retries=2, retry_after=0, **kw)


def accounts(fake) -> list[str]:
    return [r.headers["chatgpt-account-id"] for r in fake.requests]


def test_each_deployment_uses_its_own_login(codex_home, fake, provider, logins):
    for account, home in logins.items():
        litellm.completion(model=MODEL, messages=ASK, codex_home=home)
        assert fake.last_request.headers["chatgpt-account-id"] == account
        assert "codex_home" not in fake.last_request.body


def test_router_moves_to_the_second_login_and_cools_the_spent_one_down(codex_home, provider, logins, spent_a):
    r = router(logins)
    first = r.completion(model="codex-gpt", messages=ASK)
    assert first.choices[0].message.content == "Hello from fake Codex"
    assert first._hidden_params["model_id"] == "acct-b"
    assert accounts(spent_a) == ["acct-a", "acct-b"]
    for _ in range(3):  # A is cooling down (its 429 said when the plan resets): B only
        assert r.completion(model="codex-gpt", messages=ASK)._hidden_params["model_id"] == "acct-b"
    assert accounts(spent_a).count("acct-a") == 1


async def test_async_router_moves_on_too(codex_home, provider, logins, spent_a):
    r = router(logins)
    response = await r.acompletion(model="codex-gpt", messages=ASK)
    assert response._hidden_params["model_id"] == "acct-b"
    assert accounts(spent_a) == ["acct-a", "acct-b"]


async def test_async_streaming_through_the_router_moves_on_before_the_first_chunk(
    codex_home, provider, logins, spent_a
):
    r = router(logins)
    stream = await r.acompletion(model="codex-gpt", messages=ASK, stream=True)
    text = "".join([c.choices[0].delta.content or "" async for c in stream if c.choices])
    assert text == "Hello from fake Codex"
    assert accounts(spent_a) == ["acct-a", "acct-b"]


def test_sync_streaming_through_the_router_moves_on(codex_home, provider, logins, spent_a):
    r = router(logins)
    stream = r.completion(model="codex-gpt", messages=ASK, stream=True)
    assert "".join(c.choices[0].delta.content or "" for c in stream if c.choices) == "Hello from fake Codex"
    assert accounts(spent_a) == ["acct-a", "acct-b"]


def test_when_every_plan_is_spent_the_caller_gets_the_usage_limit(codex_home, fake, provider, logins):
    fake.set_default(HttpError.usage_limit_reached(plan_type="plus", resets_in_seconds=3600))
    with pytest.raises((litellm.RateLimitError, RouterRateLimitError)) as info:
        router(logins).completion(model="codex-gpt", messages=ASK)
    # Either our error, or the router's "all deployments cooling down" that took our reset time
    assert "usage limit" in str(info.value) or "Try again in 3600 seconds" in str(info.value)
    assert sorted(accounts(fake)) == ["acct-a", "acct-b"]  # each spent plan was asked once
