"""The model catalog: what each Codex model supports, as the backend's `/models` publishes it."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from .constants import REASONING_EFFORTS


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
    instructions: str | None = field(default=None, repr=False)

    @property
    def supports_vision(self) -> bool:
        return "image" in self.input_modalities

    @property
    def supports_fast(self) -> bool:
        return "priority" in self.service_tiers


def _instructions(entry: Mapping[str, Any]) -> str | None:
    """`base_instructions`, else the message template with its placeholders left empty."""
    base = entry.get("base_instructions")
    if isinstance(base, str) and base.strip():
        return base
    messages = entry.get("model_messages")
    template = messages.get("instructions_template") if isinstance(messages, Mapping) else None
    if not isinstance(template, str) or not template.strip():
        return None
    variables = messages.get("instructions_variables") if isinstance(messages, Mapping) else None
    values = variables if isinstance(variables, Mapping) else {}
    text = template
    for name, value in values.items():
        text = text.replace("{{" + str(name) + "}}", str(value) if value is not None else "")
    return text


def _tiers(entry: Mapping[str, Any]) -> tuple[str, ...]:
    tiers = entry.get("service_tiers") or []
    return tuple(str(t["id"]) for t in tiers if isinstance(t, Mapping) and t.get("id"))


def model_info_from_entry(entry: Mapping[str, Any]) -> ModelInfo:
    """One catalog entry (backend shape or our bundled shape) as a `ModelInfo`."""
    levels = entry.get("supported_reasoning_levels") or entry.get("efforts") or []
    efforts = tuple(
        level["effort"] if isinstance(level, Mapping) else str(level)
        for level in levels
        if (level.get("effort") if isinstance(level, Mapping) else level) in REASONING_EFFORTS
    )
    upgrade = entry.get("upgrade")
    if isinstance(upgrade, Mapping):
        upgrade = upgrade.get("model")
    return ModelInfo(
        slug=str(entry["slug"]),
        display_name=str(entry.get("display_name") or entry["slug"]),
        context_window=entry.get("context_window"),
        max_output_tokens=entry.get("max_output_tokens"),
        efforts=efforts,
        default_effort=entry.get("default_reasoning_level"),
        input_modalities=tuple(entry.get("input_modalities") or ("text",)),
        supports_verbosity=bool(entry.get("support_verbosity")),
        default_verbosity=entry.get("default_verbosity"),
        supports_reasoning_summaries=bool(entry.get("supports_reasoning_summaries")),
        service_tiers=tuple(entry["service_tier_ids"]) if "service_tier_ids" in entry else _tiers(entry),
        upgrade=upgrade if isinstance(upgrade, str) else None,
        visibility=str(entry.get("visibility") or "list"),
        supports_parallel_tool_calls=bool(entry.get("supports_parallel_tool_calls", True)),
        instructions=_instructions(entry),
    )


class ModelCatalog:
    """Models by slug, looked up case-insensitively."""

    def __init__(
        self, models: Iterable[ModelInfo], *, source: str = "bundled", etag: str | None = None
    ) -> None:
        self._models = {m.slug.lower(): m for m in models}
        self.source = source
        self.etag = etag

    @classmethod
    def from_payload(
        cls, payload: Mapping[str, Any], *, source: str, etag: str | None = None
    ) -> ModelCatalog:
        entries = payload.get("models")
        if not isinstance(entries, list):
            raise ValueError("catalog payload has no `models` list")
        return cls(
            (model_info_from_entry(e) for e in entries if isinstance(e, Mapping) and e.get("slug")),
            source=source,
            etag=etag,
        )

    def get(self, slug: str) -> ModelInfo | None:
        return self._models.get(slug.lower())

    def __contains__(self, slug: object) -> bool:
        return isinstance(slug, str) and slug.lower() in self._models

    def __iter__(self):
        return iter(self._models.values())

    def __len__(self) -> int:
        return len(self._models)

    @property
    def slugs(self) -> list[str]:
        return [m.slug for m in self._models.values()]


def bundled_catalog() -> ModelCatalog:
    """The small catalog shipped in the package: used only when no live or cached one can be had."""
    text = resources.files(__package__).joinpath("data/bundled_models.json").read_text(encoding="utf-8")
    return ModelCatalog.from_payload(json.loads(text), source="bundled")
