"""Streams are closed by their owner, never by a finalizer that could block.

httpx's sync connection pool hands connections out and takes them back under one
non-reentrant lock. The garbage collector runs finalizers in whatever thread allocates at
that moment, possibly the thread that holds that very lock for its next request; a response
closed there waits for ever on a lock its own thread holds. openai's `Stream`
closes its response from a generator `finally`, so merely letting an open stream become
garbage can hang the process.

So an open backend stream always sits in a `StreamSlot`: the slot keeps it reachable (the
collector never finalizes openai's or httpx's generators while it is open), its owner closes
it in its own thread when the turn ends, fails or is closed, and an owner that is collected
without closing it only hands it to `close_later`, which closes it in a background thread
where no lock of the collecting thread is held. `close_later` never blocks: it is safe in a
`__del__`, a weakref callback and a signal handler.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import queue
import threading
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

logger = logging.getLogger(__name__)

T = TypeVar("T")

#: Closers waiting for the closer thread. `SimpleQueue.put` is reentrant (safe in finalizers).
_PENDING: queue.SimpleQueue[Callable[[], Any]] = queue.SimpleQueue()
_START_LOCK = threading.Lock()
_closer_pid: int | None = None


def _run_closers() -> None:
    while True:
        close = _PENDING.get()
        try:
            close()
        except Exception as exc:  # a stream that fails to close is gone all the same
            logger.debug("codex: closing an abandoned stream failed: %r", exc)
        del close


def ensure_closer() -> None:
    """Start the closer thread (once per process) from ordinary code, never from a finalizer."""
    global _closer_pid
    pid = os.getpid()
    if _closer_pid == pid:
        return
    with _START_LOCK:
        if _closer_pid != pid:  # a forked child has no thread even though its parent did
            threading.Thread(target=_run_closers, name="codex-stream-closer", daemon=True).start()
            _closer_pid = pid


def close_later(close: Callable[[], Any]) -> None:
    """Run `close()` in the closer thread; returns at once, takes no lock."""
    _PENDING.put(close)


def aclose_later(loop: asyncio.AbstractEventLoop | None, aclose: Callable[[], Any]) -> None:
    """Schedule `await aclose()` on `loop` from any thread or finalizer; nothing when the loop is gone."""
    if loop is None or loop.is_closed():
        return
    with contextlib.suppress(RuntimeError):  # closed in between
        loop.call_soon_threadsafe(_spawn, loop, aclose)


def _spawn(loop: asyncio.AbstractEventLoop, aclose: Callable[[], Any]) -> None:
    task = loop.create_task(_quietly(aclose))
    _TASKS.add(task)
    task.add_done_callback(_TASKS.discard)


_TASKS: set[asyncio.Task[None]] = set()


async def _quietly(aclose: Callable[[], Any]) -> None:
    try:
        await aclose()
    except Exception as exc:
        logger.debug("codex: closing an abandoned stream failed: %r", exc)


#: Slots whose stream is open: they keep it reachable until it is closed or handed over.
_OPEN: set[StreamSlot] = set()


def open_streams() -> int:
    """How many backend streams are open in this process (for tests and the soak benchmark)."""
    return len(_OPEN)


class StreamSlot:
    """Holds the open inner stream of one turn (a new one replaces it when the turn is sent again)."""

    __slots__ = ("__weakref__", "_stream")

    def __init__(self, stream: Any = None) -> None:
        self._stream: Any = None
        if stream is not None:
            self.hold(stream)

    @property
    def stream(self) -> Any:
        return self._stream

    def hold(self, stream: Any) -> None:
        self.close()
        ensure_closer()
        self._stream = stream
        _OPEN.add(self)

    def close(self) -> None:
        """Close the stream now, in the calling thread (the owner's thread, never a finalizer)."""
        stream, self._stream = self._stream, None
        _OPEN.discard(self)
        if stream is not None:
            stream.close()

    def abandon(self) -> None:
        """The owner is gone without closing: the closer thread closes the stream. Never blocks."""
        stream, self._stream = self._stream, None
        if stream is not None:
            close_later(stream.close)
        _OPEN.discard(self)


class OwnedStream(Iterator[T]):
    """The provider's sync chunk iterator: `chunks` reads the turn through `slot`.

    `close()` closes the backend stream at once; a stream dropped unclosed is handed to the
    closer thread by `__del__`. The chunk generator itself never closes the slot's stream on
    `GeneratorExit`, since that is also how the collector finalizes it.
    """

    def __init__(self, slot: StreamSlot, chunks: Iterator[T]) -> None:
        self._slot = slot
        self._chunks = chunks

    def __iter__(self) -> OwnedStream[T]:
        return self

    def __next__(self) -> T:
        return next(self._chunks)

    def close(self) -> None:
        try:
            self._slot.close()
        finally:
            self._chunks.close()

    def __del__(self) -> None:
        slot = getattr(self, "_slot", None)
        if slot is not None:
            slot.abandon()
