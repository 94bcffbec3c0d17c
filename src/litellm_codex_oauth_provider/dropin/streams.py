"""`CodexStream` / `AsyncCodexStream`: the drop-in client's streams, closed deterministically.

They iterate LiteLLM's stream of the turn and give openai's types (`ChatCompletionChunk`s, or
Responses stream events); a failure while reading leaves as openai's exception class. The backend
stream behind them is closed when the turn ends, when it fails, on `close()` (and `with` /
`async with`), and, for a stream the caller dropped unclosed (`for chunk in ...: break`),
from `__del__` without blocking: the close is handed to the closer thread (sync) or scheduled
on the stream's event loop (async), never run inside the finalizer (see stream_lifetime.py).
No method here refers back to the stream object from a generator, so dropping the last
reference frees it at once rather than at some later garbage collection.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

from openai.types.chat import ChatCompletionChunk

from ..stream_lifetime import aclose_later, close_later, ensure_closer
from .errors import raise_openai_error

Convert = Callable[[Any], ChatCompletionChunk]


def _sync_closer(chunks: Any) -> Callable[[], Any] | None:
    """How to close LiteLLM's stream wrapper: its own `close`, else the provider's stream inside it."""
    for target in (chunks, getattr(chunks, "completion_stream", None)):
        close = getattr(target, "close", None)
        if callable(close):
            return close
    return None


async def _aclose(chunks: Any) -> None:
    """LiteLLM's `aclose` where it has one (it closes the provider's stream), else the provider's."""
    for target in (chunks, getattr(chunks, "completion_stream", None)):
        for name in ("aclose", "close"):
            closer = getattr(target, name, None)
            if callable(closer):
                result = closer()
                if asyncio.iscoroutine(result):
                    await result
                return


class CodexStream(Iterator[ChatCompletionChunk]):
    """Iterates `ChatCompletionChunk`s, like `openai.Stream`; closing it stops the backend stream."""

    def __init__(self, chunks: Any, convert: Convert) -> None:
        ensure_closer()
        self._chunks = chunks
        self._iterator = iter(chunks)
        self._convert = convert
        self._closed = False

    def __iter__(self) -> Iterator[ChatCompletionChunk]:
        return self

    def __next__(self) -> ChatCompletionChunk:
        if self._closed:
            raise StopIteration
        try:
            return self._convert(next(self._iterator))
        except StopIteration:
            self.close()
            raise
        except Exception as exc:
            with contextlib.suppress(Exception):
                self.close()
            raise_openai_error(exc)

    def close(self) -> None:
        """Stop the backend stream now; idempotent."""
        if self._closed:
            return
        self._closed = True
        close = _sync_closer(self._chunks)
        if close is not None:
            close()

    def __enter__(self) -> CodexStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        if getattr(self, "_closed", True):
            return
        self._closed = True
        close = _sync_closer(self._chunks)
        if close is not None:
            close_later(close)


class AsyncCodexStream(AsyncIterator[ChatCompletionChunk]):
    """`async for` over `ChatCompletionChunk`s, like `openai.AsyncStream`; made inside a running loop."""

    def __init__(self, chunks: Any, convert: Convert) -> None:
        self._chunks = chunks
        self._iterator = chunks.__aiter__()
        self._convert = convert
        self._loop = asyncio.get_running_loop()
        self._closed = False

    def __aiter__(self) -> AsyncIterator[ChatCompletionChunk]:
        return self

    async def __anext__(self) -> ChatCompletionChunk:
        if self._closed:
            raise StopAsyncIteration
        try:
            return self._convert(await self._iterator.__anext__())
        except StopAsyncIteration:
            await self.close()
            raise
        except Exception as exc:
            with contextlib.suppress(Exception):
                await self.close()
            raise_openai_error(exc)

    async def close(self) -> None:
        """Stop the backend stream now; idempotent."""
        if self._closed:
            return
        self._closed = True
        await _aclose(self._chunks)

    async def __aenter__(self) -> AsyncCodexStream:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def __del__(self) -> None:
        if getattr(self, "_closed", True):
            return
        self._closed = True
        chunks = self._chunks
        aclose_later(self._loop, lambda: _aclose(chunks))
