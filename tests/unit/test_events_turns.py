"""Event → chunk details of whole turns: reasoning items (summaries, encrypted content), the answer's text,
the stream report, the primed async stream.

Turns are the fake backend's `Turn`, as in every test; the few events written out by hand are ones
the fake never sends (a refusal delta, a completed event that carries output no item event announced).
"""

from __future__ import annotations

import pytest
from litellm.types.utils import ModelResponse

from litellm_codex_oauth_provider.encrypted_reasoning import ENCRYPTED_REASONING_PREFIX
from litellm_codex_oauth_provider.events import TurnTranslator
from litellm_codex_oauth_provider.exceptions import CodexStreamError
from litellm_codex_oauth_provider.litellm_glue.streams import PrimedStream, StreamReport
from litellm_codex_oauth_provider.testing.fake_codex import Turn


def run(turn: Turn, *, keep_output: bool) -> tuple[TurnTranslator, list]:
    translator = TurnTranslator(model="codex/gpt-5.5", keep_output=keep_output)
    return translator, [chunk for event in turn.payloads() for chunk in translator.handle(event)]


def streamed_text(chunks, field: str = "content") -> str:
    return "".join(getattr(c.choices[0].delta, field, None) or "" for c in chunks if c.choices)


def test_several_message_items_read_as_paragraphs_streamed_or_not():
    turn = Turn().text("Let me check.").function_call("f", "{}").text("Done.")
    translator, chunks = run(turn, keep_output=True)
    assert streamed_text(chunks) == "Let me check.\n\nDone."
    assert (
        translator.to_model_response(ModelResponse()).choices[0].message.content == "Let me check.\n\nDone."
    )


def test_reasoning_summaries_of_several_items_read_as_paragraphs():
    turn = (
        Turn().reasoning(["a", "b"], encrypted_content="E1").reasoning("c", encrypted_content="E2").text("x")
    )
    translator, chunks = run(turn, keep_output=True)
    assert streamed_text(chunks, "reasoning_content") == "a\n\nb\n\nc"
    assert translator.to_model_response(ModelResponse()).choices[0].message.reasoning_content == "a\n\nb\n\nc"


def test_each_reasoning_item_is_one_chunk_with_the_item_and_a_signed_block():
    _, chunks = run(
        Turn().reasoning("s", encrypted_content="E1").reasoning(None, encrypted_content="E2"),
        keep_output=False,
    )
    carrying = [c.choices[0].delta for c in chunks if getattr(c.choices[0].delta, "reasoning_items", None)]
    assert [d.reasoning_items for d in carrying] == [
        [
            {
                "type": "reasoning",
                "summary": [{"type": "summary_text", "text": "s"}],
                "encrypted_content": "E1",
            }
        ],
        [{"type": "reasoning", "summary": [], "encrypted_content": "E2"}],
    ]
    assert [d.thinking_blocks for d in carrying] == [
        [{"type": "thinking", "thinking": "", "signature": ENCRYPTED_REASONING_PREFIX + "E1"}],
        [{"type": "thinking", "thinking": "", "signature": ENCRYPTED_REASONING_PREFIX + "E2"}],
    ]


def test_reasoning_without_encrypted_content_is_not_offered_for_replay():
    translator, chunks = run(Turn().reasoning("s", encrypted_content=None).text("x"), keep_output=True)
    assert not any(getattr(c.choices[0].delta, "reasoning_items", None) for c in chunks)
    message = translator.to_model_response(ModelResponse()).choices[0].message
    assert message.reasoning_content == "s" and not getattr(message, "reasoning_items", None)


def test_refusal_text_is_content():
    translator = TurnTranslator(model="m")
    [chunk] = translator.handle({"type": "response.refusal.delta", "delta": "I can't help with that."})
    assert chunk.choices[0].delta.content == "I can't help with that."


def test_completed_output_is_used_when_no_item_events_came():
    translator = TurnTranslator(model="m")
    item = {
        "type": "message",
        "role": "assistant",
        "content": [{"type": "output_text", "text": "from output"}],
    }
    translator.handle({"type": "response.completed", "response": {"output": [item]}})
    assert translator.to_model_response(ModelResponse()).choices[0].message.content == "from output"


def test_failed_event_keeps_the_error_details():
    error = {"code": "usage_limit_reached", "message": "m", "plan_type": "pro", "resets_in_seconds": 5}
    with pytest.raises(CodexStreamError) as info:
        TurnTranslator(model="m").handle({"type": "response.failed", "response": {"error": error}})
    assert info.value.details["plan_type"] == "pro"


def test_stream_report_applies_in_either_order_and_in_place():
    headers = {"llm_provider-x-codex-primary-used-percent": "5"}
    for publish_first in (True, False):
        hidden = {"additional_headers": {"x-litellm-model-id": "m"}}
        shared = hidden["additional_headers"]
        report = StreamReport()
        if publish_first:
            report.publish(headers, ["temperature"])
        report.bind(hidden)
        if not publish_first:
            report.publish(headers, ["temperature"])
        assert shared == {"x-litellm-model-id": "m", **headers}
        assert hidden["codex_dropped_params"] == ["temperature"]


async def test_primed_stream_opens_once_and_raises_opening_errors_to_the_opener():
    async def turn():
        yield PrimedStream.OPENED
        yield "chunk"

    stream = PrimedStream(turn())
    await stream.open()
    await stream.open()
    assert [c async for c in stream] == ["chunk"]

    async def failing():
        raise RuntimeError("no")
        yield  # pragma: no cover

    with pytest.raises(RuntimeError):
        await PrimedStream(failing()).open()
