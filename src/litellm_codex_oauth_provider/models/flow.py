"""What the catalog store and the prompt store share: one fetch flow, two drivers, one flight per key.

A fetch is written once, as a generator with no I/O (the way httpx's `Auth.auth_flow` serves
both of its clients): it holds every decision and yields the steps it needs done, a `Get` (an
HTTP GET, read up to a size cap before a deadline), a `Blocking` call (disk work) or a `Wait`
for another caller's fetch, and it is sent what each step gave, or thrown what it raised.
`run` does the steps in the calling thread; `arun` does them without blocking the event loop
(disk work in a worker thread). A flow that needs no step costs its caller no I/O at all.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import math
import threading
import time
from collections.abc import Awaitable, Callable, Generator, Mapping
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import httpx

from .. import drive
from ..bounded import (
    LimitExceeded,
    aread_capped,
    budget,
    buffered,
    private_folder,
    read_capped,
    read_regular_file,
)
from ..files import write_atomic

T = TypeVar("T")


# -- the steps a flow asks for ------------------------------------------------------------------------


@dataclass(frozen=True)
class Get:
    """GET `url`; read the body of a 200 up to `cap` bytes, all of it before `deadline` (monotonic).

    `seconds` is the limit the deadline stands for (for the message); `what` names the body in
    the error when it is too large or too slow. The answer is an `httpx.Response` with the body
    already read (empty unless the status is 200).
    """

    url: str
    cap: int
    deadline: float
    seconds: float
    what: str
    params: Mapping[str, str] = field(default_factory=dict)
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Blocking:
    """Call `func(*args)`: work that may block (the disk), done off the event loop on the async path."""

    func: Callable[..., Any]
    args: tuple[Any, ...] = ()


@dataclass(frozen=True)
class Wait:
    """The result of the fetch another caller leads (see `Flights`)."""

    future: Future[Any]


Step = Get | Blocking | Wait
#: A fetch: yields steps, is sent what they gave, returns its result.
Flow = Generator[Step, Any, T]


def limit(seconds: float) -> tuple[float, float]:
    """A `Get`'s `deadline` and `seconds` for a limit of `seconds` from now."""
    return time.monotonic() + seconds, seconds


# -- the drivers --------------------------------------------------------------------------------------


def run(flow: Flow[T], connect: Callable[[], contextlib.AbstractContextManager[httpx.Client]]) -> T:
    """Do `flow`'s steps in this thread; `connect` gives the HTTP client, on the first `Get` only."""
    with contextlib.ExitStack() as stack, contextlib.closing(flow):
        http: httpx.Client | None = None

        def perform(step: Step) -> Any:
            nonlocal http
            if isinstance(step, Get):
                http = http or stack.enter_context(connect())
                return _get(http, step)
            if isinstance(step, Blocking):
                return step.func(*step.args)
            return step.future.result()

        return drive.run(flow, perform)


async def arun(
    flow: Flow[T], connect: Callable[[], Awaitable[contextlib.AbstractAsyncContextManager[httpx.AsyncClient]]]
) -> T:
    """`run` for an event loop: the disk work runs in a worker thread, a `Get` under `wait_for`."""
    async with contextlib.AsyncExitStack() as stack:
        with contextlib.closing(flow):
            http: httpx.AsyncClient | None = None

            async def perform(step: Step) -> Any:
                nonlocal http
                if isinstance(step, Get):
                    http = http or await stack.enter_async_context(await connect())
                    return await _aget(http, step)
                if isinstance(step, Blocking):
                    return await asyncio.to_thread(step.func, *step.args)
                return await asyncio.wrap_future(step.future)

            return await drive.arun(flow, perform)


def lend(http: httpx.Client) -> Callable[[], contextlib.AbstractContextManager[httpx.Client]]:
    """A `run` connection to a client its owner keeps open (and closes)."""
    return lambda: contextlib.nullcontext(http)


def alend(
    http: httpx.AsyncClient,
) -> Callable[[], Awaitable[contextlib.AbstractAsyncContextManager[httpx.AsyncClient]]]:
    """An `arun` connection to a client its owner keeps open (and closes)."""

    async def connect() -> contextlib.AbstractAsyncContextManager[httpx.AsyncClient]:
        return contextlib.nullcontext(http)

    return connect


def _get(http: httpx.Client, get: Get) -> httpx.Response:
    """The deadline is checked per chunk, and no single wait may outlast it."""
    with http.stream(
        "GET",
        get.url,
        params=dict(get.params) or None,
        headers=dict(get.headers),
        timeout=budget(get.deadline),
    ) as response:
        body = b""
        if response.status_code == 200:
            body = read_capped(
                response.iter_bytes(), get.cap, deadline=get.deadline, seconds=get.seconds, what=get.what
            )
        return buffered(response, body)


async def _aget(http: httpx.AsyncClient, get: Get) -> httpx.Response:
    """`asyncio.wait_for` bounds the whole exchange: a slow answer cannot hold the loop's caller."""

    async def exchange() -> httpx.Response:
        async with http.stream(
            "GET",
            get.url,
            params=dict(get.params) or None,
            headers=dict(get.headers),
            timeout=budget(get.deadline),
        ) as response:
            body = b""
            if response.status_code == 200:
                body = await aread_capped(response.aiter_bytes(), get.cap, what=get.what)
            return buffered(response, body)

    try:
        return await asyncio.wait_for(exchange(), max(0.001, get.deadline - time.monotonic()))
    except TimeoutError:
        raise LimitExceeded(f"{get.what} took longer than {get.seconds:g} s") from None


# -- one fetch per key at a time ----------------------------------------------------------------------


class Flights:
    """One refresh per key at a time in the process, across threads and event loops.

    The first caller leads and resolves a `concurrent.futures.Future` that the others `Wait`
    on. The future is marked running at once so that a cancelled waiter cannot cancel it for
    everyone else.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._running: dict[str, Future[Any]] = {}

    def join(self, key: str) -> tuple[Future[Any], bool]:
        """The future for `key`'s fetch, and whether this caller leads it."""
        with self._lock:
            future = self._running.get(key)
            if future is not None:
                return future, False
            future = self._running[key] = Future()
            future.set_running_or_notify_cancel()
            return future, True

    def finish(self, key: str, future: Future[Any], result: Any) -> None:
        with self._lock:
            if self._running.get(key) is future:
                del self._running[key]
        if not future.done():
            future.set_result(result)

    def share(self, key: str, refresh: Flow[T], *, stale: T | None, fallback: Callable[[], T]) -> Flow[T]:
        """Lead `refresh` for `key`, or follow the caller who leads it.

        A follower that holds a `stale` copy uses it rather than wait; the others get the
        leader's result, or `fallback()` when the leader ends without one (cancelled, say).
        """
        future, leader = self.join(key)
        if not leader:
            return stale if stale is not None else (yield Wait(future))
        result: T | None = None
        try:
            result = yield from refresh
            return result
        finally:
            self.finish(key, future, result if result is not None else fallback())


FLIGHTS = Flights()


# -- cache files and the answers --------------------------------------------------------------------

_MAX_META_BYTES = 64 << 10


def read_json(path: Path) -> dict[str, Any] | None:
    """A small JSON object from a regular file, or None when it is missing, odd or unreadable."""
    try:
        data = json.loads(read_regular_file(path, _MAX_META_BYTES)[0])
    except (OSError, ValueError, LimitExceeded):
        return None
    return data if isinstance(data, dict) else None


def write_private(path: Path, data: bytes) -> None:
    """Replace `path` (mode 0600) in one rename, in a folder only we may read (0700)."""
    private_folder(path.parent)
    write_atomic(path, data)


def trusted_time(value: Any, now: float) -> float:
    """A cache's `fetched_at`, or minus infinity (stale) when it is not a time in the past.

    A time in the future would keep a copy fresh for ever: whoever wrote it is not trusted.
    """
    if isinstance(value, bool) or not isinstance(value, int | float):
        return float("-inf")
    moment = float(value)
    return moment if math.isfinite(moment) and moment <= now else float("-inf")


def digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:24]


def describe(exc: BaseException) -> str:
    """An error for a log line: class and message, which never carry request headers."""
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


class HTTPStatus(Exception):
    """An answer with a status the flow cannot use."""

    def __init__(self, status: int) -> None:
        super().__init__(f"HTTP {status}")
        self.status = status
