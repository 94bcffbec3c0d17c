"""LiteLLM knows our models (docs/models.md, "LiteLLM model info"), and still routes calls to us."""

from __future__ import annotations

import asyncio
import copy
from collections.abc import Iterator

import httpx
import litellm
import pytest

from litellm_codex_oauth_provider import CodexAuthProvider
from litellm_codex_oauth_provider.models import registry as model_registry
from litellm_codex_oauth_provider.models.catalog import ModelCatalog, ModelInfo, bundled_catalog
from litellm_codex_oauth_provider.models.registry import model_cost_entry, register_catalog

MESSAGES = [{"role": "user", "content": "hi"}]
NEW = "gpt-7-nova"


@pytest.fixture(autouse=True)
def _forget_test_models() -> Iterator[None]:
    """Models made up by a test leave LiteLLM's registry when it ends."""
    yield
    for key in [k for k in litellm.model_cost if k.startswith("codex/gpt-7")]:
        litellm.model_cost.pop(key, None)
        model_registry._registered.pop(key, None)


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    attempts: list[str] = []

    def refuse(self, request):
        attempts.append(str(request.url))
        raise AssertionError(f"unexpected request to {request.url}")

    monkeypatch.setattr(httpx.HTTPTransport, "handle_request", refuse)
    return attempts


def with_new_model(payload: dict) -> dict:
    payload = copy.deepcopy(payload)
    extra = copy.deepcopy(next(m for m in payload["models"] if m["slug"] == "gpt-6-luna"))
    extra.update(slug=NEW, display_name="GPT-7 Nova", context_window=640000, input_modalities=["text"])
    payload["models"].append(extra)
    return payload


def _forget_codex_models() -> None:
    for key in [k for k in litellm.model_cost if k.startswith("codex/")]:
        litellm.model_cost.pop(key)
    model_registry._registered.clear()


def test_constructing_the_provider_does_no_work(no_network) -> None:
    _forget_codex_models()
    CodexAuthProvider()
    assert no_network == []
    assert not any(key.startswith("codex/") for key in litellm.model_cost)


def _assert_bundled_models_registered() -> None:
    for info in bundled_catalog():
        assert f"codex/{info.slug}" in litellm.model_cost
    entry = litellm.model_cost["codex/gpt-6-sol"]
    assert entry["mode"] == "chat" and entry["litellm_provider"] == "codex"


@pytest.mark.parametrize("first_use", ["model info", "custom provider setup"])
def test_litellm_sees_the_models_before_it_needs_them_without_a_request(no_network, first_use) -> None:
    """The first model-info lookup, or LiteLLM's custom-provider setup (the proxy runs it when it
    loads its config, every call runs it first), registers the models of the registered provider."""
    _forget_codex_models()
    litellm.custom_provider_map = [{"provider": "codex", "custom_handler": CodexAuthProvider()}]
    if first_use == "model info":
        assert litellm.get_model_info("codex/gpt-6-sol")["litellm_provider"] == "codex"
    else:
        litellm.utils.custom_llm_setup()
    assert no_network == []
    _assert_bundled_models_registered()


def test_the_first_call_registers_the_models(codex_home, fake) -> None:
    """Called directly (no LiteLLM lookup before), the provider registers them itself."""
    _forget_codex_models()
    provider = CodexAuthProvider()
    try:
        answer = provider.completion(
            model="gpt-6-sol",
            messages=MESSAGES,
            api_base=None,
            custom_prompt_dict={},
            model_response=litellm.ModelResponse(),
            print_verbose=print,
            encoding=None,
            api_key=None,
            logging_obj=None,
            optional_params={},
        )
    finally:
        for pool in provider.pools():
            pool.close()
    assert answer.choices[0].message.content == "Hello from fake Codex"
    _assert_bundled_models_registered()


def test_model_info_carries_the_catalog_facts_and_zero_cost(provider) -> None:
    info = litellm.get_model_info("codex/gpt-6.1-terra")
    assert info["max_input_tokens"] == 500000
    assert info["max_output_tokens"] == info["max_tokens"] == 128000
    assert info["supports_vision"] and info["supports_reasoning"] and info["supports_function_calling"]
    assert info["supports_parallel_function_calling"] and info["supports_response_schema"]
    assert info["input_cost_per_token"] == info["output_cost_per_token"] == 0
    assert info["mode"] == "chat" and info["litellm_provider"] == "codex"
    assert info["reasoning_effort_levels"] == ["low", "medium", "high", "xhigh", "max", "ultra"]
    assert info["default_reasoning_effort"] == "low"
    assert litellm.supports_vision("codex/gpt-6-sol") and litellm.supports_reasoning("codex/gpt-6-sol")


def test_an_entry_follows_its_model() -> None:
    text_only = ModelInfo(
        "m",
        context_window=1000,
        efforts=(),
        input_modalities=("text",),
        supports_parallel_tool_calls=False,
        max_output_tokens=500,
    )
    entry = model_cost_entry(text_only)
    assert entry["max_input_tokens"] == 1000 and entry["max_tokens"] == 500
    assert not entry["supports_vision"] and not entry["supports_reasoning"]
    assert not entry["supports_parallel_function_calling"]
    assert "reasoning_effort_levels" not in entry
    ultra_default = model_cost_entry(ModelInfo("u", efforts=("high", "ultra"), default_effort="ultra"))
    assert "default_reasoning_effort" not in ultra_default  # LiteLLM has no `ultra`
    assert ultra_default["supports_max_reasoning_effort"] is False


def test_registering_the_same_catalog_again_changes_nothing() -> None:
    register_catalog(bundled_catalog())
    assert register_catalog(bundled_catalog()) == 0


def test_a_live_catalog_with_a_new_model_registers_it(codex_home, fake, provider) -> None:
    fake.catalog = with_new_model(fake.catalog)
    assert f"codex/{NEW}" not in litellm.model_cost
    litellm.completion(model=f"codex/{NEW}", messages=MESSAGES)
    info = litellm.get_model_info(f"codex/{NEW}")
    assert info["max_input_tokens"] == 640000 and not info["supports_vision"]


def test_a_cached_catalog_is_registered_on_first_use(codex_home, fake, provider, monkeypatch) -> None:
    fake.catalog = with_new_model(fake.catalog)
    provider.catalogs.catalog(provider.pool_for().sync_client(fake.base_url))  # fills the disk cache
    litellm.model_cost.pop(f"codex/{NEW}")
    model_registry._registered.pop(f"codex/{NEW}")
    monkeypatch.setattr(
        httpx.HTTPTransport, "handle_request", lambda *a: pytest.fail("request at construction")
    )
    litellm.custom_provider_map = [{"provider": "codex", "custom_handler": CodexAuthProvider()}]
    # CODEX_API_BASE is the fake: the new provider reads its cached catalog on the first lookup
    assert litellm.get_model_info(f"codex/{NEW}")["max_input_tokens"] == 640000


def test_registration_keeps_completion_routed_to_this_provider(codex_home, fake, provider) -> None:
    assert litellm.model_cost["codex/gpt-6-sol"]["mode"] == "chat"
    response = litellm.completion(model="codex/gpt-6-sol", messages=MESSAGES, reasoning_effort="high")
    assert response.choices[0].message.content == "Hello from fake Codex"
    chunks = list(litellm.completion(model="codex/gpt-6-sol", messages=MESSAGES, stream=True))
    assert chunks

    async def go():
        return await litellm.acompletion(model="codex/gpt-6-sol-high", messages=MESSAGES)

    assert asyncio.run(go()).choices[0].message.content == "Hello from fake Codex"
    assert fake.responses_count == 3
    assert all(r.path.endswith("/responses") for r in fake.requests)
    assert response._hidden_params.get("response_cost") == 0


def test_a_router_sees_the_model_info_as_the_proxy_does(provider) -> None:
    router = litellm.Router(
        model_list=[{"model_name": "sol", "litellm_params": {"model": "codex/gpt-6-sol"}}]
    )
    group = router.get_model_group_info("sol")
    assert group is not None
    assert group.max_input_tokens == 272000 and group.supports_vision and group.mode == "chat"
    assert group.input_cost_per_token == 0
    assert litellm.token_counter(model="codex/gpt-6-sol", messages=MESSAGES) > 0


def test_a_hidden_model_is_registered_too(provider) -> None:
    catalog = ModelCatalog([ModelInfo("gpt-7-hidden", visibility="hide", context_window=1)], source="live")
    register_catalog(catalog)
    assert litellm.get_model_info("codex/gpt-7-hidden")["max_input_tokens"] == 1
