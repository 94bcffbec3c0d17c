"""Reasoning and verbosity settings: what to send, limited to what the model's catalog entry supports."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from ..exceptions import CodexRequestError
from ..log import log_once
from ..models.catalog import ModelInfo
from ..models.ids import get_model_family
from ..protocol import REASONING_EFFORTS

logger = logging.getLogger(__name__)

_RANK = {effort: i for i, effort in enumerate(REASONING_EFFORTS)}

#: The old design's family rules, only for models no catalog lists: mini takes medium and high
#: (none/minimal/low → medium, xhigh and up → high); codex takes low to high (minimal → low).
_LEGACY_FAMILY_EFFORTS: dict[str, tuple[str, ...]] = {
    "codex-mini": ("medium", "high"),
    "codex": ("low", "medium", "high"),
}


def clamp_effort(effort: str, supported: Sequence[str]) -> str:
    """The supported level nearest to `effort` in the order none … ultra (the higher one on a tie)."""
    if not supported or effort in supported:
        return effort
    want = _RANK.get(effort, _RANK["medium"])
    return min(supported, key=lambda s: (abs(_RANK.get(s, want) - want), -_RANK.get(s, 0)))


def supported_efforts(slug: str, info: ModelInfo | None) -> tuple[str, ...]:
    """The catalog's levels; for a model no catalog lists, the old family rules (empty: anything goes)."""
    if info is not None:
        return info.efforts
    return _LEGACY_FAMILY_EFFORTS.get(get_model_family(slug), ())


def _warn_once(slug: str, effort: str, used: str, supported: Sequence[str]) -> None:
    log_once(
        logger,
        ("reasoning", slug.lower(), effort, used),
        logging.WARNING,
        "codex: %s does not support reasoning effort %r; using %r (supported: %s)",
        slug,
        effort,
        used,
        ", ".join(supported) or "none",
    )


def _normalize(value: Any) -> str | None:
    text = str(value).strip().lower() if value is not None else ""
    if not text:
        return None
    if text not in _RANK:
        raise CodexRequestError(f"reasoning_effort {value!r} is not one of {', '.join(REASONING_EFFORTS)}")
    return text


def resolve_effort(
    slug: str,
    info: ModelInfo | None,
    *,
    requested: str | None,
    suffix: str | None,
) -> str | None:
    """`reasoning_effort` parameter > model suffix > the model's default, then fitted to the model.

    A level the model lacks becomes the nearest one it has (warned once per model and level);
    a catalog model with no levels at all gets no effort. Unknown models keep what was asked,
    within the old family rules.
    """
    effort = _normalize(requested) or _normalize(suffix) or _normalize(info.default_effort if info else None)
    if effort is None:
        return None
    if info is not None and not info.efforts:
        if requested or suffix:
            _warn_once(slug, effort, "no effort", ())
        return None
    supported = supported_efforts(slug, info)
    clamped = clamp_effort(effort, supported)
    if clamped != effort:
        _warn_once(slug, effort, clamped, supported)
    return clamped


def apply_reasoning_config(
    body: dict,
    slug: str,
    info: ModelInfo | None,
    *,
    requested: Any,
    suffix: str | None,
    summary: str | None,
) -> dict:
    """Set `body["reasoning"]` from the effort rules and the summary setting; returns `body`.

    `requested` may be LiteLLM's dict form `{"effort": …, "summary": …}`, whose summary wins
    over the setting. A summary is asked for only where the catalog says the model writes them,
    and not when reasoning is off.
    """
    if isinstance(requested, Mapping):
        summary = requested.get("summary", summary)
        requested = requested.get("effort")
    effort = resolve_effort(slug, info, requested=requested, suffix=suffix)
    reasoning: dict[str, str] = {}
    if effort is not None:
        reasoning["effort"] = effort
    summary_ok = info is None or info.supports_reasoning_summaries
    if summary and summary_ok and effort != "none":
        reasoning["summary"] = str(summary)
    if reasoning:
        body["reasoning"] = reasoning
    return body


def resolve_verbosity(info: ModelInfo | None, requested: Any) -> tuple[str | None, bool]:
    """`text.verbosity` to send, and whether the caller's value had to be dropped.

    The caller's value where the model supports verbosity (or is unknown), else the catalog's
    default for the model, as the Codex CLI sends it; nothing for models without support.
    """
    if requested is not None:
        if info is None or info.supports_verbosity:
            return str(requested).lower(), False
        return None, True
    if info is not None and info.supports_verbosity and info.default_verbosity:
        return info.default_verbosity, False
    return None, False
