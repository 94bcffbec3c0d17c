"""The model catalog: what each Codex model supports, as the backend's `/models` publishes it."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

from ..protocol import REASONING_EFFORTS

#: Where a catalog came from. Only a catalog the backend confirmed within the TTL is authoritative
#: enough to refuse an unknown model id; the others may simply be out of date.
SOURCE_LIVE = "live"  # fetched or revalidated by this process within the TTL
SOURCE_CACHE = "cache"  # read from the disk cache, fetched within the TTL
SOURCE_STALE = "stale"  # the last cached catalog, used because a fetch failed
SOURCE_BUNDLED = "bundled"  # shipped in the package: no fetch has ever worked
AUTHORITATIVE_SOURCES = frozenset({SOURCE_LIVE, SOURCE_CACHE})
FAST_TIER = "priority"


@dataclass(frozen=True)
class ModelInfo:
    """Facts about one model; `instructions` is the model's Codex prompt when the catalog carries it."""

    slug: str
    display_name: str = ""
    context_window: int | None = None
    max_output_tokens: int | None = None
    efforts: tuple[str, ...] = ()
    default_effort: str | None = None
    input_modalities: tuple[str, ...] = ("text",)
    supports_verbosity: bool = False
    default_verbosity: str | None = None
    supports_reasoning_summaries: bool = False
    service_tiers: tuple[str, ...] = ()
    upgrade: str | None = None
    visibility: str = "list"
    supports_parallel_tool_calls: bool = True
    priority: int | None = None
    instructions: str | None = field(default=None, repr=False)

    @property
    def supports_vision(self) -> bool:
        return "image" in self.input_modalities

    @property
    def supports_fast(self) -> bool:
        return FAST_TIER in self.service_tiers

    @property
    def listed(self) -> bool:
        """Whether the Codex CLI shows it in its model picker (hidden models still answer)."""
        return self.visibility == "list"


#: `{{ personality }}` and friends, as the Codex CLI writes them in `instructions_template`.
_PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")
#: The placeholder the CLI fills with `instructions_variables.personality_<choice>`; we use the default.
_PERSONALITY = "personality"


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def fill_template(template: str, variables: Mapping[str, Any] | None) -> str:
    """Fill the template's placeholders the way the CLI does, with the default personality.

    `{{ personality }}` takes `personality_default` (empty when the catalog gives none); another
    `{{ name }}` takes the variable of that name when the catalog defines it and is left as
    written otherwise, since prompts quote template syntax in examples.
    """
    values = dict(variables or {})

    def fill(match: re.Match[str]) -> str:
        name = match.group(1)
        if name == _PERSONALITY:
            return _text(values.get("personality_default"))
        return _text(values[name]) if name in values else match.group(0)

    return _PLACEHOLDER.sub(fill, template)


def render_instructions(entry: Mapping[str, Any]) -> str | None:
    """A catalog entry's instructions: its message template filled in, else `base_instructions`.

    The template wins when both are present, as in the Codex CLI (`get_model_instructions`).
    """
    messages = entry.get("model_messages")
    if isinstance(messages, Mapping):
        template = messages.get("instructions_template")
        if isinstance(template, str) and template.strip():
            variables = messages.get("instructions_variables")
            return fill_template(template, variables if isinstance(variables, Mapping) else None)
    base = entry.get("base_instructions")
    return base if isinstance(base, str) and base.strip() else None


def _efforts(entry: Mapping[str, Any]) -> tuple[str, ...]:
    levels = entry.get("supported_reasoning_levels") or entry.get("efforts") or []
    names = (level.get("effort") if isinstance(level, Mapping) else level for level in levels)
    return tuple(dict.fromkeys(str(n).lower() for n in names if str(n).lower() in REASONING_EFFORTS))


def _tiers(entry: Mapping[str, Any]) -> tuple[str, ...]:
    if "service_tier_ids" in entry:  # our bundled shape
        return tuple(str(t) for t in entry["service_tier_ids"] or ())
    tiers = [str(t["id"]) for t in entry.get("service_tiers") or [] if isinstance(t, Mapping) and t.get("id")]
    if "fast" in (entry.get("additional_speed_tiers") or ()) and FAST_TIER not in tiers:
        tiers.append(FAST_TIER)  # older catalogs name the Fast tier only here
    return tuple(tiers)


def _int(value: Any) -> int | None:
    return (
        int(value) if isinstance(value, int | float) and not isinstance(value, bool) and value > 0 else None
    )


def model_info_from_entry(entry: Mapping[str, Any]) -> ModelInfo:
    """One catalog entry (backend shape or our bundled shape) as a `ModelInfo`."""
    upgrade = entry.get("upgrade")
    if isinstance(upgrade, Mapping):
        upgrade = upgrade.get("model")
    default = entry.get("default_reasoning_level")
    priority = entry.get("priority")
    return ModelInfo(
        slug=str(entry["slug"]),
        display_name=str(entry.get("display_name") or entry["slug"]),
        context_window=_int(entry.get("context_window")),
        max_output_tokens=_int(entry.get("max_output_tokens")),
        efforts=_efforts(entry),
        default_effort=str(default).lower() if isinstance(default, str) and default else None,
        input_modalities=tuple(entry.get("input_modalities") or ("text",)),
        supports_verbosity=bool(entry.get("support_verbosity")),
        default_verbosity=entry.get("default_verbosity") or None,
        supports_reasoning_summaries=bool(entry.get("supports_reasoning_summaries")),
        service_tiers=_tiers(entry),
        upgrade=upgrade if isinstance(upgrade, str) and upgrade else None,
        visibility=str(entry.get("visibility") or "list"),
        supports_parallel_tool_calls=bool(entry.get("supports_parallel_tool_calls", True)),
        priority=priority if isinstance(priority, int) else None,
        instructions=render_instructions(entry),
    )


class ModelCatalog:
    """Models by slug, looked up case-insensitively; `source` says how far it can be trusted."""

    def __init__(
        self, models: Iterable[ModelInfo], *, source: str = SOURCE_BUNDLED, etag: str | None = None
    ) -> None:
        self._models = {m.slug.lower(): m for m in models}
        self.source = source
        self.etag = etag

    @classmethod
    def from_payload(
        cls, payload: Mapping[str, Any], *, source: str, etag: str | None = None
    ) -> ModelCatalog:
        entries = payload.get("models") if isinstance(payload, Mapping) else None
        if not isinstance(entries, list):
            raise ValueError("catalog payload has no `models` list")
        return cls(
            (model_info_from_entry(e) for e in entries if isinstance(e, Mapping) and e.get("slug")),
            source=source,
            etag=etag,
        )

    def with_source(self, source: str) -> ModelCatalog:
        """The same models under another source label (shares the models; nothing is copied)."""
        if source == self.source:
            return self
        other = ModelCatalog((), source=source, etag=self.etag)
        other._models = self._models
        return other

    @property
    def authoritative(self) -> bool:
        """True when the backend confirmed this catalog within the TTL: an id it lacks does not exist."""
        return self.source in AUTHORITATIVE_SOURCES

    def get(self, slug: str) -> ModelInfo | None:
        return self._models.get(slug.lower())

    def __contains__(self, slug: object) -> bool:
        return isinstance(slug, str) and slug.lower() in self._models

    def __iter__(self) -> Iterator[ModelInfo]:
        return iter(self._models.values())

    def __len__(self) -> int:
        return len(self._models)

    @property
    def slugs(self) -> list[str]:
        return [m.slug for m in self._models.values()]

    @property
    def upgrades(self) -> dict[str, str]:
        """`slug → successor` from the entries' `upgrade` fields (lower-case keys)."""
        return {key: m.upgrade for key, m in self._models.items() if m.upgrade}

    def ordered(self) -> list[ModelInfo]:
        """Models in the catalog's own order of preference (`priority`), then by slug."""
        return sorted(self._models.values(), key=lambda m: (m.priority is None, m.priority or 0, m.slug))


#: What the bundled catalog keeps of each entry: facts to resolve ids and fit requests offline,
#: never instructions or prose (they would go stale unseen, and the backend serves them anyway).
_BUNDLED_FACTS = (
    "slug",
    "display_name",
    "context_window",
    "max_output_tokens",
    "default_reasoning_level",
    "input_modalities",
    "support_verbosity",
    "default_verbosity",
    "supports_reasoning_summaries",
    "supports_parallel_tool_calls",
    "visibility",
    "priority",
)


def _bundled_entry(entry: Mapping[str, Any]) -> dict[str, Any]:
    """One backend catalog entry in the bundled shape (`efforts`, `service_tier_ids`, `upgrade` slug)."""
    out = {k: entry[k] for k in _BUNDLED_FACTS if entry.get(k) is not None}
    out["efforts"] = list(_efforts(entry))
    out["service_tier_ids"] = list(_tiers(entry))
    upgrade = entry.get("upgrade")
    out["upgrade"] = upgrade.get("model") if isinstance(upgrade, Mapping) else upgrade or None
    return out


def bundled_payload(payload: Mapping[str, Any]) -> dict[str, Any]:
    """A backend `/models` answer as the bundled catalog: slimmed, in the catalog's priority order."""
    entries = [_bundled_entry(e) for e in payload["models"] if isinstance(e, Mapping) and e.get("slug")]
    entries.sort(key=lambda e: (not isinstance(e.get("priority"), int), e.get("priority") or 0, e["slug"]))
    return {"models": entries}


@cache
def bundled_catalog() -> ModelCatalog:
    """The small catalog shipped in the package: used only when no live or cached one can be had."""
    text = (
        resources.files("litellm_codex_oauth_provider")
        .joinpath("data/bundled_models.json")
        .read_text(encoding="utf-8")
    )
    return ModelCatalog.from_payload(json.loads(text), source=SOURCE_BUNDLED)
