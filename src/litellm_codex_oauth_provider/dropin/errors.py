"""The drop-in client's exceptions: each failure as the openai package's own class.

The classification (failures.py) is read once; this only picks openai's class for it. A
LiteLLM exception the provider raised carries its `Failure`, and an exception from below
(openai's, httpx's, ours) is classified as it is: nothing is read back from LiteLLM's text.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from typing import Any, NoReturn

import httpx
import litellm
import openai

from ..failures import Failure, Kind, carried, classify, kind_for_status
from ..litellm_glue.errors import is_litellm_error

__all__ = ["failure_of", "openai_error", "openai_errors", "raise_openai_error", "to_openai_error"]

FALLBACK_REQUEST = httpx.Request("POST", "https://chatgpt.com/backend-api/codex/responses")
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
_NOT_COPIED = frozenset({"content-length", "content-encoding", "transfer-encoding"})


def to_openai_error(exc: BaseException) -> BaseException:
    """`exc` as the openai package's own class; openai's own and unclassified exceptions are returned as they are.

    LiteLLM's classes already subclass openai's, so `except openai.RateLimitError` catches them
    either way; this makes `type(exc)` openai's too, with the message, status, headers and body.
    """
    if isinstance(exc, openai.OpenAIError) and type(exc).__module__.partition(".")[0] == "openai":
        return exc
    failure = failure_of(exc)
    return exc if failure is None else openai_error(failure)


def failure_of(exc: BaseException) -> Failure | None:
    """What `exc` means: the `Failure` along its chain (LiteLLM keeps the provider's error as the cause)."""
    if _MID_STREAM is not None and isinstance(exc, _MID_STREAM):  # LiteLLM's wrapper of a stream's error
        original = getattr(exc, "original_exception", None)
        if isinstance(original, Exception):
            exc = original
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        failure = carried(current) or (None if is_litellm_error(current) else classify(current))
        if failure is not None:
            return failure
        current = current.__cause__
    return _from_litellm(exc) if is_litellm_error(exc) else None


def _from_litellm(exc: BaseException) -> Failure | None:
    """An error LiteLLM made itself (its Responses handler's): its class and status are all it says."""
    message = _LITELLM_PREFIX.sub("", str(getattr(exc, "message", None) or exc)).strip() or type(exc).__name__
    request = getattr(exc, "request", None)
    request = request if isinstance(request, httpx.Request) else None
    if isinstance(exc, openai.APITimeoutError):
        return Failure(Kind.TIMEOUT, message, request=request)
    if isinstance(exc, openai.APIConnectionError):
        return Failure(Kind.CONNECTION, message, request=request)
    if not isinstance(exc, openai.APIError):
        return None
    body = exc.body.get("error", exc.body) if isinstance(exc.body, dict) else None
    body = body if isinstance(body, dict) else {}
    status = getattr(exc, "status_code", None)
    if not isinstance(status, int) or status < 400:
        return Failure(Kind.OTHER, message, body=body, request=request)
    response = getattr(exc, "response", None)
    kind = (
        Kind.CONTEXT_WINDOW
        if isinstance(exc, litellm.ContextWindowExceededError)
        else kind_for_status(status)
    )
    response = response if isinstance(response, httpx.Response) else None
    return Failure(kind, message, status=status, body=body, response=response, request=request)


def openai_error(failure: Failure) -> openai.APIError:
    """openai's exception for `failure`, as the openai client would have raised it for the same answer."""
    message = failure.message
    request = failure.request or FALLBACK_REQUEST
    if failure.kind is Kind.TIMEOUT:
        error: openai.APIError = openai.APITimeoutError(request=request)
        error.message, error.args = message, (message,)
        return error
    if failure.kind is Kind.CONNECTION:
        return openai.APIConnectionError(message=message, request=request)
    body: dict[str, Any] = {**failure.body}
    if not isinstance(body.get("message"), str):
        body["message"] = message
    if failure.kind is Kind.CONTEXT_WINDOW:
        body.setdefault("code", "context_length_exceeded")
    status = failure.answer_status
    if status is None:
        return openai.APIError(message, request, body=body)
    cls = _BY_STATUS.get(status) or (openai.InternalServerError if status >= 500 else openai.APIStatusError)
    return cls(message, response=_response(failure, status), body=body)


def _response(failure: Failure, status: int) -> httpx.Response:
    """The backend's response when it answered `status` as it is; else one with that status, its headers and the wait."""
    original = failure.response
    wait = {"retry-after": str(failure.retry_after)} if failure.retry_after is not None else {}
    if (
        original is not None
        and original.status_code == status
        and _has_request(original)
        and all(original.headers.get(k) == v for k, v in wait.items())
    ):
        return original
    headers = {k: v for k, v in original.headers.items() if k.lower() not in _NOT_COPIED} if original else {}
    return httpx.Response(status, headers={**headers, **wait}, request=failure.request or FALLBACK_REQUEST)


def _has_request(response: httpx.Response) -> bool:
    try:
        response.request  # noqa: B018 - raises when the response has no request
    except RuntimeError:
        return False
    return True


def raise_openai_error(exc: Exception) -> NoReturn:
    """Raise `exc` as openai's class (from `exc`), or `exc` itself when it has none."""
    error = to_openai_error(exc)
    if error is exc:
        raise exc
    raise error from exc


@contextlib.contextmanager
def openai_errors() -> Iterator[None]:
    """Within this block every exception leaves as openai's class."""
    try:
        yield
    except Exception as exc:
        raise_openai_error(exc)
