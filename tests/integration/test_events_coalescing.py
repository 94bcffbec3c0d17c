"""Deltas that are already there go out as one chunk; a delta that can be sent now is never held back."""

from __future__ import annotations

import asyncio

import litellm

from litellm_codex_oauth_provider.events import TurnTranslator, merge_deltas
from litellm_codex_oauth_provider.ready_events import ReadyEvents
from litellm_codex_oauth_provider.testing.fake_codex import Turn

MESSAGES = [{"role": "user", "content": "hi"}]
WORDS = "alpha beta gamma delta epsilon zeta eta theta iota kappa"


def delta(text: str, kind: str = "response.output_text.delta", item: str = "msg_1") -> dict:
    return {"type": kind, "item_id": item, "output_index": 0, "content_index": 0, "delta": text}


async def _events(groups: list[list[dict]], pause: float) -> object:
    for index, group in enumerate(groups):
        if index:
            await asyncio.sleep(pause)  # the next group is not there yet
        for event in group:
            yield event


async def test_events_already_there_come_as_one_batch_and_later_ones_are_not_waited_for():
    groups = [[delta("a"), delta("b"), delta("c")], [delta("d")], [delta("e"), delta("f")]]
    loop = asyncio.get_running_loop()
    batches, times = [], []
    start = loop.time()
    async with ReadyEvents(_events(groups, 0.2)) as ready:
        async for batch in ready:
            batches.append([e["delta"] for e in batch])
            times.append(loop.time() - start)
    assert batches == [["a", "b", "c"], ["d"], ["e", "f"]]
    assert times[0] < 0.15  # the first group is handed out before the second could exist


async def test_an_error_comes_after_the_events_before_it():
    async def failing():
        yield delta("a")
        yield delta("b")
        raise RuntimeError("the stream broke")

    ready = ReadyEvents(failing())
    assert [e["delta"] for e in await ready.__anext__()] == ["a", "b"]
    try:
        await ready.__anext__()
    except RuntimeError as exc:
        assert "broke" in str(exc)
    else:
        raise AssertionError("the error was lost")


async def test_closing_cancels_a_read_left_waiting():
    finished = asyncio.Event()

    async def slow():
        try:
            yield delta("a")
            await asyncio.sleep(30)
            yield delta("never")
        finally:
            finished.set()

    ready = ReadyEvents(slow())
    assert len(await ready.__anext__()) == 1
    await ready.aclose()
    assert finished.is_set()


def test_runs_of_deltas_merge_per_kind_and_item_and_nothing_else_does():
    reasoning = "response.reasoning_summary_text.delta"
    events = [
        {"type": "response.output_item.added", "item": {"type": "message"}},
        delta("He"),
        delta("llo"),
        delta("x", item="msg_2"),
        delta("think", kind=reasoning),
        delta("ing", kind=reasoning),
        {"type": "response.completed"},
    ]
    merged = merge_deltas(events)
    assert [(e["type"], e.get("delta")) for e in merged] == [
        ("response.output_item.added", None),
        ("response.output_text.delta", "Hello"),
        ("response.output_text.delta", "x"),
        (reasoning, "thinking"),
        ("response.completed", None),
    ]
    chunks = TurnTranslator(model="gpt-5.5", keep_output=False).handle_many(events[:6])
    assert [c.choices[0].delta.content for c in chunks] == ["Hello", "x", None]
    assert chunks[2].choices[0].delta.reasoning_content == "thinking"


async def test_deltas_that_piled_up_behind_a_busy_reader_go_out_as_one_chunk(codex_home, fake, provider):
    fake.enqueue(Turn().text(WORDS, chunks=10).delta_delay(0.02))
    stream = await litellm.acompletion(model="codex/gpt-5.5", messages=MESSAGES, stream=True)
    contents = []
    async for chunk in stream:
        text = chunk.choices[0].delta.content if chunk.choices else None
        if text:
            contents.append(text)
            if len(contents) == 1:
                await asyncio.sleep(0.6)  # a busy worker: the other nine deltas arrive meanwhile
    assert "".join(contents) == WORDS
    assert len(contents) <= 3  # not one chunk per delta (10)


async def test_a_steady_stream_still_sends_every_delta_as_it_comes(codex_home, fake, provider):
    fake.enqueue(Turn().text(WORDS, chunks=5).delta_delay(0.15))
    stream = await litellm.acompletion(model="codex/gpt-5.5", messages=MESSAGES, stream=True)
    contents = [c.choices[0].delta.content async for c in stream if c.choices and c.choices[0].delta.content]
    assert "".join(contents) == WORDS and len(contents) == 5
