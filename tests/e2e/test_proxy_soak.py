"""The soak benchmark's short form (bench/soak.py --short): the proxy with 2 workers under load and faults."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e
SOAK = Path(__file__).resolve().parents[2] / "bench" / "soak.py"


def test_short_soak_every_request_ends_complete_or_with_a_typed_error():
    spec = importlib.util.spec_from_file_location("codex_soak", SOAK)
    assert spec is not None and spec.loader is not None
    soak = importlib.util.module_from_spec(spec)
    sys.modules["codex_soak"] = soak
    spec.loader.exec_module(soak)
    report = soak.main(["--short", "--no-save"])
    assert report["ok"], "\n".join(report["problems"])
    assert report["refresh_token_reused"] == 0 and report["auth_bad_reads"] == 0
    assert report["refreshes"] >= 1  # tokens expired and were renewed under load
    seen = {name.split("/")[0] for name in report["outcomes"]}
    assert {"cut_mid_stream", "usage_limit", "503_first"} <= seen  # the faults really happened
