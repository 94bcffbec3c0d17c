"""What a failure means, decided once: one `Failure` for each way a call can fail.

The backend's answer (an HTTP status with its error object, or the error code of a turn that
failed inside the event stream), a connection that broke or timed out, and the package's own
errors (exceptions.py) are each read here, and only here, into a `Failure`: its `Kind`, the
message the caller reads, the backend's status and error object, the seconds until trying again
makes sense. Thin maps turn a `Failure` into an exception class: LiteLLM's for the provider
(errors.py), openai's for the drop-in client (dropin/errors.py).
"""

from __future__ import annotations

import datetime as dt
import enum
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx
import openai

from .exceptions import (
    CodexAuthError,
    CodexAuthRefreshTimeoutError,
    CodexAuthRefreshUnavailableError,
    CodexError,
    CodexStreamError,
    CodexUnknownModelError,
)
from .log import redact


class Kind(enum.Enum):
    """What went wrong, as far as the caller's next step is concerned."""

    USAGE_LIMIT = "usage_limit"  # the plan is spent until its reset: retrying before then fails
    NO_ACCESS = "no_access"  # the plan does not include Codex
    CONTEXT_WINDOW = "context_window"  # the input is longer than the model takes
    BAD_REQUEST = "bad_request"  # the request itself is wrong; sending it again fails again
    UNKNOWN_MODEL = "unknown_model"  # no catalog knows the model
    LOGIN = "login"  # the login is missing, unusable or refused
    PERMISSION = "permission"  # the backend refused the request (403)
    NOT_FOUND = "not_found"
    RATE_LIMIT = "rate_limit"  # too many requests for now
    UNAVAILABLE = "unavailable"  # overloaded, or the token endpoint out of reach: passing
    SERVER = "server"  # the backend failed (5xx, a turn that failed without a known code)
    TIMEOUT = "timeout"
    CONNECTION = "connection"  # unreachable, or the connection broke before the turn completed
    OTHER = "other"  # another status (`status`), or none


#: The HTTP status each kind is answered with, as openai's API would; `OTHER` and `SERVER` keep the backend's.
_STATUS = {
    Kind.USAGE_LIMIT: 429,
    Kind.NO_ACCESS: 403,
    Kind.CONTEXT_WINDOW: 400,
    Kind.BAD_REQUEST: 400,
    Kind.UNKNOWN_MODEL: 404,
    Kind.LOGIN: 401,
    Kind.PERMISSION: 403,
    Kind.NOT_FOUND: 404,
    Kind.RATE_LIMIT: 429,
    Kind.UNAVAILABLE: 503,
    Kind.SERVER: 500,
}

#: Failures that say nothing about the request: the same call may succeed a moment later.
_PASSING = frozenset({Kind.UNAVAILABLE, Kind.SERVER, Kind.TIMEOUT, Kind.CONNECTION})


@dataclass(frozen=True)
class Failure:
    """One classified failure; `message` is what the caller reads (redacted)."""

    kind: Kind
    message: str
    #: The backend's HTTP status, when it answered with one.
    status: int | None = None
    #: Seconds until another attempt makes sense: a plan's reset, a `retry-after`, "try again in 2s".
    retry_after: int | None = None
    #: The backend's error object (`{"code": ..., "message": ..., "param": ...}`), redacted.
    body: Mapping[str, Any] = field(default_factory=dict)
    response: httpx.Response | None = None
    request: httpx.Request | None = None

    @property
    def passing(self) -> bool:
        """A failure of the moment (overload, 5xx, timeout, broken connection), not of the request or the plan."""
        return self.kind in _PASSING

    @property
    def answer_status(self) -> int | None:
        """The status the caller is answered with (`None`: no HTTP answer, a timeout or a broken connection)."""
        if self.kind in (Kind.SERVER, Kind.OTHER) and self.status is not None:
            return self.status
        return _STATUS.get(self.kind)


_BY_STATUS = {
    400: Kind.BAD_REQUEST,
    401: Kind.LOGIN,
    403: Kind.PERMISSION,
    404: Kind.NOT_FOUND,
    429: Kind.RATE_LIMIT,
}


def kind_for_status(status: int) -> Kind:
    """What an HTTP status says when its error object says nothing more."""
    if status >= 500:
        return Kind.UNAVAILABLE if status == 503 else Kind.SERVER
    return _BY_STATUS.get(status, Kind.OTHER)


# --------------------------------------------------------------------------- the classification


def classify(exc: BaseException) -> Failure | None:
    """`exc` as a `Failure`; `None` when it is none of ours, openai's or httpx's (a bug stays a bug).

    Other libraries' exceptions that subclass openai's (LiteLLM's) are read as openai's; callers
    that hold such an exception already classified say so themselves (see `carried`).
    """
    if isinstance(exc, CodexError):
        return _from_codex(exc)
    if isinstance(exc, openai.APITimeoutError):
        return Failure(
            Kind.TIMEOUT, f"The Codex backend did not answer in time: {redact(str(exc))}", request=exc.request
        )
    if isinstance(exc, openai.APIConnectionError):
        return Failure(
            Kind.CONNECTION, f"Cannot reach the Codex backend: {redact(str(exc))}", request=exc.request
        )
    if isinstance(exc, openai.APIStatusError):
        return from_status(exc.status_code, error_body(exc), exc.message, exc.response)
    if isinstance(exc, openai.APIError):  # an `error` event the openai client raised while reading the stream
        body = exc.body if isinstance(exc.body, Mapping) else {}
        return from_stream(body.get("code") or body.get("type"), exc.message, body)
    if isinstance(exc, httpx.TimeoutException):  # the idle-stream timeout, mid-stream
        return Failure(
            Kind.TIMEOUT,
            f"The Codex backend sent nothing for too long (CODEX_STREAM_IDLE_TIMEOUT or `timeout`): {exc!r}",
        )
    if isinstance(exc, httpx.TransportError | httpx.StreamError):  # the connection broke mid-stream
        return Failure(
            Kind.CONNECTION, f"The connection to the Codex backend broke before the turn completed: {exc!r}"
        )
    return None


def _from_codex(exc: CodexError) -> Failure:
    if isinstance(exc, CodexStreamError):
        return from_stream(exc.code, exc.message, exc.details)
    if isinstance(exc, CodexAuthRefreshTimeoutError):
        return Failure(Kind.TIMEOUT, exc.message)
    if isinstance(exc, CodexAuthRefreshUnavailableError):  # the login is unchanged: try again later
        return Failure(Kind.UNAVAILABLE, exc.message)
    if isinstance(exc, CodexAuthError):
        return Failure(Kind.LOGIN, exc.message)
    if isinstance(exc, CodexUnknownModelError):
        return Failure(Kind.UNKNOWN_MODEL, exc.message, body=_MODEL_NOT_FOUND)
    return Failure(Kind.BAD_REQUEST, exc.message)  # a `CodexRequestError`, or a base URL the caller chose


#: openai's error object for a model it does not have.
_MODEL_NOT_FOUND = {"type": "invalid_request_error", "param": "model", "code": "model_not_found"}


def from_status(
    status: int, error: Mapping[str, Any], fallback: str, response: httpx.Response | None = None
) -> Failure:
    """The backend's HTTP error: its status and error object (`error_body`); `fallback` when it has no message."""
    message = str(error.get("message") or redact(fallback))
    request = _request_of(response)
    answer = {"status": status, "body": error, "response": response, "request": request}
    if special := _plan_or_context(error.get("code") or error.get("type"), error, message, status):
        return Failure(**special, **answer)
    kind = kind_for_status(status)
    retry_after = _retry_after_header(response)
    if kind is Kind.LOGIN:
        message = f"The Codex backend refused the login ({message}). Run `codex login` to sign in again."
    elif kind is Kind.BAD_REQUEST and error.get("param"):
        message = f"{message} (parameter: {error['param']})"
    elif kind is Kind.RATE_LIMIT and retry_after is None:
        retry_after = _retry_after_from_message(message)
    return Failure(kind, message, retry_after=retry_after, **answer)


#: Stream error codes and what they mean; a code not here is a server failure.
_STREAM_CODES = {
    "insufficient_quota": Kind.RATE_LIMIT,
    "rate_limit_exceeded": Kind.RATE_LIMIT,
    "server_is_overloaded": Kind.UNAVAILABLE,
    "slow_down": Kind.UNAVAILABLE,
    "invalid_prompt": Kind.BAD_REQUEST,
    "invalid_request_error": Kind.BAD_REQUEST,
    "stream_incomplete": Kind.CONNECTION,
    "deadline_exceeded": Kind.TIMEOUT,
}


def from_stream(code: str | None, message: str, details: Mapping[str, Any]) -> Failure:
    """A turn that failed inside the event stream: its error code, message and error object."""
    code, message = code or "", redact(message)
    details = _redacted(details)
    if special := _plan_or_context(code, details, message, None):
        return Failure(**special, body=details)
    kind = _STREAM_CODES.get(code, Kind.SERVER)
    if kind is Kind.SERVER and details.get("type") == "invalid_request_error":
        kind = Kind.BAD_REQUEST
    shown, retry_after = f"{message} ({code or 'no code'})", None
    if kind is Kind.BAD_REQUEST and details.get("param"):
        shown = f"{message} ({code}; parameter: {details['param']})"
    elif kind is Kind.RATE_LIMIT:
        retry_after = _retry_after_from_message(message)
    elif kind is Kind.CONNECTION:
        shown = message
    elif kind is Kind.TIMEOUT:
        shown = f"{message} (`timeout`)"
    return Failure(kind, shown, retry_after=retry_after, body=details)


def _plan_or_context(
    code: Any, error: Mapping[str, Any], message: str, status: int | None
) -> dict[str, Any] | None:
    """What the error object says whatever the status: a spent plan, a plan without Codex, too long an input."""
    if code == "usage_limit_reached" or _is_usage_limit(error):
        text, seconds = usage_limit_message(error)
        return {"kind": Kind.USAGE_LIMIT, "message": text, "retry_after": seconds}
    if "usage_not_included" in (code, error.get("type"), error.get("code")):
        return {"kind": Kind.NO_ACCESS, "message": _NO_ACCESS}
    if code == "context_length_exceeded" or (status == 400 and "context window" in message.lower()):
        return {"kind": Kind.CONTEXT_WINDOW, "message": message}
    return None


# --------------------------------------------------------------------------- the backend's error object


def error_body(exc: openai.APIStatusError) -> dict[str, Any]:
    """The error object of an HTTP error, redacted; `{"detail": "..."}` gets its text as `message`.

    Read from the error's body, not `str(exc)`: openai 3.x puts only `error.message` in the text,
    and the backend may answer `{"detail": ...}` or `{"error": {"param": "instructions", ...}}`.
    """
    body = exc.body
    if not isinstance(body, Mapping):
        try:
            body = exc.response.json()
        except (ValueError, httpx.ResponseNotRead):
            body = {}
    error = body.get("error", body) if isinstance(body, Mapping) else {}
    if not isinstance(error, Mapping):
        return {"message": redact(str(error))}
    error = _redacted(error)
    if not error.get("message") and isinstance(error.get("detail"), str):
        error["message"] = error["detail"]  # the backend's `{"detail": "..."}` shape
    return error


def _redacted(error: Mapping[str, Any]) -> dict[str, Any]:
    """Upstream text reaches callers and logs: nothing token-shaped passes."""
    return {k: redact(v) if isinstance(v, str) else v for k, v in error.items()}


def _request_of(response: httpx.Response | None) -> httpx.Request | None:
    try:
        return response.request if response is not None else None
    except RuntimeError:  # a response made without its request
        return None


def _is_usage_limit(error: Mapping[str, Any]) -> bool:
    return error.get("type") == "usage_limit_reached" or error.get("code") == "usage_limit_reached"


_NO_ACCESS = (
    "Your ChatGPT plan does not include Codex (usage_not_included); "
    "upgrade the plan or log in with another account (`codex login`)."
)


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


def _reset_in_seconds(error: Mapping[str, Any]) -> int | None:
    seconds = error.get("resets_in_seconds")
    if isinstance(seconds, int | float):
        return max(0, int(seconds))
    resets_at = error.get("resets_at")
    if isinstance(resets_at, int | float):
        return max(0, int(resets_at - dt.datetime.now(dt.UTC).timestamp()))
    return None


_TRY_AGAIN = re.compile(r"try again in\s+([0-9.]+)\s*(ms|s)\b", re.IGNORECASE)


def _retry_after_from_message(message: str) -> int | None:
    """`rate_limit_exceeded` says "Please try again in 11.5s" (or "in 20ms")."""
    match = _TRY_AGAIN.search(message or "")
    if not match:
        return None
    seconds = float(match.group(1)) / (1000 if match.group(2).lower() == "ms" else 1)
    return max(1, int(seconds + 0.999))


def _retry_after_header(response: httpx.Response | None) -> int | None:
    """The `retry-after` header in whole seconds (an HTTP date is not honoured)."""
    value = response.headers.get("retry-after") if response is not None else None
    try:
        return max(0, int(float(value))) if value is not None else None
    except ValueError:
        return None


# --------------------------------------------------------------------------- decisions on a failure

#: Stream failures worth another attempt: the backend was busy or the connection broke.
RETRYABLE_STREAM_CODES = frozenset(
    {"stream_incomplete", "server_is_overloaded", "slow_down", "server_error", "internal_error"}
)


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
    """A 400 whose error names the `instructions` (its `param`, `code` or message)."""
    if not isinstance(exc, openai.BadRequestError):
        return False
    error = error_body(exc)
    fields = (error.get("param"), error.get("code"), error.get("message"))
    return any(isinstance(value, str) and "instruction" in value.lower() for value in fields)


# --------------------------------------------------------------------------- a failure that travels

_CARRIED = "codex_failure"


def carry(error: BaseException, failure: Failure) -> None:
    """Attach `failure` to the exception made from it, so a later map reads the classification, not the text."""
    setattr(error, _CARRIED, failure)


def carried(exc: BaseException) -> Failure | None:
    """The `Failure` an exception was made from (see `carry`), if any."""
    failure = getattr(exc, _CARRIED, None)
    return failure if isinstance(failure, Failure) else None
