"""Model ids (docs/models.md, "Model ids"): prefixes, effort and Fast suffixes, retired names, unknown ids."""

from __future__ import annotations

import json
import logging

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from litellm_codex_oauth_provider import log
from litellm_codex_oauth_provider.exceptions import CodexModelError
from litellm_codex_oauth_provider.models import ids
from litellm_codex_oauth_provider.models.catalog import ModelCatalog, bundled_catalog
from litellm_codex_oauth_provider.models.ids import (
    RETIRED_ALIASES,
    ModelSpec,
    normalize_model,
    resolve_model,
)
from litellm_codex_oauth_provider.protocol import REASONING_EFFORTS
from litellm_codex_oauth_provider.testing.fake_codex import CATALOG_FILE as REFERENCE

LIVE = ModelCatalog.from_payload(json.loads(REFERENCE.read_text(encoding="utf-8")), source="live")
BUNDLED = bundled_catalog()
KNOWN = sorted({*LIVE.slugs, *BUNDLED.slugs, *RETIRED_ALIASES})


@pytest.fixture(autouse=True)
def _fresh_log_once_state():
    log._logged.clear()
    yield
    log._logged.clear()


def resolve(model: str, catalog: ModelCatalog = LIVE) -> ModelSpec:
    return resolve_model(model, catalog, known=BUNDLED)[0]


# -- parsing ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "expected"),
    [
        ("codex/gpt-5.5", ModelSpec("gpt-5.5")),
        ("codex-oauth/gpt-5.5", ModelSpec("gpt-5.5")),
        ("gpt-5.5", ModelSpec("gpt-5.5")),
        ("codex/gpt-5.5-high", ModelSpec("gpt-5.5", "high")),
        ("codex/gpt-5.5-fast", ModelSpec("gpt-5.5", None, True)),
        ("codex/gpt-5.5-high-fast", ModelSpec("gpt-5.5", "high", True)),
        ("codex/gpt-5.5-fast-high", ModelSpec("gpt-5.5", "high", True)),
        ("codex/gpt-6.1-sol-ultra", ModelSpec("gpt-6.1-sol", "ultra")),
        ("codex/gpt-6.1-sol", ModelSpec("gpt-6.1-sol")),
        ("codex/codex-auto-review", ModelSpec("codex-auto-review")),
        ("codex/codex-auto-review-minimal", ModelSpec("codex-auto-review", "minimal")),
        ("CODEX/GPT-6-SOL-XHIGH-FAST", ModelSpec("gpt-6-sol", "xhigh", True)),
        ("  codex/gpt-6-luna-none ", ModelSpec("gpt-6-luna", "none")),
    ],
)
def test_ids_parse_into_slug_effort_and_fast(model: str, expected: ModelSpec) -> None:
    assert resolve(model) == expected


def test_a_known_slug_that_ends_in_an_effort_word_is_never_cut() -> None:
    assert normalize_model("gpt-5.1-codex-max", KNOWN) == ModelSpec("gpt-5.1-codex-max")
    assert normalize_model("gpt-5.1-codex-max-high", KNOWN) == ModelSpec("gpt-5.1-codex-max", "high")
    assert normalize_model("gpt-5.1-codex-max-max-fast", KNOWN) == ModelSpec("gpt-5.1-codex-max", "max", True)


def test_unknown_ids_are_parsed_by_shape() -> None:
    assert normalize_model("codex/gpt-9-turbo-high-fast", KNOWN) == ModelSpec("gpt-9-turbo", "high", True)
    assert normalize_model("codex/high", KNOWN) == ModelSpec("high")


SUFFIXES = st.sampled_from([None, *REASONING_EFFORTS])
PREFIXES = st.sampled_from(["", "codex/", "codex-oauth/", "CODEX/"])


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    slug=st.sampled_from(KNOWN),
    effort=SUFFIXES,
    fast=st.booleans(),
    fast_first=st.booleans(),
    prefix=PREFIXES,
    upper=st.lists(st.booleans(), min_size=64, max_size=64),
)
def test_every_known_slug_with_every_suffix_parses_back(
    slug: str, effort: str | None, fast: bool, fast_first: bool, prefix: str, upper: list[bool]
) -> None:
    suffixes = [f"-{effort}" if effort else "", "-fast" if fast else ""]
    if fast_first:
        suffixes.reverse()
    body = slug + "".join(suffixes)
    # A slug plus a suffix that spells another known slug is that slug (gpt-5.1-codex + max).
    assume(not any(slug + s in KNOWN for s in ("-" + (effort or ""), "-fast") if s != "-"))
    body = "".join(c.upper() if up else c for c, up in zip(body, upper + [False] * len(body), strict=False))
    assert normalize_model(prefix + body, KNOWN) == ModelSpec(slug, effort, fast)


@settings(max_examples=200, deadline=None)
@given(slug=st.sampled_from(LIVE.slugs), effort=SUFFIXES, fast=st.booleans())
def test_every_catalog_slug_resolves_to_its_catalog_entry(slug: str, effort: str | None, fast: bool) -> None:
    model = f"codex/{slug}" + (f"-{effort}" if effort else "") + ("-fast" if fast else "")
    spec, info = resolve_model(model, LIVE, known=BUNDLED)
    assert info is not None and info.slug == spec.slug == slug
    assert (spec.effort, spec.fast, spec.alias_of) == (effort, fast, None)


@settings(max_examples=300, deadline=None)
@given(text=st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789.-/", max_size=40))
def test_the_parser_never_crashes_and_keeps_what_it_does_not_cut(text: str) -> None:
    spec = normalize_model(text, KNOWN)
    assert spec.slug.lower() in ids.strip_provider_prefix(text.strip()).lower()
    assert spec.effort is None or spec.effort in REASONING_EFFORTS


# -- retired names --------------------------------------------------------------------------------


def test_a_retired_slug_goes_to_its_successor_through_the_catalog_upgrade_field() -> None:
    live_without_55 = ModelCatalog((m for m in LIVE if m.slug != "gpt-5.5"), source="live")
    spec, info = resolve_model("codex/gpt-5.5-high", live_without_55, known=BUNDLED)
    assert (spec.slug, spec.effort, spec.alias_of) == ("gpt-6-sol", "high", "gpt-5.5")
    assert info is not None and info.slug == "gpt-6-sol"


def test_old_names_chain_through_the_alias_table_and_upgrades(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="litellm_codex_oauth_provider.models.ids")
    assert resolve("codex/gpt-5.1-codex-max-high") == ModelSpec(
        "gpt-5.5", "high", alias_of="gpt-5.1-codex-max"
    )
    assert resolve("codex/gpt-5-codex-mini") == ModelSpec("gpt-5.6-luna", alias_of="gpt-5-codex-mini")
    resolve("codex/gpt-5.1-codex-max")
    retired = [r for r in caplog.records if "retired" in r.getMessage()]
    assert len(retired) == 2  # once per name, not per call
    # With gpt-5.5 gone too, gpt-5.1-codex follows gpt-5.5's own upgrade to gpt-6-sol.
    live = ModelCatalog((m for m in LIVE if m.slug != "gpt-5.5"), source="live")
    assert resolve("codex/gpt-5.1-codex", live).slug == "gpt-6-sol"


def test_a_listed_model_is_sent_as_written_even_if_it_has_a_successor() -> None:
    spec, info = resolve_model("codex/gpt-5.5", LIVE, known=BUNDLED)
    assert spec.slug == "gpt-5.5" and info is not None and info.upgrade == "gpt-6-sol"


def test_upgrade_cycles_end() -> None:
    assert ids.successor("a", LIVE, {"a": "b", "b": "a"}) is None


# -- unknown ids ----------------------------------------------------------------------------------


def test_an_unknown_id_fails_with_the_close_matches() -> None:
    with pytest.raises(CodexModelError) as info:
        resolve("codex/gpt-6-sool-high")
    message = str(info.value)
    assert "'gpt-6-sool'" in message
    assert "codex/gpt-6-sol" in message


def test_an_unknown_id_with_no_close_match_lists_the_models() -> None:
    with pytest.raises(CodexModelError, match=r"Available: codex/gpt-6\.1-sol"):
        resolve("codex/zzzzzz")


@pytest.mark.parametrize("source", ["bundled", "stale"])
def test_with_an_unconfirmed_catalog_an_unknown_id_goes_through_with_one_warning(
    source: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    catalog = LIVE.with_source(source)
    for _ in range(3):
        spec, info = resolve_model("codex/gpt-7-preview-high", catalog, known=BUNDLED)
        assert (spec.slug, spec.effort, info) == ("gpt-7-preview", "high", None)
    assert len([r for r in caplog.records if "gpt-7-preview" in r.getMessage()]) == 1
