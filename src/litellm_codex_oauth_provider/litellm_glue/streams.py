"""What a turn hands on besides its answer: the plan's headers, and a stream opened early.

`record_plan_usage` keeps the plan's usage for `codex-litellm status`; `rate_limit_headers`
names the backend's plan-usage headers the way the proxy passes provider headers on;
`StreamReport` carries them (and the dropped parameters) to the `CustomStreamWrapper` LiteLLM
builds around the provider's chunks (see `patches`); `PrimedStream` lets `patches` open an async
stream's request before `litellm.acompletion` returns, so HTTP errors fail the call itself.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from litellm.types.utils import ModelResponseStream

from .. import protocol, usage

logger = logging.getLogger(__name__)


def rate_limit_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """The backend's plan-usage headers, named the way the LiteLLM proxy passes provider headers on."""
    return {f"llm_provider-{k}": v for k, v in protocol.rate_limit_headers(headers).items()}


def record_plan_usage(headers: Mapping[str, str]) -> None:
    """Keep the plan's usage (`x-codex-*` headers) for `codex-litellm status` (see `usage`).

    Costs a header scan and a comparison: the file is written by a background thread, only
    when the values changed, at most once per second.
    """
    try:
        usage.record(headers)
    except Exception as exc:  # the snapshot is a convenience: it must never fail a call
        logger.debug("codex: could not record the plan usage: %s", exc)


class StreamReport:
    """Rate-limit headers and dropped parameters of a streamed turn, for the stream the caller holds.

    LiteLLM wraps a custom provider's chunks in a `CustomStreamWrapper` that the provider never
    sees, and the proxy takes a stream's response headers from that wrapper's
    `_hidden_params["additional_headers"]` once the first chunk is out. The report lives on the
    call's logging object, which both sides see: `patches` binds the wrapper's hidden
    params to it when LiteLLM creates the wrapper, and the provider publishes once the backend
    has answered. Either may come first (the sync handler opens the stream before LiteLLM wraps
    it; an async stream is opened right after, see `PrimedStream`), and a turn sent again
    publishes again. Headers are added to the existing dict in place, because LiteLLM and the
    router keep references to it.
    """

    _ATTR = "_codex_stream_report"

    def __init__(self) -> None:
        self._hidden: dict[str, Any] | None = None
        self._headers: dict[str, str] = {}
        self._dropped: list[str] | None = None

    @classmethod
    def of(cls, logging_obj: Any) -> StreamReport | None:
        """The call's report, created on first use; None when there is no logging object to hold it."""
        if logging_obj is None:
            return None
        report = getattr(logging_obj, cls._ATTR, None)
        if report is None:
            report = cls()
            try:
                setattr(logging_obj, cls._ATTR, report)
            except (AttributeError, TypeError):
                return None
        return report

    def publish(self, headers: Mapping[str, str], dropped: list[str]) -> None:
        self._headers.update(headers)
        self._dropped = list(dropped)
        self._apply()

    def bind(self, hidden_params: dict[str, Any]) -> None:
        self._hidden = hidden_params
        self._apply()

    def _apply(self) -> None:
        hidden = self._hidden
        if hidden is None or self._dropped is None:
            return
        extra = hidden.get("additional_headers")
        if not isinstance(extra, dict):
            extra = hidden["additional_headers"] = {}
        extra.update(self._headers)
        hidden["codex_dropped_params"] = list(self._dropped)


class PrimedStream:
    """An async chunk stream whose request can be opened before anyone asks for a chunk.

    Wraps the provider's turn generator, which yields `OPENED` once the backend has answered and
    the chunks after it. `open()` runs the generator up to that point, so that HTTP errors are
    raised to whoever opens; iterating without `open()` opens on the first chunk.
    """

    OPENED: Any = object()

    def __init__(self, turn: Any) -> None:
        self._turn = turn
        self._opened = False

    async def open(self) -> None:
        if not self._opened:
            self._opened = True
            first = await self._turn.__anext__()
            if first is not self.OPENED:  # pragma: no cover - the provider always yields it first
                raise RuntimeError("the Codex turn stream did not start with OPENED")

    def __aiter__(self) -> PrimedStream:
        return self

    async def __anext__(self) -> ModelResponseStream:
        await self.open()
        return await self._turn.__anext__()

    async def aclose(self) -> None:
        await self._turn.aclose()
