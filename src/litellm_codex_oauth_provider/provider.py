"""`CodexAuthProvider`: the LiteLLM custom provider for the ChatGPT Codex backend.

A call reads top to bottom: resolve the model against the catalog → build the Responses
request (`request.py`) → send it with the pooled OpenAI client (`openai_client.py`) → translate
the event stream (`stream.py`) → LiteLLM chunks or one `ModelResponse`. Sync calls use the
sync client and async calls the async one; no call ever creates an event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import httpx
import litellm
import openai
from litellm import CustomLLM
from litellm.types.utils import ModelResponse, ModelResponseStream, Usage

from . import protocol, settings
from . import usage as usage_snapshot
from .auth.manager import CodexTokenManager
from .bounded import call_deadline
from .constants import HEADER_SESSION_ID, MAX_LOGIN_POOLS
from .deployment import LoginConfig, resolve_login
from .errors import CodexStreamError, rejects_instructions, retryable_turn_failure, to_litellm_error
from .events import PrimedStream, ReadyEvents, StreamReport, TurnTranslator
from .exceptions import CodexAuthError, CodexModelError, CodexRequestRefusedError
from .litellm_glue import patches as litellm_compat
from .litellm_glue import responses_route as responses_compat
from .models.catalog import ModelCatalog, ModelInfo
from .models.catalog_store import CatalogStore
from .models.ids import ModelSpec, resolve_model
from .models.registry import register_catalog
from .request.body import CodexRequest, build_request
from .retries import RetryBudget, backoff_seconds, call_budget, held_stream_budget, retry_budget
from .stream_lifetime import OwnedStream, StreamSlot
from .transport import AsyncCodexOpenAIClient, ClientPool, CodexOpenAIClient

logger = logging.getLogger(__name__)

#: The tag LiteLLM puts on its own health-check calls.
HEALTH_CHECK_TAG = "litellm-internal-health-check"


@dataclass
class _Call:
    """Everything one LiteLLM call needs, resolved before anything is sent."""

    model: str
    base_url: str
    spec: ModelSpec
    info: ModelInfo | None
    messages: list[Mapping[str, Any]]
    optional_params: dict[str, Any]
    litellm_params: Mapping[str, Any]
    timeout: float | httpx.Timeout | None
    pool: ClientPool
    n: int = 1
    #: When a non-streamed call must have its answer (LiteLLM's `timeout`, monotonic clock).
    deadline: float | None = None
    #: The retries left to this call, shared with the openai client's (see `RetryBudget`).
    budget: RetryBudget = field(default_factory=lambda: RetryBudget(0))

    def check_deadline(self) -> None:
        if self.deadline is not None and time.monotonic() > self.deadline:
            raise CodexStreamError("deadline_exceeded", "the turn took longer than the call's timeout")

    def may_retry(self, exc: BaseException, attempt: int) -> bool:
        """Whether a turn that broke off (see `retryable_turn_failure`) gets another attempt."""
        if not retryable_turn_failure(exc):
            return False
        if self.deadline is not None and time.monotonic() + backoff_seconds(attempt) >= self.deadline:
            return False
        return self.budget.spend() is not None

    def stream_handed_out(self) -> None:
        """The caller holds the stream now: re-sends before its first chunk use `held_stream_budget`."""
        self.budget = held_stream_budget(self.budget, self.litellm_params)


def _timeout(timeout: Any) -> httpx.Timeout | None:
    """LiteLLM's `timeout` bounds the whole call; the idle-stream timeout bounds gaps between events."""
    if isinstance(timeout, httpx.Timeout):
        return timeout
    if isinstance(timeout, int | float) and timeout > 0:
        idle = min(float(timeout), settings.stream_idle_timeout())
        return httpx.Timeout(float(timeout), read=idle, connect=min(10.0, float(timeout)))
    return None


def rate_limit_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """The backend's plan-usage headers, named the way the LiteLLM proxy passes provider headers on."""
    return {f"llm_provider-{k}": v for k, v in protocol.rate_limit_headers(headers).items()}


class CodexAuthProvider(CustomLLM):
    """LiteLLM provider `codex`: `codex/<model>` through the ChatGPT Codex backend with the Codex CLI login."""

    def __init__(self, *, auth_file: str | None = None, codex_home: str | None = None) -> None:
        super().__init__()
        self._auth_file = auth_file
        self._codex_home = codex_home
        self._lock = threading.Lock()
        #: Least recently used first; bounded so that many distinct logins cannot grow memory.
        self._pools: OrderedDict[tuple[str | None, str | None, str | None], ClientPool] = OrderedDict()
        self.catalogs = CatalogStore(on_catalog=register_catalog)
        self._register_known_models()
        self._codex_instructions_models: set[str] = set()

    # -- resolution --------------------------------------------------------------------------------

    def pool_for(
        self, auth_file: str | None = None, codex_home: str | None = None, token_store: str | None = None
    ) -> ClientPool:
        """One token manager and client pool per login (and token store), shared by every call that uses it.

        At most `MAX_LOGIN_POOLS` are kept; the least recently used one is dropped (its open
        calls finish on their own clients, which the garbage collector closes afterwards).
        """
        key = (auth_file or self._auth_file, codex_home or self._codex_home, token_store)
        with self._lock:
            pool = self._pools.get(key)
            if pool is None:
                manager = CodexTokenManager(key[0], codex_home=key[1], token_store=key[2])
                pool = self._pools[key] = ClientPool(manager)
                while len(self._pools) > MAX_LOGIN_POOLS:
                    self._pools.popitem(last=False)
            else:
                self._pools.move_to_end(key)
            return pool

    def pools(self) -> list[ClientPool]:
        """The login pools kept open now, least recently used first."""
        with self._lock:
            return list(self._pools.values())

    def _prepare(
        self,
        model: str,
        messages: list,
        api_base: str | None,
        optional_params: dict,
        litellm_params: Mapping[str, Any] | None,
        timeout: Any,
    ) -> _Call:
        params = dict(optional_params or {})
        login: LoginConfig = resolve_login(params, litellm_params or {}, api_base)
        n = _answers(params.pop("n", None))
        return _Call(
            model=model,
            base_url=settings.api_base(login.api_base),
            spec=ModelSpec(model),
            info=None,
            messages=list(messages),
            optional_params=params,
            litellm_params=litellm_params or {},
            timeout=_timeout(timeout),
            pool=self.pool_for(login.codex_auth_file, login.codex_home, login.codex_token_store),
            n=n,
            deadline=_deadline(timeout),
            budget=call_budget(litellm_params or {}),
        )

    def _register_known_models(self) -> None:
        """Tell LiteLLM about the models of the cached (else bundled) catalog; no request is made."""
        try:
            register_catalog(self.catalogs.cached_catalog())
        except Exception as exc:  # model info is a convenience: it must never stop the provider
            logger.warning("codex: could not register the models with LiteLLM: %s", exc)

    def _resolve(self, call: _Call, catalog: ModelCatalog) -> None:
        """Slug, suffixes and catalog facts of the call's model; an unknown id fails before any request."""
        call.spec, call.info = resolve_model(call.model, catalog, known=self.catalogs.bundled)

    def _fallback_due(self, call: _Call) -> bool:
        return self.fallback_due(call.spec.slug, call.info)

    def fallback_due(self, slug: str, info: ModelInfo | None) -> bool:
        """The Codex prompt file stands in where the catalog has no instructions for the model."""
        if info is not None and info.instructions:
            return False
        return settings.codex_mode() or slug in self._codex_instructions_models

    def _request(self, call: _Call, fallback_instructions: str | None) -> CodexRequest:
        return build_request(
            call.spec,
            call.info,
            call.messages,
            call.optional_params,
            call.litellm_params,
            fallback_instructions=fallback_instructions,
            force_codex_instructions=call.spec.slug in self._codex_instructions_models,
        )

    def _instructions_rejected(self, exc: BaseException, call: _Call) -> bool:
        """A 400 about instructions: switch this model to the Codex instructions and retry once."""
        if rejects_instructions(exc) and call.spec.slug not in self._codex_instructions_models:
            logger.warning(
                "codex: the backend rejected the instructions for %s; retrying with the Codex instructions",
                call.spec.slug,
            )
            self._codex_instructions_models.add(call.spec.slug)
            return True
        return False

    # -- sync path ---------------------------------------------------------------------------------

    def _open_sync(self, call: _Call) -> tuple[openai.Stream[Any], CodexRequest]:
        client: CodexOpenAIClient = call.pool.sync_client(call.base_url)
        self._resolve(call, self.catalogs.catalog(client))
        for attempt in range(2):
            fallback = (
                self.catalogs.instructions_fallback(call.spec.slug) if self._fallback_due(call) else None
            )
            req = self._request(call, fallback)
            try:
                return client.open_turn(
                    req.body, headers={HEADER_SESSION_ID: req.session_id}, timeout=call.timeout
                ), req
            except openai.BadRequestError as exc:
                if attempt or not self._instructions_rejected(exc, call):
                    raise
        raise AssertionError("unreachable")

    def _turn_sync(self, call: _Call, model_response: ModelResponse) -> ModelResponse:
        attempt = 0
        while True:  # a turn that breaks off is sent again: the caller has seen nothing yet
            with call_deadline(call.deadline), retry_budget(call.budget):
                stream, req = self._open_sync(call)
            translator = TurnTranslator(model=call.model, emit=False)
            try:
                with stream:
                    for event in stream:
                        translator.handle(event)
                        call.check_deadline()
                translator.check_complete()
                break
            except Exception as exc:
                if not call.may_retry(exc, attempt):
                    raise
            time.sleep(backoff_seconds(attempt))
            attempt += 1
        translator.to_model_response(model_response)
        self._annotate(model_response, req, stream.response.headers)
        return model_response

    def completion(
        self,
        model: str,
        messages: list,
        api_base: str,
        custom_prompt_dict: dict,
        model_response: ModelResponse,
        print_verbose: Callable,
        encoding: Any,
        api_key: Any,
        logging_obj: Any,
        optional_params: dict,
        acompletion: Any = None,
        litellm_params: Any = None,
        logger_fn: Any = None,
        headers: dict | None = None,
        timeout: Any = None,
        client: Any = None,
    ) -> ModelResponse:
        try:
            call = self._prepare(model, messages, api_base, optional_params, litellm_params, timeout)
            if _is_health_check(call.litellm_params):
                return self._health_sync(call, model_response)
            if call.n <= 1:
                return self._turn_sync(call, model_response)
            with ThreadPoolExecutor(max_workers=min(call.n, 8)) as pool:
                results = list(
                    pool.map(lambda _: self._turn_sync(call, _fresh(model_response)), range(call.n))
                )
            return _merge_choices(model_response, results)
        except Exception as exc:
            raise to_litellm_error(exc, model) from exc

    def streaming(
        self,
        model: str,
        messages: list,
        api_base: str,
        custom_prompt_dict: dict,
        model_response: ModelResponse,
        print_verbose: Callable,
        encoding: Any,
        api_key: Any,
        logging_obj: Any,
        optional_params: dict,
        acompletion: Any = None,
        litellm_params: Any = None,
        logger_fn: Any = None,
        headers: dict | None = None,
        timeout: Any = None,
        client: Any = None,
    ) -> Iterator[ModelResponseStream]:
        try:
            call = self._prepare(model, messages, api_base, optional_params, litellm_params, timeout)
            call.deadline = None  # a stream is bounded by the idle timeout between events, not in total
            _refuse_streaming_n(call)
            with retry_budget(call.budget):
                stream, req = self._open_sync(call)  # eager: HTTP errors surface before the first chunk
        except Exception as exc:
            raise to_litellm_error(exc, model) from exc
        call.stream_handed_out()
        slot = StreamSlot(stream)
        self._record_stream(req, stream.response.headers, logging_obj)
        return OwnedStream(slot, self._iterate_sync(call, slot, logging_obj))

    def _iterate_sync(self, call: _Call, slot: StreamSlot, logging_obj: Any) -> Iterator[ModelResponseStream]:
        """The turn's chunks; the stream in `slot` is closed here when the turn ends or fails.

        Not on `GeneratorExit`: that is also how the garbage collector finalizes an abandoned
        generator, and closing there can deadlock (see stream_lifetime.py); `OwnedStream` does it.
        """
        attempt = 0
        while True:
            translator = TurnTranslator(model=call.model, keep_output=False)
            sent = False
            try:
                for event in slot.stream:
                    for chunk in translator.handle(event):
                        sent = True
                        yield chunk
                slot.close()
                translator.check_complete()
                return
            except GeneratorExit:
                raise  # closed or collected: the slot is `OwnedStream`'s to close
            except Exception as exc:
                with contextlib.suppress(Exception):
                    slot.close()
                if sent or not call.may_retry(exc, attempt):  # once a chunk is out, only an error is honest
                    raise to_litellm_error(exc, call.model) from exc
            time.sleep(backoff_seconds(attempt))
            attempt += 1
            try:  # the stream broke before its first chunk: send the turn again
                with retry_budget(call.budget):
                    stream, req = self._open_sync(call)
            except Exception as exc:
                raise to_litellm_error(exc, call.model) from exc
            slot.hold(stream)
            self._record_stream(req, stream.response.headers, logging_obj)

    # -- async path --------------------------------------------------------------------------------

    async def _open_async(self, call: _Call) -> tuple[openai.AsyncStream[Any], CodexRequest]:
        client: AsyncCodexOpenAIClient = call.pool.async_client(call.base_url)
        self._resolve(call, await self.catalogs.acatalog(client))
        for attempt in range(2):
            fallback = (
                await self.catalogs.ainstructions_fallback(call.spec.slug)
                if self._fallback_due(call)
                else None
            )
            req = self._request(call, fallback)
            try:
                return await client.open_turn(
                    req.body, headers={HEADER_SESSION_ID: req.session_id}, timeout=call.timeout
                ), req
            except openai.BadRequestError as exc:
                if attempt or not self._instructions_rejected(exc, call):
                    raise
        raise AssertionError("unreachable")

    async def _turn_async(self, call: _Call, model_response: ModelResponse) -> ModelResponse:
        attempt = 0
        while True:  # a turn that breaks off is sent again: the caller has seen nothing yet
            with call_deadline(call.deadline), retry_budget(call.budget):
                stream, req = await self._open_async(call)
            translator = TurnTranslator(model=call.model, emit=False)
            try:
                async with stream:
                    async for event in stream:
                        translator.handle(event)
                        call.check_deadline()
                translator.check_complete()
                break
            except Exception as exc:
                if not call.may_retry(exc, attempt):
                    raise
            await asyncio.sleep(backoff_seconds(attempt))
            attempt += 1
        translator.to_model_response(model_response)
        self._annotate(model_response, req, stream.response.headers)
        return model_response

    async def acompletion(
        self,
        model: str,
        messages: list,
        api_base: str,
        custom_prompt_dict: dict,
        model_response: ModelResponse,
        print_verbose: Callable,
        encoding: Any,
        api_key: Any,
        logging_obj: Any,
        optional_params: dict,
        acompletion: Any = None,
        litellm_params: Any = None,
        logger_fn: Any = None,
        headers: dict | None = None,
        timeout: Any = None,
        client: Any = None,
    ) -> ModelResponse:
        try:
            call = self._prepare(model, messages, api_base, optional_params, litellm_params, timeout)
            if _is_health_check(call.litellm_params):
                return await self._health_async(call, model_response)
            if call.n <= 1:
                return await self._turn_async(call, model_response)
            results = await asyncio.gather(
                *(self._turn_async(call, _fresh(model_response)) for _ in range(call.n))
            )
            return _merge_choices(model_response, list(results))
        except Exception as exc:
            raise to_litellm_error(exc, model) from exc

    def astreaming(
        self,
        model: str,
        messages: list,
        api_base: str,
        custom_prompt_dict: dict,
        model_response: ModelResponse,
        print_verbose: Callable,
        encoding: Any,
        api_key: Any,
        logging_obj: Any,
        optional_params: dict,
        acompletion: Any = None,
        litellm_params: Any = None,
        logger_fn: Any = None,
        headers: dict | None = None,
        timeout: Any = None,
        client: Any = None,
    ) -> PrimedStream:
        """The turn as an async stream whose request `litellm_compat` opens before LiteLLM returns it.

        Not an `async def`: LiteLLM only wraps what this returns. Opening first makes HTTP errors
        (a spent plan, a refused login) fail `await litellm.acompletion(...)` itself, as they do on
        the sync path, so routers retry another deployment and the proxy answers with their status.
        """
        try:
            call = self._prepare(model, messages, api_base, optional_params, litellm_params, timeout)
        except Exception as exc:
            raise to_litellm_error(exc, model) from exc
        call.deadline = None  # a stream is bounded by the idle timeout between events, not in total
        return PrimedStream(self._astream(call, logging_obj))

    async def _astream(self, call: _Call, logging_obj: Any) -> AsyncIterator[Any]:
        """`PrimedStream.OPENED` once the backend has answered, then the chunks."""
        attempt = 0
        while True:
            sent = opened = False
            try:
                _refuse_streaming_n(call)
                with retry_budget(call.budget):
                    stream, req = await self._open_async(call)
                opened = True
                # closed even when the caller leaves before the first chunk; events that arrived
                # together go out as one chunk (see ReadyEvents), none waits for another
                async with stream, ReadyEvents(stream) as batches:
                    self._record_stream(req, stream.response.headers, logging_obj)
                    if attempt == 0:
                        yield PrimedStream.OPENED
                        call.stream_handed_out()
                    translator = TurnTranslator(model=call.model, keep_output=False)
                    async for events in batches:
                        for chunk in translator.handle_many(events):
                            sent = True
                            yield chunk
                translator.check_complete()
                return
            except Exception as exc:
                # Opening was retried by the client already; a stream that broke before its
                # first chunk is sent again; once a chunk is out, only an error is honest.
                if sent or not opened or not call.may_retry(exc, attempt):
                    raise to_litellm_error(exc, call.model) from exc
            await asyncio.sleep(backoff_seconds(attempt))
            attempt += 1

    # -- health checks ------------------------------------------------------------------------------

    def _health_sync(self, call: _Call, model_response: ModelResponse) -> ModelResponse:
        """LiteLLM's health probe answered with a catalog revalidation instead of a model turn."""
        client = call.pool.sync_client(call.base_url)
        self._resolve(call, self.catalogs.catalog(client))
        try:
            status = self.catalogs.probe(client)
        except CodexAuthError:
            raise
        except Exception as exc:
            raise _health_failure(exc, call) from exc
        return _health_response(model_response, call, status)

    async def _health_async(self, call: _Call, model_response: ModelResponse) -> ModelResponse:
        client = call.pool.async_client(call.base_url)
        self._resolve(call, await self.catalogs.acatalog(client))
        try:
            status = await self.catalogs.aprobe(client)
        except CodexAuthError:
            raise
        except Exception as exc:
            raise _health_failure(exc, call) from exc
        return _health_response(model_response, call, status)

    # -- bookkeeping -------------------------------------------------------------------------------

    def _record_headers(self, req: CodexRequest, headers: httpx.Headers) -> None:
        """Keep the plan's usage (`x-codex-*` headers) for `codex-litellm status`; see usage_snapshot.py.

        Costs a header scan and a comparison: the file is written by a background thread, only
        when the values changed, at most once per second.
        """
        if settings.debug():
            logger.debug("codex: turn for %s sent; dropped=%s", req.slug, req.dropped)
        try:
            usage_snapshot.record(headers)
        except Exception as exc:  # the snapshot is a convenience: it must never fail a call
            logger.debug("codex: could not record the plan usage: %s", exc)

    def _record_stream(self, req: CodexRequest, headers: httpx.Headers, logging_obj: Any) -> None:
        """A streamed turn: its headers and dropped parameters go to the stream the caller holds."""
        self._record_headers(req, headers)
        report = StreamReport.of(logging_obj)
        if report is not None:
            report.publish(rate_limit_headers(headers), req.dropped)

    def _annotate(self, model_response: ModelResponse, req: CodexRequest, headers: httpx.Headers) -> None:
        self._record_headers(req, headers)
        hidden = getattr(model_response, "_hidden_params", None)
        if hidden is None:
            hidden = {}
            model_response._hidden_params = hidden  # type: ignore[attr-defined]
        extra = hidden.setdefault("additional_headers", {})
        extra.update(rate_limit_headers(headers))
        hidden["codex_dropped_params"] = list(req.dropped)

    # -- the model catalog, for callers other than LiteLLM (the drop-in client) ------------------------

    def models(
        self, *, auth_file: str | None = None, codex_home: str | None = None, api_base: str | None = None
    ) -> ModelCatalog:
        """The live model catalog for a login and backend, as a call would see it (refreshed when due).

        The login is read first: a missing one fails here (`CodexAuthError`) rather than being
        answered with the bundled catalog.
        """
        pool = self._loaded_pool(auth_file, codex_home)
        return self.catalogs.catalog(pool.sync_client(settings.api_base(api_base)))

    async def amodels(
        self, *, auth_file: str | None = None, codex_home: str | None = None, api_base: str | None = None
    ) -> ModelCatalog:
        """`models` for async callers; the login is read in a thread, never on the event loop."""
        pool = await asyncio.to_thread(self._loaded_pool, auth_file, codex_home)
        return await self.catalogs.acatalog(pool.async_client(settings.api_base(api_base)))

    def _loaded_pool(self, auth_file: str | None, codex_home: str | None) -> ClientPool:
        pool = self.pool_for(auth_file, codex_home)
        pool.token_manager.load()
        return pool


def _deadline(timeout: Any) -> float | None:
    """LiteLLM's `timeout` as a deadline for the whole non-streamed turn (retries included)."""
    if isinstance(timeout, int | float) and timeout > 0:
        return time.monotonic() + float(timeout)
    return None


def _is_health_check(litellm_params: Mapping[str, Any]) -> bool:
    """LiteLLM tags its proxy health probes; they need no model turn (and no plan usage)."""
    for key in ("metadata", "litellm_metadata"):
        metadata = litellm_params.get(key)
        tags = metadata.get("tags") if isinstance(metadata, Mapping) else None
        if isinstance(tags, list | tuple) and HEALTH_CHECK_TAG in tags:
            return True
    return False


def _health_failure(exc: BaseException, call: _Call) -> Exception:
    status = getattr(exc, "status", None)
    message = f"Codex health check: the model catalog at {call.base_url} could not be read ({exc})"
    if status == 401:
        return litellm.AuthenticationError(
            message + "; run `codex login`", llm_provider="codex", model=call.model
        )
    return litellm.ServiceUnavailableError(message, llm_provider="codex", model=call.model)


def _health_response(model_response: ModelResponse, call: _Call, status: int) -> ModelResponse:
    model_response.choices[0].message.content = "ok"  # type: ignore[union-attr]
    model_response.choices[0].finish_reason = "stop"
    model_response.model = call.model
    model_response.usage = Usage(prompt_tokens=0, completion_tokens=0, total_tokens=0)  # type: ignore[attr-defined]
    model_response._hidden_params = {"codex_health_check": f"catalog HTTP {status}"}  # type: ignore[attr-defined]
    return model_response


def _answers(n: Any) -> int:
    """`n` as a count within `CODEX_MAX_N`: every answer is a whole turn on the shared plan."""
    try:
        count = 1 if n is None else int(n)
    except (TypeError, ValueError) as exc:
        raise CodexRequestRefusedError(f"`n` must be a whole number, not {str(n)[:20]!r}") from exc
    cap = settings.max_n()
    if count < 1 or count > cap:
        raise CodexRequestRefusedError(
            f"`n` is {count}; a call may ask for 1 to {cap} answers (each is a full turn on the "
            "ChatGPT plan). Ask for fewer, or raise CODEX_MAX_N on the server."
        )
    return count


def _refuse_streaming_n(call: _Call) -> None:
    if call.n > 1:
        raise CodexModelError("n > 1 cannot be streamed by the Codex backend; use stream=False or n=1")


def _fresh(model_response: ModelResponse) -> ModelResponse:
    return ModelResponse(model=model_response.model)


def _merge_choices(target: ModelResponse, results: list[ModelResponse]) -> ModelResponse:
    """n answers as one response with n choices; usage is the sum."""
    first = results[0]
    target.id, target.created, target.model = first.id, first.created, first.model
    choices = []
    for i, result in enumerate(results):
        choice = copy.copy(result.choices[0])
        choice.index = i
        choices.append(choice)
    target.choices = choices  # type: ignore[assignment]
    usages = [getattr(r, "usage", None) for r in results]
    if all(u is not None for u in usages):
        total = copy.deepcopy(usages[0])
        for u in usages[1:]:
            total.prompt_tokens += u.prompt_tokens
            total.completion_tokens += u.completion_tokens
            total.total_tokens += u.total_tokens
        target.usage = total  # type: ignore[attr-defined]
    target._hidden_params = getattr(first, "_hidden_params", {})  # type: ignore[attr-defined]
    return target


# here, so that every way of importing the provider applies them
litellm_compat.install()
responses_compat.install()
codex_auth_provider = CodexAuthProvider()
