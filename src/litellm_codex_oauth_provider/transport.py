"""OpenAI clients aimed at the Codex backend: the login on every request, Codex headers, no 429 retries."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import threading
import weakref
from collections.abc import AsyncIterator, Callable, Coroutine, Mapping
from typing import Any

import httpx
from openai import AsyncOpenAI, AsyncStream, OpenAI, Stream
from openai.types.responses import Response, ResponseStreamEvent

from . import config
from .auth.httpx_auth import CodexAuth
from .auth.manager import CodexTokenManager
from .bounded import acap_error_body, cap_error_body
from .config import DEFAULT_CONNECT_TIMEOUT_SECONDS
from .protocol import accept_encoding, codex_headers, user_agent
from .retries import client_retry_pause, retries_left

#: The backend answers a spent plan with 429 (and sometimes 404); retrying before the reset is useless.
_NEVER_RETRY = frozenset({404, 429})
_PLACEHOLDER_KEY = "codex-oauth"  # the real credential is added per request by CodexAuth
#: Connections per client; the keep-alive pool is as large, so a burst does not reopen half of them.
_MAX_CONNECTIONS = 200


def default_timeout() -> httpx.Timeout:
    """Read timeout doubles as the idle-stream timeout: the longest gap allowed between two events."""
    return httpx.Timeout(
        timeout=config.CODEX_STREAM_IDLE_TIMEOUT.get(), connect=DEFAULT_CONNECT_TIMEOUT_SECONDS
    )


class _CodexClient:
    """What both Codex clients decide: login, headers, pool size, which answers to retry and when.

    Mixed in before `OpenAI` / `AsyncOpenAI`; a subclass only says which httpx client it sends with.
    `transport` replaces httpx's own (httpcore) transport, e.g. with `aiohttp_transport()`.
    `max_retries` is what the current call's `RetryBudget` has left (the openai client reads it once
    per request, so its retries stop where the call's budget does); outside a call, the configured count.
    """

    _configured_retries: int = 0
    #: The typed event stream `open_turn` answers with: `Stream` or `AsyncStream` of the Responses events.
    _event_stream: type[Any]

    def __init__(
        self,
        *,
        base_url: str,
        token_manager: CodexTokenManager,
        max_retries: int | None = None,
        timeout: httpx.Timeout | float | None = None,
        transport: httpx.BaseTransport | httpx.AsyncBaseTransport | None = None,
        **kwargs: Any,
    ) -> None:
        self.token_manager = token_manager
        timeout = timeout or default_timeout()
        #: The httpx client under the openai one: its auth adds the login to any request (the catalog's).
        self.http_client = http_client = self._make_http_client(
            transport=transport,
            auth=CodexAuth(token_manager),
            timeout=timeout,
            limits=httpx.Limits(max_connections=_MAX_CONNECTIONS, max_keepalive_connections=_MAX_CONNECTIONS),
            headers={"Accept-Encoding": accept_encoding()},  # the catalog request too
        )
        super().__init__(  # type: ignore[call-arg]  # OpenAI / AsyncOpenAI, next in the MRO
            api_key=_PLACEHOLDER_KEY,
            base_url=base_url,
            http_client=http_client,
            max_retries=config.CODEX_MAX_RETRIES.get() if max_retries is None else max_retries,
            timeout=timeout,
            default_headers=codex_headers(),
            **kwargs,
        )

    def _make_http_client(self, **options: Any) -> httpx.Client | httpx.AsyncClient:
        raise NotImplementedError

    def open_turn(
        self,
        body: Mapping[str, Any],
        *,
        headers: Mapping[str, str],
        timeout: httpx.Timeout | float | None = None,
    ) -> Any:
        """POST one turn's body as it is; its typed event stream (awaited, on the async client).

        The body is already in the backend's shape: `responses.create` would first walk it
        against all of its typed parameters (a quarter of a millisecond a call), for nothing.
        """
        options: dict[str, Any] = {"headers": dict(headers)}
        if timeout is not None:
            options["timeout"] = timeout
        return self.post(  # type: ignore[attr-defined]
            "/responses",
            body=body,
            options=options,
            cast_to=Response,
            stream=True,
            stream_cls=self._event_stream,
        )

    @property
    def max_retries(self) -> int:
        return retries_left(self._configured_retries)

    @max_retries.setter
    def max_retries(self, value: int) -> None:
        self._configured_retries = value

    @property
    def auth_headers(self) -> dict[str, str]:
        return {}  # the login is added per request by `CodexAuth`, never as a default header

    @property
    def user_agent(self) -> str:
        return user_agent()

    def _should_retry(self, response: httpx.Response) -> bool:
        return response.status_code not in _NEVER_RETRY and super()._should_retry(response)  # type: ignore[misc]

    def _calculate_retry_timeout(
        self, remaining_retries: int, options: Any, response_headers: httpx.Headers | None = None
    ) -> float:
        taken = options.get_max_retries(self.max_retries) - remaining_retries
        return client_retry_pause(taken, self._parse_retry_after_header(response_headers))  # type: ignore[attr-defined]


class CodexOpenAIClient(_CodexClient, OpenAI):
    """`OpenAI` whose base URL is the Codex backend and whose requests carry the ChatGPT login."""

    _event_stream = Stream[ResponseStreamEvent]

    def _make_http_client(self, **options: Any) -> httpx.Client:
        return httpx.Client(event_hooks={"response": [cap_error_body]}, **options)


class AsyncCodexOpenAIClient(_CodexClient, AsyncOpenAI):
    """`AsyncOpenAI` counterpart of `CodexOpenAIClient`; bound to the event loop it was made in.

    Whoever passes a `transport` closes the client (`await client.close()`) before its event loop ends.
    """

    _event_stream = AsyncStream[ResponseStreamEvent]

    def _make_http_client(self, **options: Any) -> httpx.AsyncClient:
        return httpx.AsyncClient(event_hooks={"response": [acap_error_body]}, **options)


@functools.cache
def _ssl_context() -> Any:
    """httpx's own default TLS context (certifi, or SSL_CERT_FILE / SSL_CERT_DIR), built once."""
    return httpx.create_ssl_context()


def aiohttp_transport() -> httpx.AsyncBaseTransport | None:
    """LiteLLM's aiohttp transport for httpx where this LiteLLM ships one, else None (httpx's own).

    Under many concurrent calls httpcore's pool rescans every connection for every queued request;
    aiohttp's connector does not (docs/benchmarks.md). The session is made on first use, in the
    loop that sends; `ClientPool` closes it with that loop.
    """
    try:
        import aiohttp
        from litellm.llms.custom_httpx.aiohttp_transport import LiteLLMAiohttpTransport
    except ImportError:
        return None

    def session() -> aiohttp.ClientSession:
        # Idle connections expire after 5 s, as in httpx's own pool (aiohttp keeps them 15 s): a
        # connection the server already closed is less likely to be picked for a POST.
        connector = aiohttp.TCPConnector(limit=_MAX_CONNECTIONS, ssl=_ssl_context(), keepalive_timeout=5.0)
        return aiohttp.ClientSession(connector=connector)

    return LiteLLMAiohttpTransport(client=session)


class _LoopClients:
    """The async clients made in one event loop, and the guard that closes them when the loop ends."""

    def __init__(self) -> None:
        self.clients: dict[str, AsyncCodexOpenAIClient] = {}
        self.guard: AsyncIterator[None] | None = None
        #: Set when the loop closed without shutting down its async generators: no await is possible.
        self.loop_gone = False

    async def close(self) -> None:
        clients, self.clients = list(self.clients.values()), {}
        for client in clients:
            if self.loop_gone:
                _finish_without_loop(client.close())
            else:
                with contextlib.suppress(Exception):  # closing must never fail the loop's shutdown
                    await client.close()


async def _close_with_loop(clients: _LoopClients, forget: Callable[[], None]) -> AsyncIterator[None]:
    """An async generator parked at its `yield` for the life of the loop.

    A loop shuts down the async generators it has seen before it closes (`asyncio.run`,
    `asyncio.Runner`, uvicorn, pytest-asyncio all do: `loop.shutdown_asyncgens()`); that closes
    this one, and its `finally` closes the loop's clients and their connections, so no
    "Unclosed client session" is left for the garbage collector. Dropped early (the pool was
    evicted), the loop's finalizer hook closes it on the loop just the same.
    """
    try:
        yield
    finally:
        forget()
        await clients.close()


def _finish_without_loop(step: Coroutine[Any, Any, Any]) -> None:
    """Run a close coroutine of a loop that is already closed: it has nothing left to wait for.

    Closing a connection pool whose loop is closed only marks it closed (there is no transport to
    wait on); should it want to wait after all, it is abandoned (the loop cannot run it anyway).
    """
    try:
        step.send(None)
    except StopIteration:
        return
    except Exception:  # a pool that cannot close on a dead loop is left to the garbage collector
        return
    step.close()


def _start(guard: AsyncIterator[None]) -> None:
    """Run `guard` to its first `yield` now; the running loop's first-iteration hook registers it."""
    try:
        guard.__anext__().send(None)  # type: ignore[attr-defined]
    except StopIteration:
        return
    raise RuntimeError("the loop guard awaited before its first yield")  # pragma: no cover


class ClientPool:
    """One client per base URL (and, for async, per event loop), reused so connections are pooled.

    An async client cannot move between event loops, so async clients are keyed by the running
    loop and closed with it: when the loop shuts down its async generators (see
    `_close_with_loop`), or, for a loop that was closed without that, on the pool's next use.
    `use_aiohttp=False` keeps httpx's own transport for the async clients (e.g. for respx).
    """

    def __init__(self, token_manager: CodexTokenManager, *, use_aiohttp: bool = True) -> None:
        self.token_manager = token_manager
        self._use_aiohttp = use_aiohttp
        self._lock = threading.RLock()  # a guard closed under the lock forgets its loop under it too
        self._sync: dict[str, CodexOpenAIClient] = {}
        self._async: dict[asyncio.AbstractEventLoop, _LoopClients] = {}

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
            per_loop = self._async.get(loop)
            started = per_loop is None
            if per_loop is None:
                self._forget_closed_loops()
                per_loop = self._async[loop] = _LoopClients()
            client = per_loop.clients.get(base_url)
            if client is None:
                client = per_loop.clients[base_url] = AsyncCodexOpenAIClient(
                    base_url=base_url,
                    token_manager=self.token_manager,
                    transport=aiohttp_transport() if self._use_aiohttp else None,
                )
        if started:
            per_loop.guard = _close_with_loop(per_loop, self._forgetter(loop, per_loop))
            _start(per_loop.guard)
        return client

    def _forgetter(self, loop: asyncio.AbstractEventLoop, per_loop: _LoopClients) -> Callable[[], None]:
        ref = weakref.ref(self)  # the guard lives as long as the loop; it must not keep the pool

        def forget() -> None:
            pool = ref()
            if pool is not None:
                with pool._lock:
                    if pool._async.get(loop) is per_loop:
                        del pool._async[loop]

        return forget

    def _forget_closed_loops(self) -> None:
        """Close the clients of loops that were closed without shutting down their async generators."""
        for loop in [loop for loop in self._async if loop.is_closed()]:
            per_loop = self._async.pop(loop)
            per_loop.loop_gone = True
            if per_loop.guard is not None:
                _finish_without_loop(per_loop.guard.aclose())  # type: ignore[attr-defined]

    async def aclose(self) -> None:
        """Close the running loop's async clients now (they are made again on next use)."""
        loop = asyncio.get_running_loop()
        with self._lock:
            per_loop = self._async.pop(loop, None)
        if per_loop is not None and per_loop.guard is not None:
            await per_loop.guard.aclose()  # type: ignore[attr-defined]

    def close(self) -> None:
        with self._lock:
            for client in self._sync.values():
                client.close()
            self._sync.clear()
            self._forget_closed_loops()
