"""Responses API calls for `codex/` models: the caller's Responses request reaches the backend as it is.

The backend speaks the Responses API, and so do its most demanding clients (the Codex CLI, the
OpenAI Agents SDK, `openai.responses.create`). `CodexResponsesAPIConfig` is LiteLLM's own kind
of Responses provider config (`BaseResponsesAPIConfig`), so LiteLLM's Responses handler sends the
request and streams the backend's events back typed and in order, with LiteLLM's logging, spend
tracking and the proxy's key and budget checks on the way. `responses_route` registers it
for provider `codex`; without it LiteLLM would bridge the call to chat completions and back.

Only what the backend needs is added: the login, the Codex headers, the model resolved against
the catalog with its effort, verbosity and Fast-tier rules (the same functions as the chat
path), `stream: true`, `store: false`, encrypted reasoning in `include`, a prompt-cache key, and
the model's Codex instructions only when the caller sent none (neither `instructions` nor a
leading developer/system message, which is where the Codex CLI puts its prompt). Input items,
reasoning with `encrypted_content`, hosted tools (`web_search`, `tool_search`, namespaces,
custom tools), `include` and `text.format` pass unchanged. What the backend rejects is dropped
with one warning, as on the chat path; `previous_response_id` and `store: true` are refused with
a 400, since the backend keeps no conversations.
"""

from __future__ import annotations

import json
import weakref
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import httpx
import litellm
import openai
from litellm.llms.openai.responses.transformation import OpenAIResponsesAPIConfig
from litellm.types.llms.openai import ResponsesAPIResponse
from litellm.types.utils import LlmProviders

from . import config
from .auth.manager import CodexTokenManager
from .auth.record import Credentials
from .deployment import LoginConfig, resolve_login
from .drive import arun, run
from .exceptions import CodexRequestRefusedError, CodexStreamError
from .litellm_glue.errors import to_litellm_error
from .litellm_glue.streams import rate_limit_headers, record_plan_usage
from .models.catalog import ModelInfo
from .models.ids import ModelSpec, resolve_model
from .models.prompts import derive_instructions
from .protocol import HEADER_SESSION_ID, PROVIDER_NAME, RESPONSES_PATH, codex_headers
from .request.body import finish_body, include_list
from .request.reasoning import apply_reasoning_config, resolve_verbosity
from .transport import ClientPool
from .turn import Flow, GetCatalog, GetCredentials, GetFallback, Step

if TYPE_CHECKING:
    from .provider import CodexAuthProvider


#: Request fields the backend takes as the caller sent them.
_FORWARDED = ("tools", "tool_choice", "parallel_tool_calls")
#: Fields this module decides; anything else the caller set is dropped with a warning.
_DECIDED = frozenset(
    {
        "input",
        "model",
        "instructions",
        "reasoning",
        "include",
        "text",
        "service_tier",
        "prompt_cache_key",
        "client_metadata",
        "stream",
        "store",
        "previous_response_id",
        *_FORWARDED,
    }
)
#: Parameters about the call, not the turn (LiteLLM hands some of them on).
_CALL_PARAMS = frozenset({"extra_headers", "extra_query", "extra_body", "timeout", "stream_options"})
_NO_CONVERSATIONS = (
    "The Codex backend keeps no conversations (every turn is sent with store=false), so {what} "
    "cannot be honoured. Send the whole conversation as `input` instead: the earlier turns' "
    "output items (reasoning items with their `encrypted_content`, messages, function calls "
    "and their outputs) followed by the new input."
)
_TERMINAL = ("response.completed", "response.incomplete")
#: Credentials the backend answered 401, per login: the next call of that login refreshes first.
#: (LiteLLM sends the request, so the failing call cannot be retried here as the chat path does.)
_REJECTED: weakref.WeakKeyDictionary[CodexTokenManager, Credentials] = weakref.WeakKeyDictionary()


def refuse_stored_conversations(params: Mapping[str, Any], model: str) -> None:
    """A 400 for `previous_response_id` and `store: true`: nothing is stored to continue from."""
    what = None
    if params.get("previous_response_id"):
        what = "`previous_response_id`"
    elif params.get("store") is True:
        what = "`store: true`"
    if what is not None:
        raise litellm.BadRequestError(
            _NO_CONVERSATIONS.format(what=what), model=model, llm_provider=PROVIDER_NAME
        )


def input_items(value: Any) -> list[Any]:
    """The request's `input` as a list of items; a string is one user message."""
    if value is None:
        return []
    if isinstance(value, str):
        return [{"type": "message", "role": "user", "content": [{"type": "input_text", "text": value}]}]
    return list(value)


def caller_sent_instructions(params: Mapping[str, Any], items: Sequence[Any]) -> bool:
    """Instructions of the caller's own: `instructions`, or a developer/system message leading `input`.

    The Codex CLI sends its prompt as the first developer message and no `instructions`; adding
    the catalog's instructions then would send the same prompt twice.
    """
    if isinstance(params.get("instructions"), str) and params["instructions"].strip():
        return True
    first = items[0] if items else None
    return (
        isinstance(first, Mapping)
        and first.get("type", "message") == "message"
        and first.get("role") in ("developer", "system")
    )


def build_responses_body(
    spec: ModelSpec,
    info: ModelInfo | None,
    raw_input: Any,
    params: Mapping[str, Any],
    litellm_params: Mapping[str, Any] | None,
    *,
    codex_instructions: str,
) -> tuple[dict[str, Any], str]:
    """The backend request for one Responses call, and its prompt-cache key (the `session-id` header).

    `codex_instructions` is sent only when the caller sent no instructions of its own.
    """
    items = input_items(raw_input)
    given = {k: v for k, v in params.items() if v is not None}
    dropped = sorted(k for k in given if k not in _DECIDED and k not in _CALL_PARAMS)
    body: dict[str, Any] = {"model": spec.slug}
    instructions = (
        params.get("instructions") if caller_sent_instructions(params, items) else codex_instructions
    )
    if instructions:
        body["instructions"] = instructions
    body.update(input=items, store=False, stream=True, include=include_list(params.get("include")))
    for key in _FORWARDED:
        if given.get(key) is not None:
            body[key] = given[key]

    apply_reasoning_config(
        body,
        spec.slug,
        info,
        requested=params.get("reasoning"),
        suffix=spec.effort,
        summary=None,  # a Responses caller asks for summaries itself (`reasoning.summary`)
    )
    caller_text = dict(params["text"]) if isinstance(params.get("text"), Mapping) else {}
    verbosity, verbosity_dropped = resolve_verbosity(info, caller_text.pop("verbosity", None))
    if verbosity is not None:
        caller_text["verbosity"] = verbosity
    if verbosity_dropped:
        dropped.append("text.verbosity")
    if caller_text:
        body["text"] = caller_text
    cache_key = finish_body(
        body,
        spec,
        info,
        params,
        litellm_params,
        instructions=str(body.get("instructions") or ""),
        items=[i for i in items if isinstance(i, Mapping)],
        dropped=dropped,
    )
    return body, cache_key


# -- answers ---------------------------------------------------------------------------------------


def _sse_events(text: str) -> list[dict[str, Any]]:
    events = []
    for line in text.splitlines():
        if not line.startswith("data:"):
            continue
        data = line[5:].strip()
        if not data or data == "[DONE]":
            continue
        try:
            event = json.loads(data)
        except ValueError:
            continue
        if isinstance(event, dict):
            events.append(event)
    return events


def _with_output(response: Mapping[str, Any], items: Mapping[int, Any]) -> dict[str, Any]:
    """The terminal event's response, its `output` assembled from the `output_item.done` events
    when the backend left it empty (as it often does)."""
    out = dict(response)
    if not out.get("output") and items:
        out["output"] = [items[index] for index in sorted(items)]
    return out


def _stream_failure(event: Mapping[str, Any]) -> CodexStreamError:
    if event.get("type") == "response.failed":
        response = event.get("response") if isinstance(event.get("response"), Mapping) else {}
        error = response.get("error") if isinstance(response.get("error"), Mapping) else {}
    else:
        error = event.get("error") if isinstance(event.get("error"), Mapping) else event
    return CodexStreamError(error.get("code"), str(error.get("message") or "the turn failed"), details=error)


def assemble_response(text: str) -> dict[str, Any]:
    """A whole SSE turn as one Responses API `response` object (for callers that did not stream)."""
    items: dict[int, Any] = {}
    for event in _sse_events(text):
        kind = event.get("type")
        if kind == "response.output_item.done" and isinstance(event.get("output_index"), int):
            items[event["output_index"]] = event.get("item")
        elif kind in _TERMINAL and isinstance(event.get("response"), Mapping):
            return _with_output(event["response"], items)
        elif kind in ("response.failed", "error"):
            raise _stream_failure(event)
    raise CodexStreamError(
        "stream_incomplete", "the Codex backend closed the stream before the turn completed"
    )


class _StreamOutput:
    """Per stream: the `output_item.done` items, to complete a terminal event with an empty `output`."""

    def __init__(self) -> None:
        self.items: dict[int, Any] = {}


# -- the LiteLLM config ----------------------------------------------------------------------------


class CodexResponsesAPIConfig(OpenAIResponsesAPIConfig):
    """LiteLLM's Responses provider config for `codex/` models; one per `CodexAuthProvider`."""

    def __init__(self, provider: CodexAuthProvider) -> None:
        super().__init__()
        self.provider = provider
        self._login: tuple[CodexTokenManager, Credentials] | None = None  # this call's, for a 401
        self._streams: weakref.WeakKeyDictionary[Any, _StreamOutput] = weakref.WeakKeyDictionary()

    @property
    def custom_llm_provider(self) -> LlmProviders:
        return getattr(LlmProviders, "CUSTOM", LlmProviders.OPENAI)

    # -- what LiteLLM asks before sending ----------------------------------------------------------

    def get_supported_openai_params(self, model: str) -> list:
        """Everything is accepted here; `build_responses_body` decides what the backend gets."""
        return [*super().get_supported_openai_params(model), "client_metadata"]

    def map_openai_params(self, response_api_optional_params: Any, model: str, drop_params: bool) -> dict:
        return dict(response_api_optional_params)

    def validate_environment(self, headers: dict, model: str, litellm_params: Any) -> dict:
        """The Codex headers; the login is added with the body (`_sign`), where it can be awaited."""
        return {**(headers or {}), **codex_headers(), "Content-Type": "application/json"}

    def get_complete_url(self, api_base: str | None, litellm_params: dict) -> str:
        return (
            config.CODEX_API_BASE.get(_configured_login(litellm_params, api_base).api_base) + RESPONSES_PATH
        )

    def should_fake_stream(
        self, model: str | None, stream: bool | None, custom_llm_provider: str | None = None
    ) -> bool:
        return False

    def supports_native_websocket(self) -> bool:
        return False

    # -- the request -------------------------------------------------------------------------------

    def _pool(self, litellm_params: Any) -> tuple[ClientPool, str]:
        """The login's client pool and the backend URL, as the operator configured them."""
        login = _configured_login(litellm_params, _param(litellm_params, "api_base"))
        pool = self.provider.pool_for(login.codex_auth_file, login.codex_home, login.codex_token_store)
        return pool, config.CODEX_API_BASE.get(login.api_base)

    def _params(self, params: Mapping[str, Any], litellm_params: Any) -> dict[str, Any]:
        merged = dict(params)
        metadata = _param(litellm_params, "client_metadata")  # not a typed Responses field in LiteLLM
        if metadata is not None and merged.get("client_metadata") is None:
            merged["client_metadata"] = metadata
        return merged

    def _needs_fallback(self, params: Mapping[str, Any], raw_input: Any, spec: ModelSpec, info: Any) -> bool:
        return not caller_sent_instructions(params, input_items(raw_input)) and self.provider.fallback_due(
            spec.slug, info
        )

    def _request_flow(
        self,
        model: str,
        raw_input: Any,
        params: Mapping[str, Any],
        litellm_params: Any,
        headers: dict,
        manager: CodexTokenManager,
    ) -> Flow[dict]:
        """The backend request for one Responses call (see `turn` for how steps are run)."""
        spec, info = resolve_model(model, (yield GetCatalog()), known=self.provider.catalogs.bundled)
        due = self._needs_fallback(params, raw_input, spec, info)
        fallback = (yield GetFallback(spec.slug)) if due else None
        wants = not caller_sent_instructions(params, input_items(raw_input))
        instructions = (
            derive_instructions(
                spec.slug, info, codex_mode=config.CODEX_MODE.get(), system_text="", fallback=fallback
            )
            if wants
            else ""
        )
        body, cache_key = build_responses_body(
            spec, info, raw_input, params, _as_mapping(litellm_params), codex_instructions=instructions
        )
        credentials = yield GetCredentials(_REJECTED.pop(manager, None))
        # The handler sends this very `headers` dict (LiteLLM 1.106 … 1.110): the login goes in here.
        headers.update(credentials.headers())
        self._login = (manager, credentials)
        headers[HEADER_SESSION_ID] = cache_key
        return body

    def transform_responses_api_request(
        self,
        model: str,
        input: Any,
        response_api_optional_request_params: dict,
        litellm_params: Any,
        headers: dict,
    ) -> dict:
        params = self._params(response_api_optional_request_params, litellm_params)
        refuse_stored_conversations(params, model)
        pool, base_url = self._pool(litellm_params)
        manager = pool.token_manager

        def perform(step: Step) -> Any:
            if isinstance(step, GetCatalog):
                return self.provider.catalogs.catalog(pool.sync_client(base_url))
            if isinstance(step, GetFallback):
                return self.provider.catalogs.instructions_fallback(step.slug)
            if isinstance(step, GetCredentials):
                if step.rejected:
                    return manager.refresh_after_unauthorized(step.rejected)
                return manager.get_credentials()
            raise TypeError(f"unknown step {step!r}")

        return run(self._request_flow(model, input, params, litellm_params, headers, manager), perform)

    async def async_transform_responses_api_request(
        self,
        model: str,
        input: Any,
        response_api_optional_request_params: dict,
        litellm_params: Any,
        headers: dict,
    ) -> dict:
        params = self._params(response_api_optional_request_params, litellm_params)
        refuse_stored_conversations(params, model)
        pool, base_url = self._pool(litellm_params)
        manager = pool.token_manager

        async def perform(step: Step) -> Any:
            if isinstance(step, GetCatalog):
                return await self.provider.catalogs.acatalog(pool.async_client(base_url))
            if isinstance(step, GetFallback):
                return await self.provider.catalogs.ainstructions_fallback(step.slug)
            if isinstance(step, GetCredentials):
                if step.rejected:
                    return await manager.arefresh_after_unauthorized(step.rejected)
                return await manager.aget_credentials()
            raise TypeError(f"unknown step {step!r}")

        return await arun(self._request_flow(model, input, params, litellm_params, headers, manager), perform)

    # -- the answer --------------------------------------------------------------------------------

    def transform_response_api_response(
        self, model: str, raw_response: httpx.Response, logging_obj: Any
    ) -> ResponsesAPIResponse:
        """A caller that did not stream: the backend always streams, so the events are assembled."""
        record_plan_usage(raw_response.headers)
        text = raw_response.text
        logging_obj.post_call(original_response=text, additional_args={"complete_input_dict": {}})
        try:
            payload = assemble_response(text)
        except CodexStreamError as exc:
            raise to_litellm_error(exc, model) from exc
        try:
            response = ResponsesAPIResponse(**payload)
        except Exception:  # a field LiteLLM's model does not know yet: keep the backend's answer
            response = ResponsesAPIResponse.model_construct(**payload)
        hidden = {
            "additional_headers": rate_limit_headers(raw_response.headers),
            "headers": dict(raw_response.headers),
        }
        response.hidden_params = hidden
        return response

    def transform_streaming_response(self, model: str, parsed_chunk: dict, logging_obj: Any) -> Any:
        """Each event as LiteLLM's typed event; a terminal event gets the output the stream carried."""
        kind = parsed_chunk.get("type")
        if kind == "response.output_item.done" and isinstance(parsed_chunk.get("output_index"), int):
            self._stream(logging_obj).items[parsed_chunk["output_index"]] = parsed_chunk.get("item")
        elif kind in _TERMINAL and isinstance(parsed_chunk.get("response"), Mapping):
            state = self._streams.pop(logging_obj, None) if _weakrefable(logging_obj) else None
            if state is not None:
                parsed_chunk = {
                    **parsed_chunk,
                    "response": _with_output(parsed_chunk["response"], state.items),
                }
        return super().transform_streaming_response(model, parsed_chunk, logging_obj)

    def _stream(self, logging_obj: Any) -> _StreamOutput:
        if not _weakrefable(logging_obj):
            return _StreamOutput()
        state = self._streams.get(logging_obj)
        if state is None:
            state = self._streams[logging_obj] = _StreamOutput()
        return state

    def get_error_class(self, error_message: str, status_code: int, headers: Any) -> Any:
        """The backend's HTTP errors with the chat path's messages (a spent plan, a refused login …)."""
        if status_code == 401 and self._login is not None:
            manager, credentials = self._login
            _REJECTED[manager] = credentials
        try:
            body: Any = json.loads(error_message)
        except (TypeError, ValueError):
            body = {"message": error_message}
        response = httpx.Response(
            status_code,
            headers=dict(headers or {}),
            request=httpx.Request("POST", config.CODEX_API_BASE.get() + RESPONSES_PATH),
        )
        message = error_message if isinstance(error_message, str) else str(error_message)
        error = to_litellm_error(openai.APIStatusError(message, response=response, body=body), PROVIDER_NAME)
        if status_code == 401:
            return litellm.AuthenticationError(
                f"The Codex backend refused the login ({_detail(body, message)}); the next request "
                "refreshes it first. If that one fails too, run `codex login` to sign in again.",
                llm_provider=PROVIDER_NAME,
                model=PROVIDER_NAME,
                response=response,
            )
        return error


def _detail(body: Any, fallback: str) -> str:
    error = body.get("error", body) if isinstance(body, Mapping) else None
    if isinstance(error, Mapping):
        return str(error.get("message") or error.get("detail") or error.get("code") or fallback)
    return fallback


def _configured_login(litellm_params: Any, api_base: str | None) -> LoginConfig:
    """`deployment.resolve_login` for this path: a request may not choose the login or the backend."""
    params = dict(_as_mapping(litellm_params))
    try:
        return resolve_login(params, params, api_base)
    except CodexRequestRefusedError as exc:
        raise to_litellm_error(exc, str(params.get("model") or PROVIDER_NAME)) from exc


def _param(litellm_params: Any, name: str) -> Any:
    if isinstance(litellm_params, Mapping):
        return litellm_params.get(name)
    return getattr(litellm_params, name, None)


def _as_mapping(litellm_params: Any) -> Mapping[str, Any]:
    if isinstance(litellm_params, Mapping):
        return litellm_params
    dump = getattr(litellm_params, "model_dump", None)
    return dump() if callable(dump) else {}


def _weakrefable(value: Any) -> bool:
    try:
        weakref.ref(value)
    except TypeError:
        return False
    return True
