"""The fetch flow: one generator holds the decisions, the sync and the async driver only do the steps."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from typing import Any

import httpx
import pytest

from litellm_codex_oauth_provider.bounded import LimitExceeded
from litellm_codex_oauth_provider.models.flow import (
    Blocking,
    Flights,
    Flow,
    Get,
    alend,
    arun,
    lend,
    limit,
    run,
)


def _get(url: str = "http://backend.test/models", seconds: float = 5.0, cap: int = 100) -> Get:
    deadline, seconds = limit(seconds)
    return Get(url, cap=cap, deadline=deadline, seconds=seconds, what="the thing")


def _answer(request: httpx.Request) -> httpx.Response:
    if request.url.path == "/missing":
        return httpx.Response(404, text="no such thing")
    return httpx.Response(200, text="x" * int(request.url.params.get("size", "5")), headers={"etag": '"e"'})


def _drive(flow: Flow[Any], path: str, handler: Any = _answer) -> Any:
    """Run `flow` with the sync or the async driver against an in-process HTTP handler."""
    if path == "sync":
        with httpx.Client(transport=httpx.MockTransport(handler)) as http:
            return run(flow, lend(http))

    async def go() -> Any:
        async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as http:
            return await arun(flow, alend(http))

    return asyncio.run(go())


PATHS = pytest.mark.parametrize("path", ["sync", "async"])


def refuse() -> Any:
    raise AssertionError("connected")


async def arefuse() -> Any:
    raise AssertionError("connected")


@PATHS
def test_a_flow_that_needs_no_step_opens_no_connection(path: str) -> None:
    def flow() -> Flow[str]:
        return "memo"
        yield  # a generator

    if path == "sync":
        assert run(flow(), refuse) == "memo"
    else:
        assert asyncio.run(arun(flow(), arefuse)) == "memo"


@PATHS
def test_each_step_gives_the_flow_its_result(path: str) -> None:
    def flow() -> Flow[tuple[int, bytes, str | None, int, int]]:
        response = yield _get()
        missing = yield _get("http://backend.test/missing")
        doubled = yield Blocking(lambda n: n * 2, (21,))
        return (
            response.status_code,
            response.content,
            response.headers.get("etag"),
            missing.status_code,
            doubled,
        )

    # only a 200's body is read
    assert _drive(flow(), path) == (200, b"xxxxx", '"e"', 404, 42)


@PATHS
def test_what_a_step_raises_is_thrown_into_the_flow(path: str) -> None:
    def flow() -> Flow[str]:
        try:
            yield Get(
                "http://backend.test/models?size=500",
                cap=100,
                deadline=limit(5)[0],
                seconds=5,
                what="the thing",
            )
        except LimitExceeded as exc:
            return f"fell back: {exc}"
        return "read it all"

    assert _drive(flow(), path) == "fell back: the thing is larger than 100 bytes"


@PATHS
def test_an_error_the_flow_does_not_catch_reaches_the_caller(path: str) -> None:
    def unreachable(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    def flow() -> Flow[int]:
        response = yield _get()
        return response.status_code

    with pytest.raises(httpx.ConnectError):
        _drive(flow(), path, unreachable)


def test_the_async_driver_does_the_blocking_work_off_the_loop() -> None:
    def flow() -> Flow[int]:
        return (yield Blocking(threading.get_ident))

    async def go() -> tuple[int, int]:
        return await arun(flow(), arefuse), threading.get_ident()

    worker, loop = asyncio.run(go())
    assert worker != loop


def test_a_cancelled_leader_hands_its_followers_the_fallback() -> None:
    """The flow's `finally` runs even when its caller is cancelled: no follower waits for ever."""
    flights = Flights()

    def slow() -> Flow[str]:
        yield Blocking(threading.Event().wait, (0.5,))
        return "fetched"

    async def go() -> tuple[str, str]:
        leader = asyncio.create_task(
            arun(flights.share("k", slow(), stale=None, fallback=lambda: "fallback"), arefuse)
        )
        await asyncio.sleep(0.05)
        follower = asyncio.create_task(
            arun(flights.share("k", slow(), stale=None, fallback=lambda: "?"), arefuse)
        )
        await asyncio.sleep(0.05)
        leader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await leader
        followed = await follower
        _, leads = flights.join("k")
        return followed, "leads anew" if leads else "still running"

    assert asyncio.run(go()) == ("fallback", "leads anew")


@PATHS
def test_a_follower_waits_for_the_leaders_result_unless_it_holds_a_copy(path: str) -> None:
    flights = Flights()
    leader_future, _ = flights.join("k")

    def never() -> Flow[str]:
        raise AssertionError("a follower never refreshes")
        yield

    assert _drive(flights.share("k", never(), stale="stale copy", fallback=lambda: "?"), path) == "stale copy"
    threading.Timer(0.05, flights.finish, ("k", leader_future, "from the leader")).start()
    assert _drive(flights.share("k", never(), stale=None, fallback=lambda: "?"), path) == "from the leader"
