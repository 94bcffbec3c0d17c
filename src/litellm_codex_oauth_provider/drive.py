"""Driving a flow: a generator that yields the I/O it needs and is sent each result back.

A flow holds every decision and does no I/O, the way httpx's `Auth.auth_flow` serves both of its
clients: it yields a step, and is sent what the step gave or thrown what it raised. `run` and
`arun` are the only loops; what a step means is the caller's `perform` (the turn's steps in the
provider, the fetch steps of the catalog and prompt stores).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Generator
from dataclasses import dataclass
from typing import Any, TypeVar

R = TypeVar("R")

Flow = Generator[Any, Any, R]


def run(
    flow: Flow[R],
    perform: Callable[[Any], Any],
    *,
    until: type | None = None,
    error: Exception | None = None,
) -> R:
    """Drive `flow` to its end, `perform`ing each step (its errors go back into the flow).

    With `until`, stop at the first step of that type and return it: call again with the
    outcome (`error`, or none) to resume.
    """
    result: Any = None
    while not (step := _advance(flow, result, error, until)).done:
        try:
            result, error = perform(step.value), None
        except Exception as exc:
            result, error = None, exc
    return step.value  # type: ignore[no-any-return]


async def arun(
    flow: Flow[R],
    perform: Callable[[Any], Awaitable[Any]],
    *,
    until: type | None = None,
    error: Exception | None = None,
) -> R:
    """`run` with an async `perform`."""
    result: Any = None
    while not (step := _advance(flow, result, error, until)).done:
        try:
            result, error = await perform(step.value), None
        except Exception as exc:
            result, error = None, exc
    return step.value  # type: ignore[no-any-return]


@dataclass(frozen=True)
class _Next:
    done: bool
    value: Any


def _advance(flow: Flow[Any], result: Any, error: Exception | None, until: type | None) -> _Next:
    """The flow's next step to perform, or (done) its return value or the `until` step."""
    try:
        step = flow.throw(error) if error is not None else flow.send(result)
    except StopIteration as stop:
        return _Next(True, stop.value)
    return _Next(until is not None and isinstance(step, until), step)
