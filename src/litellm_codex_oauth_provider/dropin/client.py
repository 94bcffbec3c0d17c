"""`CodexClient` and `AsyncCodexClient`: the openai package's interface, answered by the Codex provider.

    from litellm_codex_oauth_provider import CodexClient as OpenAI

    client = OpenAI()                                  # the Codex CLI login, ~/.codex/auth.json
    reply = client.chat.completions.create(model="gpt-5.5", messages=[{"role": "user", "content": "hi"}])
    answer = client.responses.create(model="gpt-5.5", input="hi")   # the Responses API, natively
    for chunk in client.chat.completions.create(model="gpt-5.5", messages=..., stream=True): ...
    [m.id for m in client.models.list()]

A thin layer: each call is `litellm.completion` / `acompletion` with the provider registered as
`codex` (the login is passed per call, so clients for different logins share the provider and
its connection pools), and the result is converted to the openai package's own types
(convert.py) and exceptions (errors.py). Model names may omit the `codex/` prefix.
`responses.create` is `litellm.responses` / `aresponses`, which reach the backend as Responses
requests (`responses_api.py`). The sync and async clients differ only in how they wait: every
decision (the call's arguments, whether to retry, how to convert) is made once, here.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Generator, Iterable
from os import PathLike
from typing import Any, TypeVar

import httpx
import litellm
import openai
from openai.pagination import AsyncPage, SyncPage
from openai.types import Model
from openai.types.chat import ChatCompletion
from openai.types.responses import Response

from .. import config
from ..config import CODEX_API_BASE
from ..exceptions import CodexBackendURLError, CodexUnknownModelError
from ..litellm_glue import patches
from ..models.catalog import ModelCatalog
from ..models.ids import strip_provider_prefix
from ..protocol import DEFAULT_API_BASE, MODEL_PREFIXES, PROVIDER_NAME
from ..provider import CodexAuthProvider, codex_auth_provider
from ..retries import RetryBudget, pause
from .convert import (
    listed_models,
    to_chat_completion,
    to_chat_completion_chunk,
    to_model,
    to_response,
    to_response_event,
)
from .errors import failure_of, openai_errors, raise_openai_error, to_openai_error
from .streams import AsyncCodexStream, CodexStream

__all__ = ["AsyncCodexClient", "AsyncCodexStream", "CodexClient", "CodexStream", "to_openai_error"]

T = TypeVar("T")
Timeout = float | httpx.Timeout | None

_REGISTRATION_LOCK = threading.Lock()


# --------------------------------------------------------------------------- the provider behind it


def registered_provider() -> CodexAuthProvider:
    """The provider LiteLLM routes `codex/…` to; registers `codex_auth_provider` when none is."""
    with _REGISTRATION_LOCK:
        handler = patches.routed_handler(PROVIDER_NAME)
        if isinstance(handler, CodexAuthProvider):
            return handler
        if handler is not None:
            raise RuntimeError(
                f"litellm.custom_provider_map sends `{PROVIDER_NAME}` to {handler!r}, "
                "not a CodexAuthProvider; the Codex client cannot use it"
            )
        litellm.custom_provider_map = [
            *(litellm.custom_provider_map or []),
            {"provider": PROVIDER_NAME, "custom_handler": codex_auth_provider},
        ]
        return codex_auth_provider


def codex_model(model: str) -> str:
    """`gpt-5.5` → `codex/gpt-5.5`; an id that already has the prefix is kept."""
    return model if model.lower().startswith(MODEL_PREFIXES) else f"{PROVIDER_NAME}/{model}"


# --------------------------------------------------------------------------- where the login may go


def _same_endpoint(a: httpx.URL, b: httpx.URL) -> bool:
    return (
        a.scheme == b.scheme
        and a.host == b.host
        and a.port == b.port
        and a.path.rstrip("/") == b.path.rstrip("/")
    )


def codex_base_url(base_url: str | httpx.URL | None, *, codex_backend: bool = False) -> str | None:
    """`base_url` when the ChatGPT login may be sent there; else `CodexBackendURLError`.

    The login goes only to the Codex backend: ChatGPT's, or the one `CODEX_API_BASE` names.
    Code ported from the openai package often passes its own server's `base_url`; sending the
    ChatGPT token there would hand the login to that server, so such a URL needs the caller's
    explicit `codex_backend=True` (a relay or test double of the Codex backend).
    """
    if base_url is None:
        return None
    url = str(base_url).rstrip("/")
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL as exc:
        raise CodexBackendURLError(f"base_url is not a valid URL ({exc}).") from exc
    if codex_backend:
        return url
    allowed = {DEFAULT_API_BASE, config.CODEX_API_BASE.get()}
    if any(_same_endpoint(parsed, httpx.URL(backend)) for backend in allowed):
        return url
    shown = parsed.copy_with(username=None, password=None, query=None, fragment=None)
    raise CodexBackendURLError(
        f"base_url {shown} is not the Codex backend ({config.CODEX_API_BASE.get()}), and the Codex client "
        "sends your ChatGPT login to its base_url. Leave base_url out (or set "
        f"{CODEX_API_BASE.name}) to use the Codex backend; to reach another OpenAI-compatible server, "
        "use the openai package's own client. If this URL really is a Codex backend (a relay "
        "you run), pass codex_backend=True."
    )


# --------------------------------------------------------------------------- retries


class _Attempts:
    """Whether `responses.create` tries again, and after how long; the clients' loops only wait and call.

    Its request goes through LiteLLM's Responses handler, which has no retries of its own, so
    this is the only layer (chat calls spend the provider's `RetryBudget` instead). Only passing
    failures are retried (5xx, overload, timeout, broken connection), never a 4xx or a spent
    plan; the wait is the server's `retry-after` (up to a minute), else the Codex CLI's backoff.
    """

    def __init__(self, retries: int) -> None:
        self._budget = RetryBudget(retries)

    def delay(self, exc: Exception) -> float | None:
        """Seconds to wait before the next attempt; `None` when `exc` is final."""
        failure = failure_of(exc)
        if failure is None or not failure.passing:
            return None
        taken = self._budget.spend()
        if taken is None:
            return None
        return pause(taken, failure.retry_after)


# --------------------------------------------------------------------------- the resources


class _Resource:
    """`client.chat.completions`, `client.responses` or `client.models` of one client."""

    def __init__(self, client: Any) -> None:
        self._client = client


class _Api(_Resource):
    """The sync and async resources of one API share everything but the call to LiteLLM."""

    #: The stream class answers are wrapped in (the sync or async one).
    _stream: type[CodexStream] | type[AsyncCodexStream]
    #: openai's type for one streamed part of the answer, and for the whole answer.
    _chunk: Callable[[Any], Any]
    _whole: Callable[[Any], Any]

    def _answer(self, response: Any, stream: bool) -> Any:
        """LiteLLM's answer as openai's: a stream of converted parts, or the converted whole."""
        if stream:
            return self._stream(response, self._chunk)
        with openai_errors():
            return self._whole(response)


class _Chat:
    def __init__(self, completions: Any) -> None:
        self.completions = completions


class _ChatCompletions(_Api):
    _chunk = staticmethod(to_chat_completion_chunk)
    _whole = staticmethod(to_chat_completion)


class _Completions(_ChatCompletions):
    _stream = CodexStream

    def create(
        self, *, model: str, messages: Iterable[Any], stream: bool | None = False, **params: Any
    ) -> ChatCompletion | CodexStream:
        """`client.chat.completions.create(...)`: a `ChatCompletion`, or with `stream=True` a `CodexStream`.

        Takes the openai parameters (`tools`, `tool_choice`, `response_format`, `n`,
        `reasoning_effort`, `stream_options`, `extra_body`, `timeout`, …); those the Codex backend
        rejects (`temperature`, `max_tokens`, …) are dropped by the provider.
        """
        kwargs = self._client._call_kwargs(model, messages, bool(stream), params)
        with openai_errors():
            response = litellm.completion(**kwargs)
        return self._answer(response, kwargs["stream"])


class _AsyncCompletions(_ChatCompletions):
    _stream = AsyncCodexStream

    async def create(
        self, *, model: str, messages: Iterable[Any], stream: bool | None = False, **params: Any
    ) -> ChatCompletion | AsyncCodexStream:
        """`await client.chat.completions.create(...)`: a `ChatCompletion`, or an `AsyncCodexStream`."""
        kwargs = self._client._call_kwargs(model, messages, bool(stream), params)
        with openai_errors():
            response = await litellm.acompletion(**kwargs)
        return self._answer(response, kwargs["stream"])


class _ResponsesApi(_Api):
    _chunk = staticmethod(to_response_event)
    _whole = staticmethod(to_response)


class _Responses(_ResponsesApi):
    _stream = CodexStream

    def create(self, *, model: str, stream: bool | None = False, **params: Any) -> Response | CodexStream:
        """`client.responses.create(...)`: openai's `Response`, or with `stream=True` a `CodexStream` of its events.

        The request reaches the backend as the Responses request it is (`responses_api.py`):
        `input` items with reasoning `encrypted_content`, hosted tools such as `web_search`,
        `include`, `text.format`. `previous_response_id` and `store=True` are refused (400):
        the backend keeps no conversations, so send the whole `input` each turn.
        """
        kwargs = self._client._request_kwargs(model, bool(stream), params)
        response = self._client._retrying(lambda: litellm.responses(**kwargs))
        return self._answer(response, kwargs["stream"])


class _AsyncResponses(_ResponsesApi):
    _stream = AsyncCodexStream

    async def create(
        self, *, model: str, stream: bool | None = False, **params: Any
    ) -> Response | AsyncCodexStream:
        """`await client.responses.create(...)`: openai's `Response`, or an `AsyncCodexStream` of its events."""
        kwargs = self._client._request_kwargs(model, bool(stream), params)
        response = await self._client._retrying(lambda: litellm.aresponses(**kwargs))
        return self._answer(response, kwargs["stream"])


def _catalog_model(catalog: ModelCatalog, model: str) -> Model:
    """One model of the catalog (hidden ones too); openai's 404 `model_not_found` when it has none such."""
    info = catalog.get(strip_provider_prefix(model))
    if info is None:
        raise_openai_error(CodexUnknownModelError(f"The model `{model}` is not in the Codex model catalog"))
    return to_model(info)


class _Models(_Resource):
    def list(self) -> SyncPage[Model]:
        """The models of the live catalog (the ones the Codex CLI lists), as openai `Model`s."""
        return SyncPage[Model](data=listed_models(self._client._catalog()), object="list")

    def retrieve(self, model: str) -> Model:
        """One model of the catalog (hidden ones too); `openai.NotFoundError` when it has none such."""
        return _catalog_model(self._client._catalog(), model)


class _AsyncModelList:
    """What `AsyncCodexClient.models.list()` returns: awaitable (an `AsyncPage`) and async-iterable."""

    def __init__(self, client: AsyncCodexClient) -> None:
        self._client = client

    async def _page(self) -> AsyncPage[Model]:
        return AsyncPage[Model](data=listed_models(await self._client._catalog()), object="list")

    def __await__(self) -> Generator[Any, None, AsyncPage[Model]]:
        return self._page().__await__()

    async def __aiter__(self) -> AsyncIterator[Model]:
        for model in (await self._page()).data:
            yield model


class _AsyncModels(_Resource):
    def list(self) -> _AsyncModelList:
        return _AsyncModelList(self._client)

    async def retrieve(self, model: str) -> Model:
        return _catalog_model(await self._client._catalog(), model)


# --------------------------------------------------------------------------- the clients


class _Base:
    """Options shared by both clients (all optional); nothing here does I/O.

    - `codex_home` / `auth_file`: the Codex CLI login to use (default `CODEX_AUTH_FILE`,
      else `$CODEX_HOME/auth.json`, else `~/.codex/auth.json`).
    - `base_url`: the Codex backend base URL (default `CODEX_API_BASE`, else ChatGPT's). The
      ChatGPT login is sent to it, so any other URL is refused (`CodexBackendURLError`, an
      `openai.OpenAIError`) unless `codex_backend=True` says it is a Codex backend too.
    - `timeout`: seconds (or an `httpx.Timeout`) one call may take; default: the provider's.
    - `max_retries`: the retries one call may make in all, for passing failures only
      (connection error, 5xx, overload, a stream cut before its first chunk); never a 4xx or
      a used-up plan. `0` is exactly one backend attempt. Default `None`: `CODEX_MAX_RETRIES`
      (4, like the Codex CLI).
    - `api_key`, `organization`, `project`: accepted for compatibility and ignored: the
      credential is always the Codex CLI login, and an API key is never sent anywhere.
    """

    _completions_class: type[_Resource]
    _models_class: type[_Resource]
    _responses_class: type[_Resource]

    def __init__(
        self,
        *,
        codex_home: str | PathLike[str] | None = None,
        auth_file: str | PathLike[str] | None = None,
        base_url: str | httpx.URL | None = None,
        codex_backend: bool = False,
        timeout: Timeout = None,
        max_retries: int | None = None,
        api_key: str | None = None,
        organization: str | None = None,
        project: str | None = None,
    ) -> None:
        self.codex_home = str(codex_home) if codex_home is not None else None
        self.auth_file = str(auth_file) if auth_file is not None else None
        self.base_url = codex_base_url(base_url, codex_backend=codex_backend)
        self.codex_backend = codex_backend
        self.timeout = timeout
        self.max_retries = max_retries
        self._provider = registered_provider()
        self.chat = _Chat(self._completions_class(self))
        self.models = self._models_class(self)
        self.responses = self._responses_class(self)

    def _options(self) -> dict[str, Any]:
        return {
            "codex_home": self.codex_home,
            "auth_file": self.auth_file,
            "base_url": self.base_url,
            "codex_backend": self.codex_backend,
            "timeout": self.timeout,
            "max_retries": self.max_retries,
        }

    def with_options(self, **changes: Any) -> Any:
        """A copy with some options changed, like `OpenAI.with_options(timeout=…, max_retries=…)`."""
        return type(self)(**{**self._options(), **changes})

    copy = with_options

    def _call_kwargs(
        self, model: str, messages: Iterable[Any], stream: bool, params: dict[str, Any]
    ) -> dict[str, Any]:
        """`litellm.completion` arguments for one `chat.completions.create` call.

        `max_retries` becomes the call's one retry budget in the provider (see `RetryBudget`).
        """
        kwargs = {**self._request_kwargs(model, stream, params), "messages": list(messages)}
        if self.max_retries is not None:
            kwargs["max_retries"] = max(0, int(self.max_retries))
        return kwargs

    def _request_kwargs(self, model: str, stream: bool, params: dict[str, Any]) -> dict[str, Any]:
        """`litellm.completion` / `litellm.responses` arguments: the call's parameters and the login."""
        kwargs = {k: v for k, v in params.items() if not _is_omitted(v)}
        kwargs.pop("extra_query", None)  # nothing to put it on: the backend takes no query string
        timeout = kwargs.pop("timeout", None) or self.timeout
        kwargs.update(model=codex_model(model), stream=bool(stream))
        if self.codex_home:
            kwargs["codex_home"] = self.codex_home
        if self.auth_file:
            kwargs["codex_auth_file"] = self.auth_file
        if self.base_url:
            kwargs["api_base"] = self.base_url
        if timeout is not None:
            kwargs["timeout"] = timeout
        return kwargs

    def _attempts(self) -> _Attempts:
        """`responses.create`'s retries: `max_retries`, else none (LiteLLM's handler has no budget of ours)."""
        return _Attempts(max(0, int(self.max_retries or 0)))

    def _login(self) -> dict[str, str | None]:
        """The login and backend, as the provider's catalog methods take them."""
        return {"auth_file": self.auth_file, "codex_home": self.codex_home, "api_base": self.base_url}

    def close(self) -> None:
        """Nothing to release: the connection pools belong to the provider and are shared."""


class CodexClient(_Base):
    """The openai `OpenAI` client's interface over the Codex provider: `chat.completions`, `responses`, `models`.

    Options: `codex_home` / `auth_file`, `base_url`, `timeout`, `max_retries` (see `_Base`).
    """

    _completions_class = _Completions
    _models_class = _Models
    _responses_class = _Responses

    def _retrying(self, call: Callable[[], T]) -> T:
        attempts = self._attempts()
        while True:
            try:
                return call()
            except Exception as exc:
                delay = attempts.delay(exc)
                if delay is None:
                    raise_openai_error(exc)
            time.sleep(delay)

    def _catalog(self) -> ModelCatalog:
        with openai_errors():
            return self._provider.models(**self._login())

    def __enter__(self) -> CodexClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class AsyncCodexClient(_Base):
    """The openai `AsyncOpenAI` client's interface over the Codex provider: `chat.completions`, `responses`, `models`.

    Options: `codex_home` / `auth_file`, `base_url`, `timeout`, `max_retries` (see `_Base`).
    """

    _completions_class = _AsyncCompletions
    _models_class = _AsyncModels
    _responses_class = _AsyncResponses

    async def _retrying(self, call: Callable[[], Awaitable[T]]) -> T:
        attempts = self._attempts()
        while True:
            try:
                return await call()
            except Exception as exc:
                delay = attempts.delay(exc)
                if delay is None:
                    raise_openai_error(exc)
            await asyncio.sleep(delay)

    async def _catalog(self) -> ModelCatalog:
        with openai_errors():
            return await self._provider.amodels(**self._login())

    async def close(self) -> None:  # type: ignore[override]
        """Nothing to release: the connection pools belong to the provider and are shared."""

    async def __aenter__(self) -> AsyncCodexClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


def _is_omitted(value: Any) -> bool:
    return isinstance(value, openai.NotGiven | openai.Omit)
