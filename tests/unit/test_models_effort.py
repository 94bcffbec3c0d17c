"""Reasoning effort, summaries and verbosity follow the catalog (docs/models.md, "Reasoning effort")."""

from __future__ import annotations

import json
import logging
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from litellm_codex_oauth_provider import log
from litellm_codex_oauth_provider.models.catalog import ModelCatalog, ModelInfo, bundled_catalog
from litellm_codex_oauth_provider.models.ids import resolve_model
from litellm_codex_oauth_provider.protocol import REASONING_EFFORTS
from litellm_codex_oauth_provider.request.body import build_request
from litellm_codex_oauth_provider.request.reasoning import clamp_effort, resolve_effort
from litellm_codex_oauth_provider.testing.fake_codex import CATALOG_FILE as REFERENCE

LIVE = ModelCatalog.from_payload(json.loads(REFERENCE.read_text(encoding="utf-8")), source="live")


@pytest.fixture(autouse=True)
def _fresh_warn_once_state():
    log.forget_logged()
    yield
    log.forget_logged()


def body(model: str, catalog: ModelCatalog = LIVE, **params) -> dict:
    spec, info = resolve_model(model, catalog, known=bundled_catalog())
    return build_request(spec, info, [{"role": "user", "content": "hi"}], params).body


# -- precedence ---------------------------------------------------------------------------------------


def test_parameter_beats_suffix_beats_catalog_default() -> None:
    assert body("codex/gpt-6-sol-low", reasoning_effort="high")["reasoning"]["effort"] == "high"
    assert body("codex/gpt-6-sol-low")["reasoning"]["effort"] == "low"
    assert body("codex/gpt-6-sol")["reasoning"]["effort"] == "medium"  # its default_reasoning_level
    assert body("codex/gpt-6.1-sol")["reasoning"]["effort"] == "low"  # a different default


def test_litellm_dict_form_of_reasoning_effort_sets_effort_and_summary() -> None:
    reasoning_ = body("codex/gpt-6-sol", reasoning_effort={"effort": "xhigh", "summary": "detailed"})[
        "reasoning"
    ]
    assert reasoning_ == {"effort": "xhigh", "summary": "detailed"}


def test_an_effort_that_is_no_level_at_all_is_refused() -> None:
    with pytest.raises(ValueError, match="turbo"):
        body("codex/gpt-6-sol", reasoning_effort="turbo")


# -- clamping -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "asked", "sent"),
    [
        ("codex/gpt-5.5", "max", "xhigh"),  # gpt-5.5: low … xhigh
        ("codex/gpt-5.5", "ultra", "xhigh"),
        ("codex/gpt-5.5", "none", "low"),
        ("codex/gpt-5.5", "minimal", "low"),
        ("codex/gpt-6-luna", "ultra", "max"),  # luna: low … max
        ("codex/gpt-6-sol", "ultra", "ultra"),
    ],
)
def test_an_unsupported_level_becomes_the_nearest_supported_one(model: str, asked: str, sent: str) -> None:
    assert body(model, reasoning_effort=asked)["reasoning"]["effort"] == sent


def test_clamping_warns_once_naming_both_levels(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)
    for _ in range(3):
        body("codex/gpt-5.5-max")
    warnings = [
        r.getMessage() for r in caplog.records if "does not support reasoning effort" in r.getMessage()
    ]
    assert len(warnings) == 1
    assert "'max'" in warnings[0] and "'xhigh'" in warnings[0] and "gpt-5.5" in warnings[0]


def test_none_is_sent_only_where_the_catalog_lists_it() -> None:
    with_none = replace(LIVE.get("gpt-6-sol"), efforts=("none", "low", "medium", "high"))
    catalog = ModelCatalog([with_none], source="live")
    # No summary is asked for when reasoning is off.
    assert body("codex/gpt-6-sol-none", catalog)["reasoning"] == {"effort": "none"}
    for info in LIVE:
        assert body(f"codex/{info.slug}-none")["reasoning"]["effort"] != "none"


def test_a_catalog_model_without_levels_gets_no_effort() -> None:
    plain = ModelCatalog([ModelInfo("plain-model", efforts=(), default_effort=None)], source="live")
    assert "effort" not in body("codex/plain-model-high", plain).get("reasoning", {})


@settings(max_examples=200, deadline=None)
@given(
    asked=st.sampled_from(REASONING_EFFORTS),
    supported=st.lists(st.sampled_from(REASONING_EFFORTS), min_size=1, unique=True),
)
def test_clamp_picks_a_supported_level_at_minimal_distance_preferring_higher(
    asked: str, supported: list[str]
) -> None:
    rank = {e: i for i, e in enumerate(REASONING_EFFORTS)}
    got = clamp_effort(asked, supported)
    assert got in supported
    best = min(abs(rank[s] - rank[asked]) for s in supported)
    assert abs(rank[got] - rank[asked]) == best
    assert rank[got] == max(rank[s] for s in supported if abs(rank[s] - rank[asked]) == best)


# -- old models no catalog lists ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("slug", "asked", "sent"),
    [
        ("gpt-5-codex-mini-x", "none", "medium"),
        ("gpt-5-codex-mini-x", "minimal", "medium"),
        ("gpt-5-codex-mini-x", "low", "medium"),
        ("gpt-5-codex-mini-x", "xhigh", "high"),
        ("gpt-5-codex-x", "minimal", "low"),
        ("gpt-5-codex-x", "xhigh", "high"),
        ("gpt-5-codex-x", "medium", "medium"),
        ("gpt-9-x", "minimal", "minimal"),  # no family rule: sent as asked
    ],
)
def test_family_clamps_apply_only_to_models_no_catalog_lists(slug: str, asked: str, sent: str) -> None:
    assert resolve_effort(slug, None, requested=asked, suffix=None) == sent


def test_family_clamps_do_not_touch_catalog_models() -> None:
    # codex-auto-review is a "codex" family name, but its catalog levels rule: low … max.
    assert body("codex/codex-auto-review-max")["reasoning"]["effort"] == "max"


# -- summaries and verbosity ----------------------------------------------------------------------------


def test_summary_is_auto_where_the_catalog_says_the_model_writes_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert body("codex/gpt-6-sol")["reasoning"]["summary"] == "auto"
    no_summaries = ModelCatalog(
        [replace(LIVE.get("gpt-6-sol"), supports_reasoning_summaries=False)], source="live"
    )
    assert "summary" not in body("codex/gpt-6-sol", no_summaries)["reasoning"]
    monkeypatch.setenv("CODEX_REASONING_SUMMARY", "off")
    assert "summary" not in body("codex/gpt-6-sol")["reasoning"]
    monkeypatch.setenv("CODEX_REASONING_SUMMARY", "concise")
    assert body("codex/gpt-6-sol")["reasoning"]["summary"] == "concise"


def test_verbosity_is_the_callers_else_the_catalog_default_and_only_where_supported() -> None:
    assert body("codex/gpt-6-sol")["text"] == {"verbosity": "low"}
    assert body("codex/gpt-daybreak-red-latest")["text"] == {"verbosity": "high"}  # its own default
    assert body("codex/gpt-6-sol", verbosity="HIGH")["text"] == {"verbosity": "high"}
    mute = ModelCatalog([replace(LIVE.get("gpt-6-sol"), supports_verbosity=False)], source="live")
    assert "text" not in body("codex/gpt-6-sol", mute)
    spec, info = resolve_model("codex/gpt-6-sol", mute)
    req = build_request(spec, info, [{"role": "user", "content": "hi"}], {"verbosity": "high"})
    assert "text" not in req.body and "verbosity" in req.dropped
