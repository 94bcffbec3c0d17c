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

from .. import settings
from ..constants import DEFAULT_API_BASE, ENV_API_BASE, MODEL_PREFIXES, PROVIDER_NAME
from ..exceptions import CodexAuthError, CodexBackendURLError, CodexUnknownModelError
from ..litellm_glue import patches as litellm_compat
from ..models.catalog import ModelCatalog, ModelInfo
from ..models.ids import strip_provider_prefix
from ..provider import CodexAuthProvider, codex_auth_provider
from ..retries import backoff_seconds
from .streams import AsyncCodexStream, CodexStream

__all__ = ["AsyncCodexClient", "AsyncCodexStream", "CodexClient", "CodexStream", "to_openai_error"]

try:  # how the openai package turns a server's JSON into its types (loosely, as the API evolves)
    from openai._models import construct_type_unchecked as _construct
except ImportError:  # pragma: no cover - another openai layout: strict validation instead
    _construct = None

T = TypeVar("T")
E = TypeVar("E", bound=BaseException)
Timeout = float | httpx.Timeout | None

_REGISTRATION_LOCK = threading.Lock()
_FALLBACK_REQUEST = httpx.Request("POST", "https://chatgpt.com/backend-api/codex/responses")
#: LiteLLM wraps an error raised while a stream is read; absent from some versions.
_MID_STREAM: type[BaseException] | None = getattr(litellm.exceptions, "MidStreamFallbackError", None)
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
    allowed = {DEFAULT_API_BASE, settings.api_base()}
    if any(_same_endpoint(parsed, httpx.URL(backend)) for backend in allowed):
        return url
    shown = parsed.copy_with(username=None, password=None, query=None, fragment=None)
    raise CodexBackendURLError(
        f"base_url {shown} is not the Codex backend ({settings.api_base()}), and the Codex client "
        "sends your ChatGPT login to its base_url. Leave base_url out (or set "
        f"{ENV_API_BASE}) to use the Codex backend; to reach another OpenAI-compatible server, "
        "use the openai package's own client. If this URL really is a Codex backend (a relay "
        "you run), pass codex_backend=True."
    )


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
    if _MID_STREAM is not None and isinstance(exc, _MID_STREAM):  # LiteLLM's wrapper of a stream's error
        original = getattr(exc, "original_exception", None)
        if isinstance(original, Exception):
            return to_openai_error(original)
    unknown = _cause_of_type(exc, CodexUnknownModelError)
    if unknown is not None:
        return _model_not_found(str(unknown))
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


def _cause_of_type(exc: BaseException, kind: type[E]) -> E | None:
    """`exc` or the first exception it was raised from that is a `kind` (LiteLLM keeps the chain)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, kind):
            return current
        seen.add(id(current))
        current = current.__cause__
    return None


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
    """The Codex CLI's backoff, or the server's `retry-after` when it is short."""
    response = getattr(error, "response", None)
    retry_after = response.headers.get("retry-after") if isinstance(response, httpx.Response) else None
    try:
        seconds = float(retry_after) if retry_after is not None else None
    except ValueError:
        seconds = None
    if seconds is not None and 0 <= seconds <= 60:
        return seconds
    return backoff_seconds(attempt)


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
    return _model_not_found(f"The model `{model}` is not in the Codex model catalog")


def _model_not_found(message: str) -> openai.NotFoundError:
    """openai's answer to an unknown model: 404, `model_not_found`."""
    body = {"message": message, "type": "invalid_request_error", "param": "model", "code": "model_not_found"}
    return openai.NotFoundError(message, response=httpx.Response(404, request=_FALLBACK_REQUEST), body=body)


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

    def _retries(self) -> int:
        """`responses.create`'s retries: `max_retries`, else none (LiteLLM's handler has no budget of ours)."""
        return max(0, int(self.max_retries or 0))

    def _pool(self) -> Any:
        pool = self._provider.pool_for(self.auth_file, self.codex_home)
        pool.token_manager.load()  # a missing login fails here, not as a silently bundled catalog
        return pool

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
        """`responses.create`'s retries: its request goes through LiteLLM's Responses handler, which
        has no retries of its own, so this is the only layer (chat calls use the provider's budget)."""
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
        """See `CodexClient._retrying`."""
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
        with _openai_errors():
            response = litellm.completion(**kwargs)
        if kwargs["stream"]:
            return CodexStream(response, to_chat_completion_chunk, to_openai_error)
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
        with _openai_errors():
            response = await litellm.acompletion(**kwargs)
        if kwargs["stream"]:
            return AsyncCodexStream(response, to_chat_completion_chunk, to_openai_error)
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
            return CodexStream(response, to_response_event, to_openai_error)
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
            return AsyncCodexStream(response, to_response_event, to_openai_error)
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
