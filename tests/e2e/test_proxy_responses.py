"""End to end: `/v1/responses` through the LiteLLM proxy (a subprocess) to the fake backend.

The proxy runs the project's config plus a success callback that writes LiteLLM's standard
logging payload (the record its spend logs are made from) to a file, so the test sees what the
proxy would bill, and for which key.
"""

from __future__ import annotations

import asyncio
import json
import time
import warnings

import openai
import pytest
from openai import OpenAI
from openai.types.responses import (
    Response,
    ResponseCompletedEvent,
    ResponseFunctionToolCall,
    ResponseReasoningItem,
)

from litellm_codex_oauth_provider.testing.fake_codex import FakeCodexBackend, HttpError, Turn
from tests.e2e.proxy import MASTER_KEY, ROOT, backend_env, running_proxy

pytestmark = pytest.mark.e2e

RECORDER = """\
import json, os
from litellm.integrations.custom_logger import CustomLogger


class Recorder(CustomLogger):
    async def async_log_success_event(self, kwargs, response_obj, start_time, end_time):
        payload = kwargs.get("standard_logging_object") or {}
        metadata = payload.get("metadata") or {}
        line = {
            "call_type": payload.get("call_type") or kwargs.get("call_type"),
            "model": payload.get("model"),
            "prompt_tokens": payload.get("prompt_tokens"),
            "completion_tokens": payload.get("completion_tokens"),
            "response_cost": payload.get("response_cost"),
            "key_hash": metadata.get("user_api_key_hash"),
        }
        with open(os.environ["SPEND_RECORD"], "a") as out:
            out.write(json.dumps(line) + "\\n")


recorder = Recorder()
"""

TOOLS = [
    {"type": "function", "name": "get_weather", "parameters": {"type": "object", "properties": {}}},
    {"type": "web_search", "external_web_access": False, "search_content_types": ["text", "image"]},
    {
        "type": "tool_search",
        "execution": "client",
        "description": "find tools",
        "parameters": {"type": "object"},
    },
]


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    """One fake backend and one proxy (with the spend recorder) for the module."""
    folder = tmp_path_factory.mktemp("proxy-config")
    config = (ROOT / "litellm_config.yaml").read_text()
    config = config.replace(
        "litellm_settings:\n", 'litellm_settings:\n  callbacks: ["spend_recorder.recorder"]\n', 1
    )
    (folder / "config.yaml").write_text(config)
    (folder / "spend_recorder.py").write_text(RECORDER)
    record = folder / "spend.jsonl"
    home = tmp_path_factory.mktemp("codex-home")
    with FakeCodexBackend() as fake:
        fake.issue_login(home)
        env = {**backend_env(fake, tmp_path_factory.mktemp("cache"), home), "SPEND_RECORD": str(record)}
        log = tmp_path_factory.mktemp("logs") / "proxy.log"
        with running_proxy(env, config=folder / "config.yaml", log=log) as url:
            client = OpenAI(base_url=f"{url}/v1", api_key=MASTER_KEY, max_retries=0)
            yield fake, client, record


def _tool_turn() -> Turn:
    return (
        Turn()
        .reasoning(["Looking it up.", "Then answering."], encrypted_content="enc-turn-1")
        .function_call("get_weather", {"city": "Paris"}, call_id="call_w1")
        .usage(input_tokens=30, output_tokens=12, reasoning_tokens=5)
    )


def test_streamed_events_are_the_backends_and_validate_as_openai_types(stack):
    fake, client, _ = stack
    fake.enqueue(_tool_turn())
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # any warning of the openai package (or pydantic) fails the test
        stream = client.responses.create(
            model="codex/gpt-5.5",
            input=[{"role": "user", "content": "weather in Paris?"}],
            tools=TOOLS,
            include=["reasoning.encrypted_content"],
            text={"format": {"type": "json_schema", "name": "w", "schema": {"type": "object"}}},
            stream=True,
        )
        events = list(stream)
        for event in events:
            event.model_dump()  # serialising warns on a malformed item (e.g. a reasoning item with a role)

    expected = [e.type for e in _tool_turn().events(fake.last_request.body)]
    assert [e.type for e in events] == expected
    assert "response.reasoning_summary_part.added" in expected
    numbers = [e.sequence_number for e in events]
    assert numbers == sorted(numbers) and len(set(numbers)) == len(numbers)
    completed = events[-1]
    assert isinstance(completed, ResponseCompletedEvent)
    reasoning, call = completed.response.output
    assert isinstance(reasoning, ResponseReasoningItem) and reasoning.encrypted_content == "enc-turn-1"
    assert [s.text for s in reasoning.summary] == ["Looking it up.", "Then answering."]
    assert "role" not in reasoning.model_dump(exclude_none=True)
    assert isinstance(call, ResponseFunctionToolCall) and call.call_id == "call_w1"
    assert completed.response.usage.input_tokens == 30

    sent = fake.last_request.body
    assert sent["tools"] == TOOLS  # hosted tools reach the backend as the caller sent them
    assert sent["text"]["format"] == {"type": "json_schema", "name": "w", "schema": {"type": "object"}}
    assert sent["include"] == ["reasoning.encrypted_content"]
    assert sent["store"] is False and sent["stream"] is True


def test_follow_up_carries_the_reasoning_item_and_no_second_prompt(stack):
    """A Codex-CLI-shaped follow-up: its own developer prompt, the reasoning item replayed."""
    fake, client, _ = stack
    fake.enqueue(Turn().text("Sunny."))
    prompt = {
        "type": "message",
        "role": "developer",
        "content": [{"type": "input_text", "text": "You are X."}],
    }
    reasoning = {
        "type": "reasoning",
        "summary": [{"type": "summary_text", "text": "Looking it up."}],
        "encrypted_content": "enc-turn-1",
    }
    items = [
        prompt,
        {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "weather?"}]},
        reasoning,
        {"type": "function_call", "call_id": "call_w1", "name": "get_weather", "arguments": "{}"},
        {"type": "function_call_output", "call_id": "call_w1", "output": "sunny"},
    ]
    answer = client.responses.create(model="codex/gpt-5.5", input=items, tools=TOOLS)
    assert isinstance(answer, Response) and answer.output_text == "Sunny."
    sent = fake.last_request.body
    assert sent["input"] == items
    assert "instructions" not in sent  # the caller's developer message is the prompt, sent once


def test_without_instructions_the_models_codex_instructions_are_added(stack):
    fake, client, _ = stack
    client.responses.create(model="codex/gpt-5.5-high", input="hi")
    sent = fake.last_request.body
    assert sent["instructions"].startswith("You are Codex")
    assert sent["reasoning"]["effort"] == "high" and sent["model"] == "gpt-5.5"
    client.responses.create(model="codex/gpt-5.5", input="hi", instructions="Answer in French.")
    assert fake.last_request.body["instructions"] == "Answer in French."


def test_previous_response_id_and_store_are_refused_with_a_clear_400(stack):
    fake, client, _ = stack
    before = fake.responses_count
    with pytest.raises(openai.BadRequestError) as refused:
        client.responses.create(model="codex/gpt-5.5", input="and then?", previous_response_id="resp_123")
    assert "keeps no conversations" in str(refused.value) and "whole conversation" in str(refused.value)
    with pytest.raises(openai.BadRequestError, match="keeps no conversations"):
        client.responses.create(model="codex/gpt-5.5", input="hi", store=True)
    assert fake.responses_count == before


def test_the_proxy_key_is_required(stack):
    fake, client, _ = stack
    before = fake.responses_count
    with pytest.raises(openai.APIStatusError) as refused:
        client.with_options(api_key="sk-not-a-key").responses.create(model="codex/gpt-5.5", input="hi")
    # Without a database LiteLLM cannot look the key up and says so (400 "No connected db"); with
    # one it answers 401. Either way the call is refused before it reaches the backend.
    assert refused.value.status_code in (400, 401), refused.value
    assert fake.responses_count == before


def test_spend_is_logged_for_the_key(stack):
    fake, client, record = stack
    fake.enqueue(Turn().text("counted").usage(input_tokens=41, output_tokens=7))
    client.responses.create(model="codex/gpt-5.5", input="count me")
    lines: list[dict] = []
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:  # the callback runs after the answer is sent
        lines = [json.loads(x) for x in record.read_text().splitlines()] if record.exists() else []
        if any(line["prompt_tokens"] == 41 for line in lines):
            break
        time.sleep(0.2)
    line = next(line for line in lines if line["prompt_tokens"] == 41)
    assert line["call_type"] in ("aresponses", "responses") and line["completion_tokens"] == 7
    assert line["key_hash"]  # attributed to the calling key


def test_backend_errors_keep_their_status(stack):
    fake, client, _ = stack
    fake.handler = lambda _: HttpError.usage_limit_reached(resets_in_seconds=600)  # every attempt
    try:
        with pytest.raises(openai.RateLimitError) as limited:
            client.responses.create(model="codex/gpt-5.5", input="hi")
    finally:
        fake.handler = None
    assert "usage limit of your ChatGPT plus plan is reached" in str(limited.value)


def test_agents_sdk_runs_a_tool_loop(stack):
    agents = pytest.importorskip("agents")
    fake, client, _ = stack
    fake.enqueue(
        Turn()
        .reasoning("Need the tool.", encrypted_content="enc-agent")
        .function_call("lookup", {"term": "x"}, call_id="call_a1"),
        Turn().text("The answer is 42."),
    )
    calls: list[str] = []

    @agents.function_tool
    def lookup(term: str) -> str:
        """Look a term up."""
        calls.append(term)
        return "42"

    agents.set_tracing_disabled(True)

    def agent() -> object:  # one async client per event loop
        async_client = openai.AsyncOpenAI(base_url=str(client.base_url), api_key=MASTER_KEY, max_retries=0)
        model = agents.OpenAIResponsesModel(model="codex/gpt-5.5", openai_client=async_client)
        return agents.Agent(name="helper", instructions="Use the tool.", model=model, tools=[lookup])

    def check_follow_up(encrypted: str) -> None:
        follow_up = fake.last_request.body
        replayed = [i for i in follow_up["input"] if i.get("type") == "reasoning"]
        assert [r["encrypted_content"] for r in replayed] == [encrypted]
        outputs = [i for i in follow_up["input"] if i.get("type") == "function_call_output"]
        assert outputs and outputs[-1]["output"] == "42"
        assert follow_up["instructions"] == "Use the tool."

    result = agents.Runner.run_sync(agent(), "what is x?")
    assert result.final_output == "The answer is 42."
    check_follow_up("enc-agent")

    fake.enqueue(
        Turn()
        .reasoning("Again.", encrypted_content="enc-agent-2")
        .function_call("lookup", {"term": "y"}, call_id="call_a2"),
        Turn().text("Still 42."),
    )

    async def streamed() -> object:
        run = agents.Runner.run_streamed(agent(), "what is y?")
        async for _ in run.stream_events():
            pass
        return run.final_output

    assert asyncio.run(streamed()) == "Still 42."
    check_follow_up("enc-agent-2")
    assert calls == ["x", "y"]
