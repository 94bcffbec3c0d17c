"""Instructions (docs/models.md, "Instructions"): the catalog's, else the Codex prompt file, else none."""

from __future__ import annotations

import asyncio
import json
import logging
import time

import httpx
import litellm
import pytest
import respx

from litellm_codex_oauth_provider import log
from litellm_codex_oauth_provider.models.catalog import ModelCatalog, render_instructions
from litellm_codex_oauth_provider.models.prompt_store import PromptStore
from litellm_codex_oauth_provider.models.prompts import derive_instructions, prompt_file_for
from litellm_codex_oauth_provider.testing.fake_codex import CATALOG_FILE as REFERENCE
from litellm_codex_oauth_provider.testing.fake_codex import HttpError

RAW = json.loads(REFERENCE.read_text(encoding="utf-8"))
LIVE = ModelCatalog.from_payload(RAW, source="live")
PROMPTS = "http://prompts.test/core"
MESSAGES = [
    {"role": "system", "content": "Answer in French."},
    {"role": "developer", "content": "Be brief."},
    {"role": "user", "content": "hi"},
]


@pytest.fixture(autouse=True)
def _fresh_log_once_state():
    log.forget_logged()
    yield
    log.forget_logged()


class Clock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


# -- the catalog's instructions -----------------------------------------------------------------------


def test_the_template_is_filled_the_way_the_cli_fills_it() -> None:
    entry = {
        "slug": "m",
        "base_instructions": "BASE",
        "model_messages": {
            "instructions_template": "Intro.\n{{ personality }}\nUse {{tone}}. Literal: {{ not_ours }} ${{ secrets.X }}",
            "instructions_variables": {"personality_default": "Be kind.", "tone": "plain words"},
        },
    }
    assert (
        render_instructions(entry)
        == "Intro.\nBe kind.\nUse plain words. Literal: {{ not_ours }} ${{ secrets.X }}"
    )


def test_without_a_personality_the_placeholder_is_left_empty() -> None:
    entry = {
        "model_messages": {"instructions_template": "A{{ personality }}B", "instructions_variables": None}
    }
    assert render_instructions(entry) == "AB"


def test_base_instructions_stand_in_when_there_is_no_template() -> None:
    assert render_instructions({"base_instructions": "BASE", "model_messages": None}) == "BASE"
    assert render_instructions({"model_messages": {"instructions_template": "  "}}) is None
    assert render_instructions({}) is None


def test_every_model_of_the_captured_catalog_has_its_template_as_instructions() -> None:
    for entry in RAW["models"]:
        template = entry["model_messages"]["instructions_template"]
        assert LIVE.get(entry["slug"]).instructions == template


def test_codex_mode_off_is_the_callers_system_text_and_nothing_else() -> None:
    info = LIVE.get("gpt-6-sol")
    assert (
        derive_instructions("gpt-6-sol", info, codex_mode=False, system_text="mine", fallback="x") == "mine"
    )
    assert derive_instructions("gpt-6-sol", info, codex_mode=True, system_text="mine") == info.instructions


def test_nothing_to_send_is_logged_once_per_model(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)
    for _ in range(3):
        assert derive_instructions("gpt-x", None, codex_mode=True, system_text="s", fallback=None) == ""
    assert len([r for r in caplog.records if "no Codex instructions" in r.getMessage()]) == 1


@pytest.mark.parametrize(
    ("slug", "file"),
    [
        ("gpt-5.1-codex-max", "gpt-5.1-codex-max_prompt.md"),
        ("gpt-5.2-codex", "gpt-5.2-codex_prompt.md"),
        ("gpt-5-codex", "gpt_5_codex_prompt.md"),
        ("codex-mini-latest", "gpt_5_codex_prompt.md"),
        ("gpt-5.1", "gpt_5_1_prompt.md"),
        ("gpt-5.2", "gpt_5_2_prompt.md"),
        ("gpt-9", "prompt.md"),
    ],
)
def test_old_models_map_to_their_family_prompt_file(slug: str, file: str) -> None:
    assert prompt_file_for(slug) == file


# -- the Codex prompt files -------------------------------------------------------------------------------


@pytest.fixture
def prompt_url(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("CODEX_INSTRUCTIONS_URL", PROMPTS)
    return PROMPTS


@respx.mock
def test_a_prompt_file_is_cached_with_its_etag_and_revalidated_after_15_minutes(prompt_url, tmp_path) -> None:
    clock = Clock()
    route = respx.get(f"{PROMPTS}/gpt_5_codex_prompt.md")
    route.side_effect = [
        httpx.Response(200, text="CODEX PROMPT", headers={"etag": '"v1"'}),
        httpx.Response(304, headers={"etag": '"v1"'}),
    ]
    store = PromptStore(clock=clock)
    assert store.get("gpt-5-codex") == "CODEX PROMPT"
    clock.now += 899
    assert store.get("gpt-5.1-codex") == "CODEX PROMPT"  # same family file, within 15 min
    assert route.call_count == 1
    assert (tmp_path / "cache" / "instructions" / "gpt_5_codex_prompt.md").read_text() == "CODEX PROMPT"
    clock.now += 2
    assert store.get("gpt-5-codex") == "CODEX PROMPT"
    assert route.call_count == 2
    assert route.calls[1].request.headers["if-none-match"] == '"v1"'
    assert "authorization" not in route.calls[0].request.headers  # the login never leaves for GitHub
    assert PromptStore(clock=clock).get("gpt-5-codex") == "CODEX PROMPT"  # another process: from disk
    assert route.call_count == 2


@respx.mock
def test_a_failed_prompt_fetch_uses_the_cached_copy_else_none(prompt_url) -> None:
    clock = Clock()
    route = respx.get(f"{PROMPTS}/prompt.md")
    route.side_effect = [httpx.Response(200, text="P", headers={"etag": '"1"'}), httpx.ConnectError("down")]
    store = PromptStore(clock=clock)
    assert store.get("gpt-9") == "P"
    clock.now += 901
    assert store.get("gpt-9") == "P"
    respx.get(f"{PROMPTS}/gpt_5_1_prompt.md").respond(503)
    assert store.get("gpt-5.1") is None
    assert store.get("gpt-5.1") is None  # backed off: no second request
    assert respx.routes[1].call_count == 1


@respx.mock
def test_a_template_url_gets_the_file_name(monkeypatch) -> None:
    monkeypatch.setenv("CODEX_INSTRUCTIONS_URL", "http://prompts.test/{file}?raw=1")
    respx.get("http://prompts.test/prompt.md", params={"raw": "1"}).respond(200, text="T")
    assert PromptStore().get("gpt-9") == "T"


@respx.mock
def test_by_default_the_prompt_comes_from_the_latest_codex_release(monkeypatch) -> None:
    monkeypatch.delenv("CODEX_INSTRUCTIONS_URL")
    respx.get("https://api.github.com/repos/openai/codex/releases/latest").respond(
        200, json={"tag_name": "rust-v0.169.0"}
    )
    raw = respx.get(
        "https://raw.githubusercontent.com/openai/codex/rust-v0.169.0/codex-rs/core/gpt-5.1-codex-max_prompt.md"
    ).respond(200, text="MAX PROMPT")
    assert PromptStore().get("gpt-5.1-codex-max") == "MAX PROMPT"
    assert raw.called


@respx.mock
def test_the_async_prompt_fetch_works_the_same(prompt_url) -> None:
    respx.get(f"{PROMPTS}/gpt_5_2_prompt.md").respond(200, text="ASYNC", headers={"etag": '"a"'})
    store = PromptStore()

    async def go() -> list[str | None]:
        return list(await asyncio.gather(*(store.aget("gpt-5.2") for _ in range(5))))

    assert asyncio.run(go()) == ["ASYNC"] * 5
    assert respx.routes[0].call_count == 1


# -- through the provider -------------------------------------------------------------------------------


def test_codex_mode_sends_the_catalog_instructions_and_the_callers_messages_as_developer(
    codex_home, fake, provider
) -> None:
    litellm.completion(model="codex/gpt-6-sol", messages=MESSAGES)
    body = fake.last_request.body
    assert body["instructions"] == LIVE.get("gpt-6-sol").instructions
    developer = [item for item in body["input"] if item.get("role") == "developer"]
    assert [d["content"][0]["text"] for d in developer] == ["Answer in French.", "Be brief."]


def test_codex_mode_off_sends_only_the_callers_system_prompt(codex_home, fake, provider, monkeypatch) -> None:
    monkeypatch.setenv("CODEX_MODE", "0")
    litellm.completion(model="codex/gpt-6-sol", messages=MESSAGES)
    body = fake.last_request.body
    assert body["instructions"] == "Answer in French.\n\nBe brief."
    assert [item["role"] for item in body["input"]] == ["user"]


def test_without_catalog_instructions_the_prompt_file_stands_in(
    codex_home, fake, provider, prompt_url
) -> None:
    fake.models_status = 500  # only the bundled catalog (facts, no instructions) is left
    with respx.mock(assert_all_called=False) as mock:
        mock.route(host="127.0.0.1").pass_through()
        mock.get(f"{PROMPTS}/prompt.md").respond(200, text="FAMILY PROMPT")
        litellm.completion(model="codex/gpt-6-sol", messages=MESSAGES)
    assert fake.last_request.body["instructions"] == "FAMILY PROMPT"


def test_with_no_instructions_anywhere_none_are_sent_and_that_is_logged_once(
    codex_home, fake, provider, caplog
):
    caplog.set_level(logging.WARNING)
    fake.models_status = 500  # bundled catalog; CODEX_INSTRUCTIONS_URL points at a closed port
    for _ in range(2):
        litellm.completion(model="codex/gpt-6-sol", messages=MESSAGES)
        assert fake.last_request.body["instructions"] == ""
    assert len([r for r in caplog.records if "no Codex instructions" in r.getMessage()]) == 1


def _reject_other_instructions(record):
    """The old backend's check: only the model's own Codex instructions pass."""
    if record.body.get("instructions") != LIVE.get(record.body["model"]).instructions:
        return HttpError.bad_request("Instructions are not valid")
    return None


def test_a_400_about_instructions_switches_the_model_to_codex_instructions_and_retries_once(
    codex_home, fake, provider, monkeypatch
) -> None:
    monkeypatch.setenv("CODEX_MODE", "0")
    codex = LIVE.get("gpt-5.5").instructions
    fake.handler = _reject_other_instructions
    response = litellm.completion(model="codex/gpt-5.5", messages=MESSAGES)
    assert response.choices[0].message.content == "Hello from fake Codex"
    assert [r.body["instructions"] for r in fake.requests] == ["Answer in French.\n\nBe brief.", codex]
    assert fake.requests[-1].body["input"][0]["role"] == "developer"  # the system prompt still arrives
    litellm.completion(model="codex/gpt-5.5", messages=MESSAGES)
    assert len(fake.requests) == 3 and fake.requests[-1].body["instructions"] == codex  # switched for good
    litellm.completion(model="codex/gpt-6-sol", messages=MESSAGES)  # other models keep the setting
    assert fake.requests[-2].body["instructions"] == "Answer in French.\n\nBe brief."
    assert fake.requests[-1].body["instructions"] == LIVE.get("gpt-6-sol").instructions
    assert len(fake.requests) == 5


def test_instructions_are_retried_once_only_and_other_400s_not_at_all(codex_home, fake, provider) -> None:
    fake.handler = lambda record: HttpError.bad_request("Instructions are not valid")
    with pytest.raises(litellm.BadRequestError, match="Instructions are not valid"):
        litellm.completion(model="codex/gpt-5.5", messages=MESSAGES)
    assert len(fake.requests) == 2
    fake.handler = lambda record: HttpError.bad_request("Unsupported parameter: foo")
    with pytest.raises(litellm.BadRequestError):
        litellm.completion(model="codex/gpt-6-sol", messages=MESSAGES)
    assert len(fake.requests) == 3


def test_the_async_path_retries_on_instructions_too(codex_home, fake, provider, monkeypatch) -> None:
    monkeypatch.setenv("CODEX_MODE", "0")
    codex = LIVE.get("gpt-6-luna").instructions
    fake.handler = _reject_other_instructions

    async def go():
        return await litellm.acompletion(model="codex/gpt-6-luna", messages=MESSAGES)

    assert asyncio.run(go()).choices[0].message.content == "Hello from fake Codex"
    assert [r.body["instructions"] for r in fake.requests][-1] == codex
    assert len(fake.requests) == 2
