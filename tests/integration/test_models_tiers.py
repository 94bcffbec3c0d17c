"""The Fast tier (docs/models.md, "Fast tier"): `-fast` or `service_tier`, only where the catalog lists it."""

from __future__ import annotations

import json

import litellm
import pytest

from litellm_codex_oauth_provider.exceptions import CodexModelError
from litellm_codex_oauth_provider.models.catalog import ModelCatalog, model_info_from_entry
from litellm_codex_oauth_provider.models.ids import resolve_model
from litellm_codex_oauth_provider.request.body import build_request
from litellm_codex_oauth_provider.testing.fake_codex import CATALOG_FILE as REFERENCE

LIVE = ModelCatalog.from_payload(json.loads(REFERENCE.read_text(encoding="utf-8")), source="live")
MESSAGES = [{"role": "user", "content": "hi"}]


def body(model: str, **params) -> dict:
    spec, info = resolve_model(model, LIVE)
    return build_request(spec, info, MESSAGES, params).body


@pytest.mark.parametrize(
    ("model", "params"),
    [
        ("codex/gpt-6-sol-fast", {}),
        ("codex/gpt-6-sol-high-fast", {}),
        ("codex/gpt-6-sol", {"service_tier": "priority"}),
        ("codex/gpt-6-sol", {"service_tier": "fast"}),
        ("codex/gpt-6-sol", {"service_tier": "FAST"}),
    ],
)
def test_fast_sends_the_priority_tier(model: str, params: dict) -> None:
    assert body(model, **params)["service_tier"] == "priority"


@pytest.mark.parametrize("tier", [None, "auto", "default"])
def test_no_tier_is_sent_unless_asked(tier: str | None) -> None:
    assert "service_tier" not in body("codex/gpt-6-sol", service_tier=tier)


def test_the_catalog_decides_which_models_have_the_fast_tier() -> None:
    fast = {m.slug for m in LIVE if m.supports_fast}
    assert fast == set(LIVE.slugs) - {"gpt-daybreak-blue-latest", "gpt-daybreak-red-latest"}


def test_older_catalogs_that_name_fast_only_as_a_speed_tier_count_too() -> None:
    info = model_info_from_entry({"slug": "m", "service_tiers": [], "additional_speed_tiers": ["fast"]})
    assert info.supports_fast


@pytest.mark.parametrize("params", [{"service_tier": "priority"}, {"service_tier": "fast"}])
def test_fast_on_a_model_without_the_tier_is_a_clear_error(params: dict) -> None:
    with pytest.raises(CodexModelError, match="gpt-daybreak-red-latest has no Fast tier"):
        body("codex/gpt-daybreak-red-latest", **params)
    with pytest.raises(CodexModelError, match="no Fast tier"):
        body("codex/gpt-daybreak-red-latest-fast")


def test_through_litellm_the_error_is_a_bad_request_and_nothing_is_sent(codex_home, fake, provider) -> None:
    with pytest.raises(litellm.BadRequestError, match="no Fast tier"):
        litellm.completion(model="codex/gpt-daybreak-blue-latest-fast", messages=MESSAGES)
    assert fake.responses_count == 0
    litellm.completion(model="codex/gpt-6.1-sol-fast", messages=MESSAGES)
    assert fake.last_request.body["service_tier"] == "priority"
    assert fake.last_request.body["model"] == "gpt-6.1-sol"
