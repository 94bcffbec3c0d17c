"""An async event stream read in batches: what already arrived goes out together, nothing waits.

A worker that fell behind finds several events already parsed from one network read; sending
them as one chunk (see `TurnTranslator.handle_many`) instead of one per delta is what keeps a
busy proxy from spending its time on chunk overhead.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Coroutine, Generator
from typing import Any


class _Suspended:
    """A coroutine that was started by hand and is waiting for the loop; awaiting this finishes it."""

    __slots__ = ("_coro", "_signal")

    def __init__(self, coro: Coroutine[Any, Any, Any], signal: Any) -> None:
        self._coro, self._signal = coro, signal

    def __await__(self) -> Generator[Any, Any, Any]:
        coro, signal = self._coro, self._signal
        while True:
            if isinstance(signal, asyncio.Future) and signal.done():
                # What it waited for came meanwhile (a busy worker): go on now, not a loop turn later.
                try:
                    signal = coro.send(None)
                except StopIteration as done:
                    return done.value
                continue
            try:
                sent = yield signal  # what the coroutine waits on goes to the running task, as before
            except GeneratorExit:
                coro.close()
                raise
            except BaseException as exc:  # e.g. the task's cancellation: the coroutine gets it
                try:
                    signal = coro.throw(exc)
                except StopIteration as done:
                    return done.value
                continue
            try:
                signal = coro.send(sent)
            except StopIteration as done:
                return done.value

    async def cancel(self) -> None:
        """Cancel the waiting step (the read under it ends as a cancelled read does) and let it unwind."""
        if isinstance(self._signal, asyncio.Future) and self._signal.done() and not self._signal.cancelled():
            self._signal.exception()  # a read that failed meanwhile: its error is moot now, not "never retrieved"
        try:
            signal = self._coro.throw(asyncio.CancelledError())
        except (StopIteration, StopAsyncIteration, asyncio.CancelledError):
            return
        except Exception:  # the stream is being dropped; how its read ends no longer matters
            return
        try:
            await _Suspended(self._coro, signal)
        except asyncio.CancelledError:
            task = asyncio.current_task()
            if task is not None and task.cancelling():  # our own task is being cancelled: pass it on
                raise
        except (StopAsyncIteration, Exception):
            return


class ReadyEvents:
    """An async event stream read in batches: one event waited for, then every event already parsed.

    After an event arrives, the next ones are taken only as far as they are ready without waiting
    (the rest of a network read the SSE decoder has already split into events): each step of the
    stream is started by hand and, when it would wait, kept and awaited first on the next call.
    So nothing that could be sent now is held back, and a worker that fell behind sends what
    piled up as one chunk instead of one per delta. `aclose()` cancels a step left waiting.
    """

    def __init__(self, events: AsyncIterator[Any]) -> None:
        self._events = events
        self._waiting: _Suspended | None = None
        self._error: BaseException | None = None

    def __aiter__(self) -> ReadyEvents:
        return self

    async def __anext__(self) -> list[Any]:
        if self._error is not None:
            error, self._error = self._error, None
            raise error
        waiting, self._waiting = self._waiting, None
        batch = [await (waiting if waiting is not None else self._events.__anext__())]
        while True:
            step = self._events.__anext__()
            try:
                signal = step.send(None)  # type: ignore[attr-defined]
            except StopIteration as done:
                batch.append(done.value)
                continue
            except Exception as exc:  # the end of the stream, or its error: after this batch
                self._error = exc
                return batch
            self._waiting = _Suspended(step, signal)  # type: ignore[arg-type]
            return batch

    async def aclose(self) -> None:
        waiting, self._waiting = self._waiting, None
        if waiting is not None:
            await waiting.cancel()

    async def __aenter__(self) -> ReadyEvents:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()
