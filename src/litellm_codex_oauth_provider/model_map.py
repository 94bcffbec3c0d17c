"""Model ids: `codex/gpt-5.5-high-fast` → slug `gpt-5.5`, effort `high`, Fast tier."""

from __future__ import annotations

import difflib
from collections.abc import Collection
from dataclasses import dataclass

from .constants import MODEL_PREFIXES, REASONING_EFFORTS

FAST_SUFFIX = "fast"


@dataclass(frozen=True)
class ModelSpec:
    """A parsed model id: the slug to send, and what the id's suffixes asked for."""

    slug: str
    effort: str | None = None
    fast: bool = False


def strip_provider_prefix(model: str) -> str:
    """`codex/gpt-5.5` → `gpt-5.5`; the old `codex-oauth/` prefix too."""
    lowered = model.lower()
    for prefix in MODEL_PREFIXES:
        if lowered.startswith(prefix):
            return model[len(prefix) :]
    return model


def _split_suffix(name: str, allowed: Collection[str]) -> tuple[str, str | None]:
    head, sep, tail = name.rpartition("-")
    if sep and head and tail.lower() in allowed:
        return head, tail.lower()
    return name, None


def extract_reasoning_effort_from_model(
    model: str, known_slugs: Collection[str] = ()
) -> tuple[str, str | None]:
    """Split a trailing effort suffix off a model id, unless the whole id is itself a known slug."""
    spec = normalize_model(model, known_slugs)
    return spec.slug, spec.effort


def normalize_model(model: str, known_slugs: Collection[str] = ()) -> ModelSpec:
    """Parse a model id into slug, effort suffix and Fast suffix, in either suffix order.

    A slug the catalog knows is never cut (`codex-auto-review` stays whole); otherwise the
    longest known prefix wins, and with no catalog match the suffixes are parsed by shape.
    """
    name = strip_provider_prefix(model.strip())
    known = {s.lower(): s for s in known_slugs}
    if name.lower() in known:
        return ModelSpec(known[name.lower()])
    candidates: list[ModelSpec] = []
    rest, effort, fast = name, None, False
    for _ in range(2):
        if not fast:
            head, found = _split_suffix(rest, (FAST_SUFFIX,))
            if found:
                rest, fast = head, True
                candidates.append(ModelSpec(rest, effort, fast))
                continue
        if effort is None:
            head, found = _split_suffix(rest, REASONING_EFFORTS)
            if found:
                rest, effort = head, found
                candidates.append(ModelSpec(rest, effort, fast))
                continue
        break
    for spec in candidates:
        if spec.slug.lower() in known:
            return ModelSpec(known[spec.slug.lower()], spec.effort, spec.fast)
    return ModelSpec(rest, effort, fast)


def get_model_family(slug: str) -> str:
    """Coarse family of a model, for rules about old models the catalog no longer lists."""
    s = slug.lower()
    if "codex" in s and "mini" in s:
        return "codex-mini"
    if "codex" in s:
        return "codex"
    if s.startswith("gpt-"):
        return "gpt"
    return "other"


def close_matches(name: str, slugs: Collection[str], limit: int = 3) -> list[str]:
    """Slugs that look like `name`, for an error that says what was probably meant."""
    lowered = {s.lower(): s for s in slugs}
    return [lowered[m] for m in difflib.get_close_matches(name.lower(), list(lowered), n=limit, cutoff=0.5)]
