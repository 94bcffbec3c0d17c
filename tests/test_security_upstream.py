"""What the package caches and what servers send it: a tampered cache, huge answers, answers that drip.

The fake backend (tests/support/fake_codex.py) plays the hostile server over real sockets.
"""

from __future__ import annotations

import copy
import json
import os
import stat
import time
from pathlib import Path

import pytest

from litellm_codex_oauth_provider import settings, usage_snapshot
from litellm_codex_oauth_provider.remote_resources import CatalogStore
from tests.support.fake_codex import FakeCodexBackend
from tests.support.fifo import FifoWatch


@pytest.fixture
def client(codex_home, fake, provider):
    return provider.pool_for().sync_client(fake.base_url)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


# --------------------------------------------------------------------------- item 10: the catalog cache


def _tamper(cache: Path, fetched_at: float) -> None:
    """Add a model to the cached catalog and date its copy `fetched_at`, keeping the real ETag."""
    (meta_path,) = cache.glob("models/*.meta.json")
    body_path = meta_path.with_name(meta_path.name.replace(".meta.json", ".json"))
    payload = json.loads(body_path.read_text())
    evil = copy.deepcopy(payload["models"][0])
    evil["slug"] = evil["display_name"] = "gpt-planted"
    payload["models"].append(evil)
    body_path.write_text(json.dumps(payload))
    meta = json.loads(meta_path.read_text())
    meta["fetched_at"] = fetched_at
    meta_path.write_text(json.dumps(meta))


@pytest.mark.parametrize("fetched_at", [time.time() + 10 * 365 * 86400, float("inf")])
def test_a_cache_dated_in_the_future_is_stale_and_fetched_again_in_full(
    client, fake: FakeCodexBackend, fetched_at: float
) -> None:
    assert "gpt-planted" not in CatalogStore().catalog(client)
    _tamper(settings.cache_dir(), fetched_at)
    catalog = CatalogStore().catalog(client)  # a new process: memory is empty, the disk is all it has
    assert fake.models_requests == 2
    assert "if-none-match" not in fake.models_log[-1].headers  # the planted copy is not revalidated
    assert "gpt-planted" not in catalog and catalog.source == "live"


async def test_the_async_path_distrusts_a_future_date_too(
    provider, codex_home, fake: FakeCodexBackend
) -> None:
    aclient = provider.pool_for().async_client(fake.base_url)
    await CatalogStore().acatalog(aclient)
    _tamper(settings.cache_dir(), time.time() + 86400)
    catalog = await CatalogStore().acatalog(aclient)
    assert fake.models_requests == 2 and "gpt-planted" not in catalog


def test_the_cache_is_private(client, fake: FakeCodexBackend, tmp_path: Path, monkeypatch) -> None:
    cache = tmp_path / "deep" / "cache"
    monkeypatch.setenv("CODEX_CACHE_DIR", str(cache))
    CatalogStore().catalog(client)
    usage_snapshot.write_snapshot(usage_snapshot.snapshot_path(), fake.rate_limit_headers)
    folders = [cache, cache / "models", tmp_path / "deep"]
    assert {str(f): _mode(f) for f in folders} == {str(f): 0o700 for f in folders}
    files = [p for p in cache.rglob("*") if p.is_file()]
    assert len(files) == 3  # the catalog, its meta, usage.json
    assert {str(p): _mode(p) for p in files} == {str(p): 0o600 for p in files}


def test_a_loose_cache_folder_of_ours_is_tightened(client, tmp_path: Path, monkeypatch) -> None:
    cache = tmp_path / "cache"
    (cache / "models").mkdir(parents=True)
    os.chmod(cache / "models", 0o777)
    os.chmod(cache, 0o755)
    monkeypatch.setenv("CODEX_CACHE_DIR", str(cache))
    CatalogStore().catalog(client)
    assert _mode(cache / "models") == 0o700
    usage_snapshot.write_snapshot(usage_snapshot.snapshot_path(), {"x-codex-primary-used-percent": "1"})
    assert _mode(cache) == 0o700


def test_a_fifo_in_the_cache_is_skipped_not_read(client, fake: FakeCodexBackend) -> None:
    CatalogStore().catalog(client)
    (meta_path,) = settings.cache_dir().glob("models/*.meta.json")
    meta_path.unlink()
    os.mkfifo(meta_path)
    with FifoWatch(meta_path) as watch:
        assert len(CatalogStore().catalog(client)) > 0
    assert watch.stuck_readers == 0
    assert fake.models_requests == 2
