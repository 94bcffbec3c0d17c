"""What the package caches and what servers send it: a tampered cache, huge answers, answers that drip.

The fake backend (`litellm_codex_oauth_provider.testing.fake_codex`) plays the hostile server over real sockets.
"""

from __future__ import annotations

import asyncio
import copy
import json
import logging
import os
import stat
import time
from pathlib import Path

import litellm
import pytest
from click.testing import CliRunner

from litellm_codex_oauth_provider import cli, config
from litellm_codex_oauth_provider import usage as usage_snapshot
from litellm_codex_oauth_provider.auth.manager import CodexTokenManager
from litellm_codex_oauth_provider.auth.token_endpoint import RefreshPolicy
from litellm_codex_oauth_provider.exceptions import CodexAuthRefreshUnavailableError
from litellm_codex_oauth_provider.models.catalog import ModelCatalog
from litellm_codex_oauth_provider.models.catalog_store import CatalogStore
from litellm_codex_oauth_provider.models.prompt_store import PromptStore
from litellm_codex_oauth_provider.testing.fake_codex import Abuse, AbuseRecord, FakeCodexBackend, HttpError
from litellm_codex_oauth_provider.testing.logins import read_auth_file
from tests.support.fifo import FifoWatch

MESSAGES = [{"role": "user", "content": "hi"}]


@pytest.fixture
def client(codex_home, fake, provider):
    return provider.pool_for().sync_client(fake.base_url)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


# --------------------------------------------------------------------------- the catalog cache


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
    _tamper(config.CODEX_CACHE_DIR.get(), fetched_at)
    catalog = CatalogStore().catalog(client)  # a new process: memory is empty, the disk is all it has
    assert fake.models_requests == 2
    assert "if-none-match" not in fake.models_log[-1].headers  # the planted copy is not revalidated
    assert "gpt-planted" not in catalog and catalog.source == "live"


async def test_the_async_path_distrusts_a_future_date_too(
    provider, codex_home, fake: FakeCodexBackend
) -> None:
    aclient = provider.pool_for().async_client(fake.base_url)
    await CatalogStore().acatalog(aclient)
    _tamper(config.CODEX_CACHE_DIR.get(), time.time() + 86400)
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
    (meta_path,) = config.CODEX_CACHE_DIR.get().glob("models/*.meta.json")
    meta_path.unlink()
    os.mkfifo(meta_path)
    with FifoWatch(meta_path) as watch:
        assert len(CatalogStore().catalog(client)) > 0
    assert watch.stuck_readers == 0
    assert fake.models_requests == 2


# --------------------------------------------------------------------------- hostile upstreams

FLOOD = 64 << 20  # 64 MiB of whitespace after a valid JSON answer: still valid JSON, so only a cap stops it


def _unfinished(fake: FakeCodexBackend) -> AbuseRecord:
    """The one abusive answer, which the client must have stopped reading."""
    (record,) = fake.abuse_log
    assert not record.finished and record.sent < record.total
    return record


def test_a_flooding_token_endpoint_is_read_only_up_to_the_cap(fake: FakeCodexBackend, home: Path) -> None:
    stored = fake.write_login(home, seconds_left=-30)
    fake.token_abuse = Abuse(pad_bytes=FLOOD)
    with pytest.raises(CodexAuthRefreshUnavailableError) as caught:
        CodexTokenManager(policy=RefreshPolicy(backoff=0.01)).get_credentials()
    assert "larger than 64 KiB" in caught.value.message and "codex login" in caught.value.message
    assert fake.refresh_requests == 1  # not retried: the endpoint may have spent the token
    _unfinished(fake)
    assert read_auth_file(home) == stored


def test_a_dripping_token_endpoint_is_cut_off_at_the_total_timeout(
    fake: FakeCodexBackend, home: Path
) -> None:
    stored = fake.write_login(home, seconds_left=-30)
    fake.token_abuse = Abuse(drip_seconds=0.01, drip_bytes=4)  # a few seconds for the whole answer
    policy = RefreshPolicy(backoff=0.01, timeout=0.5)
    with pytest.raises(CodexAuthRefreshUnavailableError) as caught:
        CodexTokenManager(policy=policy).get_credentials()
    assert "no complete answer within 0.5 s" in caught.value.message
    assert fake.refresh_requests == 1  # the time is used up: no second attempt
    _unfinished(fake)
    assert read_auth_file(home) == stored


async def test_a_sync_refresh_inside_a_running_event_loop_still_works(
    fake: FakeCodexBackend, home: Path
) -> None:
    """Sync code called from a coroutine: the bounded token request runs its own loop in a thread."""
    fake.write_login(home, seconds_left=-30)
    credentials = CodexTokenManager(policy=RefreshPolicy(backoff=0.01)).get_credentials()
    assert credentials.access_token == read_auth_file(home)["tokens"]["access_token"]
    assert fake.refresh_requests == 1


def _catalog_warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if "cannot fetch the model catalog" in r.getMessage()]


def test_a_flooding_catalog_is_read_only_up_to_the_cap(client, fake: FakeCodexBackend, caplog) -> None:
    caplog.set_level(logging.WARNING, logger="litellm_codex_oauth_provider.models.catalog_store")
    fake.models_abuse = Abuse(pad_bytes=FLOOD)
    catalog = CatalogStore().catalog(client)
    assert catalog.source == "bundled"
    (warning,) = _catalog_warnings(caplog)
    assert "larger than 8 MiB" in warning
    _unfinished(fake)


@pytest.mark.parametrize("path", ["sync", "async"])
def test_a_dripping_catalog_is_cut_off_at_the_catalog_timeout(
    provider, codex_home, fake: FakeCodexBackend, caplog, monkeypatch, path: str
) -> None:
    caplog.set_level(logging.WARNING, logger="litellm_codex_oauth_provider.models.catalog_store")
    monkeypatch.setenv("CODEX_CATALOG_TIMEOUT", "0.3")
    fake.models_abuse = Abuse(drip_seconds=0.01, drip_bytes=1024)  # over a second for the whole catalog
    if path == "sync":
        catalog = CatalogStore().catalog(provider.pool_for().sync_client(fake.base_url))
    else:

        async def fetch() -> ModelCatalog:
            return await CatalogStore().acatalog(provider.pool_for().async_client(fake.base_url))

        catalog = asyncio.run(fetch())
    assert catalog.source == "bundled"
    (warning,) = _catalog_warnings(caplog)
    assert "took longer than 0.3 s" in warning
    _unfinished(fake)


@pytest.mark.usefixtures("provider", "codex_home")
@pytest.mark.parametrize("path", ["sync", "async"])
def test_a_flooding_error_answer_is_read_only_up_to_the_cap(fake: FakeCodexBackend, path: str) -> None:
    error = {"error": {"message": "Unsupported parameter: frobnicate", "type": "invalid_request_error"}}
    fake.enqueue(HttpError(400, error, abuse=Abuse(pad_bytes=FLOOD)))
    with pytest.raises(litellm.BadRequestError) as caught:
        if path == "sync":
            litellm.completion(model="codex/gpt-5.5", messages=MESSAGES)
        else:
            asyncio.run(litellm.acompletion(model="codex/gpt-5.5", messages=MESSAGES))
    assert "Unsupported parameter: frobnicate" in str(caught.value)
    _unfinished(fake)


PROMPT_FILE = "gpt_5_codex_prompt.md"  # the prompt file of `gpt-5-codex`


@pytest.fixture
def prompts(fake: FakeCodexBackend, monkeypatch: pytest.MonkeyPatch) -> FakeCodexBackend:
    """The Codex prompt files come from the fake (`CODEX_INSTRUCTIONS_URL`)."""
    fake.files[PROMPT_FILE] = "You are Codex."
    monkeypatch.setenv("CODEX_INSTRUCTIONS_URL", fake.files_url + "/{file}")
    return fake


def _prompt(path: str) -> str | None:
    store = PromptStore()
    return store.get("gpt-5-codex") if path == "sync" else asyncio.run(store.aget("gpt-5-codex"))


@pytest.mark.parametrize("path", ["sync", "async"])
def test_a_prompt_file_is_fetched_from_the_configured_url(prompts: FakeCodexBackend, path: str) -> None:
    assert _prompt(path) == "You are Codex."


@pytest.mark.parametrize("path", ["sync", "async"])
def test_a_flooding_prompt_file_is_read_only_up_to_the_cap(prompts: FakeCodexBackend, path: str) -> None:
    prompts.files_abuse = Abuse(pad_bytes=FLOOD)
    assert _prompt(path) is None  # no instructions rather than 64 MiB of them
    _unfinished(prompts)


@pytest.mark.parametrize("path", ["sync", "async"])
def test_a_dripping_prompt_file_is_cut_off_in_time(
    prompts: FakeCodexBackend, monkeypatch: pytest.MonkeyPatch, path: str
) -> None:
    monkeypatch.setattr(config, "PROMPT_TIMEOUT_SECONDS", 0.3)
    prompts.files_abuse = Abuse(drip_seconds=0.02, drip_bytes=1)  # 150 characters: 3 s
    prompts.files[PROMPT_FILE] = "You are Codex. " * 10
    assert _prompt(path) is None
    _unfinished(prompts)


@pytest.mark.usefixtures("codex_home")
def test_doctor_reads_a_flooding_catalog_only_up_to_the_cap(fake: FakeCodexBackend) -> None:
    fake.models_abuse = Abuse(pad_bytes=FLOOD)
    result = CliRunner().invoke(cli.main, ["doctor", "--json"])
    assert result.exit_code == cli.EXIT_FAILED
    backend = {c["check"]: c for c in json.loads(result.output)["checks"]}["backend"]
    assert backend["status"] == "fail" and "larger than 8 MiB" in backend["detail"]
    _unfinished(fake)
