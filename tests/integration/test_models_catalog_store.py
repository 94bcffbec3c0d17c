"""The live catalog: fetched with the login, cached on disk with its ETag, revalidated, never in the way.

Against the fake backend (`litellm_codex_oauth_provider.testing.fake_codex`), which serves the captured 0.169.0
catalog with an ETag and answers `If-None-Match` with 304. Time is a fake clock, never a sleep.
"""

from __future__ import annotations

import asyncio
import builtins
import copy
import json
import logging
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from litellm_codex_oauth_provider.models import catalog_store
from litellm_codex_oauth_provider.models.catalog import ModelCatalog
from litellm_codex_oauth_provider.models.catalog_store import CatalogStore
from litellm_codex_oauth_provider.testing.fake_codex import FakeCodexBackend
from litellm_codex_oauth_provider.testing.logins import read_auth_file

TTL = 300.0


class Clock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store(clock: Clock) -> CatalogStore:
    return CatalogStore(clock=clock)


@pytest.fixture
def client(codex_home, fake, provider):
    return provider.pool_for().sync_client(fake.base_url)


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Any HTTP request an httpx client tries to send is recorded and refused."""
    attempts: list[str] = []

    def refuse(self, request):
        attempts.append(str(request.url))
        raise AssertionError(f"unexpected request to {request.url}")

    async def arefuse(self, request):
        return refuse(self, request)

    monkeypatch.setattr(httpx.HTTPTransport, "handle_request", refuse)
    monkeypatch.setattr(httpx.AsyncHTTPTransport, "handle_async_request", arefuse)
    yield attempts


def cache_files(cache: Path) -> list[Path]:
    return sorted(p for p in cache.rglob("*") if p.is_file())


def catalog_with(fake: FakeCodexBackend, slug: str) -> dict:
    """The fake's catalog plus one more model (a new ETag)."""
    payload = copy.deepcopy(fake.catalog)
    extra = copy.deepcopy(payload["models"][0])
    extra["slug"], extra["display_name"] = slug, slug
    payload["models"].append(extra)
    return payload


# -- fetching -------------------------------------------------------------------------------------------


def test_the_first_call_fetches_with_the_login_and_client_version(store, client, fake, codex_home) -> None:
    catalog = store.catalog(client)
    assert catalog.source == "live" and catalog.authoritative
    assert len(catalog) == 12 and "gpt-6.1-sol" in catalog
    [request] = fake.models_log
    tokens = read_auth_file(codex_home)["tokens"]
    assert request.headers["authorization"] == f"Bearer {tokens['access_token']}"
    assert request.headers["chatgpt-account-id"] == "acct-123"
    assert request.headers["originator"] == "codex_cli_rs"
    assert request.query == {"client_version": "0.169.0"}
    assert "if-none-match" not in request.headers


def test_a_probe_asks_the_backend_with_the_login_and_leaves_the_cache_alone(
    store, client, fake, tmp_path
) -> None:
    assert store.probe(client) == 200
    [request] = fake.models_log
    assert request.headers["authorization"].startswith("Bearer ")
    assert request.query == {"client_version": "0.169.0"}
    assert cache_files(tmp_path / "cache") == []


def test_the_client_version_is_a_setting(store, client, fake, monkeypatch) -> None:
    monkeypatch.setenv("CODEX_CLIENT_VERSION", "0.170.1")
    store.catalog(client)
    assert fake.models_log[-1].query == {"client_version": "0.170.1"}


def test_within_the_ttl_no_request_leaves_the_process(
    store, client, fake, clock, provider, monkeypatch
) -> None:
    first = store.catalog(client)
    with monkeypatch.context() as m:
        attempts: list[str] = []
        m.setattr(httpx.HTTPTransport, "handle_request", lambda self, r: attempts.append(str(r.url)))

        async def arecord(self, r):
            attempts.append(str(r.url))

        m.setattr(httpx.AsyncHTTPTransport, "handle_async_request", arecord)

        async def many() -> list[ModelCatalog]:
            aclient = provider.pool_for().async_client(fake.base_url)
            return [await store.acatalog(aclient) for _ in range(200)]

        for _ in range(20):
            clock.advance(TTL / 25)
            assert store.catalog(client) is first
        assert all(c is first for c in asyncio.run(many()))
    assert attempts == []
    assert fake.models_requests == 1


def test_after_the_ttl_a_304_renews_the_catalog_without_a_parse(
    store, client, fake, clock, monkeypatch
) -> None:
    first = store.catalog(client)
    etag = fake.models_log[0].headers.get("if-none-match")
    assert etag is None
    clock.advance(TTL + 1)

    def no_parse(*args, **kwargs):
        raise AssertionError("a 304 must not parse anything")

    monkeypatch.setattr(ModelCatalog, "from_payload", no_parse)
    again = store.catalog(client)
    assert fake.models_requests == 2
    assert fake.models_log[1].headers["if-none-match"] == first.etag
    assert again.source == "live" and again.get("gpt-5.5") is first.get("gpt-5.5")
    clock.advance(TTL - 1)
    store.catalog(client)
    assert fake.models_requests == 2  # renewed for a whole TTL


def test_a_changed_catalog_replaces_the_old_one_and_is_announced(client, fake, clock) -> None:
    seen: list[ModelCatalog] = []
    store = CatalogStore(on_catalog=seen.append, clock=clock)
    store.catalog(client)
    fake.catalog = catalog_with(fake, "gpt-7-nova")
    clock.advance(TTL + 1)
    catalog = store.catalog(client)
    assert "gpt-7-nova" in catalog
    assert [("gpt-7-nova" in c) for c in seen] == [False, True]


# -- failures -------------------------------------------------------------------------------------------


def test_a_failed_fetch_uses_the_last_cached_catalog_and_backs_off(
    store, client, fake, clock, caplog
) -> None:
    caplog.set_level(logging.WARNING, logger="litellm_codex_oauth_provider.models.catalog_store")
    first = store.catalog(client)
    fake.models_status = 503
    clock.advance(TTL + 1)
    stale = store.catalog(client)
    assert stale.source == "stale" and not stale.authoritative
    assert stale.get("gpt-5.5") is first.get("gpt-5.5")
    assert fake.models_requests == 2
    for _ in range(5):
        clock.advance(10)
        assert store.catalog(client).source == "stale"
    assert fake.models_requests == 2  # no retry within the back-off
    clock.advance(60)
    store.catalog(client)
    assert fake.models_requests == 3
    warnings = [r.getMessage() for r in caplog.records if "cannot fetch the model catalog" in r.getMessage()]
    assert len(warnings) == 1 and "HTTP 503" in warnings[0] and "last cached" in warnings[0]
    fake.models_status = None
    clock.advance(61)
    assert store.catalog(client).source == "live"


def test_with_no_cache_a_failed_fetch_uses_the_bundled_catalog(store, codex_home, provider) -> None:
    closed = provider.pool_for().sync_client("http://127.0.0.1:9/backend-api/codex")
    catalog = store.catalog(closed)
    assert catalog.source == "bundled" and not catalog.authoritative
    assert "gpt-6-sol" in catalog
    assert catalog.get("gpt-6-sol").instructions is None  # facts only


@pytest.mark.parametrize("catalog", [{"nope": 1}, {"models": []}, {"models": "x"}])
def test_an_unusable_answer_counts_as_a_failure(store, client, fake, catalog) -> None:
    fake.catalog = catalog
    assert store.catalog(client).source == "bundled"


def test_a_slow_answer_falls_back_without_waiting_for_it(store, client, fake, monkeypatch) -> None:
    monkeypatch.setenv("CODEX_CATALOG_TIMEOUT", "0.2")
    fake.models_delay = 5.0
    started = time.monotonic()
    catalog = store.catalog(client)
    assert time.monotonic() - started < 4.0  # the backend takes 5 s: we did not wait for it
    assert catalog.source == "bundled"


def test_a_slow_answer_on_the_async_path_falls_back_too(
    store, fake, codex_home, provider, monkeypatch
) -> None:
    monkeypatch.setenv("CODEX_CATALOG_TIMEOUT", "0.2")
    fake.models_delay = 5.0

    async def go() -> ModelCatalog:
        return await store.acatalog(provider.pool_for().async_client(fake.base_url))

    started = time.monotonic()
    assert asyncio.run(go()).source == "bundled"
    assert time.monotonic() - started < 4.0  # the backend takes 5 s: we did not wait for it


# -- the disk cache -------------------------------------------------------------------------------------


def test_a_new_process_reuses_the_disk_cache_then_revalidates_it(client, fake, clock, monkeypatch) -> None:
    first = CatalogStore(clock=clock).catalog(client)
    clock.advance(100)
    second_process = CatalogStore(clock=clock)
    catalog = second_process.catalog(client)
    assert catalog.source == "cache" and catalog.authoritative
    assert catalog.slugs == first.slugs
    assert catalog.get("gpt-6-sol").instructions == first.get("gpt-6-sol").instructions  # cached with it
    assert fake.models_requests == 1
    clock.advance(TTL)
    assert second_process.catalog(client).source == "live"
    assert fake.models_requests == 2
    assert fake.models_log[-1].headers["if-none-match"] == first.etag


def test_a_revalidation_by_another_process_counts_for_this_one(client, fake, clock) -> None:
    one, two = CatalogStore(clock=clock), CatalogStore(clock=clock)
    one.catalog(client)
    two.catalog(client)  # from the disk cache
    clock.advance(TTL + 1)
    one.catalog(client)  # 304, renews the cache file
    assert fake.models_requests == 2
    assert two.catalog(client).source in ("cache", "live")
    assert fake.models_requests == 2


def test_cache_files_hold_no_token_or_header(store, client, fake, codex_home, tmp_path) -> None:
    store.catalog(client)
    files = cache_files(tmp_path / "cache")
    assert files, "the catalog was not cached"
    tokens = read_auth_file(codex_home)["tokens"]
    secrets = [tokens["access_token"], tokens["refresh_token"], tokens["id_token"], "Bearer", "authorization"]
    for path in files:
        data = path.read_bytes()
        for secret in secrets:
            assert secret.encode() not in data, f"{secret[:12]}… in {path}"
        if path.name.endswith(".meta.json"):
            assert set(json.loads(data)) == {"base_url", "client_version", "etag", "fetched_at"}


def test_an_unreadable_cache_is_ignored(client, fake, clock, tmp_path) -> None:
    CatalogStore(clock=clock).catalog(client)
    for path in cache_files(tmp_path / "cache"):
        if not path.name.endswith(".meta.json"):
            path.write_text("{not json", encoding="utf-8")
    catalog = CatalogStore(clock=clock).catalog(client)
    assert catalog.source == "live" and fake.models_requests == 2


def test_catalogs_are_kept_per_base_url(store, codex_home, provider, tmp_path) -> None:
    with FakeCodexBackend() as one, FakeCodexBackend() as two:
        two.catalog = catalog_with(two, "gpt-7-nova")
        pool = provider.pool_for()
        assert "gpt-7-nova" not in store.catalog(pool.sync_client(one.base_url))
        assert "gpt-7-nova" in store.catalog(pool.sync_client(two.base_url))
        assert "gpt-7-nova" not in store.catalog(pool.sync_client(one.base_url))
        assert (one.models_requests, two.models_requests) == (1, 1)
    bodies = [p for p in cache_files(tmp_path / "cache") if not p.name.endswith(".meta.json")]
    assert len(bodies) == 2


def test_the_cached_catalog_needs_no_request(client, fake, clock, no_network) -> None:
    assert CatalogStore(clock=clock).cached_catalog(fake.base_url).source == "bundled"
    assert no_network == []


# -- one fetch at a time, and the event loop ----------------------------------------------------------------


def test_threads_share_one_fetch(store, client, fake) -> None:
    fake.models_delay = 0.3
    barrier = threading.Barrier(16)
    results: list[ModelCatalog] = []

    def worker() -> None:
        barrier.wait()
        results.append(store.catalog(client))

    threads = [threading.Thread(target=worker) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert fake.models_requests == 1
    assert len(results) == 16 and {c.source for c in results} == {"live"}


def test_tasks_and_event_loops_share_one_fetch(store, fake, codex_home, provider) -> None:
    fake.models_delay = 0.3
    pool = provider.pool_for()

    async def burst() -> list[ModelCatalog]:
        aclient = pool.async_client(fake.base_url)
        return await asyncio.gather(*(store.acatalog(aclient) for _ in range(12)))

    results: list[ModelCatalog] = []
    threads = [threading.Thread(target=lambda: results.extend(asyncio.run(burst()))) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert fake.models_requests == 1
    assert len(results) == 36 and {c.source for c in results} == {"live"}


def test_a_caller_holding_a_stale_copy_does_not_wait_for_the_fetch(store, client, fake, clock) -> None:
    store.catalog(client)
    clock.advance(TTL + 1)
    fake.models_delay = 1.0
    fetching = threading.Thread(target=store.catalog, args=(client,))
    fetching.start()
    deadline = time.monotonic() + 5
    while fake.models_requests < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert store.catalog(client).source == "live"  # the copy it holds, at once
    assert fetching.is_alive()  # the fetch is still waiting for the backend
    fetching.join()
    assert fake.models_requests == 2


def test_the_async_path_returns_a_fresh_catalog_without_any_io(
    store, fake, codex_home, provider, monkeypatch
) -> None:
    pool = provider.pool_for()

    async def warm() -> None:
        await store.acatalog(pool.async_client(fake.base_url))

    asyncio.run(warm())

    def forbidden(*args, **kwargs):
        raise AssertionError("I/O on the hot path")

    async def go() -> list[ModelCatalog]:
        aclient = pool.async_client(fake.base_url)
        with monkeypatch.context() as m:
            for target, name in [
                (builtins, "open"),
                (os, "replace"),
                (os, "stat"),
                (Path, "read_bytes"),
                (Path, "read_text"),
                (asyncio, "to_thread"),
                (httpx.AsyncHTTPTransport, "handle_async_request"),
            ]:
                m.setattr(target, name, forbidden)
            return [await store.acatalog(aclient) for _ in range(100)]

    assert {c.source for c in asyncio.run(go())} == {"live"}
    assert fake.models_requests == 1


def test_the_async_refresh_does_its_disk_work_off_the_loop(
    store, fake, codex_home, provider, clock, monkeypatch
):
    seen: list[int] = []
    real_read, real_write = catalog_store.read_json, catalog_store.write_private
    monkeypatch.setattr(
        catalog_store, "read_json", lambda *a: seen.append(threading.get_ident()) or real_read(*a)
    )
    monkeypatch.setattr(
        catalog_store, "write_private", lambda *a: seen.append(threading.get_ident()) or real_write(*a)
    )

    async def go() -> int:
        aclient = provider.pool_for().async_client(fake.base_url)
        await store.acatalog(aclient)  # cold: read (nothing), fetch, write
        clock.advance(TTL + 1)
        await store.acatalog(aclient)  # revalidate: read meta, 304, write meta
        return threading.get_ident()

    loop_thread = asyncio.run(go())
    assert fake.models_requests == 2
    assert len(seen) >= 4
    assert loop_thread not in seen
