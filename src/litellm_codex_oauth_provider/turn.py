"""One call's decisions, with no I/O: what to send, whether to send it again, what the answer carries.

A call is a `Turn`. Its flows (`open_flow`, `complete_flow`, `stream_flow`, `health_flow`) are
generators that yield the I/O they need as a `Step` and get its result back (or its exception
thrown in), the way httpx's `Auth.auth_flow` serves both clients: `drive.run` and `drive.arun` drive a flow
with a function that performs one step, `provider.py` has that function for the sync client and
for the async one, and decides nothing itself (nor does `responses_api.py`, which uses the same
steps to prepare a Responses request).

The rules that live here, once:

- the model is resolved against the catalog before anything is sent (an unknown id fails first);
- a 400 about the instructions switches the model to the Codex instructions and sends once more;
- an HTTP error is never sent again here: the client's retries had it, from the same budget;
- a turn that broke off after its answer began (see `retryable_turn_failure`) is sent again,
  with backoff, while the budget and the call's deadline allow and the caller has seen nothing;
- a health probe revalidates the catalog instead of spending a model turn.
"""

from __future__ import annotations

import copy
import logging
import time
from collections.abc import Generator, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

import httpx
import litellm
import openai
from litellm.types.utils import ModelResponse, Usage

from . import config
from .events import TurnTranslator
from .exceptions import CodexAuthError, CodexModelError, CodexRequestRefusedError, CodexStreamError
from .failures import rejects_instructions, retryable_turn_failure
from .litellm_glue.streams import rate_limit_headers
from .models.catalog import ModelCatalog, ModelInfo
from .models.ids import ModelSpec, resolve_model
from .protocol import HEADER_SESSION_ID
from .request.body import CodexRequest, build_request
from .retries import RetryBudget, backoff_seconds, held_stream_budget
from .transport import ClientPool

logger = logging.getLogger(__name__)

#: The tag LiteLLM puts on its own health-check calls.
HEALTH_CHECK_TAG = "litellm-internal-health-check"

R = TypeVar("R")

# -- the steps a flow asks its driver for ---------------------------------------------------------


class Step:
    """One piece of I/O a flow needs; the driver sends back its result or throws its error in."""


@dataclass(frozen=True)
class GetCatalog(Step):
    """The model catalog for the turn's backend (`CatalogStore.catalog`/`acatalog`)."""


@dataclass(frozen=True)
class GetFallback(Step):
    """The Codex prompt file for `slug` (`CatalogStore.instructions_fallback`)."""

    slug: str


@dataclass(frozen=True)
class GetCredentials(Step):
    """The login's credentials; refreshed first when `rejected` (the ones the backend answered 401)."""

    rejected: Any = None


@dataclass(frozen=True)
class Send(Step):
    """`client.open_turn(body, headers=..., timeout=...)`: the opened event stream."""

    body: Mapping[str, Any]
    headers: Mapping[str, str]
    timeout: httpx.Timeout | None


@dataclass(frozen=True)
class Probe(Step):
    """Ask the backend for the catalog now (`CatalogStore.probe`): the HTTP status."""


@dataclass(frozen=True)
class Wait(Step):
    """Sleep `seconds` before sending again."""

    seconds: float


@dataclass
class Read(Step):
    """Read the opened stream through `translator`.

    Non-streamed, the driver collects every event; streamed, it relays the chunks to the caller
    and sets `sent` once one is out. `first` is the stream the caller is handed.
    """

    stream: Any
    request: CodexRequest
    translator: TurnTranslator
    first: bool = True
    sent: bool = False


Flow = Generator[Step, Any, R]


# -- the state that outlives a call ---------------------------------------------------------------


class InstructionsPolicy:
    """Which models get the Codex prompt file as instructions (per provider, learned from 400s)."""

    def __init__(self) -> None:
        self._codex_instructions_models: set[str] = set()

    def forced(self, slug: str) -> bool:
        return slug in self._codex_instructions_models

    def fallback_due(self, slug: str, info: ModelInfo | None) -> bool:
        """The Codex prompt file stands in where the catalog has no instructions for the model."""
        if info is not None and info.instructions:
            return False
        return config.CODEX_MODE.get() or self.forced(slug)

    def rejected(self, exc: BaseException, slug: str) -> bool:
        """A 400 about instructions: switch this model to the Codex instructions and send once more."""
        if rejects_instructions(exc) and not self.forced(slug):
            logger.warning(
                "codex: the backend rejected the instructions for %s; retrying with the Codex instructions",
                slug,
            )
            self._codex_instructions_models.add(slug)
            return True
        return False


# -- one call --------------------------------------------------------------------------------------


@dataclass
class Turn:
    """Everything one LiteLLM call needs, resolved before anything is sent, and its flows."""

    model: str
    base_url: str
    messages: list[Mapping[str, Any]]
    optional_params: dict[str, Any]
    litellm_params: Mapping[str, Any]
    timeout: httpx.Timeout | None
    pool: ClientPool
    instructions: InstructionsPolicy
    #: The bundled catalog: ids it knows are accepted even when the live catalog lacks them.
    known: ModelCatalog
    n: int = 1
    #: When a non-streamed call must have its answer (LiteLLM's `timeout`, monotonic clock).
    deadline: float | None = None
    #: The retries left to this call, shared with the openai client's (see `RetryBudget`).
    budget: RetryBudget = field(default_factory=lambda: RetryBudget(0))
    spec: ModelSpec = field(init=False)
    info: ModelInfo | None = None

    def __post_init__(self) -> None:
        self.spec = ModelSpec(self.model)

    # -- what to send --

    def resolve(self, catalog: ModelCatalog) -> None:
        """Slug, suffixes and catalog facts of the call's model; an unknown id fails before any request."""
        self.spec, self.info = resolve_model(self.model, catalog, known=self.known)

    def request(self, fallback_instructions: str | None) -> CodexRequest:
        return build_request(
            self.spec,
            self.info,
            self.messages,
            self.optional_params,
            self.litellm_params,
            fallback_instructions=fallback_instructions,
            force_codex_instructions=self.instructions.forced(self.spec.slug),
        )

    def send(self, req: CodexRequest) -> Send:
        return Send(req.body, {HEADER_SESSION_ID: req.session_id}, self.timeout)

    # -- whether to send again --

    def check_deadline(self) -> None:
        if self.deadline is not None and time.monotonic() > self.deadline:
            raise CodexStreamError("deadline_exceeded", "the turn took longer than the call's timeout")

    def resend_delay(self, exc: BaseException, attempt: int, *, sent: bool = False) -> float | None:
        """How long to wait before sending a turn that failed after it opened again; None: raise.

        Never once a chunk is out (only an error is honest then), never for an HTTP answer (the
        client's retries had it), never past the call's deadline or its retry budget.
        """
        if sent or isinstance(exc, openai.APIStatusError) or not retryable_turn_failure(exc):
            return None
        delay = backoff_seconds(attempt)
        if self.deadline is not None and time.monotonic() + delay >= self.deadline:
            return None
        return delay if self.budget.spend() is not None else None

    def stream_handed_out(self) -> None:
        """The caller holds the stream now: re-sends before its first chunk use `held_stream_budget`."""
        self.budget = held_stream_budget(self.budget, self.litellm_params)

    def refuse_streamed_n(self) -> None:
        if self.n > 1:
            raise CodexModelError("n > 1 cannot be streamed by the Codex backend; use stream=False or n=1")

    # -- the flows --

    def open_flow(self) -> Flow[tuple[Any, CodexRequest]]:
        """Resolve the model, build the request and send it: the opened stream and its request."""
        self.resolve((yield GetCatalog()))
        for attempt in range(2):
            due = self.instructions.fallback_due(self.spec.slug, self.info)
            fallback = (yield GetFallback(self.spec.slug)) if due else None
            req = self.request(fallback)
            try:
                return (yield self.send(req)), req
            except openai.BadRequestError as exc:
                if attempt or not self.instructions.rejected(exc, self.spec.slug):
                    raise
        raise AssertionError("unreachable")

    def complete_flow(self) -> Flow[Read]:
        """A non-streamed turn: the whole turn read, sent again while it broke off early."""
        attempt = 0
        while True:
            stream, req = yield from self.open_flow()
            read = Read(stream, req, TurnTranslator(model=self.model, emit=False))
            try:
                yield read
                read.translator.check_complete()
                return read
            except Exception as exc:
                delay = self.resend_delay(exc, attempt)
                if delay is None:
                    raise
            yield Wait(delay)
            attempt += 1

    def stream_flow(self) -> Flow[None]:
        """A streamed turn: each opened stream is relayed (`Read`); one that broke before its
        first chunk is sent again, and the caller keeps the stream it holds."""
        self.refuse_streamed_n()
        attempt = 0
        while True:
            stream, req = yield from self.open_flow()
            read = Read(stream, req, TurnTranslator(model=self.model, keep_output=False), first=attempt == 0)
            if read.first:
                self.stream_handed_out()
            try:
                yield read
                read.translator.check_complete()
                return None
            except Exception as exc:
                delay = self.resend_delay(exc, attempt, sent=read.sent)
                if delay is None:
                    raise
            yield Wait(delay)
            attempt += 1

    def health_flow(self) -> Flow[int]:
        """LiteLLM's health probe answered by revalidating the catalog: its HTTP status."""
        self.resolve((yield GetCatalog()))
        try:
            return (yield Probe())
        except CodexAuthError:
            raise
        except Exception as exc:
            raise self._health_failure(exc) from exc

    def _health_failure(self, exc: BaseException) -> Exception:
        status = getattr(exc, "status", None)
        message = f"Codex health check: the model catalog at {self.base_url} could not be read ({exc})"
        if status == 401:
            return litellm.AuthenticationError(
                message + "; run `codex login`", llm_provider="codex", model=self.model
            )
        return litellm.ServiceUnavailableError(message, llm_provider="codex", model=self.model)


# -- reading a call and writing its answer ---------------------------------------------------------


def call_timeout(timeout: Any) -> httpx.Timeout | None:
    """LiteLLM's `timeout` bounds the whole call; the idle-stream timeout bounds gaps between events."""
    if isinstance(timeout, httpx.Timeout):
        return timeout
    if isinstance(timeout, int | float) and timeout > 0:
        idle = min(float(timeout), config.CODEX_STREAM_IDLE_TIMEOUT.get())
        return httpx.Timeout(float(timeout), read=idle, connect=min(10.0, float(timeout)))
    return None


def call_deadline_of(timeout: Any) -> float | None:
    """LiteLLM's `timeout` as a deadline for the whole non-streamed turn (retries included)."""
    if isinstance(timeout, int | float) and timeout > 0:
        return time.monotonic() + float(timeout)
    return None


def answers(n: Any) -> int:
    """`n` as a count within `CODEX_MAX_N`: every answer is a whole turn on the shared plan."""
    try:
        count = 1 if n is None else int(n)
    except (TypeError, ValueError) as exc:
        raise CodexRequestRefusedError(f"`n` must be a whole number, not {str(n)[:20]!r}") from exc
    cap = config.CODEX_MAX_N.get()
    if count < 1 or count > cap:
        raise CodexRequestRefusedError(
            f"`n` is {count}; a call may ask for 1 to {cap} answers (each is a full turn on the "
            "ChatGPT plan). Ask for fewer, or raise CODEX_MAX_N on the server."
        )
    return count


def is_health_check(litellm_params: Mapping[str, Any]) -> bool:
    """LiteLLM tags its proxy health probes; they need no model turn (and no plan usage)."""
    for key in ("metadata", "litellm_metadata"):
        metadata = litellm_params.get(key)
        tags = metadata.get("tags") if isinstance(metadata, Mapping) else None
        if isinstance(tags, list | tuple) and HEALTH_CHECK_TAG in tags:
            return True
    return False


def annotate(model_response: ModelResponse, req: CodexRequest, headers: httpx.Headers) -> None:
    """The plan's rate-limit headers and the dropped parameters, where LiteLLM's proxy reads them."""
    hidden = getattr(model_response, "_hidden_params", None)
    if hidden is None:
        hidden = {}
        model_response._hidden_params = hidden  # type: ignore[attr-defined]
    extra = hidden.setdefault("additional_headers", {})
    extra.update(rate_limit_headers(headers))
    hidden["codex_dropped_params"] = list(req.dropped)


def health_response(model_response: ModelResponse, model: str, status: int) -> ModelResponse:
    model_response.choices[0].message.content = "ok"  # type: ignore[union-attr]
    model_response.choices[0].finish_reason = "stop"
    model_response.model = model
    model_response.usage = Usage(prompt_tokens=0, completion_tokens=0, total_tokens=0)  # type: ignore[attr-defined]
    model_response._hidden_params = {"codex_health_check": f"catalog HTTP {status}"}  # type: ignore[attr-defined]
    return model_response


def fresh(model_response: ModelResponse) -> ModelResponse:
    return ModelResponse(model=model_response.model)


def merge_choices(target: ModelResponse, results: list[ModelResponse]) -> ModelResponse:
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
