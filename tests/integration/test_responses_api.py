"""`litellm.responses` / `aresponses` and `client.responses.create` for `codex/` models, against the fake backend.

The request must reach the backend as the Responses request it is, with only what the backend
needs added, and the backend's events must come back typed and in order.
"""

from __future__ import annotations

import asyncio
import logging

import litellm
import openai
import pytest
from openai.types.responses import (
    Response,
    ResponseCompletedEvent,
    ResponseFunctionToolCall,
    ResponseReasoningItem,
)

from litellm_codex_oauth_provider import AsyncCodexClient, CodexAuthProvider, CodexClient
from litellm_codex_oauth_provider.litellm_glue import responses_route
from litellm_codex_oauth_provider.responses_api import CodexResponsesAPIConfig
from litellm_codex_oauth_provider.testing.fake_codex import HttpError, Turn

HOSTED_TOOLS = [
    {"type": "web_search", "external_web_access": True, "search_content_types": ["text"]},
    {
        "type": "tool_search",
        "execution": "client",
        "description": "find tools",
        "parameters": {"type": "object"},
    },
    {
        "type": "namespace",
        "name": "image_gen",
        "description": "Image tools",
        "tools": [{"type": "function", "name": "imagegen", "parameters": {"type": "object"}}],
    },
    {"type": "custom", "name": "apply_patch", "description": "patch", "format": {"type": "text"}},
    {
        "type": "function",
        "name": "shell",
        "parameters": {"type": "object", "properties": {}},
        "strict": False,
    },
]
REASONING = {
    "type": "reasoning",
    "summary": [{"type": "summary_text", "text": "Thinking."}],
    "encrypted_content": "enc-earlier-turn",
}
CONVERSATION = [
    {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "list files"}]},
    REASONING,
    {"type": "function_call", "call_id": "call_1", "name": "shell", "arguments": '{"cmd": "ls"}'},
    {"type": "function_call_output", "call_id": "call_1", "output": "a.txt"},
]


@pytest.fixture
def stack(codex_home, fake, provider):
    return fake


def tool_turn() -> Turn:
    return (
        Turn()
        .reasoning(["Step one.", "Step two."], encrypted_content="enc-new")
        .function_call("shell", {"cmd": "cat a.txt"}, call_id="call_2")
        .usage(input_tokens=40, output_tokens=9, reasoning_tokens=3)
    )


def test_the_request_reaches_the_backend_as_it_was_sent(stack):
    fake = stack
    litellm.responses(
        model="codex/gpt-5.5",
        input=CONVERSATION,
        tools=HOSTED_TOOLS,
        tool_choice="auto",
        parallel_tool_calls=False,
        include=["web_search_call.action.sources"],
        text={
            "format": {"type": "json_schema", "name": "files", "schema": {"type": "object"}, "strict": True}
        },
        prompt_cache_key="conv-42",
        client_metadata={"team": "a"},
    )
    request = fake.last_request
    sent = request.body
    assert sent["input"] == CONVERSATION  # reasoning replayed with its encrypted content, untouched
    assert sent["tools"] == HOSTED_TOOLS
    assert sent["tool_choice"] == "auto" and sent["parallel_tool_calls"] is False
    assert sent["include"] == ["reasoning.encrypted_content", "web_search_call.action.sources"]
    assert sent["text"]["format"]["name"] == "files" and sent["text"]["verbosity"] == "low"
    assert sent["client_metadata"] == {"team": "a"}
    assert sent["store"] is False and sent["stream"] is True
    assert sent["prompt_cache_key"] == "conv-42"
    assert request.headers["session-id"] == "conv-42"
    assert request.headers["chatgpt-account-id"] == "acct-123"
    assert request.bearer and request.headers["originator"]


def test_model_effort_and_tier_rules_of_the_catalog_apply(stack):
    fake = stack
    litellm.responses(model="codex/gpt-5.5-high", input="hi")
    assert fake.last_request.body["model"] == "gpt-5.5"
    assert fake.last_request.body["reasoning"] == {"effort": "high"}  # no summary the caller did not ask for
    litellm.responses(model="codex/gpt-5.5", input="hi", reasoning={"effort": "low", "summary": "concise"})
    assert fake.last_request.body["reasoning"] == {"effort": "low", "summary": "concise"}
    assert fake.last_request.body["input"] == [
        {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "hi"}]}
    ]


def test_parameters_the_backend_rejects_are_dropped_with_one_warning(stack, caplog):
    fake = stack
    caplog.set_level(logging.WARNING, logger="litellm_codex_oauth_provider")
    litellm.responses(model="codex/gpt-5.5", input="hi", temperature=0.3, max_output_tokens=50, top_p=0.5)
    sent = fake.last_request.body
    assert not {"temperature", "max_output_tokens", "top_p"} & set(sent)
    [warning] = [r.getMessage() for r in caplog.records if "dropped parameters" in r.getMessage()]
    assert "max_output_tokens" in warning and "temperature" in warning and "top_p" in warning


def test_codex_instructions_only_when_the_caller_sent_none(stack):
    fake = stack
    litellm.responses(model="codex/gpt-5.5", input="hi")
    assert fake.last_request.body["instructions"].startswith("You are Codex")
    litellm.responses(model="codex/gpt-5.5", input="hi", instructions="Be terse.")
    assert fake.last_request.body["instructions"] == "Be terse."
    developer_first = [
        {"type": "message", "role": "developer", "content": [{"type": "input_text", "text": "My prompt."}]},
        {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "hi"}]},
    ]
    litellm.responses(model="codex/gpt-5.5", input=developer_first)
    assert "instructions" not in fake.last_request.body
    assert fake.last_request.body["input"] == developer_first


@pytest.mark.parametrize(
    ("params", "named"),
    [({"previous_response_id": "resp_abc"}, "previous_response_id"), ({"store": True}, "store: true")],
)
def test_stored_conversations_are_refused_with_a_clear_400(stack, params, named):
    fake = stack
    with pytest.raises(litellm.BadRequestError) as refused:
        litellm.responses(model="codex/gpt-5.5", input="go on", **params)
    message = str(refused.value)
    assert named in message and "keeps no conversations" in message and "whole conversation" in message
    assert refused.value.status_code == 400
    assert fake.requests == []


def test_a_non_streamed_call_gets_the_output_assembled_from_the_events(stack):
    fake = stack
    fake.enqueue(tool_turn())  # `response.completed` arrives with an empty `output`, as the backend's does
    response = litellm.responses(model="codex/gpt-5.5", input=CONVERSATION, tools=HOSTED_TOOLS)
    reasoning, call = response.output
    assert reasoning.type == "reasoning" and reasoning.encrypted_content == "enc-new"
    assert [s.text for s in reasoning.summary] == ["Step one.", "Step two."]
    assert call.type == "function_call" and call.call_id == "call_2"
    assert response.usage.input_tokens == 40 and response.usage.output_tokens == 9


def test_a_failed_turn_raises_the_providers_error(stack):
    fake = stack
    fake.enqueue(
        Turn().failed(code="context_length_exceeded", message="Your input exceeds the context window.")
    )
    with pytest.raises(litellm.ContextWindowExceededError):
        litellm.responses(model="codex/gpt-5.5", input="hi")


def test_a_spent_plan_is_a_rate_limit_error_with_the_reset(stack):
    fake = stack
    fake.enqueue(HttpError.usage_limit_reached(resets_in_seconds=900))
    with pytest.raises(litellm.RateLimitError, match="usage limit of your ChatGPT plus plan is reached"):
        litellm.responses(model="codex/gpt-5.5", input="hi")


async def test_streamed_events_come_back_typed_and_in_order(stack):
    fake = stack
    fake.enqueue(tool_turn())
    stream = await litellm.aresponses(model="codex/gpt-5.5", input=CONVERSATION, stream=True)
    events = [event async for event in stream]
    expected = [e.type for e in tool_turn().events(fake.last_request.body)]
    assert [str(getattr(e.type, "value", e.type)) for e in events] == expected
    assert [e.sequence_number for e in events] == list(range(len(events)))
    completed = events[-1].response
    assert [item.type for item in completed.output] == ["reasoning", "function_call"]
    assert completed.output[0].encrypted_content == "enc-new"


def test_drop_in_client_responses_create(stack):
    fake = stack
    fake.enqueue(tool_turn())
    client = CodexClient()
    response = client.responses.create(model="gpt-5.5", input=CONVERSATION, tools=HOSTED_TOOLS)
    assert isinstance(response, Response)
    reasoning, call = response.output
    assert isinstance(reasoning, ResponseReasoningItem) and reasoning.encrypted_content == "enc-new"
    assert isinstance(call, ResponseFunctionToolCall) and call.call_id == "call_2"
    assert fake.last_request.body["input"] == CONVERSATION

    fake.enqueue(Turn().text("Hello there"))
    events = list(client.responses.create(model="gpt-5.5", input="hi", stream=True))
    assert isinstance(events[-1], ResponseCompletedEvent)
    assert events[-1].response.output_text == "Hello there"
    assert "".join(e.delta for e in events if e.type == "response.output_text.delta") == "Hello there"

    with pytest.raises(openai.BadRequestError, match="keeps no conversations"):
        client.responses.create(model="gpt-5.5", input="hi", previous_response_id="resp_1")


async def test_async_drop_in_client_responses_create(stack):
    fake = stack
    client = AsyncCodexClient()
    fake.enqueue(Turn().text("async hello"))
    response = await client.responses.create(model="gpt-5.5", input="hi")
    assert isinstance(response, Response) and response.output_text == "async hello"
    fake.enqueue(tool_turn())
    stream = await client.responses.create(model="gpt-5.5", input="hi", stream=True)
    events = [event async for event in stream]
    assert isinstance(events[-1], ResponseCompletedEvent)
    assert events[-1].response.output[1].call_id == "call_2"


def test_only_codex_providers_get_the_config(provider):
    from litellm.utils import ProviderConfigManager

    assert responses_route.installed()
    assert isinstance(
        ProviderConfigManager.get_provider_responses_api_config(provider="codex"), CodexResponsesAPIConfig
    )
    assert not isinstance(
        ProviderConfigManager.get_provider_responses_api_config(provider="openai"), CodexResponsesAPIConfig
    )
    litellm.custom_provider_map = []
    assert ProviderConfigManager.get_provider_responses_api_config(provider="codex") is None


def test_where_litellm_has_no_lookup_the_bridge_stays_and_says_so(monkeypatch, caplog):
    import litellm.utils

    class NoLookup:
        pass

    monkeypatch.setattr(litellm.utils, "ProviderConfigManager", NoLookup)
    caplog.set_level(logging.WARNING, logger="litellm_codex_oauth_provider")
    assert responses_route.install(CodexAuthProvider) is False
    assert not responses_route.installed()
    assert any("chat bridge" in r.getMessage() for r in caplog.records)


def test_sync_and_async_send_the_same_body(stack):
    fake = stack
    litellm.responses(model="codex/gpt-5.5-low", input=CONVERSATION, tools=HOSTED_TOOLS, prompt_cache_key="k")
    sync_body = fake.last_request.body
    asyncio.run(
        litellm.aresponses(
            model="codex/gpt-5.5-low", input=CONVERSATION, tools=HOSTED_TOOLS, prompt_cache_key="k"
        )
    )
    assert fake.last_request.body == sync_body


@pytest.mark.usefixtures("provider")
@pytest.mark.parametrize("sync", [True, False])
def test_a_refused_login_is_refreshed_by_the_next_call(fake, home, sync):
    def call():
        if sync:
            return litellm.responses(model="codex/gpt-5.5", input="hi")
        return asyncio.run(litellm.aresponses(model="codex/gpt-5.5", input="hi"))

    old = fake.write_login(home)
    call()  # the catalog is cached from here on
    fake.expected_access_token = lambda token: token != old["tokens"]["access_token"]
    with pytest.raises(litellm.AuthenticationError, match="the next request refreshes it first"):
        call()
    assert fake.refresh_requests == 0
    response = call()
    assert response.output_text == "Hello from fake Codex"
    assert fake.refresh_requests == 1
    assert fake.last_request.bearer != old["tokens"]["access_token"]
    assert old["tokens"]["access_token"] not in str(fake.last_request.headers.get("authorization"))
