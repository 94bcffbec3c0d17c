"""Every failure is classified once (failures.py), then mapped to LiteLLM's class and to openai's.

Each backend answer (an HTTP status with its error object, or a stream's error code), each
broken connection and each of the package's own errors gives exactly one `Kind`; the two maps
are checked kind by kind. The same answers through the real stack are in
tests/integration/test_failures_*.py and test_dropin_*.py.
"""

from __future__ import annotations

import httpx
import litellm
import openai
import pytest

from litellm_codex_oauth_provider import exceptions as exc
from litellm_codex_oauth_provider.dropin import client as dropin_client
from litellm_codex_oauth_provider.dropin.errors import failure_of, openai_error, to_openai_error
from litellm_codex_oauth_provider.failures import Failure, Kind, carried, classify, from_stream
from litellm_codex_oauth_provider.litellm_glue.errors import litellm_error, to_litellm_error

REQUEST = httpx.Request("POST", "http://codex.test/responses")
MODEL = "codex/gpt-5.5"


def http_error(status: int, body: object, headers: dict[str, str] | None = None) -> openai.APIStatusError:
    """What the openai client raises for the backend's HTTP error answer."""
    response = httpx.Response(status, json=body, headers=headers, request=REQUEST)
    return openai.APIStatusError(f"Error code: {status}", response=response, body=body)


def error(**fields: object) -> dict[str, object]:
    return {"error": fields}


# -- the backend's HTTP answers -------------------------------------------------------------------

HTTP = [
    ("usage limit 429", 429, error(type="usage_limit_reached", resets_in_seconds=90), Kind.USAGE_LIMIT),
    ("usage limit 404", 404, error(type="usage_limit_reached", resets_in_seconds=90), Kind.USAGE_LIMIT),
    ("no codex 429", 429, error(type="usage_not_included", message="nope"), Kind.NO_ACCESS),
    ("no codex 403", 403, error(code="usage_not_included"), Kind.NO_ACCESS),
    ("context by code", 400, error(code="context_length_exceeded", message="too long"), Kind.CONTEXT_WINDOW),
    ("context by text", 400, error(message="exceeds the context window"), Kind.CONTEXT_WINDOW),
    ("bad request", 400, error(message="Unsupported parameter: x", param="x"), Kind.BAD_REQUEST),
    ("login", 401, error(message="token expired"), Kind.LOGIN),
    ("forbidden", 403, {"detail": "forbidden"}, Kind.PERMISSION),
    ("not found", 404, error(message="no such thing"), Kind.NOT_FOUND),
    (
        "rate limit",
        429,
        error(code="rate_limit_exceeded", message="Please try again in 2.5s."),
        Kind.RATE_LIMIT,
    ),
    ("overloaded", 503, error(code="server_is_overloaded", message="busy"), Kind.UNAVAILABLE),
    ("server 500", 500, error(message="boom"), Kind.SERVER),
    ("server 502", 502, error(message="bad gateway"), Kind.SERVER),
    ("conflict", 409, error(message="conflict"), Kind.OTHER),
]


@pytest.mark.parametrize(("status", "body", "kind"), [h[1:] for h in HTTP], ids=[h[0] for h in HTTP])
def test_each_http_answer_is_one_kind(status, body, kind):
    failure = classify(http_error(status, body))
    assert failure is not None and failure.kind is kind and failure.status == status


def test_http_messages_say_what_to_do():
    limit = classify(
        http_error(404, error(type="usage_limit_reached", plan_type="pro", resets_in_seconds=90))
    )
    assert "ChatGPT pro plan" in limit.message and "(in 90 s)" in limit.message and limit.retry_after == 90
    assert "does not include Codex" in classify(http_error(403, error(code="usage_not_included"))).message
    login = classify(http_error(401, error(message="token expired")))
    assert (
        login.message
        == "The Codex backend refused the login (token expired). Run `codex login` to sign in again."
    )
    bad = classify(http_error(400, error(message="Unsupported parameter: x", param="x")))
    assert bad.message == "Unsupported parameter: x (parameter: x)" and bad.body["param"] == "x"
    assert classify(http_error(403, {"detail": "forbidden"})).message == "forbidden"


def test_the_wait_comes_from_the_header_else_the_message():
    assert classify(http_error(429, error(message="Please try again in 2.5s."))).retry_after == 3
    assert classify(http_error(429, error(message="later"), {"retry-after": "7"})).retry_after == 7
    assert classify(http_error(503, error(message="busy"), {"retry-after": "2"})).retry_after == 2
    assert (
        classify(
            http_error(429, error(message="x"), {"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"})
        ).retry_after
        is None
    )


def test_upstream_text_is_redacted():
    token = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJlc2lnbmF0dXJl"
    failure = classify(http_error(400, error(message=f"bad token {token}")))
    assert token not in failure.message and token not in str(failure.body)


# -- the stream's error codes ---------------------------------------------------------------------

STREAM = [
    ("context_length_exceeded", {}, Kind.CONTEXT_WINDOW),
    ("usage_limit_reached", {}, Kind.USAGE_LIMIT),
    ("some_code", {"type": "usage_limit_reached"}, Kind.USAGE_LIMIT),
    ("usage_not_included", {}, Kind.NO_ACCESS),
    ("insufficient_quota", {}, Kind.RATE_LIMIT),
    ("rate_limit_exceeded", {}, Kind.RATE_LIMIT),
    ("server_is_overloaded", {}, Kind.UNAVAILABLE),
    ("slow_down", {}, Kind.UNAVAILABLE),
    ("invalid_prompt", {}, Kind.BAD_REQUEST),
    ("invalid_request_error", {}, Kind.BAD_REQUEST),
    ("invalid_type", {"type": "invalid_request_error"}, Kind.BAD_REQUEST),
    ("stream_incomplete", {}, Kind.CONNECTION),
    ("deadline_exceeded", {}, Kind.TIMEOUT),
    ("server_error", {}, Kind.SERVER),
    ("some_new_code", {}, Kind.SERVER),
    (None, {}, Kind.SERVER),
]


@pytest.mark.parametrize(("code", "details", "kind"), STREAM, ids=[str(s[0]) for s in STREAM])
def test_each_stream_code_is_one_kind(code, details, kind):
    failure = classify(exc.CodexStreamError(code, "it broke", details=details))
    assert failure is not None and failure.kind is kind and failure.status is None


def test_stream_messages_keep_the_code():
    assert from_stream("slow_down", "busy", {}).message == "busy (slow_down)"
    assert (
        from_stream("invalid_prompt", "no", {"param": "input"}).message
        == "no (invalid_prompt; parameter: input)"
    )
    assert from_stream("deadline_exceeded", "late", {}).message == "late (`timeout`)"
    assert from_stream("stream_incomplete", "cut", {}).message == "cut"
    assert from_stream(None, "odd", {}).message == "odd (no code)"
    assert from_stream("rate_limit_exceeded", "Please try again in 20ms", {}).retry_after == 1


def test_an_error_event_the_openai_client_raised_is_read_as_a_stream_error():
    body = {"type": "invalid_request_error", "code": "context_length_exceeded", "message": "Input too long"}
    failure = classify(openai.APIError("Input too long", REQUEST, body=body))
    assert failure.kind is Kind.CONTEXT_WINDOW and failure.message == "Input too long"


# -- connections and the package's own errors ----------------------------------------------------

OURS = [
    (openai.APITimeoutError(request=REQUEST), Kind.TIMEOUT),
    (openai.APIConnectionError(request=REQUEST), Kind.CONNECTION),
    (httpx.ReadTimeout("idle"), Kind.TIMEOUT),
    (httpx.RemoteProtocolError("cut"), Kind.CONNECTION),
    (exc.CodexAuthFileNotFoundError(__import__("pathlib").Path("/nowhere/auth.json")), Kind.LOGIN),
    (exc.CodexAuthTokenExpiredError("expired"), Kind.LOGIN),
    (exc.CodexAuthRefreshError("refused", code="invalid_grant"), Kind.LOGIN),
    (exc.CodexTokenStoreError("misconfigured"), Kind.LOGIN),
    (exc.CodexAuthRefreshUnavailableError("token endpoint down"), Kind.UNAVAILABLE),
    (exc.CodexTokenStoreUnavailableError("redis down"), Kind.UNAVAILABLE),
    (exc.CodexAuthRefreshTimeoutError("out of time"), Kind.TIMEOUT),
    (exc.CodexUnknownModelError("gpt-6 is not a model"), Kind.UNKNOWN_MODEL),
    (exc.CodexModelError("no fast tier"), Kind.BAD_REQUEST),
    (exc.CodexRequestRefusedError("n is too big"), Kind.BAD_REQUEST),
    (exc.CodexRequestError("bad effort"), Kind.BAD_REQUEST),
    (exc.CodexBackendURLError("not the backend"), Kind.BAD_REQUEST),
]


@pytest.mark.parametrize(("error", "kind"), OURS, ids=[f"{type(e).__name__}-{k.value}" for e, k in OURS])
def test_connections_and_our_errors_are_one_kind_each(error, kind):
    assert classify(error).kind is kind


def test_every_error_the_package_raises_is_a_codex_error():
    classes = [v for v in vars(exc).values() if isinstance(v, type) and issubclass(v, Exception)]
    assert all(issubclass(cls, exc.CodexError) for cls in classes)
    # compatible with what callers already catch
    assert issubclass(exc.CodexAuthError, openai.OpenAIError)
    assert issubclass(exc.CodexBackendURLError, openai.OpenAIError | ValueError)
    assert issubclass(exc.CodexModelError, ValueError) and issubclass(
        exc.CodexRequestRefusedError, ValueError
    )


@pytest.mark.parametrize("bug", [ValueError("a bug"), KeyError("x"), RuntimeError("oops")])
def test_a_bug_is_not_classified_and_stays_what_it_is(bug):
    assert classify(bug) is None
    assert to_litellm_error(bug, MODEL) is bug  # never a 400: LiteLLM reports it as a server error
    assert to_openai_error(bug) is bug


# -- the two maps ---------------------------------------------------------------------------------

#: kind → (LiteLLM's class, its status; openai's class, its status)
MAPS = {
    Kind.USAGE_LIMIT: (litellm.RateLimitError, 429, openai.RateLimitError, 429),
    Kind.NO_ACCESS: (litellm.PermissionDeniedError, 403, openai.PermissionDeniedError, 403),
    Kind.CONTEXT_WINDOW: (litellm.ContextWindowExceededError, 400, openai.BadRequestError, 400),
    Kind.BAD_REQUEST: (litellm.BadRequestError, 400, openai.BadRequestError, 400),
    Kind.UNKNOWN_MODEL: (litellm.BadRequestError, 400, openai.NotFoundError, 404),
    Kind.LOGIN: (litellm.AuthenticationError, 401, openai.AuthenticationError, 401),
    Kind.PERMISSION: (litellm.PermissionDeniedError, 403, openai.PermissionDeniedError, 403),
    Kind.NOT_FOUND: (litellm.NotFoundError, 404, openai.NotFoundError, 404),
    Kind.RATE_LIMIT: (litellm.RateLimitError, 429, openai.RateLimitError, 429),
    Kind.UNAVAILABLE: (litellm.ServiceUnavailableError, 503, openai.InternalServerError, 503),
    Kind.SERVER: (litellm.InternalServerError, 500, openai.InternalServerError, 500),
    Kind.TIMEOUT: (litellm.Timeout, 408, openai.APITimeoutError, None),
    Kind.CONNECTION: (litellm.APIConnectionError, 500, openai.APIConnectionError, None),
    Kind.OTHER: (litellm.APIError, 409, openai.ConflictError, 409),
}


def test_the_maps_cover_every_kind():
    assert set(MAPS) == set(Kind)


@pytest.mark.parametrize("kind", list(Kind), ids=[k.value for k in Kind])
def test_each_kind_maps_to_one_litellm_and_one_openai_class(kind):
    litellm_class, litellm_status, openai_class, openai_status = MAPS[kind]
    failure = Failure(kind, "what happened", status=409 if kind is Kind.OTHER else None, retry_after=30)
    mapped = litellm_error(failure, MODEL)
    assert type(mapped) is litellm_class and mapped.status_code == litellm_status
    assert "what happened" in str(mapped)
    answer = openai_error(failure)
    assert type(answer) is openai_class and answer.message == "what happened"
    assert getattr(answer, "status_code", None) == openai_status


def test_a_spent_plan_keeps_its_wait_in_both_maps():
    failure = classify(http_error(429, error(type="usage_limit_reached", resets_in_seconds=1200)))
    assert litellm_error(failure, MODEL).response.headers["retry-after"] == "1200"
    assert openai_error(failure).response.headers["retry-after"] == "1200"


def test_openai_map_gives_the_codes_openai_code_reads():
    unknown = openai_error(classify(exc.CodexUnknownModelError("The model `gpt-6` is not in the catalog")))
    assert unknown.code == "model_not_found" and unknown.param == "model" and unknown.status_code == 404
    context = openai_error(from_stream("context_length_exceeded", "too long", {}))
    assert context.code == "context_length_exceeded"


def test_the_original_response_is_kept_where_the_status_is_the_same():
    original = http_error(500, error(message="boom"), {"x-request-id": "r1"})
    answer = openai_error(classify(original))
    assert answer.response is original.response


# -- one classification travels from the provider to the drop-in ----------------------------------


def test_the_litellm_error_carries_its_classification_to_the_drop_in():
    original = http_error(429, error(type="usage_limit_reached", resets_in_seconds=60))
    mapped = to_litellm_error(original, MODEL)
    assert carried(mapped) == classify(original)
    try:
        raise mapped from original
    except litellm.RateLimitError as raised:
        answer = to_openai_error(raised)
    assert type(answer) is openai.RateLimitError and "usage limit" in answer.message


def test_the_drop_in_finds_the_failure_inside_litellms_mid_stream_wrapper():
    wrapper = getattr(litellm.exceptions, "MidStreamFallbackError", None)
    if wrapper is None:
        pytest.skip("this LiteLLM has no MidStreamFallbackError")
    inner = to_litellm_error(exc.CodexStreamError("server_is_overloaded", "busy"), MODEL)
    outer = wrapper(message="stream failed", model=MODEL, llm_provider="codex", original_exception=inner)
    assert failure_of(outer).kind is Kind.UNAVAILABLE
    assert type(to_openai_error(outer)) is openai.InternalServerError


def test_litellms_own_errors_are_mapped_by_their_class_and_status():
    own = litellm.BadRequestError("litellm.BadRequestError: nope", model=MODEL, llm_provider="codex")
    answer = to_openai_error(own)
    assert type(answer) is openai.BadRequestError and answer.message == "nope"
    own_timeout = litellm.Timeout("slow", model=MODEL, llm_provider="codex")
    assert type(to_openai_error(own_timeout)) is openai.APITimeoutError


def test_openais_own_errors_pass_through():
    native = openai.APIConnectionError(request=REQUEST)
    assert to_openai_error(native) is native


# -- the drop-in's retry decision -----------------------------------------------------------------


def test_the_drop_in_retries_passing_failures_within_its_budget():
    attempts = dropin_client._Attempts(2)
    busy = to_litellm_error(http_error(503, error(message="busy")), MODEL)
    assert 0.18 <= attempts.delay(busy) <= 0.22
    assert 0.36 <= attempts.delay(busy) <= 0.44
    assert attempts.delay(busy) is None  # the budget is spent


@pytest.mark.parametrize(
    "final",
    [
        http_error(429, error(type="usage_limit_reached", resets_in_seconds=60)),
        http_error(400, error(message="bad")),
        http_error(401, error(message="who")),
        ValueError("a bug"),
    ],
    ids=["spent plan", "bad request", "login", "bug"],
)
def test_the_drop_in_never_retries_what_cannot_get_better(final):
    assert dropin_client._Attempts(3).delay(final) is None


def test_the_drop_in_waits_for_a_short_retry_after_only():
    attempts = dropin_client._Attempts(3)
    assert attempts.delay(http_error(503, error(message="busy"), {"retry-after": "3"})) == 3.0
    assert attempts.delay(http_error(503, error(message="busy"), {"retry-after": "600"})) < 1
