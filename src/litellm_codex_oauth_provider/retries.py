"""One retry policy: how many retries a call may make in all, and how long to wait before each.

Every layer that retries (the openai client's HTTP retries, the provider's re-sent turns) draws
from the call's one `RetryBudget`, waits by the one schedule (`pause`), and never starts a retry
the call's deadline leaves no time for.
"""

from __future__ import annotations

import contextlib
import math
import random
import threading
import time
from collections.abc import Iterator, Mapping
from contextvars import ContextVar
from typing import Any

from . import config
from .bounded import current_deadline
from .exceptions import CodexStreamError

#: The longest `retry-after` honoured; a longer one is the backend's way of saying "not soon".
MAX_RETRY_AFTER_SECONDS = 60.0


class RetryBudget:
    """The retries one call may still make, drawn on by every layer that retries.

    The openai client's HTTP retries and the provider's re-sent turns spend from the same
    budget, so a call makes at most `retries + 1` backend attempts however it fails, and
    layered retries never multiply.
    """

    def __init__(self, retries: int) -> None:
        self._left = max(0, int(retries))
        self._spent = 0
        self._lock = threading.Lock()

    @property
    def left(self) -> int:
        return self._left

    def spend(self) -> int | None:
        """Take one retry: how many were taken before it, or None when none is left."""
        with self._lock:
            if self._left <= 0:
                return None
            self._left -= 1
            self._spent += 1
            return self._spent - 1


#: The budget of the call in progress in this thread or task; None outside a call (catalog refresh).
_BUDGET: ContextVar[RetryBudget | None] = ContextVar("codex_retry_budget", default=None)


@contextlib.contextmanager
def retry_budget(budget: RetryBudget) -> Iterator[None]:
    """Within this block the client's own retries are drawn from `budget`."""
    token = _BUDGET.set(budget)
    try:
        yield
    finally:
        _BUDGET.reset(token)


def retries_left(configured: int) -> int:
    """What the current call's budget has left; outside a call, the `configured` count."""
    budget = _BUDGET.get()
    return configured if budget is None else budget.left


def _router_call(litellm_params: Mapping[str, Any]) -> bool:
    """LiteLLM's own test for a call made by its Router (which retries the call itself)."""
    return any(
        isinstance(meta := litellm_params.get(key), Mapping) and "model_group" in meta
        for key in ("metadata", "litellm_metadata")
    )


def call_budget(litellm_params: Mapping[str, Any]) -> RetryBudget:
    """One call's retries in all: the caller's `max_retries`, else `CODEX_MAX_RETRIES`.

    LiteLLM passes a call's `num_retries` (or `max_retries`, or the drop-in client's) as
    `max_retries`, and a Router passes 0 because it retries the call itself: then we add none.
    """
    value = litellm_params.get("max_retries")
    if value is None:
        return RetryBudget(config.CODEX_MAX_RETRIES.get())
    try:
        return RetryBudget(int(value))
    except (TypeError, ValueError):
        return RetryBudget(config.CODEX_MAX_RETRIES.get())


def held_stream_budget(budget: RetryBudget, litellm_params: Mapping[str, Any]) -> RetryBudget:
    """The budget once a stream is in the caller's hands, for re-sending it before its first chunk.

    A Router cannot retry a stream it has already returned, so its 0 stops applying there and
    the stream gets `CODEX_MAX_RETRIES`; for everyone else it stays the same budget.
    """
    return RetryBudget(config.CODEX_MAX_RETRIES.get()) if _router_call(litellm_params) else budget


def backoff_seconds(retries_taken: int) -> float:
    """The Codex CLI's retry schedule: 200 ms doubling (capped at 8 s), with ±10 % jitter."""
    return min(0.2 * 2.0 ** min(retries_taken, 10), 8.0) * random.uniform(0.9, 1.1)


def pause(retries_taken: int, retry_after: float | None = None) -> float:
    """A server's `retry-after` (up to a minute) wins; otherwise the CLI's schedule."""
    if retry_after is not None and math.isfinite(retry_after) and 0 < retry_after <= MAX_RETRY_AFTER_SECONDS:
        return retry_after
    return backoff_seconds(retries_taken)


def client_retry_pause(retries_taken_by_client: int, retry_after: float | None) -> float:
    """The wait before the openai client's next HTTP retry, spending one retry of the call's budget.

    Outside a call (no budget) the client's own count sets the schedule. Raises a
    `deadline_exceeded` `CodexStreamError` when the wait would end past the call's deadline: raised
    from inside the client's retry loop, it carries the failure it was about to retry as its context.
    """
    budget = _BUDGET.get()
    taken = budget.spend() if budget is not None else None
    delay = pause(retries_taken_by_client if taken is None else taken, retry_after)
    deadline = current_deadline()
    if deadline is not None and time.monotonic() + delay >= deadline:
        raise CodexStreamError(
            "deadline_exceeded", "no time is left for another attempt within the call's timeout"
        )
    return delay
