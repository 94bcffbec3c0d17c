"""OpenAI clients aimed at the Codex backend: the login on every request, Codex headers, no 429 retries."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import math
import platform
import random
import threading
import time
import weakref
from collections.abc import Iterator
from contextvars import ContextVar
from typing import Any

import httpx
from openai import AsyncOpenAI, OpenAI

from . import __version__, settings
from .auth import CodexAuth, CodexTokenManager
from .bounded import acap_error_body, cap_error_body
from .constants import CODEX_CLIENT_VERSION, DEFAULT_CONNECT_TIMEOUT_SECONDS, HEADER_ORIGINATOR, ORIGINATOR
from .errors import CodexStreamError

#: The backend answers a spent plan with 429 (and sometimes 404); retrying before the reset is useless.
_NEVER_RETRY = frozenset({404, 429})
_PLACEHOLDER_KEY = "codex-oauth"  # the real credential is added per request by CodexAuth


#: When the current call must be done (monotonic clock): the client's retries stop short of it.
_DEADLINE: ContextVar[float | None] = ContextVar("codex_retry_deadline", default=None)


@contextlib.contextmanager
def retry_deadline(at: float | None) -> Iterator[None]:
    """Within this block the client does not start a retry that would begin after `at`."""
    token = _DEADLINE.set(at)
    try:
        yield
    finally:
        _DEADLINE.reset(token)


def backoff_seconds(retries_taken: int) -> float:
    """The Codex CLI's retry schedule: 200 ms doubling (capped at 8 s), with ±10 % jitter."""
    return min(0.2 * 2.0 ** min(retries_taken, 10), 8.0) * random.uniform(0.9, 1.1)


def _retry_delay(client: OpenAI | AsyncOpenAI, remaining_retries: int, options: Any, headers: Any) -> float:
    """A server's `retry-after` (up to a minute) wins; otherwise the CLI's schedule."""
    retry_after = client._parse_retry_after_header(headers)
    if retry_after is not None and math.isfinite(retry_after) and 0 < retry_after <= 60:
        delay = retry_after
    else:
        delay = backoff_seconds(options.get_max_retries(client.max_retries) - remaining_retries)
    deadline = _DEADLINE.get()
    if deadline is not None and time.monotonic() + delay >= deadline:
        # Raised from inside the client's retry loop: the failure it was about to retry is chained.
        raise CodexStreamError(
            "deadline_exceeded", "no time is left for another attempt within the call's timeout"
        )
    return delay


def user_agent() -> str:
    """A Codex-style user agent: `<originator>/<version> (<os> <release>; <arch>) <us>/<version>`."""
    return (
        f"{ORIGINATOR}/{CODEX_CLIENT_VERSION} ({platform.system()} {platform.release()}; {platform.machine()}) "
        f"litellm-codex-oauth-provider/{__version__}"
    )


#: The codings the Codex CLI (0.171.0) accepts, in its order.
CODEX_CLI_CODINGS = ("zstd", "gzip")
#: `b"ok"` as a zstd frame: httpx reads zstd only with the optional `zstandard` package installed.
_ZSTD_SAMPLE = bytes.fromhex("28b52ffd20021100006f6b")


@functools.cache
def accept_encoding() -> str:
    """The Codex CLI's `accept-encoding: zstd,gzip`, less any coding httpx cannot decode here."""
    response = httpx.Response(200, headers={"content-encoding": "zstd"}, content=_ZSTD_SAMPLE)
    try:
        zstd = response.read() == b"ok"
    except httpx.DecodingError:
        zstd = False
    return ",".join(c for c in CODEX_CLI_CODINGS if zstd or c != "zstd")


def codex_headers() -> dict[str, str]:
    return {
        HEADER_ORIGINATOR: ORIGINATOR,
        "User-Agent": user_agent(),
        "Accept": "text/event-stream",
        "Accept-Encoding": accept_encoding(),
    }


def default_timeout() -> httpx.Timeout:
    """Read timeout doubles as the idle-stream timeout: the longest gap allowed between two events."""
    return httpx.Timeout(timeout=settings.stream_idle_timeout(), connect=DEFAULT_CONNECT_TIMEOUT_SECONDS)


class CodexOpenAIClient(OpenAI):
    """`OpenAI` whose base URL is the Codex backend and whose requests carry the ChatGPT login."""

    def __init__(
        self,
        *,
        base_url: str,
        token_manager: CodexTokenManager,
        max_retries: int | None = None,
        timeout: httpx.Timeout | float | None = None,
        **kwargs: Any,
    ) -> None:
        self.token_manager = token_manager
        http_client = httpx.Client(
            auth=CodexAuth(token_manager),
            timeout=timeout or default_timeout(),
            limits=httpx.Limits(max_connections=200, max_keepalive_connections=200),
            event_hooks={"response": [cap_error_body]},
            headers={"Accept-Encoding": accept_encoding()},  # the catalog request too
        )
        super().__init__(
            api_key=_PLACEHOLDER_KEY,
            base_url=base_url,
            http_client=http_client,
            max_retries=settings.max_retries() if max_retries is None else max_retries,
            timeout=timeout or default_timeout(),
            default_headers=codex_headers(),
            **kwargs,
        )

    @property
    def auth_headers(self) -> dict[str, str]:
        return {}

    @property
    def user_agent(self) -> str:
        return user_agent()

    def _should_retry(self, response: httpx.Response) -> bool:
        return response.status_code not in _NEVER_RETRY and super()._should_retry(response)

    def _calculate_retry_timeout(
        self, remaining_retries: int, options: Any, response_headers: httpx.Headers | None = None
    ) -> float:
        return _retry_delay(self, remaining_retries, options, response_headers)


class AsyncCodexOpenAIClient(AsyncOpenAI):
    """`AsyncOpenAI` counterpart of `CodexOpenAIClient`; bound to the event loop it was made in."""

    def __init__(
        self,
        *,
        base_url: str,
        token_manager: CodexTokenManager,
        max_retries: int | None = None,
        timeout: httpx.Timeout | float | None = None,
        **kwargs: Any,
    ) -> None:
        self.token_manager = token_manager
        http_client = httpx.AsyncClient(
            auth=CodexAuth(token_manager),
            timeout=timeout or default_timeout(),
            limits=httpx.Limits(max_connections=200, max_keepalive_connections=200),
            event_hooks={"response": [acap_error_body]},
            headers={"Accept-Encoding": accept_encoding()},  # the catalog request too
        )
        super().__init__(
            api_key=_PLACEHOLDER_KEY,
            base_url=base_url,
            http_client=http_client,
            max_retries=settings.max_retries() if max_retries is None else max_retries,
            timeout=timeout or default_timeout(),
            default_headers=codex_headers(),
            **kwargs,
        )

    @property
    def auth_headers(self) -> dict[str, str]:
        return {}

    @property
    def user_agent(self) -> str:
        return user_agent()

    def _should_retry(self, response: httpx.Response) -> bool:
        return response.status_code not in _NEVER_RETRY and super()._should_retry(response)

    def _calculate_retry_timeout(
        self, remaining_retries: int, options: Any, response_headers: httpx.Headers | None = None
    ) -> float:
        return _retry_delay(self, remaining_retries, options, response_headers)


class ClientPool:
    """One client per base URL (and, for async, per event loop), reused so connections are pooled.

    An async httpx client cannot move between event loops, so async clients are keyed by the
    running loop and forgotten with it; sync clients are shared by all threads.
    """

    def __init__(self, token_manager: CodexTokenManager) -> None:
        self.token_manager = token_manager
        self._lock = threading.Lock()
        self._sync: dict[str, CodexOpenAIClient] = {}
        self._async: weakref.WeakKeyDictionary[
            asyncio.AbstractEventLoop, dict[str, AsyncCodexOpenAIClient]
        ] = weakref.WeakKeyDictionary()

    def sync_client(self, base_url: str) -> CodexOpenAIClient:
        with self._lock:
            client = self._sync.get(base_url)
            if client is None:
                client = self._sync[base_url] = CodexOpenAIClient(
                    base_url=base_url, token_manager=self.token_manager
                )
            return client

    def async_client(self, base_url: str) -> AsyncCodexOpenAIClient:
        loop = asyncio.get_running_loop()
        with self._lock:
            per_loop = self._async.setdefault(loop, {})
            client = per_loop.get(base_url)
            if client is None:
                client = per_loop[base_url] = AsyncCodexOpenAIClient(
                    base_url=base_url, token_manager=self.token_manager
                )
            return client

    def close(self) -> None:
        with self._lock:
            for client in self._sync.values():
                client.close()
            self._sync.clear()
