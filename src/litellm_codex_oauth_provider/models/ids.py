"""Model ids: `codex/gpt-5.5-high-fast` → slug `gpt-5.5`, effort `high`, Fast tier.

Suffixes are cut only where the rest is a slug we know (so `codex-auto-review` and
`gpt-5.1-codex-max` stay whole); retired names map to their successors; an id no catalog knows
is refused with the close matches, unless the catalog at hand may simply be out of date.
"""

from __future__ import annotations

import difflib
import logging
import weakref
from collections.abc import Collection, Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from ..exceptions import CodexUnknownModelError
from ..log import log_once
from ..protocol import MODEL_PREFIXES, REASONING_EFFORTS

if TYPE_CHECKING:
    from .catalog import ModelCatalog, ModelInfo

logger = logging.getLogger(__name__)

FAST_SUFFIX = "fast"

#: Names the backend no longer lists, and what took their place. The successor's own catalog
#: `upgrade` is followed when it is retired too, so this table never has to name current models.
RETIRED_ALIASES: Mapping[str, str] = {
    **dict.fromkeys(
        (
            "gpt-5",
            "gpt-5-codex",
            "gpt-5.1",
            "gpt-5.1-codex",
            "gpt-5.1-codex-max",
            "gpt-5.2",
            "gpt-5.2-codex",
            "gpt-5.3-codex",
            "gpt-5.4",
        ),
        "gpt-5.5",
    ),
    **dict.fromkeys(
        ("codex-mini-latest", "gpt-5-mini", "gpt-5-codex-mini", "gpt-5.1-codex-mini", "gpt-5.4-mini"),
        "gpt-5.6-luna",
    ),
}

_indexes: weakref.WeakKeyDictionary[
    ModelCatalog, tuple[ModelCatalog | None, dict[str, str], dict[str, str]]
] = weakref.WeakKeyDictionary()


@dataclass(frozen=True)
class ModelSpec:
    """A parsed model id: the slug to send, what the id's suffixes asked for, and the retired name if any."""

    slug: str
    effort: str | None = None
    fast: bool = False
    alias_of: str | None = None


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


def normalize_model(model: str, known_slugs: Collection[str] = ()) -> ModelSpec:
    """Parse a model id into slug, effort suffix and Fast suffix, in either suffix order.

    A known slug is never cut (`codex-auto-review` stays whole); otherwise the reading that
    leaves a known slug with the fewest suffixes cut wins, and with no known slug left the
    suffixes are parsed by shape. Case is ignored; a known slug comes back as the catalog spells it.
    """
    return _normalize(model, {s.lower(): s for s in known_slugs})


def _normalize(model: str, known: Mapping[str, str]) -> ModelSpec:
    """`normalize_model` with the known slugs already keyed by their lower-case form."""
    name = strip_provider_prefix(model.strip())
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
            return replace(spec, slug=known[spec.slug.lower()])
    return ModelSpec(rest.lower(), effort, fast)


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


def successor(slug: str, catalog: ModelCatalog, upgrades: Mapping[str, str]) -> str | None:
    """The catalog model a retired `slug` leads to through `upgrades` (lower-case keys), if any."""
    seen = {slug.lower()}
    current = slug.lower()
    while (nxt := upgrades.get(current)) is not None:
        info = catalog.get(nxt)
        if info is not None:
            return info.slug
        if nxt.lower() in seen:
            return None
        seen.add(nxt.lower())
        current = nxt.lower()
    return None


def resolve_model(
    model: str, catalog: ModelCatalog, *, known: ModelCatalog | None = None
) -> tuple[ModelSpec, ModelInfo | None]:
    """A model id → the spec to send and the model's catalog facts.

    `known` (the bundled catalog) adds the `upgrade` edges of models the live catalog has
    dropped. An id no catalog knows raises `CodexModelError` when `catalog` is authoritative;
    otherwise it goes through as written (with a warning), since only the backend can tell.
    """
    upgrades, names = _index(catalog, known)
    spec = _normalize(model, names)
    info = catalog.get(spec.slug)
    if info is not None:
        return replace(spec, slug=info.slug), info
    target = successor(spec.slug, catalog, upgrades)
    if target is not None:
        log_once(
            logger,
            ("retired", spec.slug.lower(), target),
            logging.INFO,
            "codex: %s is retired; using %s",
            spec.slug,
            target,
        )
        return replace(spec, slug=target, alias_of=spec.slug), catalog.get(target)
    if catalog.authoritative:
        raise CodexUnknownModelError(unknown_model_message(spec.slug, catalog))
    log_once(
        logger,
        ("unknown-model", spec.slug.lower()),
        logging.WARNING,
        "codex: %s is not in the %s model catalog (the live catalog could not be fetched); sending it as written",
        spec.slug,
        catalog.source,
    )
    return spec, None


def _index(catalog: ModelCatalog, known: ModelCatalog | None) -> tuple[dict[str, str], dict[str, str]]:
    """The successor edges and every name worth keeping whole, built once per catalog."""
    cached = _indexes.get(catalog)
    if cached is not None and cached[0] is known:
        return cached[1], cached[2]
    upgrades: dict[str, str] = dict(RETIRED_ALIASES)
    if known is not None:
        upgrades.update(known.upgrades)
    upgrades.update(catalog.upgrades)
    names = {name: name for name in upgrades}
    names.update({slug.lower(): slug for slug in catalog.slugs})
    _indexes[catalog] = (known, upgrades, names)
    return upgrades, names


def unknown_model_message(slug: str, catalog: ModelCatalog) -> str:
    """What to say about an id the catalog lacks: the close matches, else the listed models."""
    suggestions = close_matches(slug, catalog.slugs)
    if suggestions:
        hint = f" Did you mean {', '.join('codex/' + s for s in suggestions)}?"
    else:
        listed = [m.slug for m in catalog.ordered() if m.listed] or catalog.slugs
        hint = f" Available: {', '.join('codex/' + s for s in listed)}."
    return f"Model {slug!r} is not in the Codex model catalog.{hint}"
