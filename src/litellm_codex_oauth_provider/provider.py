"""`CodexAuthProvider`: the LiteLLM custom provider for the ChatGPT Codex backend.

A call reads top to bottom: LiteLLM calls an entry point here → a `Turn` (turn.py) decides
what to send and whether to send it again → this module runs its I/O with the pooled OpenAI
client (transport.py), the sync client for sync calls and the async one for async calls (no
call ever creates an event loop) → the events are translated (events.py) into LiteLLM chunks
or one `ModelResponse`. This module only does the I/O a turn asks for: `_perform`/`_aperform`
for each step, `_relay`/`_astream` for the chunks of a stream.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import httpx
from litellm import CustomLLM
from litellm.types.utils import ModelResponse, ModelResponseStream

from . import config
from .auth.manager import CodexTokenManager
from .bounded import call_deadline
from .config import MAX_LOGIN_POOLS
from .deployment import resolve_login
from .drive import arun, run
from .litellm_glue import patches, responses_route
from .litellm_glue.errors import to_litellm_error
from .litellm_glue.streams import PrimedStream, StreamReport, rate_limit_headers, record_plan_usage
from .models.catalog import ModelCatalog, ModelInfo
from .models.catalog_store import CatalogStore
from .models.registry import register_catalog
from .ready_events import ReadyEvents
from .request.body import CodexRequest
from .retries import call_budget, retry_budget
from .stream_lifetime import OwnedStream, StreamSlot
from .transport import AsyncCodexOpenAIClient, ClientPool, CodexOpenAIClient
from .turn import (
    Flow,
    GetCatalog,
    GetFallback,
    InstructionsPolicy,
    Probe,
    Read,
    Send,
    Step,
    Turn,
    Wait,
    annotate,
    answers,
    call_deadline_of,
    call_timeout,
    fresh,
    health_response,
    is_health_check,
    merge_choices,
)

__all__ = ["CodexAuthProvider", "codex_auth_provider", "rate_limit_headers"]

logger = logging.getLogger(__name__)

R = TypeVar("R")


class CodexAuthProvider(CustomLLM):
    """LiteLLM provider `codex`: `codex/<model>` through the ChatGPT Codex backend with the Codex CLI login.

    Building one does no I/O: the catalog store is made, and the models registered with
    LiteLLM, on first use (`register_models`; see `litellm_glue.patches` for when LiteLLM asks).
    """

    def __init__(self, *, auth_file: str | None = None, codex_home: str | None = None) -> None:
        super().__init__()
        self._auth_file = auth_file
        self._codex_home = codex_home
        self._lock = threading.Lock()
        #: Least recently used first; bounded so that many distinct logins cannot grow memory.
        self._pools: OrderedDict[tuple[str | None, str | None, str | None], ClientPool] = OrderedDict()
        self._catalogs: CatalogStore | None = None
        self._instructions = InstructionsPolicy()
        self._models_lock = threading.Lock()
        self._models_registered = False

    # -- first use ---------------------------------------------------------------------------------

    @property
    def catalogs(self) -> CatalogStore:
        """The model catalogs (and the Codex prompt files), created on first use."""
        store = self._catalogs
        if store is None:
            with self._lock:
                if self._catalogs is None:
                    self._catalogs = CatalogStore(on_catalog=register_catalog)
                store = self._catalogs
        return store

    def register_models(self) -> None:
        """Tell LiteLLM about the models of the cached (else bundled) catalog, once; no request is made."""
        if self._models_registered:
            return
        with self._models_lock:
            if self._models_registered:
                return
            try:
                register_catalog(self.catalogs.cached_catalog())
            except Exception as exc:  # model info is a convenience: it must never stop the provider
                logger.warning("codex: could not register the models with LiteLLM: %s", exc)
            self._models_registered = True

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

    def fallback_due(self, slug: str, info: ModelInfo | None) -> bool:
        """The Codex prompt file stands in where the catalog has no instructions for the model."""
        return self._instructions.fallback_due(slug, info)

    def _prepare(
        self,
        model: str,
        messages: list,
        api_base: str | None,
        optional_params: dict,
        litellm_params: Mapping[str, Any] | None,
        timeout: Any,
        *,
        streamed: bool = False,
    ) -> Turn:
        self.register_models()
        params = dict(optional_params or {})
        litellm_params = litellm_params or {}
        login = resolve_login(params, litellm_params, api_base)
        n = answers(params.pop("n", None))
        return Turn(
            model=model,
            base_url=config.CODEX_API_BASE.get(login.api_base),
            messages=list(messages),
            optional_params=params,
            litellm_params=litellm_params,
            timeout=call_timeout(timeout),
            pool=self.pool_for(login.codex_auth_file, login.codex_home, login.codex_token_store),
            instructions=self._instructions,
            known=self.catalogs.bundled,
            n=n,
            # a stream is bounded by the idle timeout between events, not in total
            deadline=None if streamed else call_deadline_of(timeout),
            budget=call_budget(litellm_params),
        )

    # -- the I/O loops: one for the sync client, one for the async client --------------------------

    def _drive(
        self, turn: Turn, flow: Flow[R], *, until_read: bool = False, error: Exception | None = None
    ) -> R:
        """Run `flow` with the sync client to its end (or, `until_read`, to the stream it opens)."""
        client = turn.pool.sync_client(turn.base_url)
        return run(
            flow,
            lambda step: self._perform(turn, client, step),
            until=Read if until_read else None,
            error=error,
        )

    def _perform(self, turn: Turn, client: CodexOpenAIClient, step: Step) -> Any:
        if isinstance(step, Read):  # a non-streamed turn: every event, within the call's deadline
            with step.stream:
                for event in step.stream:
                    step.translator.handle(event)
                    turn.check_deadline()
            return None
        if isinstance(step, Wait):
            time.sleep(step.seconds)
            return None
        with call_deadline(turn.deadline), retry_budget(turn.budget):
            if isinstance(step, GetCatalog):
                return self.catalogs.catalog(client)
            if isinstance(step, GetFallback):
                return self.catalogs.instructions_fallback(step.slug)
            if isinstance(step, Send):
                return client.open_turn(step.body, headers=step.headers, timeout=step.timeout)
            if isinstance(step, Probe):
                return self.catalogs.probe(client)
        raise TypeError(f"unknown step {step!r}")

    async def _adrive(
        self, turn: Turn, flow: Flow[R], *, until_read: bool = False, error: Exception | None = None
    ) -> R:
        """`_drive` with the async client."""
        client = turn.pool.async_client(turn.base_url)
        return await arun(
            flow,
            lambda step: self._aperform(turn, client, step),
            until=Read if until_read else None,
            error=error,
        )

    async def _aperform(self, turn: Turn, client: AsyncCodexOpenAIClient, step: Step) -> Any:
        if isinstance(step, Read):
            async with step.stream:
                async for event in step.stream:
                    step.translator.handle(event)
                    turn.check_deadline()
            return None
        if isinstance(step, Wait):
            await asyncio.sleep(step.seconds)
            return None
        with call_deadline(turn.deadline), retry_budget(turn.budget):
            if isinstance(step, GetCatalog):
                return await self.catalogs.acatalog(client)
            if isinstance(step, GetFallback):
                return await self.catalogs.ainstructions_fallback(step.slug)
            if isinstance(step, Send):
                return await client.open_turn(step.body, headers=step.headers, timeout=step.timeout)
            if isinstance(step, Probe):
                return await self.catalogs.aprobe(client)
        raise TypeError(f"unknown step {step!r}")

    # -- LiteLLM's entry points ----------------------------------------------------------------------

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
            turn = self._prepare(model, messages, api_base, optional_params, litellm_params, timeout)
            if is_health_check(turn.litellm_params):
                return health_response(model_response, model, self._drive(turn, turn.health_flow()))
            if turn.n <= 1:
                return self._answer(self._drive(turn, turn.complete_flow()), model_response)
            with ThreadPoolExecutor(max_workers=min(turn.n, 8)) as pool:
                results = list(
                    pool.map(
                        lambda _: self._answer(
                            self._drive(turn, turn.complete_flow()), fresh(model_response)
                        ),
                        range(turn.n),
                    )
                )
            return merge_choices(model_response, results)
        except Exception as exc:
            raise to_litellm_error(exc, model) from exc

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
            turn = self._prepare(model, messages, api_base, optional_params, litellm_params, timeout)
            if is_health_check(turn.litellm_params):
                return health_response(model_response, model, await self._adrive(turn, turn.health_flow()))
            if turn.n <= 1:
                return self._answer(await self._adrive(turn, turn.complete_flow()), model_response)

            async def one() -> ModelResponse:
                return self._answer(await self._adrive(turn, turn.complete_flow()), fresh(model_response))

            results = await asyncio.gather(*(one() for _ in range(turn.n)))
            return merge_choices(model_response, list(results))
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
            turn = self._prepare(
                model, messages, api_base, optional_params, litellm_params, timeout, streamed=True
            )
            flow = turn.stream_flow()
            read: Read = self._drive(
                turn, flow, until_read=True
            )  # HTTP errors surface before the first chunk
        except Exception as exc:
            raise to_litellm_error(exc, model) from exc
        slot = StreamSlot(read.stream)
        self._record_stream(read, logging_obj)
        return OwnedStream(slot, self._relay(turn, flow, read, slot, logging_obj))

    def _relay(
        self, turn: Turn, flow: Flow[None], read: Read, slot: StreamSlot, logging_obj: Any
    ) -> Iterator[ModelResponseStream]:
        """The turn's chunks; the stream in `slot` is closed here when the turn ends or fails.

        Not on `GeneratorExit`: that is also how the garbage collector finalizes an abandoned
        generator, and closing there can deadlock (see stream_lifetime.py); `OwnedStream` does it.
        """
        while True:
            error: Exception | None = None
            try:
                for event in read.stream:
                    for chunk in read.translator.handle(event):
                        read.sent = True
                        yield chunk
                slot.close()
            except GeneratorExit:
                raise  # closed or collected: the slot is `OwnedStream`'s to close
            except Exception as exc:
                with contextlib.suppress(Exception):
                    slot.close()
                error = exc
            try:  # the turn decides: done, an error, or the turn sent again (a new stream)
                next_read: Read | None = self._drive(turn, flow, until_read=True, error=error)
            except Exception as exc:
                raise to_litellm_error(exc, turn.model) from exc
            if next_read is None:
                return
            read = next_read
            slot.hold(read.stream)
            self._record_stream(read, logging_obj)

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
        """The turn as an async stream whose request `patches` opens before LiteLLM returns it.

        Not an `async def`: LiteLLM only wraps what this returns. Opening first makes HTTP errors
        (a spent plan, a refused login) fail `await litellm.acompletion(...)` itself, as they do on
        the sync path, so routers retry another deployment and the proxy answers with their status.
        """
        try:
            turn = self._prepare(
                model, messages, api_base, optional_params, litellm_params, timeout, streamed=True
            )
        except Exception as exc:
            raise to_litellm_error(exc, model) from exc
        return PrimedStream(self._astream(turn, logging_obj))

    async def _astream(self, turn: Turn, logging_obj: Any) -> AsyncIterator[Any]:
        """`PrimedStream.OPENED` once the backend has answered, then the chunks."""
        flow = turn.stream_flow()
        error: Exception | None = None
        while True:
            try:
                read: Read | None = await self._adrive(turn, flow, until_read=True, error=error)
            except Exception as exc:
                raise to_litellm_error(exc, turn.model) from exc
            if read is None:
                return
            error = None
            try:
                # closed even when the caller leaves before the first chunk; events that arrived
                # together go out as one chunk (see ReadyEvents), none waits for another
                async with read.stream, ReadyEvents(read.stream) as batches:
                    self._record_stream(read, logging_obj)
                    if read.first:
                        yield PrimedStream.OPENED
                    async for events in batches:
                        for chunk in read.translator.handle_many(events):
                            read.sent = True
                            yield chunk
            except Exception as exc:
                error = exc

    # -- bookkeeping -------------------------------------------------------------------------------

    def _answer(self, read: Read, model_response: ModelResponse) -> ModelResponse:
        """A non-streamed turn's response, with the plan's headers and the dropped parameters."""
        read.translator.to_model_response(model_response)
        headers = read.stream.response.headers
        self._record_headers(read.request, headers)
        annotate(model_response, read.request, headers)
        return model_response

    def _record_headers(self, req: CodexRequest, headers: httpx.Headers) -> None:
        if config.CODEX_DEBUG.get():
            logger.debug("codex: turn for %s sent; dropped=%s", req.slug, req.dropped)
        record_plan_usage(headers)

    def _record_stream(self, read: Read, logging_obj: Any) -> None:
        """A streamed turn: its headers and dropped parameters go to the stream the caller holds."""
        headers = read.stream.response.headers
        self._record_headers(read.request, headers)
        report = StreamReport.of(logging_obj)
        if report is not None:
            report.publish(rate_limit_headers(headers), read.request.dropped)

    # -- the model catalog, for callers other than LiteLLM (the drop-in client) ------------------------

    def models(
        self, *, auth_file: str | None = None, codex_home: str | None = None, api_base: str | None = None
    ) -> ModelCatalog:
        """The live model catalog for a login and backend, as a call would see it (refreshed when due).

        The login is read first: a missing one fails here (`CodexAuthError`) rather than being
        answered with the bundled catalog.
        """
        pool = self._loaded_pool(auth_file, codex_home)
        return self.catalogs.catalog(pool.sync_client(config.CODEX_API_BASE.get(api_base)))

    async def amodels(
        self, *, auth_file: str | None = None, codex_home: str | None = None, api_base: str | None = None
    ) -> ModelCatalog:
        """`models` for async callers; the login is read in a thread, never on the event loop."""
        pool = await asyncio.to_thread(self._loaded_pool, auth_file, codex_home)
        return await self.catalogs.acatalog(pool.async_client(config.CODEX_API_BASE.get(api_base)))

    def _loaded_pool(self, auth_file: str | None, codex_home: str | None) -> ClientPool:
        pool = self.pool_for(auth_file, codex_home)
        pool.token_manager.load()
        return pool


# here, so that every way of importing the provider applies them (they only wrap LiteLLM functions)
patches.install(CodexAuthProvider)
responses_route.install(CodexAuthProvider)
codex_auth_provider = CodexAuthProvider()
