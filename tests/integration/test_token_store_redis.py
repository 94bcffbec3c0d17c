"""The Redis token store against a real `redis-server`: one login shared by "hosts" with their own CODEX_HOME.

Each host is a process (or, for the single-step tests, a token manager) with its own copy of one
`auth.json`, as containers with one Secret would have: only Redis connects them.
"""

from __future__ import annotations

import json
import logging
import multiprocessing
import os
import shutil
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import litellm
import pytest

from litellm_codex_oauth_provider import config
from litellm_codex_oauth_provider.auth.manager import CodexTokenManager
from litellm_codex_oauth_provider.auth.record import parse_auth_data
from litellm_codex_oauth_provider.auth.redis_store import RedisTokenStore
from litellm_codex_oauth_provider.auth.stores import open_store
from litellm_codex_oauth_provider.auth.token_endpoint import RefreshPolicy
from litellm_codex_oauth_provider.exceptions import (
    CodexAuthError,
    CodexTokenStoreError,
    CodexTokenStoreUnavailableError,
)
from litellm_codex_oauth_provider.testing.fake_codex import FakeCodexBackend
from litellm_codex_oauth_provider.testing.logins import make_auth_json, read_auth_file, write_auth_json
from litellm_codex_oauth_provider.testing.redis_server import RedisServer

KEY = "test-token-store-key-0123456789abcdef"
TOKENS_KEY = "codex-litellm:{acct-123}:tokens"
MESSAGES = [{"role": "user", "content": "hi"}]
FAST = RefreshPolicy(backoff=0.01, attempts=2)
FORK = multiprocessing.get_context("fork")


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    with RedisServer(tmp_path / "redis") as server:
        yield server


@pytest.fixture
def store_env(redis_server: RedisServer, monkeypatch: pytest.MonkeyPatch) -> RedisServer:
    """CODEX_TOKEN_STORE on the test's Redis, with a key."""
    monkeypatch.setenv("CODEX_TOKEN_STORE", redis_server.url)
    monkeypatch.setenv("CODEX_TOKEN_STORE_KEY", KEY)
    return redis_server


def host(tmp_path: Path, name: str, source: Path) -> Path:
    """A copy of the login at `source` in its own Codex home, as another host would have it."""
    home = tmp_path / name
    home.mkdir(parents=True)
    shutil.copy2(source / "auth.json", home / "auth.json")
    return home


def stored(server: RedisServer) -> dict[bytes, bytes]:
    return server.client().hgetall(TOKENS_KEY)


def stored_tokens(home: Path) -> dict[str, Any]:
    """The tokens the Redis store holds, read through a store of this process."""
    return open_store().reload(home / "auth.json").raw["tokens"]


# --------------------------------------------------------------------------- seeding, encryption, newest wins


def test_the_first_process_seeds_redis_encrypted(fake: FakeCodexBackend, tmp_path: Path, store_env) -> None:
    data = fake.write_login(tmp_path / "a")
    credentials = CodexTokenManager(codex_home=str(tmp_path / "a")).get_credentials()
    assert credentials.access_token == data["tokens"]["access_token"]
    fields = stored(store_env)
    assert fields[b"v"] == b"1" and fields[b"blob"]
    dump = b"".join(k + v for k, v in fields.items())
    for secret in (
        data["tokens"]["access_token"],
        data["tokens"]["refresh_token"],
        data["tokens"]["id_token"],
    ):
        assert secret.encode() not in dump  # Redis alone does not give the login away
    assert b"eyJ" not in dump and b"rt-" not in dump
    assert fake.refresh_requests == 0


def test_a_refresh_on_one_host_is_used_by_another_never_spent_twice(
    fake: FakeCodexBackend, tmp_path: Path, store_env
) -> None:
    fake.write_login(tmp_path / "a", seconds_left=3000)
    b_home = host(tmp_path, "b", tmp_path / "a")
    a, b = CodexTokenManager(codex_home=str(tmp_path / "a")), CodexTokenManager(codex_home=str(b_home))
    old = b.get_credentials()  # both hosts hold the same login now
    new = a.refresh_after_unauthorized(a.get_credentials())
    assert fake.refresh_requests == 1
    # host b's token is refused too: it finds a's refresh in Redis under the lock and spends nothing
    assert b.refresh_after_unauthorized(old).access_token == new.access_token
    assert fake.refresh_requests == 1 and fake.reuse_errors == 0
    assert read_auth_file(b_home)["tokens"]["access_token"] == new.access_token  # written back where writable


def test_a_newer_login_in_auth_json_replaces_an_older_one_in_redis(
    fake: FakeCodexBackend, tmp_path: Path, store_env
) -> None:
    fake.write_login(tmp_path / "a")
    stale = host(tmp_path, "stale", tmp_path / "a")  # a copy made before anything was refreshed
    a = CodexTokenManager(codex_home=str(tmp_path / "a"))
    a.refresh_after_unauthorized(a.get_credentials())
    refreshed = stored_tokens(tmp_path / "a")["refresh_token"]

    # an older copy does not win: the stale host gets the refreshed login from Redis
    stale_manager = CodexTokenManager(codex_home=str(stale))
    assert stale_manager.get_credentials().access_token == a.get_credentials().access_token
    assert stored_tokens(tmp_path / "a")["refresh_token"] == refreshed

    # a fresh `codex login` on host c wins over what Redis holds, and reaches host a
    before = a.get_credentials()
    time.sleep(1.1)  # tokens carry `iat` in whole seconds
    relogin = fake.write_login(tmp_path / "c")
    c = CodexTokenManager(codex_home=str(tmp_path / "c"))
    assert c.get_credentials().access_token == relogin["tokens"]["access_token"]
    assert stored_tokens(tmp_path / "c")["refresh_token"] == relogin["tokens"]["refresh_token"]
    # host a's old token is refused: under the lock it finds the new login, and spends nothing
    assert a.refresh_after_unauthorized(before).access_token == relogin["tokens"]["access_token"]
    assert read_auth_file(tmp_path / "a")["tokens"]["refresh_token"] == relogin["tokens"]["refresh_token"]
    assert fake.refresh_requests == 1 and fake.reuse_errors == 0


def test_a_holder_whose_lock_expired_cannot_overwrite_a_newer_login(
    fake: FakeCodexBackend, tmp_path: Path, store_env, caplog: pytest.LogCaptureFixture
) -> None:
    """The save is a compare-and-set on the version read under the lock: the fencing check."""
    fake.write_login(tmp_path / "a")
    store = open_store()
    path = tmp_path / "a" / "auth.json"
    current = store.load(path)
    with store.locked(current, 5), store.saving(store.reload(path)) as save:
        # meanwhile (this holder paused, its lock long gone) a new login is made on host b
        time.sleep(1.1)
        relogin = fake.write_login(tmp_path / "b")
        CodexTokenManager(codex_home=str(tmp_path / "b")).get_credentials()
        mine = parse_auth_data(make_auth_json(refresh_token="rt-late"), path)
        with caplog.at_level(logging.WARNING):
            save(mine)
    assert "another login was saved" in caplog.text
    assert stored(store_env)[b"v"] == b"2"  # seed, the new login; the late save was refused
    # and it stays refused: host a's next read does not bring its late tokens back
    assert stored_tokens(tmp_path / "a")["refresh_token"] == relogin["tokens"]["refresh_token"]
    assert read_auth_file(tmp_path / "a")["tokens"]["refresh_token"] == relogin["tokens"]["refresh_token"]


# --------------------------------------------------------------------------- configuration errors


def test_without_a_key_the_store_refuses_to_start(
    fake: FakeCodexBackend, home: Path, redis_server: RedisServer, monkeypatch
) -> None:
    fake.write_login(home)
    monkeypatch.setenv("CODEX_TOKEN_STORE", redis_server.url)
    with pytest.raises(CodexTokenStoreError, match="CODEX_TOKEN_STORE_KEY is not set") as caught:
        CodexTokenManager().get_credentials()
    assert redis_server.url in caught.value.message
    assert not redis_server.client().keys("*")  # nothing was stored in clear


def test_another_key_is_a_clear_error_not_an_overwrite(
    fake: FakeCodexBackend, home: Path, store_env, monkeypatch
) -> None:
    fake.write_login(home)
    CodexTokenManager().get_credentials()
    before = stored(store_env)
    monkeypatch.setenv("CODEX_TOKEN_STORE_KEY", "another-key-of-enough-length-0123456789")
    with pytest.raises(CodexTokenStoreError, match="another CODEX_TOKEN_STORE_KEY") as caught:
        CodexTokenManager().get_credentials()
    assert "redis-cli DEL" in caught.value.message
    assert stored(store_env) == before


def test_a_password_in_the_url_never_reaches_a_message(home: Path, monkeypatch) -> None:
    write_auth_json(home, make_auth_json())
    monkeypatch.setenv("CODEX_TOKEN_STORE", "redis://user:s3cret-pass@127.0.0.1:9/0")
    monkeypatch.setenv("CODEX_TOKEN_STORE_KEY", KEY)
    with pytest.raises(CodexTokenStoreUnavailableError) as caught:
        CodexTokenManager().get_credentials()
    assert "s3cret-pass" not in caught.value.message and "127.0.0.1:9" in caught.value.message


def test_a_redis_with_a_password(fake: FakeCodexBackend, home: Path, tmp_path: Path, monkeypatch) -> None:
    fake.write_login(home)
    monkeypatch.setenv("CODEX_TOKEN_STORE_KEY", KEY)
    with RedisServer(tmp_path / "locked-redis", password="right-pass-123") as server:
        monkeypatch.setenv("CODEX_TOKEN_STORE", server.url.replace("right-pass-123", "wrong-pass-456"))
        with pytest.raises(CodexTokenStoreUnavailableError, match="fix CODEX_TOKEN_STORE") as caught:
            CodexTokenManager().get_credentials()
        assert "wrong-pass-456" not in caught.value.message
        monkeypatch.setenv("CODEX_TOKEN_STORE", server.url)
        CodexTokenManager().get_credentials()
        assert server.client().hget(TOKENS_KEY, "v") == b"1"


def test_an_unknown_store_is_a_clear_error(home: Path, monkeypatch) -> None:
    write_auth_json(home, make_auth_json())
    monkeypatch.setenv("CODEX_TOKEN_STORE", "memcached://x")
    with pytest.raises(CodexTokenStoreError, match="not a token store"):
        CodexTokenManager().get_credentials()


def test_litellm_means_the_redis_litellm_is_configured_with(
    fake: FakeCodexBackend, home: Path, redis_server: RedisServer, monkeypatch
) -> None:
    fake.write_login(home)
    monkeypatch.setenv("CODEX_TOKEN_STORE", "litellm")
    monkeypatch.setenv("CODEX_TOKEN_STORE_KEY", KEY)
    monkeypatch.delenv("REDIS_URL", raising=False)
    monkeypatch.setenv("REDIS_HOST", "127.0.0.1")
    monkeypatch.setenv("REDIS_PORT", str(redis_server.port))
    CodexTokenManager().get_credentials()
    assert stored(redis_server)[b"v"] == b"1"


def test_litellm_without_redis_settings_says_which_to_set(home: Path, monkeypatch) -> None:
    write_auth_json(home, make_auth_json())
    monkeypatch.setenv("CODEX_TOKEN_STORE", "litellm")
    monkeypatch.setenv("CODEX_TOKEN_STORE_KEY", KEY)
    for name in ("REDIS_URL", "REDIS_HOST", "REDIS_PORT"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(CodexTokenStoreError, match="REDIS_HOST and REDIS_PORT"):
        CodexTokenManager().get_credentials()


@pytest.mark.usefixtures("provider")
def test_a_deployment_sets_its_store_in_litellm_params(
    fake: FakeCodexBackend, home: Path, redis_server: RedisServer, monkeypatch
) -> None:
    fake.write_login(home)
    monkeypatch.setenv("CODEX_TOKEN_STORE_KEY", KEY)
    reply = litellm.completion(model="codex/gpt-5.5", messages=MESSAGES, codex_token_store=redis_server.url)
    assert reply.choices[0].message.content == "Hello from fake Codex"
    assert stored(redis_server)[b"v"] == b"1"
    assert "codex_token_store" not in fake.last_request.body


# --------------------------------------------------------------------------- Redis down


def test_redis_down_at_start_is_a_clear_error_through_litellm(
    fake: FakeCodexBackend, home: Path, store_env, provider
) -> None:
    fake.write_login(home)
    store_env.stop()
    with pytest.raises(litellm.ServiceUnavailableError) as caught:
        litellm.completion(model="codex/gpt-5.5", messages=MESSAGES)
    message = str(caught.value)
    assert "Cannot reach the token store" in message and store_env.url in message
    assert "start Redis" in message and "fix CODEX_TOKEN_STORE" in message
    assert fake.responses_count == 0 and fake.refresh_requests == 0


def test_redis_down_mid_run_keeps_a_valid_token_until_it_expires(
    fake: FakeCodexBackend, home: Path, store_env
) -> None:
    data = fake.write_login(home, seconds_left=6, lifetime=40)  # due (margin 10 s), usable 5 s more
    manager = CodexTokenManager(policy=FAST)
    manager.store.load(manager.path)  # seeded while Redis is up
    store_env.stop()
    assert manager.get_credentials().access_token == data["tokens"]["access_token"]
    assert fake.refresh_requests == 0  # no refresh token was spent without the store
    time.sleep(6.2)
    with pytest.raises(CodexTokenStoreUnavailableError, match="Cannot reach the token store") as caught:
        manager.get_credentials()
    assert store_env.url in caught.value.message
    assert fake.refresh_requests == 0
    assert read_auth_file(home) == data


def test_a_changed_auth_json_while_redis_is_down_keeps_the_token_in_use(
    fake: FakeCodexBackend, home: Path, store_env
) -> None:
    data = fake.write_login(home)
    manager = CodexTokenManager(policy=FAST)
    assert manager.get_credentials().access_token == data["tokens"]["access_token"]
    store_env.stop()
    write_auth_json(home, {**data, "note": "touched"})  # a new inode: compared with Redis again
    for _ in range(3):
        assert manager.get_credentials().access_token == data["tokens"]["access_token"]
    # a process that never reached Redis has nothing to keep using: the clear error
    other = home.parent / "other"
    fake.write_login(other)
    with pytest.raises(CodexTokenStoreUnavailableError, match="Cannot reach the token store"):
        CodexTokenManager(codex_home=str(other)).get_credentials()


def _hold_the_lock_forever(path: str, ready: Any) -> None:
    store = open_store()
    record = store.load(Path(path))
    with store.locked(record, 5):
        ready.set()
        time.sleep(60)


def test_a_dead_lock_holder_frees_the_login_when_its_lock_expires(
    fake: FakeCodexBackend, tmp_path: Path, store_env, monkeypatch
) -> None:
    monkeypatch.setattr(config, "TOKEN_STORE_LOCK_TTL_SECONDS", 1.0)
    fake.write_login(tmp_path / "a", seconds_left=-5)
    b_home = host(tmp_path, "b", tmp_path / "a")
    ready = FORK.Event()
    holder = FORK.Process(target=_hold_the_lock_forever, args=(str(tmp_path / "a" / "auth.json"), ready))
    holder.start()
    assert ready.wait(30)
    os.kill(holder.pid, signal.SIGKILL)  # died holding the lock, before any refresh
    holder.join(10)
    credentials = CodexTokenManager(codex_home=str(b_home)).get_credentials()
    assert credentials.access_token == stored_tokens(b_home)["access_token"]
    assert fake.refresh_requests == 1 and fake.reuse_errors == 0


def test_a_slow_refresh_keeps_its_lock_alive(
    fake: FakeCodexBackend, tmp_path: Path, store_env, monkeypatch
) -> None:
    """The token endpoint takes longer than the lock's expiry: the holder renews it, nobody else spends the token."""
    import threading

    monkeypatch.setattr(config, "TOKEN_STORE_LOCK_TTL_SECONDS", 0.6)
    fake.write_login(tmp_path / "a", seconds_left=-5)
    homes = [tmp_path / "a", host(tmp_path, "b", tmp_path / "a"), host(tmp_path, "c", tmp_path / "a")]
    managers = [CodexTokenManager(codex_home=str(h), policy=FAST) for h in homes]
    for manager in managers:
        manager.store.load(manager.path)  # all three hold the same expired login
    fake.token_delay = 2.0
    tokens: list[str] = []
    threads = [
        threading.Thread(target=lambda m=m: tokens.append(m.get_credentials().access_token)) for m in managers
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert fake.refresh_requests == 1 and fake.reuse_errors == 0
    assert len(tokens) == 3 and len(set(tokens)) == 1


# --------------------------------------------------------------------------- a fleet of hosts


def _drop_privileges_if_root() -> None:
    """As root, chmod does not stop writes: become `nobody` so a 0555 folder is really read-only."""
    if os.geteuid() == 0:
        os.setgroups([])
        os.setgid(65534)
        os.setuid(65534)


def _fleet_member(home: str, seconds: float, read_only: bool, results: Any) -> None:
    """One host: sync, async and streaming calls through LiteLLM for `seconds`; counts outcomes."""
    import asyncio

    from litellm_codex_oauth_provider import CodexAuthProvider

    if read_only:
        _drop_privileges_if_root()
    os.environ["CODEX_HOME"] = home
    litellm.custom_provider_map = [{"provider": "codex", "custom_handler": CodexAuthProvider()}]
    outcomes: dict[str, int] = {}
    if read_only:
        try:
            (Path(home) / "probe").write_text("x")
            outcomes["home was writable"] = 1
        except OSError:
            pass

    def note(outcome: str) -> None:
        outcomes[outcome] = outcomes.get(outcome, 0) + 1

    async def calls() -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            for kind in ("sync", "async", "stream"):
                try:
                    if kind == "sync":
                        reply = await asyncio.to_thread(
                            litellm.completion, model="codex/gpt-5.5", messages=MESSAGES
                        )
                        text = reply.choices[0].message.content
                    elif kind == "async":
                        reply = await litellm.acompletion(model="codex/gpt-5.5", messages=MESSAGES)
                        text = reply.choices[0].message.content
                    else:
                        stream = await litellm.acompletion(
                            model="codex/gpt-5.5", messages=MESSAGES, stream=True
                        )
                        text = "".join([c.choices[0].delta.content or "" async for c in stream])
                    note(f"{kind} ok" if text == "Hello from fake Codex" else f"{kind} wrong text")
                except Exception as exc:
                    note(f"{kind} {type(exc).__name__}: {str(exc)[:200]}")
            await asyncio.sleep(0.02)

    async def main() -> None:
        await asyncio.gather(calls(), calls())

    asyncio.run(main())
    results.put(outcomes)


def _run_fleet(
    fake: FakeCodexBackend, homes: list[Path], seconds: float, read_only: bool
) -> list[dict[str, int]]:
    results = FORK.Queue()
    members = [FORK.Process(target=_fleet_member, args=(str(h), seconds, read_only, results)) for h in homes]
    for member in members:
        member.start()
    outcomes = [results.get(timeout=120) for _ in members]
    for member in members:
        member.join(20)
        assert member.exitcode == 0
    return outcomes


LIFETIME = 4  # seconds; refreshed in the last quarter of its life: every 3 s, once for the whole fleet
FLEET_SECONDS = 10.0


def _assert_one_refresh_per_expiry(
    fake: FakeCodexBackend, outcomes: list[dict[str, int]], started: float
) -> None:
    failures = [{k: v for k, v in o.items() if not k.endswith(" ok")} for o in outcomes]
    assert failures == [{}] * len(outcomes), failures
    assert all(o.get("sync ok") and o.get("async ok") and o.get("stream ok") for o in outcomes)
    assert fake.reuse_errors == 0
    expiries = (time.monotonic() - started) / (LIFETIME * 3 / 4)
    # each process on its own would refresh once per expiry: the fleet together does that once
    assert 2 <= fake.refresh_requests <= expiries + 1, (fake.refresh_requests, expiries)


@pytest.mark.usefixtures("store_env")
def test_a_fleet_of_hosts_shares_one_login_through_redis(fake: FakeCodexBackend, tmp_path: Path) -> None:
    fake.check_tokens = True  # only tokens the fake minted, only until their `exp`
    fake.access_token_lifetime = LIFETIME
    fake.issue_login(tmp_path / "login", expires_in=LIFETIME)
    homes = [host(tmp_path, f"host-{i}", tmp_path / "login") for i in range(3)]
    started = time.monotonic()
    outcomes = _run_fleet(fake, homes, FLEET_SECONDS, read_only=False)
    _assert_one_refresh_per_expiry(fake, outcomes, started)
    live = stored_tokens(homes[0])["refresh_token"]
    assert fake.is_valid_refresh_token(live)
    assert all(read_auth_file(h)["tokens"]["refresh_token"] == live for h in homes)  # written back


def test_a_fleet_with_read_only_logins(
    fake: FakeCodexBackend, tmp_path: Path, store_env, monkeypatch
) -> None:
    """Secret mounts: each host's CODEX_HOME is 0555 with a 0444 auth.json, and its processes cannot write it."""
    import tempfile

    fake.check_tokens = True
    fake.access_token_lifetime = LIFETIME
    # outside pytest's 0700 tmp folder, so that an unprivileged process can reach it
    root = Path(tempfile.mkdtemp(prefix="codex-ro-"))
    try:
        root.chmod(0o755)
        cache = root / "cache"
        cache.mkdir(mode=0o777)
        cache.chmod(0o777)
        monkeypatch.setenv("CODEX_CACHE_DIR", str(cache))
        monkeypatch.setenv("HOME", str(cache))
        login = fake.issue_login(root / "login", expires_in=LIFETIME)
        original = login.read_bytes()
        homes = [host(root, f"host-{i}", root / "login") for i in range(3)]
        for h in homes:
            (h / "auth.json").chmod(0o444)
            h.chmod(0o555)
        started = time.monotonic()
        outcomes = _run_fleet(fake, homes, FLEET_SECONDS, read_only=True)
        _assert_one_refresh_per_expiry(fake, outcomes, started)
        assert all((h / "auth.json").read_bytes() == original for h in homes)  # left alone
        assert all(sorted(p.name for p in h.iterdir()) == ["auth.json"] for h in homes)
        assert fake.is_valid_refresh_token(stored_tokens(homes[0])["refresh_token"])
    finally:
        for path in root.rglob("*"):
            if path.is_dir():
                path.chmod(0o755)
        shutil.rmtree(root, ignore_errors=True)


# --------------------------------------------------------------------------- the CLI


def test_status_and_doctor_show_the_store(fake: FakeCodexBackend, home: Path, store_env) -> None:
    from click.testing import CliRunner

    from litellm_codex_oauth_provider import cli

    fake.write_login(home)
    CodexTokenManager().get_credentials()
    result = CliRunner().invoke(cli.main, ["status", "--json"])
    data = json.loads(result.output)
    assert data["token_store"]["kind"] == "redis" and data["token_store"]["reachable"] is True
    assert data["token_store"]["where"] == store_env.url and data["token_store"]["version"] == 1
    assert data["token_store"]["token_age_seconds"] is not None
    text = CliRunner().invoke(cli.main, ["status"]).output
    assert "token store" in text and store_env.url in text and "reachable" in text

    store_env.stop()
    doctor = CliRunner().invoke(cli.main, ["doctor", "--json"])
    checks = {c["check"]: c for c in json.loads(doctor.output)["checks"]}
    assert checks["token store"]["status"] == "fail" and store_env.url in checks["token store"]["detail"]
    assert "Redis" in checks["token store"]["fix"]
    status = CliRunner().invoke(cli.main, ["status", "--json"])
    assert json.loads(status.output)["token_store"]["reachable"] is False


def test_file_is_the_default_store(home: Path) -> None:
    """`file` stays the default: no setting, no Redis."""
    assert open_store().kind == "file"
    assert not isinstance(open_store(), RedisTokenStore)
    assert issubclass(CodexTokenStoreError, CodexAuthError)
