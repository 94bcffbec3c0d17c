"""Every failure as the LiteLLM exception its retries, fallbacks and router cooldowns understand.

What a failure means is decided in failures.py; this module only picks LiteLLM's class for it
(dropin/errors.py picks openai's).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import litellm

from ..failures import Failure, Kind, carry, classify
from ..protocol import PROVIDER_NAME

__all__ = [
    "is_litellm_error",
    "litellm_error",
    "to_litellm_error",
]

_REQUEST = httpx.Request("POST", "https://codex")


def is_litellm_error(exc: BaseException) -> bool:
    """One of LiteLLM's exceptions (they subclass openai's, so `isinstance` cannot tell them apart)."""
    return type(exc).__module__.partition(".")[0] == "litellm"


def to_litellm_error(exc: BaseException, model: str) -> BaseException:
    """One of our, openai's or httpx's exceptions as LiteLLM's; anything else is returned as it is.

    An exception nobody classified (a bug) stays what it is: LiteLLM reports it as a server
    error, never as the caller's bad request.
    """
    if is_litellm_error(exc):
        return exc
    failure = classify(exc)
    if failure is None:
        return exc
    error = litellm_error(failure, model)
    carry(error, failure)
    return error


def litellm_error(failure: Failure, model: str) -> Exception:
    """LiteLLM's exception for `failure`: the class its router and proxy act on, with our message."""
    return _BY_KIND[failure.kind](failure, {"llm_provider": PROVIDER_NAME, "model": model})


def _rate_limit(failure: Failure, who: dict[str, str]) -> Exception:
    headers = {"retry-after": str(failure.retry_after)} if failure.retry_after is not None else {}
    response = httpx.Response(429, headers=headers, request=failure.request or _REQUEST)
    return litellm.RateLimitError(failure.message, response=response, headers=headers, **who)


def _refused(failure: Failure, who: dict[str, str]) -> Exception:
    response = failure.response or httpx.Response(403, request=_REQUEST)
    return litellm.PermissionDeniedError(failure.message, response=response, **who)


def _bad_request(failure: Failure, who: dict[str, str]) -> Exception:
    body = dict(failure.body) if failure.kind is Kind.BAD_REQUEST and failure.body else None
    return litellm.BadRequestError(failure.message, response=failure.response, body=body, **who)


def _other(failure: Failure, who: dict[str, str]) -> Exception:
    return litellm.APIError(failure.status or 500, failure.message, request=failure.request, **who)


_Map = Callable[[Failure, dict[str, Any]], Exception]

#: LiteLLM's class for each kind. An unknown model is a 400 here, not openai's 404: a proxy's
#: router cools a deployment down on 404s, and a client can send any model name.
_BY_KIND: dict[Kind, _Map] = {
    Kind.USAGE_LIMIT: _rate_limit,
    Kind.RATE_LIMIT: _rate_limit,
    Kind.NO_ACCESS: _refused,
    Kind.PERMISSION: _refused,
    Kind.CONTEXT_WINDOW: lambda f, who: litellm.ContextWindowExceededError(
        f.message, response=f.response, **who
    ),
    Kind.BAD_REQUEST: _bad_request,
    Kind.UNKNOWN_MODEL: _bad_request,
    Kind.LOGIN: lambda f, who: litellm.AuthenticationError(f.message, response=f.response, **who),
    Kind.NOT_FOUND: lambda f, who: litellm.NotFoundError(f.message, response=f.response, **who),
    Kind.UNAVAILABLE: lambda f, who: litellm.ServiceUnavailableError(f.message, response=f.response, **who),
    Kind.SERVER: lambda f, who: litellm.InternalServerError(f.message, response=f.response, **who),
    Kind.TIMEOUT: lambda f, who: litellm.Timeout(f.message, **who),
    Kind.CONNECTION: lambda f, who: litellm.APIConnectionError(f.message, request=f.request, **who),
    Kind.OTHER: _other,
}
