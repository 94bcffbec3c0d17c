"""The login on each request: an `httpx.Auth` that adds the bearer token and account header.

On a 401 it asks the token manager for fresh credentials (newer ones another program saved,
or a refresh) and sends the request once more. `_flow` holds that decision once; the sync and
async drivers only fetch credentials, each the way its client can wait for them (the async one
never blocks its event loop).
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Generator
from dataclasses import dataclass
from typing import Any

import httpx

from .manager import CodexTokenManager
from .record import Credentials


@dataclass(frozen=True)
class _Ask:
    """The flow needs credentials: the current ones, or ones to replace `rejected` (refused with a 401)."""

    rejected: Credentials | None = None


def _flow(request: httpx.Request) -> Generator[httpx.Request | _Ask, Any, None]:
    """Send with the login; on a 401, once more with credentials that replace the refused ones.

    Yields a request to send (and is sent the response) or an `_Ask` (and is sent credentials).
    """
    credentials: Credentials = yield _Ask()
    request.headers.update(credentials.headers())
    response: httpx.Response = yield request
    if response.status_code == 401:
        fresh: Credentials = yield _Ask(rejected=credentials)
        request.headers.update(fresh.headers())
        yield request


def _advance(flow: Generator[httpx.Request | _Ask, Any, None], answer: Any) -> httpx.Request | _Ask | None:
    """The flow's next step, or None when it is done."""
    try:
        return flow.send(answer)
    except StopIteration:
        return None


class CodexAuth(httpx.Auth):
    """Adds the login to each request; on a 401, refreshes once and retries once."""

    def __init__(self, manager: CodexTokenManager) -> None:
        self.manager = manager

    def sync_auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        flow = _flow(request)
        step = next(flow)
        while step is not None:
            answer = self.manager.credentials(step.rejected) if isinstance(step, _Ask) else (yield step)
            step = _advance(flow, answer)

    async def async_auth_flow(self, request: httpx.Request) -> AsyncGenerator[httpx.Request, httpx.Response]:
        flow = _flow(request)
        step = next(flow)
        while step is not None:
            answer = (
                await self.manager.acredentials(step.rejected) if isinstance(step, _Ask) else (yield step)
            )
            step = _advance(flow, answer)
