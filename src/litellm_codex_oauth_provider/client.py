"""`CodexClient` and `AsyncCodexClient`: the openai package's interface, answered by the Codex provider.

    from litellm_codex_oauth_provider import CodexClient as OpenAI

    client = OpenAI()                                  # the Codex CLI login, ~/.codex/auth.json
    reply = client.chat.completions.create(model="gpt-5.5", messages=[{"role": "user", "content": "hi"}])
    answer = client.responses.create(model="gpt-5.5", input="hi")   # the Responses API, natively
    for chunk in client.chat.completions.create(model="gpt-5.5", messages=..., stream=True): ...
    [m.id for m in client.models.list()]

A thin layer: each call is `litellm.completion` / `acompletion` with the provider registered as
`codex` (the login is passed per call, so clients for different logins share the provider and
its connection pools), and the result is converted to the openai package's own types with
`model_validate`: `ChatCompletion`, `ChatCompletionChunk`, `Model`, and its exception classes
(`RateLimitError`, `AuthenticationError`, `BadRequestError`, `APITimeoutError`,
`APIConnectionError`, `InternalServerError`, …). Model names may omit the `codex/` prefix.
`responses.create` is `litellm.responses` / `aresponses`, which reach the backend as Responses
requests (`responses_api.py`); the answer is openai's `Response` or its stream events, built the
way the openai package builds them from a server's JSON.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import re
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Generator, Iterable, Iterator
from os import PathLike
from typing import Any, TypeVar

import httpx
import litellm
import openai
import pydantic
from openai.pagination import AsyncPage, SyncPage
from openai.types import Model
from openai.types.chat import ChatCompletion, ChatCompletionChunk
from openai.types.responses import Response, ResponseStreamEvent

from . import litellm_compat, settings
from .catalog import ModelCatalog, ModelInfo
from .constants import MODEL_PREFIXES, PROVIDER_NAME
from .exceptions import CodexAuthError
from .model_map import strip_provider_prefix
from .provider import CodexAuthProvider, codex_auth_provider

__all__ = ["AsyncCodexClient", "AsyncCodexStream", "CodexClient", "CodexStream", "to_openai_error"]

try:  # how the openai package turns a server's JSON into its types (loosely, as the API evolves)
    from openai._models import construct_type_unchecked as _construct
except ImportError:  # pragma: no cover - another openai layout: strict validation instead
    _construct = None

T = TypeVar("T")
Timeout = float | httpx.Timeout | None

_REGISTRATION_LOCK = threading.Lock()
_FALLBACK_REQUEST = httpx.Request("POST", "https://chatgpt.com/backend-api/codex/responses")
_LITELLM_PREFIX = re.compile(r"^(?:litellm\.\w+:\s*)+")
#: openai's exception class for each status it names; other 5xx are InternalServerError.
_BY_STATUS: dict[int, type[openai.APIStatusError]] = {
    400: openai.BadRequestError,
    401: openai.AuthenticationError,
    403: openai.PermissionDeniedError,
    404: openai.NotFoundError,
    409: openai.ConflictError,
    422: openai.UnprocessableEntityError,
    429: openai.RateLimitError,
}


# --------------------------------------------------------------------------- the provider behind it


def registered_provider() -> CodexAuthProvider:
    """The provider LiteLLM routes `codex/…` to; registers `codex_auth_provider` when none is."""
    with _REGISTRATION_LOCK:
        handler = litellm_compat.routed_handler(PROVIDER_NAME)
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


# --------------------------------------------------------------------------- errors


def _message(exc: BaseException) -> str:
    text = getattr(exc, "message", None) or str(exc)
    return _LITELLM_PREFIX.sub("", str(text)).strip() or type(exc).__name__


def _response_for(exc: BaseException, status: int) -> httpx.Response:
    """The exception's HTTP response, with a request attached (openai's classes read both)."""
    response = getattr(exc, "response", None)
    if isinstance(response, httpx.Response):
        try:
            response.request  # noqa: B018 - raises when the response has no request
            return response
        except RuntimeError:
            return httpx.Response(status, headers=response.headers, request=_FALLBACK_REQUEST)
    return httpx.Response(status, request=_FALLBACK_REQUEST)


def _request_for(exc: BaseException) -> httpx.Request:
    request = getattr(exc, "request", None)
    return request if isinstance(request, httpx.Request) else _FALLBACK_REQUEST


def _body(exc: BaseException, message: str) -> dict[str, Any]:
    body = getattr(exc, "body", None)
    error = dict(body.get("error", body)) if isinstance(body, dict) else {}
    if not isinstance(error.get("message"), str):
        error["message"] = message
    if isinstance(exc, litellm.ContextWindowExceededError):
        error.setdefault("code", "context_length_exceeded")
    return error


def to_openai_error(exc: BaseException) -> BaseException:
    """LiteLLM's exception (or one of ours) as the openai package's own class; others are returned as they are.

    LiteLLM's classes already subclass openai's, so `except openai.RateLimitError` catches them
    either way; this makes `type(exc)` openai's too, with the same message, status, response and body.
    """
    if isinstance(exc, openai.APIError) and type(exc).__module__.split(".")[0] == "openai":
        return exc
    message = _message(exc)
    if isinstance(exc, CodexAuthError):
        return openai.AuthenticationError(
            message, response=httpx.Response(401, request=_FALLBACK_REQUEST), body={"message": message}
        )
    if isinstance(exc, openai.APITimeoutError):
        error: openai.APIError = openai.APITimeoutError(request=_request_for(exc))
        error.message, error.args = message, (message,)
        return error
    if isinstance(exc, openai.APIConnectionError):
        return openai.APIConnectionError(message=message, request=_request_for(exc))
    if isinstance(exc, openai.APIError):
        status = getattr(exc, "status_code", None)
        if isinstance(status, int) and status >= 400:
            cls = _BY_STATUS.get(status) or (
                openai.InternalServerError if status >= 500 else openai.APIStatusError
            )
            return cls(message, response=_response_for(exc, status), body=_body(exc, message))
        return openai.APIError(message, _request_for(exc), body=_body(exc, message))
    return exc


@contextlib.contextmanager
def _openai_errors() -> Iterator[None]:
    try:
        yield
    except Exception as exc:
        error = to_openai_error(exc)
        if error is exc:
            raise
        raise error from exc


def _retryable(error: BaseException) -> bool:
    """Passing failures only: a spent plan (429) or a refused request does not get better by retrying."""
    if isinstance(error, openai.APIConnectionError):  # includes timeouts
        return True
    return isinstance(error, openai.APIStatusError) and error.status_code >= 500


def _pause(attempt: int, error: BaseException) -> float:
    """openai's backoff: 0.5 s doubling to 8 s with jitter, or the server's `retry-after` when short."""
    response = getattr(error, "response", None)
    retry_after = response.headers.get("retry-after") if isinstance(response, httpx.Response) else None
    try:
        seconds = float(retry_after) if retry_after is not None else None
    except ValueError:
        seconds = None
    if seconds is not None and 0 <= seconds <= 60:
        return seconds
    return min(8.0, 0.5 * 2**attempt) * random.uniform(0.75, 1.0)


# --------------------------------------------------------------------------- conversion


def _is_omitted(value: Any) -> bool:
    return isinstance(value, openai.NotGiven | openai.Omit)


def to_chat_completion(response: Any) -> ChatCompletion:
    """A LiteLLM `ModelResponse` as openai's `ChatCompletion` (extra fields such as `reasoning_content` kept)."""
    return ChatCompletion.model_validate(response.model_dump())


def to_chat_completion_chunk(chunk: Any) -> ChatCompletionChunk:
    """A LiteLLM stream chunk as openai's `ChatCompletionChunk`.

    The usage chunk (`stream_options={"include_usage": True}`) has no choices, as openai sends it.
    """
    data = chunk.model_dump()
    choices = data.get("choices") or []
    if data.get("usage") and all(_empty_choice(c) for c in choices):
        data["choices"] = []
    return ChatCompletionChunk.model_validate(data)


def _openai_object(data: Any, type_: Any) -> Any:
    """`data` as the openai type, built as openai builds what a server sends: the backend omits
    fields the openai models mark required (`usage.input_tokens_details.cache_write_tokens`)."""
    if _construct is not None:
        return _construct(value=data, type_=type_)
    return pydantic.TypeAdapter(type_).validate_python(data)


def to_response(response: Any) -> Response:
    """LiteLLM's `ResponsesAPIResponse` as openai's `Response`."""
    return _openai_object(response.model_dump(mode="json", warnings=False), Response)


def to_response_event(event: Any) -> ResponseStreamEvent:
    """One of LiteLLM's Responses stream events as openai's (`ResponseCompletedEvent`, …)."""
    # LiteLLM keeps a part it could not type as a dict; dumping it is fine, pydantic just warns.
    data = event.model_dump(mode="json", warnings=False) if hasattr(event, "model_dump") else dict(event)
    return _openai_object(data, ResponseStreamEvent)


def _empty_choice(choice: dict[str, Any]) -> bool:
    delta = choice.get("delta") or {}
    return choice.get("finish_reason") is None and not any(
        delta.get(key) for key in ("content", "tool_calls", "function_call", "refusal", "reasoning_content")
    )


def to_model(info: ModelInfo) -> Model:
    """A catalog entry as openai's `Model` (id without the `codex/` prefix); catalog facts as extra fields."""
    return Model.model_validate(
        {
            "id": info.slug,
            "object": "model",
            "created": 0,
            "owned_by": "openai",
            "display_name": info.display_name,
            "context_window": info.context_window,
            "reasoning_efforts": list(info.efforts),
            "default_reasoning_effort": info.default_effort,
            "image_input": info.supports_vision,
            "fast_tier": info.supports_fast,
        }
    )


def _listed_models(catalog: ModelCatalog) -> list[Model]:
    return [to_model(info) for info in catalog.ordered() if info.listed]


def _not_found(model: str) -> openai.NotFoundError:
    message = f"The model `{model}` is not in the Codex model catalog"
    body = {"message": message, "type": "invalid_request_error", "code": "model_not_found"}
    return openai.NotFoundError(message, response=httpx.Response(404, request=_FALLBACK_REQUEST), body=body)


# --------------------------------------------------------------------------- streams


class CodexStream(Iterator[Any]):
    """Iterates `ChatCompletionChunk`s (or Responses events), like `openai.Stream`; closing it stops the backend stream."""

    def __init__(
        self, chunks: Iterable[Any], convert: Callable[[Any], Any] = to_chat_completion_chunk
    ) -> None:
        self._chunks = chunks
        self._convert = convert
        self._iterator = self._stream()

    def _stream(self) -> Generator[Any, None, None]:
        with _openai_errors():
            for chunk in self._chunks:
                yield self._convert(chunk)

    def __next__(self) -> Any:
        return next(self._iterator)

    def __iter__(self) -> Iterator[Any]:
        return self

    def close(self) -> None:
        self._iterator.close()
        close = getattr(self._chunks, "close", None)
        if callable(close):
            with contextlib.suppress(Exception):
                close()

    def __enter__(self) -> CodexStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class AsyncCodexStream(AsyncIterator[Any]):
    """`async for` over `ChatCompletionChunk`s (or Responses events), like `openai.AsyncStream`."""

    def __init__(self, chunks: Any, convert: Callable[[Any], Any] = to_chat_completion_chunk) -> None:
        self._chunks = chunks
        self._convert = convert
        self._iterator = self._stream()

    async def _stream(self) -> AsyncIterator[Any]:
        with _openai_errors():
            async for chunk in self._chunks:
                yield self._convert(chunk)

    async def __anext__(self) -> Any:
        return await self._iterator.__anext__()

    def __aiter__(self) -> AsyncIterator[Any]:
        return self

    async def close(self) -> None:
        await self._iterator.aclose()  # type: ignore[attr-defined]
        for name in ("aclose", "close"):
            closer = getattr(self._chunks, name, None)
            if callable(closer):
                with contextlib.suppress(Exception):
                    result = closer()
                    if asyncio.iscoroutine(result):
                        await result
                break

    async def __aenter__(self) -> AsyncCodexStream:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


# --------------------------------------------------------------------------- the clients


class _Base:
    """Options shared by both clients (all optional); nothing here does I/O.

    - `codex_home` / `auth_file`: the Codex CLI login to use (default `CODEX_AUTH_FILE`,
      else `$CODEX_HOME/auth.json`, else `~/.codex/auth.json`).
    - `base_url`: the Codex backend base URL (default `CODEX_API_BASE`, else ChatGPT's).
    - `timeout`: seconds (or an `httpx.Timeout`) one call may take; default: the provider's.
    - `max_retries`: how often a call that failed for a passing reason (connection error,
      timeout, 5xx, overload) is retried as a whole, with backoff; never a 4xx or a used-up
      plan. Default `None`: no retries here, only those of the backend connection
      (`CODEX_MAX_RETRIES`, like the Codex CLI).
    - `api_key`, `organization`, `project`: accepted for compatibility and ignored: the login
      is the Codex CLI's.
    """

    def __init__(
        self,
        *,
        codex_home: str | PathLike[str] | None = None,
        auth_file: str | PathLike[str] | None = None,
        base_url: str | httpx.URL | None = None,
        timeout: Timeout = None,
        max_retries: int | None = None,
        api_key: str | None = None,
        organization: str | None = None,
        project: str | None = None,
    ) -> None:
        self.codex_home = str(codex_home) if codex_home is not None else None
        self.auth_file = str(auth_file) if auth_file is not None else None
        self.base_url = str(base_url).rstrip("/") if base_url is not None else None
        self.timeout = timeout
        self.max_retries = max_retries
        self._provider = registered_provider()
        self.chat = _Chat(self._completions_class(self))
        self.models = self._models_class(self)
        self.responses = self._responses_class(self)

    @property
    def _completions_class(self) -> type:  # the sync or async `chat.completions`
        raise NotImplementedError

    @property
    def _models_class(self) -> type:
        raise NotImplementedError

    @property
    def _responses_class(self) -> type:
        raise NotImplementedError

    def _options(self) -> dict[str, Any]:
        return {
            "codex_home": self.codex_home,
            "auth_file": self.auth_file,
            "base_url": self.base_url,
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
        """`litellm.completion` arguments for one `chat.completions.create` call."""
        return {**self._request_kwargs(model, stream, params), "messages": list(messages)}

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

    def _pool(self) -> Any:
        pool = self._provider.pool_for(self.auth_file, self.codex_home)
        pool.token_manager.load()  # a missing login fails here, not as a silently bundled catalog
        return pool

    def _retries(self) -> int:
        return max(0, int(self.max_retries or 0))

    def close(self) -> None:
        """Nothing to release: the connection pools belong to the provider and are shared."""


class CodexClient(_Base):
    """The openai `OpenAI` client's interface over the Codex provider: `chat.completions`, `responses`, `models`.

    Options: `codex_home` / `auth_file`, `base_url`, `timeout`, `max_retries` (see `_Base`).
    """

    @property
    def _completions_class(self) -> type:
        return _Completions

    @property
    def _models_class(self) -> type:
        return _Models

    @property
    def _responses_class(self) -> type:
        return _Responses

    def _retrying(self, call: Callable[[], T]) -> T:
        retries = self._retries()
        for attempt in range(retries + 1):
            try:
                return call()
            except Exception as exc:
                error = to_openai_error(exc)
                if attempt < retries and _retryable(error):
                    time.sleep(_pause(attempt, error))
                    continue
                if error is exc:
                    raise
                raise error from exc
        raise AssertionError("unreachable")

    def _catalog(self) -> ModelCatalog:
        with _openai_errors():
            pool = self._pool()
            return self._provider.catalogs.catalog(pool.sync_client(settings.api_base(self.base_url)))

    def __enter__(self) -> CodexClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class AsyncCodexClient(_Base):
    """The openai `AsyncOpenAI` client's interface over the Codex provider: `chat.completions`, `responses`, `models`.

    Options: `codex_home` / `auth_file`, `base_url`, `timeout`, `max_retries` (see `_Base`).
    """

    @property
    def _completions_class(self) -> type:
        return _AsyncCompletions

    @property
    def _models_class(self) -> type:
        return _AsyncModels

    @property
    def _responses_class(self) -> type:
        return _AsyncResponses

    async def _retrying(self, call: Callable[[], Awaitable[T]]) -> T:
        retries = self._retries()
        for attempt in range(retries + 1):
            try:
                return await call()
            except Exception as exc:
                error = to_openai_error(exc)
                if attempt < retries and _retryable(error):
                    await asyncio.sleep(_pause(attempt, error))
                    continue
                if error is exc:
                    raise
                raise error from exc
        raise AssertionError("unreachable")

    async def _catalog(self) -> ModelCatalog:
        with _openai_errors():
            pool = await asyncio.to_thread(self._pool)  # reads the login: never on the event loop
            return await self._provider.catalogs.acatalog(pool.async_client(settings.api_base(self.base_url)))

    async def close(self) -> None:  # type: ignore[override]
        """Nothing to release: the connection pools belong to the provider and are shared."""

    async def __aenter__(self) -> AsyncCodexClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


class _Chat:
    def __init__(self, completions: Any) -> None:
        self.completions = completions


class _Completions:
    def __init__(self, client: CodexClient) -> None:
        self._client = client

    def create(
        self, *, model: str, messages: Iterable[Any], stream: bool | None = False, **params: Any
    ) -> ChatCompletion | CodexStream:
        """`client.chat.completions.create(...)`: a `ChatCompletion`, or with `stream=True` a `CodexStream`.

        Takes the openai parameters (`tools`, `tool_choice`, `response_format`, `n`,
        `reasoning_effort`, `stream_options`, `extra_body`, `timeout`, …); those the Codex backend
        rejects (`temperature`, `max_tokens`, …) are dropped by the provider.
        """
        kwargs = self._client._call_kwargs(model, messages, bool(stream), params)
        response = self._client._retrying(lambda: litellm.completion(**kwargs))
        if kwargs["stream"]:
            return CodexStream(response)
        with _openai_errors():
            return to_chat_completion(response)


class _AsyncCompletions:
    def __init__(self, client: AsyncCodexClient) -> None:
        self._client = client

    async def create(
        self, *, model: str, messages: Iterable[Any], stream: bool | None = False, **params: Any
    ) -> ChatCompletion | AsyncCodexStream:
        """`await client.chat.completions.create(...)`: a `ChatCompletion`, or an `AsyncCodexStream`."""
        kwargs = self._client._call_kwargs(model, messages, bool(stream), params)
        response = await self._client._retrying(lambda: litellm.acompletion(**kwargs))
        if kwargs["stream"]:
            return AsyncCodexStream(response)
        with _openai_errors():
            return to_chat_completion(response)


class _Responses:
    def __init__(self, client: CodexClient) -> None:
        self._client = client

    def create(self, *, model: str, stream: bool | None = False, **params: Any) -> Response | CodexStream:
        """`client.responses.create(...)`: openai's `Response`, or with `stream=True` a `CodexStream` of its events.

        The request reaches the backend as the Responses request it is (`responses_api.py`):
        `input` items with reasoning `encrypted_content`, hosted tools such as `web_search`,
        `include`, `text.format`. `previous_response_id` and `store=True` are refused (400):
        the backend keeps no conversations, so send the whole `input` each turn.
        """
        kwargs = self._client._request_kwargs(model, bool(stream), params)
        response = self._client._retrying(lambda: litellm.responses(**kwargs))
        if kwargs["stream"]:
            return CodexStream(response, convert=to_response_event)
        with _openai_errors():
            return to_response(response)


class _AsyncResponses:
    def __init__(self, client: AsyncCodexClient) -> None:
        self._client = client

    async def create(
        self, *, model: str, stream: bool | None = False, **params: Any
    ) -> Response | AsyncCodexStream:
        """`await client.responses.create(...)`: openai's `Response`, or an `AsyncCodexStream` of its events."""
        kwargs = self._client._request_kwargs(model, bool(stream), params)
        response = await self._client._retrying(lambda: litellm.aresponses(**kwargs))
        if kwargs["stream"]:
            return AsyncCodexStream(response, convert=to_response_event)
        with _openai_errors():
            return to_response(response)


class _Models:
    def __init__(self, client: CodexClient) -> None:
        self._client = client

    def list(self) -> SyncPage[Model]:
        """The models of the live catalog (the ones the Codex CLI lists), as openai `Model`s."""
        return SyncPage[Model](data=_listed_models(self._client._catalog()), object="list")

    def retrieve(self, model: str) -> Model:
        """One model of the catalog (hidden ones too); `openai.NotFoundError` when it has none such."""
        info = self._client._catalog().get(strip_provider_prefix(model))
        if info is None:
            raise _not_found(model)
        return to_model(info)


class _AsyncModelList:
    """What `AsyncCodexClient.models.list()` returns: awaitable (an `AsyncPage`) and async-iterable."""

    def __init__(self, client: AsyncCodexClient) -> None:
        self._client = client

    async def _page(self) -> AsyncPage[Model]:
        return AsyncPage[Model](data=_listed_models(await self._client._catalog()), object="list")

    def __await__(self) -> Generator[Any, None, AsyncPage[Model]]:
        return self._page().__await__()

    async def __aiter__(self) -> AsyncIterator[Model]:
        for model in (await self._page()).data:
            yield model


class _AsyncModels:
    def __init__(self, client: AsyncCodexClient) -> None:
        self._client = client

    def list(self) -> _AsyncModelList:
        return _AsyncModelList(self._client)

    async def retrieve(self, model: str) -> Model:
        info = (await self._client._catalog()).get(strip_provider_prefix(model))
        if info is None:
            raise _not_found(model)
        return to_model(info)
