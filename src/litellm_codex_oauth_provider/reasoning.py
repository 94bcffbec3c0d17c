"""Reasoning settings: which effort to send, clamped to what the model supports."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from .catalog import ModelInfo
from .constants import REASONING_EFFORTS
from .model_map import get_model_family

logger = logging.getLogger(__name__)

_RANK = {effort: i for i, effort in enumerate(REASONING_EFFORTS)}

#: The old design's family rules, for models no catalog lists any more.
_LEGACY_FAMILY_EFFORTS: dict[str, tuple[str, ...]] = {
    "codex-mini": ("medium", "high"),
    "codex": ("low", "medium", "high"),
}


def clamp_effort(effort: str, supported: Sequence[str]) -> str:
    """The supported level nearest to `effort` in the order none … ultra (the higher on a tie)."""
    if not supported or effort in supported:
        return effort
    want = _RANK.get(effort, _RANK["medium"])
    return min(supported, key=lambda s: (abs(_RANK.get(s, want) - want), -_RANK.get(s, 0)))


def supported_efforts(slug: str, info: ModelInfo | None) -> tuple[str, ...]:
    if info is not None and info.efforts:
        return info.efforts
    return _LEGACY_FAMILY_EFFORTS.get(get_model_family(slug), ())


def resolve_effort(
    slug: str,
    info: ModelInfo | None,
    *,
    requested: str | None,
    suffix: str | None,
) -> str | None:
    """`reasoning_effort` parameter > model suffix > the model's default, then clamped (one warning)."""
    effort = (requested or suffix or (info.default_effort if info else None) or "").strip().lower() or None
    if effort is None:
        return None
    if effort not in _RANK:
        raise ValueError(f"reasoning_effort {effort!r} is not one of {', '.join(REASONING_EFFORTS)}")
    supported = supported_efforts(slug, info)
    clamped = clamp_effort(effort, supported)
    if clamped != effort:
        logger.warning(
            "codex: %s does not support reasoning effort %r; using %r (supported: %s)",
            slug,
            effort,
            clamped,
            ", ".join(supported),
        )
    return clamped


def apply_reasoning_config(
    body: dict,
    slug: str,
    info: ModelInfo | None,
    *,
    requested: str | None,
    suffix: str | None,
    summary: str | None,
) -> dict:
    """Set `body["reasoning"]` from the effort rules and the summary setting; returns `body`."""
    effort = resolve_effort(slug, info, requested=requested, suffix=suffix)
    reasoning: dict[str, str] = {}
    if effort is not None:
        reasoning["effort"] = effort
    if summary and (info is None or info.supports_reasoning_summaries):
        reasoning["summary"] = summary
    if reasoning:
        body["reasoning"] = reasoning
    return body
