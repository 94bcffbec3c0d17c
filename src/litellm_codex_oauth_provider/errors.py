"""Every failure as the LiteLLM exception its retries, fallbacks and router cooldowns understand."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Mapping
from typing import Any

import httpx
import litellm
import openai

from .constants import PROVIDER_NAME
from .exceptions import (
    CodexAuthError,
    CodexAuthRefreshTimeoutError,
    CodexAuthRefreshUnavailableError,
    CodexDeadlineExceededError,
    CodexModelError,
    CodexRequestRefusedError,
)
from .log import redact


class CodexStreamError(Exception):
    """A turn that failed inside the event stream (`response.failed`, `error`, cut short)."""

    def __init__(self, code: str | None, message: str, *, details: Mapping[str, Any] | None = None) -> None:
        message = redact(message)  # upstream text: it reaches callers and logs
        super().__init__(f"{message} ({code})" if code else message)
        self.code = code
        self.message = message
        self.details: dict[str, Any] = dict(details or {})


#: Stream failures worth another attempt: the backend was busy or the connection broke.
RETRYABLE_STREAM_CODES = frozenset(
    {"stream_incomplete", "server_is_overloaded", "slow_down", "server_error", "internal_error"}
)
_TRY_AGAIN = re.compile(r"try again in\s+([0-9.]+)\s*(ms|s)\b", re.IGNORECASE)


def retryable_turn_failure(exc: BaseException) -> bool:
    """A turn that broke off after its HTTP response began and may be sent again.

    Only failures that say nothing about the request itself: a cut connection, a stream that
    stopped early, an overloaded backend. Timeouts are not retried (each would wait again).
    Callers ask only about failures after the response began: openai 3.x raises a connection
    cut mid-stream as `APIConnectionError` (2.x let httpx's own error through).
    """
    if isinstance(exc, CodexStreamError):
        return exc.code in RETRYABLE_STREAM_CODES
    if isinstance(exc, httpx.TimeoutException | openai.APITimeoutError):
        return False
    return isinstance(exc, httpx.TransportError | httpx.StreamError | openai.APIConnectionError)


def rejects_instructions(exc: BaseException) -> bool:
    """A 400 whose error names the `instructions` (its `param`, `code` or message).

    Read from the error's body, not `str(exc)`: openai 3.x puts only `error.message` in the text,
    and the backend may answer `{"detail": ...}` or `{"error": {"param": "instructions", ...}}`.
    """
    if not isinstance(exc, openai.BadRequestError):
        return False
    error = _error_body(exc)
    fields = (error.get("param"), error.get("code"), error.get("message"))
    return any(isinstance(value, str) and "instruction" in value.lower() for value in fields)


def _error_body(exc: openai.APIStatusError) -> dict[str, Any]:
    body = exc.body
    if not isinstance(body, Mapping):
        try:
            body = exc.response.json()
        except (ValueError, httpx.ResponseNotRead):
            body = {}
    error = body.get("error", body) if isinstance(body, Mapping) else {}
    if not isinstance(error, Mapping):
        return {"message": str(error)}
    # upstream text reaches callers and logs: nothing token-shaped passes
    error = {k: redact(v) if isinstance(v, str) else v for k, v in error.items()}
    if not error.get("message") and isinstance(error.get("detail"), str):
        error["message"] = error["detail"]  # the backend's `{"detail": "..."}` shape
    return error


def _reset_in_seconds(error: Mapping[str, Any]) -> int | None:
    seconds = error.get("resets_in_seconds")
    if isinstance(seconds, int | float):
        return max(0, int(seconds))
    resets_at = error.get("resets_at")
    if isinstance(resets_at, int | float):
        return max(0, int(resets_at - dt.datetime.now(dt.UTC).timestamp()))
    return None


def usage_limit_message(error: Mapping[str, Any]) -> tuple[str, int | None]:
    """What a spent plan means for the user, with the reset in local time and seconds."""
    plan = error.get("plan_type")
    plan_text = f"ChatGPT {plan} plan" if plan else "ChatGPT plan"
    seconds = _reset_in_seconds(error)
    if seconds is None:
        return f"The Codex usage limit of your {plan_text} is reached; wait for it to reset.", None
    reset_local = (dt.datetime.now().astimezone() + dt.timedelta(seconds=seconds)).strftime(
        "%Y-%m-%d %H:%M %Z"
    )
    return (
        f"The Codex usage limit of your {plan_text} is reached; it resets at {reset_local} (in {seconds} s). "
        "Retrying before then will fail; use another account or model meanwhile.",
        seconds,
    )


def _is_usage_limit(error: Mapping[str, Any]) -> bool:
    return error.get("type") == "usage_limit_reached" or error.get("code") == "usage_limit_reached"


def _is_no_access(error: Mapping[str, Any]) -> bool:
    return "usage_not_included" in (error.get("type"), error.get("code"))


def _no_access_message() -> str:
    return (
        "Your ChatGPT plan does not include Codex (usage_not_included); "
        "upgrade the plan or log in with another account (`codex login`)."
    )


def _retry_after_from_message(message: str) -> int | None:
    """`rate_limit_exceeded` says "Please try again in 11.5s" (or "in 20ms")."""
    match = _TRY_AGAIN.search(message or "")
    if not match:
        return None
    seconds = float(match.group(1)) / (1000 if match.group(2).lower() == "ms" else 1)
    return max(1, int(seconds + 0.999))


def _rate_limit(
    message: str, model: str, retry_after: int | None, request: httpx.Request | None
) -> Exception:
    headers = {"retry-after": str(retry_after)} if retry_after is not None else {}
    response = httpx.Response(429, headers=headers, request=request or httpx.Request("POST", "https://codex"))
    return litellm.RateLimitError(
        message, llm_provider=PROVIDER_NAME, model=model, response=response, headers=headers
    )


def _synthetic_response(status: int) -> httpx.Response:
    return httpx.Response(status, request=httpx.Request("POST", "https://codex"))


def _from_status(exc: openai.APIStatusError, model: str) -> Exception:
    status = exc.status_code
    error = _error_body(exc)
    message = str(error.get("message") or redact(exc.message))
    code = error.get("code") or error.get("type")
    if _is_usage_limit(error):
        text, seconds = usage_limit_message(error)
        return _rate_limit(text, model, seconds, exc.request)
    if _is_no_access(error):
        return litellm.PermissionDeniedError(
            _no_access_message(), llm_provider=PROVIDER_NAME, model=model, response=exc.response
        )
    if code == "context_length_exceeded" or (status == 400 and "context window" in message.lower()):
        return litellm.ContextWindowExceededError(
            message, model=model, llm_provider=PROVIDER_NAME, response=exc.response
        )
    if status == 401:
        return litellm.AuthenticationError(
            f"The Codex backend refused the login ({message}). Run `codex login` to sign in again.",
            llm_provider=PROVIDER_NAME,
            model=model,
            response=exc.response,
        )
    if status == 403:
        return litellm.PermissionDeniedError(
            message, llm_provider=PROVIDER_NAME, model=model, response=exc.response
        )
    if status == 400:
        param = error.get("param")
        detail = f"{message} (parameter: {param})" if param else message
        return litellm.BadRequestError(
            detail, model=model, llm_provider=PROVIDER_NAME, response=exc.response, body=error
        )
    if status == 404:
        return litellm.NotFoundError(message, model=model, llm_provider=PROVIDER_NAME, response=exc.response)
    if status == 429:
        retry = exc.response.headers.get("retry-after")
        seconds = int(float(retry)) if retry else _retry_after_from_message(message)
        return _rate_limit(message, model, seconds, exc.request)
    if status == 503:
        return litellm.ServiceUnavailableError(
            message, llm_provider=PROVIDER_NAME, model=model, response=exc.response
        )
    if status >= 500:
        return litellm.InternalServerError(
            message, llm_provider=PROVIDER_NAME, model=model, response=exc.response
        )
    return litellm.APIError(status, message, llm_provider=PROVIDER_NAME, model=model, request=exc.request)


def _from_stream(exc: CodexStreamError, model: str) -> Exception:
    code, message = exc.code or "", exc.message
    if code == "context_length_exceeded":
        return litellm.ContextWindowExceededError(message, model=model, llm_provider=PROVIDER_NAME)
    if code == "usage_limit_reached" or _is_usage_limit(exc.details):
        text, seconds = usage_limit_message(exc.details)
        return _rate_limit(text, model, seconds, None)
    if code in ("insufficient_quota", "rate_limit_exceeded"):
        return _rate_limit(f"{message} ({code})", model, _retry_after_from_message(message), None)
    if code == "usage_not_included":
        return litellm.PermissionDeniedError(
            _no_access_message(), llm_provider=PROVIDER_NAME, model=model, response=_synthetic_response(403)
        )
    if code in ("server_is_overloaded", "slow_down"):
        return litellm.ServiceUnavailableError(f"{message} ({code})", llm_provider=PROVIDER_NAME, model=model)
    if (
        code in ("invalid_prompt", "invalid_request_error")
        or exc.details.get("type") == "invalid_request_error"
    ):
        param = exc.details.get("param")
        detail = f"{message} ({code}; parameter: {param})" if param else f"{message} ({code})"
        return litellm.BadRequestError(detail, model=model, llm_provider=PROVIDER_NAME)
    if code == "stream_incomplete":
        return litellm.APIConnectionError(message, llm_provider=PROVIDER_NAME, model=model)
    if code == "deadline_exceeded":
        return litellm.Timeout(f"{message} (`timeout`)", model=model, llm_provider=PROVIDER_NAME)
    return litellm.InternalServerError(
        f"{message} ({code or 'no code'})", llm_provider=PROVIDER_NAME, model=model
    )


def to_litellm_error(exc: BaseException, model: str) -> BaseException:
    """Map one of our or openai's exceptions to LiteLLM's; anything else is returned as it is."""
    if isinstance(exc, litellm.exceptions.OpenAIError) and not isinstance(exc, openai.APIError):
        return exc  # already a LiteLLM exception
    if isinstance(exc, CodexAuthRefreshTimeoutError):
        return litellm.Timeout(exc.message, model=model, llm_provider=PROVIDER_NAME)
    if isinstance(exc, CodexAuthRefreshUnavailableError):
        # transient: the token endpoint or the lock was out of reach and the login is unchanged
        return litellm.ServiceUnavailableError(exc.message, llm_provider=PROVIDER_NAME, model=model)
    if isinstance(exc, CodexAuthError):
        return litellm.AuthenticationError(exc.message, llm_provider=PROVIDER_NAME, model=model)
    if isinstance(exc, CodexModelError | CodexRequestRefusedError):
        return litellm.BadRequestError(str(exc), model=model, llm_provider=PROVIDER_NAME)
    if isinstance(exc, CodexStreamError):
        return _from_stream(exc, model)
    if isinstance(exc, CodexDeadlineExceededError):
        return litellm.Timeout(f"{exc} (`timeout`)", model=model, llm_provider=PROVIDER_NAME)
    if isinstance(exc, openai.APITimeoutError):
        return litellm.Timeout(
            f"The Codex backend did not answer in time: {redact(str(exc))}",
            model=model,
            llm_provider=PROVIDER_NAME,
        )
    if isinstance(exc, openai.APIConnectionError):
        return litellm.APIConnectionError(
            f"Cannot reach the Codex backend: {redact(str(exc))}",
            llm_provider=PROVIDER_NAME,
            model=model,
            request=exc.request,
        )
    if isinstance(exc, openai.APIStatusError):
        return _from_status(exc, model)
    if isinstance(exc, openai.APIError):
        body = exc.body if isinstance(exc.body, Mapping) else {}
        code = body.get("code") or body.get("type")
        return _from_stream(CodexStreamError(code, exc.message, details=body), model)
    if isinstance(exc, httpx.TimeoutException):  # the idle-stream timeout, mid-stream
        return litellm.Timeout(
            f"The Codex backend sent nothing for too long (CODEX_STREAM_IDLE_TIMEOUT or `timeout`): {exc!r}",
            model=model,
            llm_provider=PROVIDER_NAME,
        )
    if isinstance(exc, httpx.TransportError | httpx.StreamError):  # the connection broke mid-stream
        return litellm.APIConnectionError(
            f"The connection to the Codex backend broke before the turn completed: {exc!r}",
            llm_provider=PROVIDER_NAME,
            model=model,
        )
    if isinstance(exc, ValueError):
        return litellm.BadRequestError(str(exc), model=model, llm_provider=PROVIDER_NAME)
    return exc


def error_summary(exc: BaseException) -> str:
    """One line for logs: the class and message, never request headers."""
    return json.dumps({"error": type(exc).__name__, "message": str(exc)[:500]})
