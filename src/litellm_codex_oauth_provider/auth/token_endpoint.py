"""The OAuth token endpoint: spending a refresh token, as the Codex CLI does, within a deadline.

Only passing failures (no connection, 408, 429, 5xx) are tried again; a refusal is final and
says why (the token was reused, expired or revoked) and that `codex login` is the way out. The
whole exchange has one deadline and the answer a size cap, so a slow or flooding endpoint cannot
hold the refresh, the `auth.lock` other programs wait on, or the memory of the process.
"""

from __future__ import annotations

import asyncio
import functools
import random
import re
import ssl
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from .. import config, protocol
from ..bounded import LimitExceeded, aread_capped, budget, buffered
from ..exceptions import LOGIN_HINT, CodexAuthRefreshError, CodexAuthRefreshUnavailableError
from ..protocol import ACCEPT_JSON, codex_headers

_FINAL_REASONS = {
    "refresh_token_reused": (
        "was already used (refresh_token_reused): another program refreshed this login at the same time, "
        "and the login is now signed out everywhere"
    ),
    "refresh_token_expired": "has expired (refresh_token_expired)",
    "refresh_token_invalidated": (
        "was revoked (refresh_token_invalidated), e.g. after signing out or changing the password"
    ),
}
_CODE_PATTERN = re.compile(r"^[A-Za-z0-9_.\-]{1,64}$")


def _error_code(response: httpx.Response) -> str | None:
    """The OAuth error code of a refusal (`{"error": {"code"}}` or `{"error": "code"}`), if it looks like one."""
    try:
        body = response.json()
    except ValueError:
        return None
    error = body.get("error") if isinstance(body, dict) else None
    code = error.get("code") or error.get("type") if isinstance(error, dict) else error
    return code if isinstance(code, str) and _CODE_PATTERN.match(code) else None


def _refused(response: httpx.Response, path: Path) -> CodexAuthRefreshError:
    """The final error for a refusal: what happened and that `codex login` is the way out."""
    code = _error_code(response)
    reason = _FINAL_REASONS.get(code or "")
    if reason is None:
        detail = f"HTTP {response.status_code}" + (f", {code}" if code else "")
        reason = f"was refused by the token endpoint ({detail})"
    return CodexAuthRefreshError(
        f"Cannot refresh the ChatGPT login in {path}: its refresh token {reason}. {LOGIN_HINT}",
        path=path,
        code=code,
    )


def _transient(status: int) -> bool:
    return status in (408, 429) or status >= 500


def _scrub(text: str, *secrets: str | None) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, "[redacted]")
    return text


@functools.cache
def _ssl_context() -> ssl.SSLContext:
    """Built once: making one costs ~40 ms, and it would be paid under `auth.lock` on every refresh."""
    return httpx.create_ssl_context()


@dataclass(frozen=True)
class RefreshPolicy:
    """How hard to try: attempts and first backoff at the token endpoint, longest wait for `auth.lock`."""

    attempts: int = config.REFRESH_ATTEMPTS
    backoff: float = config.REFRESH_BACKOFF_SECONDS
    timeout: float = config.REFRESH_TIMEOUT_SECONDS
    lock_timeout: float = config.AUTH_LOCK_TIMEOUT_SECONDS

    def pause(self, attempt: int) -> float:
        """Seconds before retry number `attempt` (1-based): `backoff` doubling, with ±20 % jitter.

        Its own schedule, not the backend's (200 ms doubling up to 8 s, for many retries of a
        turn): another server, a few attempts that must all fit in `timeout` while `auth.lock`,
        which other programs wait on, is held.
        """
        return self.backoff * 2 ** (attempt - 1) * random.uniform(0.8, 1.2)


def request_tokens(refresh_token: str, reason: str, path: Path, policy: RefreshPolicy) -> dict[str, Any]:
    """Spend `refresh_token` at the token endpoint, as the CLI does; retry only passing failures.

    `policy.timeout` bounds the whole exchange, retries included, and the answer is read only up
    to `MAX_TOKEN_REPLY_BYTES`: a slow or flooding endpoint cannot hold the refresh (and the
    `auth.lock` other programs wait on) or the memory of the process.
    """
    body = {
        "client_id": protocol.OAUTH_CLIENT_ID,
        "grant_type": "refresh_token",
        "refresh_token": refresh_token,
        "refresh_reason": reason,
    }
    problem = "no attempt was made"
    deadline = time.monotonic() + policy.timeout
    attempts, tried = max(1, policy.attempts), 0
    for attempt in range(attempts):
        if attempt:
            pause = policy.pause(attempt)
            if time.monotonic() + pause >= deadline:
                break
            time.sleep(pause)
        tried += 1
        try:
            response = _post_within(config.CODEX_REFRESH_TOKEN_URL_OVERRIDE.get(), body, deadline)
        except httpx.RequestError as exc:
            problem = _scrub(f"{type(exc).__name__}: {exc}", refresh_token)
            continue
        except TimeoutError:
            problem = f"no complete answer within {policy.timeout:g} s"
            break
        except LimitExceeded as exc:
            raise CodexAuthRefreshUnavailableError(
                f"The token endpoint's answer to the refresh of {path} was not read: {exc}. The stored "
                "login is unchanged and the refresh is tried again on a later request; should that "
                f"report the refresh token as already used: {LOGIN_HINT}",
                path=path,
            ) from None
        if _transient(response.status_code):
            problem = f"HTTP {response.status_code}"
            continue
        if response.status_code != 200:
            raise _refused(response, path)
        return _answer(response, path)
    raise CodexAuthRefreshUnavailableError(
        f"Cannot reach the token endpoint to refresh the ChatGPT login in {path} "
        f"({problem}, {tried} attempt{'s' if tried > 1 else ''}); the stored login is unchanged and the "
        "refresh is tried again on a later request.",
        path=path,
    )


def _post_within(url: str, body: dict[str, Any], deadline: float) -> httpx.Response:
    """POST `body` and read the answer (at most `MAX_TOKEN_REPLY_BYTES`) before `deadline`, or raise.

    httpx's timeouts are per read; the whole exchange (connect, headers, body) runs on a private
    event loop under `asyncio.wait_for`, the one way to bound all of it. This function blocks: it
    runs in a worker thread (async callers) or the calling thread (sync callers).
    """

    async def post() -> httpx.Response:
        async with (
            httpx.AsyncClient(
                timeout=budget(deadline), headers=codex_headers(ACCEPT_JSON), verify=_ssl_context()
            ) as client,
            client.stream("POST", url, json=body) as response,
        ):
            content = await aread_capped(
                response.aiter_bytes(), config.MAX_TOKEN_REPLY_BYTES, what="the token endpoint's answer"
            )
            return buffered(response, content)

    async def bounded() -> httpx.Response:
        return await asyncio.wait_for(post(), max(0.0, deadline - time.monotonic()))

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(bounded())
    # Called on a thread that runs an event loop (a sync call made from async code): use another.
    outcome: list[Any] = []

    def run() -> None:
        try:
            outcome.append(asyncio.run(bounded()))
        except BaseException as exc:  # handed to the caller's thread below
            outcome.append(exc)

    worker = threading.Thread(target=run, name="codex-token-request", daemon=True)
    worker.start()
    worker.join()
    if isinstance(outcome[0], BaseException):
        raise outcome[0]
    return outcome[0]


def _answer(response: httpx.Response, path: Path) -> dict[str, Any]:
    try:
        data = response.json()
    except ValueError:
        data = None
    if not isinstance(data, dict) or not isinstance(data.get("access_token"), str):
        raise CodexAuthRefreshUnavailableError(
            f"The token endpoint answered the refresh of {path} without new tokens; "
            "the stored login is unchanged.",
            path=path,
        )
    return data
