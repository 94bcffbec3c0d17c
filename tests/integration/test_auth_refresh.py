"""The login lifecycle in one process: when we refresh, what we send, what we write, how we fail."""

from __future__ import annotations

import contextlib
import errno
import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from litellm_codex_oauth_provider import files
from litellm_codex_oauth_provider.auth import file_store
from litellm_codex_oauth_provider.auth import record as login_record
from litellm_codex_oauth_provider.auth.httpx_auth import CodexAuth
from litellm_codex_oauth_provider.auth.manager import CodexTokenManager
from litellm_codex_oauth_provider.auth.record import Credentials, refresh_due_at
from litellm_codex_oauth_provider.auth.token_endpoint import RefreshPolicy
from litellm_codex_oauth_provider.exceptions import (
    CodexAuthFileNotFoundError,
    CodexAuthFileNotWritableError,
    CodexAuthRefreshError,
    CodexAuthRefreshUnavailableError,
    CodexAuthTokenError,
)
from litellm_codex_oauth_provider.testing.fake_codex import FakeCodexBackend
from litellm_codex_oauth_provider.testing.logins import make_auth_json, read_auth_file, write_auth_json

FAST = RefreshPolicy(backoff=0.01)


def file_bytes(home: Path) -> bytes:
    return (home / "auth.json").read_bytes()


def spend(fake: FakeCodexBackend, refresh_token: str) -> None:
    """Spend a refresh token from "another program", then zero the fake's counters."""
    fake.spend_refresh_token(refresh_token)
    fake.reset()


# --------------------------------------------------------------------------- when to refresh


def test_refresh_is_due_a_minute_before_exp_or_a_quarter_of_a_short_life() -> None:
    assert refresh_due_at({"iat": 0, "exp": 3600}, None) == 3540
    assert refresh_due_at({"iat": 0, "exp": 310}, None) == 250  # the CLI refreshes at 10: it goes first
    assert refresh_due_at({"iat": 0, "exp": 8}, None) == 6
    assert refresh_due_at({"exp": 100}, None) == 40  # no iat: the plain margin


def test_without_exp_refresh_is_due_8_days_after_last_refresh() -> None:
    moment = datetime(2026, 1, 1, tzinfo=UTC)
    due = refresh_due_at({}, "2026-01-01T00:00:00.123456789Z")
    assert due == pytest.approx((moment + timedelta(days=8)).timestamp() + 0.123456, abs=1e-3)
    assert refresh_due_at({}, None) is None
    assert refresh_due_at({}, "not a time") is None


def test_fresh_token_is_used_without_refreshing(fake: FakeCodexBackend, home: Path) -> None:
    data = fake.write_login(home)
    manager = CodexTokenManager(policy=FAST)
    for _ in range(3):
        credentials = manager.get_credentials()
    assert credentials.access_token == data["tokens"]["access_token"]
    assert credentials.account_id == "acct-123"
    assert fake.refresh_requests == 0


@pytest.mark.parametrize("seconds_left", [30, -60], ids=["expiring", "expired"])
def test_expiring_token_is_refreshed_before_use(
    fake: FakeCodexBackend, home: Path, seconds_left: float
) -> None:
    old = fake.write_login(home, seconds_left=seconds_left)
    credentials = CodexTokenManager(policy=FAST).get_credentials()
    stored = read_auth_file(home)
    assert fake.refresh_requests == 1
    assert credentials.access_token == stored["tokens"]["access_token"] != old["tokens"]["access_token"]
    assert credentials.expires_at is not None and credentials.expires_at > time.time() + 3000


def test_old_last_refresh_without_exp_is_refreshed(fake: FakeCodexBackend, home: Path) -> None:
    fake.write_login(home, seconds_left=None, last_refresh=datetime.now(UTC) - timedelta(days=9))
    CodexTokenManager(policy=FAST).get_credentials()
    assert fake.refresh_requests == 1
    fake.write_login(home, seconds_left=None, last_refresh=datetime.now(UTC) - timedelta(days=7))
    CodexTokenManager(policy=FAST).get_credentials()
    assert fake.refresh_requests == 1


def test_refresh_request_is_the_clis(fake: FakeCodexBackend, home: Path) -> None:
    old = fake.write_login(home, seconds_left=5)
    CodexTokenManager(policy=FAST).get_credentials()
    (request,) = fake.token_log
    assert request.method == "POST" and request.path == "/oauth/token"
    assert request.headers["content-type"] == "application/json"
    assert request.body == {
        "client_id": "app_EMoamEEZ73f0CkXaXp7hrann",
        "grant_type": "refresh_token",
        "refresh_token": old["tokens"]["refresh_token"],
        "refresh_reason": "proactive_expiry",
    }
    assert "litellm-codex-oauth-provider" in request.headers["user-agent"]


def test_default_token_url_is_openais(monkeypatch: pytest.MonkeyPatch) -> None:
    from litellm_codex_oauth_provider import config

    monkeypatch.delenv("CODEX_REFRESH_TOKEN_URL_OVERRIDE")
    assert config.CODEX_REFRESH_TOKEN_URL_OVERRIDE.get() == "https://auth.openai.com/oauth/token"


# --------------------------------------------------------------------------- writing back


def test_write_back_updates_tokens_and_keeps_everything_else(fake: FakeCodexBackend, home: Path) -> None:
    extra = {"agent_identity": {"kind": "future", "n": [1, 2]}, "zz_unknown": True}
    old = fake.write_login(home, seconds_left=5, extra=extra)
    old["tokens"]["x_unknown_token_field"] = "kept"
    write_auth_json(home, old)
    os.chmod(home / "auth.json", 0o640)

    CodexTokenManager(policy=FAST).get_credentials()

    new = read_auth_file(home)
    assert list(new) == list(old)  # same fields, same order
    for key in ("auth_mode", "OPENAI_API_KEY", "agent_identity", "zz_unknown"):
        assert new[key] == old[key]
    tokens = new["tokens"]
    assert tokens["x_unknown_token_field"] == "kept"
    for key in ("access_token", "id_token", "refresh_token"):
        assert tokens[key] != old["tokens"][key]
    assert fake.is_valid_refresh_token(tokens["refresh_token"])
    assert tokens["account_id"] == "acct-123"
    assert new["last_refresh"].endswith("Z")
    age = time.time() - datetime.fromisoformat(new["last_refresh"]).timestamp()
    assert 0 <= age < 60
    assert (home / "auth.json").stat().st_mode & 0o777 == 0o640  # the file's mode is kept
    assert not list(home.glob(".auth-*"))  # no temporary file left behind


def test_new_file_replaces_the_old_one_atomically(
    fake: FakeCodexBackend, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake.write_login(home, seconds_left=5)
    seen: list[tuple[str, int, bool]] = []
    real_replace = os.replace

    def spy(src: Any, dst: Any) -> None:
        seen.append((Path(src).name, os.stat(src).st_mode & 0o777, json.loads(Path(src).read_text()) != {}))
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", spy)
    CodexTokenManager(policy=FAST).get_credentials()
    ((name, mode, complete),) = seen
    assert name.startswith(".auth-") and mode == 0o600 and complete
    assert (home / "auth.lock").exists() and (home / "auth.json.lock").exists()


# --------------------------------------------------------------------------- 401: refresh once, retry once


def models(manager: CodexTokenManager, fake: FakeCodexBackend) -> httpx.Response:
    with httpx.Client(auth=CodexAuth(manager)) as client:
        return client.get(fake.models_url)


def test_401_refreshes_once_and_retries_once(fake: FakeCodexBackend, home: Path) -> None:
    old = fake.write_login(home)
    fake.expected_access_token = lambda token: token != old["tokens"]["access_token"]
    response = models(CodexTokenManager(policy=FAST), fake)
    assert response.status_code == 200
    assert fake.refresh_requests == 1
    assert fake.token_log[0].body["refresh_reason"] == "unauthorized_recovery"
    first, second = fake.models_log
    assert first.bearer == old["tokens"]["access_token"]
    assert second.bearer == read_auth_file(home)["tokens"]["access_token"]
    assert second.headers["chatgpt-account-id"] == "acct-123"


def test_401_twice_is_returned_after_one_refresh(fake: FakeCodexBackend, home: Path) -> None:
    fake.write_login(home)
    fake.expected_access_token = "nothing-is-accepted"
    response = models(CodexTokenManager(policy=FAST), fake)
    assert response.status_code == 401
    assert fake.refresh_requests == 1 and len(fake.models_log) == 2


async def test_async_401_refreshes_once_and_retries_once(fake: FakeCodexBackend, home: Path) -> None:
    old = fake.write_login(home)
    fake.expected_access_token = lambda token: token != old["tokens"]["access_token"]
    async with httpx.AsyncClient(auth=CodexAuth(CodexTokenManager(policy=FAST))) as client:
        response = await client.get(fake.models_url)
    assert response.status_code == 200 and fake.refresh_requests == 1


async def test_async_401_twice_is_returned_after_one_refresh(fake: FakeCodexBackend, home: Path) -> None:
    fake.write_login(home)
    fake.expected_access_token = "nothing-is-accepted"
    async with httpx.AsyncClient(auth=CodexAuth(CodexTokenManager(policy=FAST))) as client:
        response = await client.get(fake.models_url)
    assert response.status_code == 401
    assert fake.refresh_requests == 1 and len(fake.models_log) == 2


def test_401_on_a_token_another_program_replaced_uses_the_new_one(fake: FakeCodexBackend, home: Path) -> None:
    old = fake.write_login(home)
    manager = CodexTokenManager(policy=FAST)
    rejected = manager.get_credentials()
    new = fake.write_login(home)  # e.g. the CLI refreshed in between
    assert old != new
    credentials = manager.refresh_after_unauthorized(rejected)
    assert credentials.access_token == new["tokens"]["access_token"]
    assert fake.refresh_requests == 0


# --------------------------------------------------------------------------- failures


@pytest.mark.parametrize(
    "code", ["refresh_token_reused", "refresh_token_expired", "refresh_token_invalidated"]
)
def test_refused_refresh_is_final_and_changes_nothing(fake: FakeCodexBackend, home: Path, code: str) -> None:
    old = fake.write_login(home, seconds_left=-10)
    refresh_token = old["tokens"]["refresh_token"]
    if code == "refresh_token_reused":
        spend(fake, refresh_token)
    elif code == "refresh_token_expired":
        fake.expire_refresh_token(refresh_token)
    else:
        fake.forget_refresh_token(refresh_token)  # a token the endpoint no longer knows
    before = file_bytes(home)
    manager = CodexTokenManager(policy=FAST)

    with pytest.raises(CodexAuthRefreshError) as caught:
        manager.get_credentials()

    error = caught.value
    assert error.code == code
    assert (
        code in error.message and "codex login" in error.message and str(home / "auth.json") in error.message
    )
    assert not isinstance(error, CodexAuthRefreshUnavailableError)
    assert file_bytes(home) == before
    with pytest.raises(CodexAuthRefreshError, match=code):  # final: not sent a second time
        CodexTokenManager(policy=FAST).get_credentials()
    assert fake.refresh_requests == 1


def test_refused_refresh_of_a_token_that_still_works_keeps_it_until_expiry(
    fake: FakeCodexBackend, home: Path, caplog: pytest.LogCaptureFixture
) -> None:
    old = fake.write_login(home, seconds_left=30)
    spend(fake, old["tokens"]["refresh_token"])
    manager = CodexTokenManager(policy=FAST)
    with caplog.at_level(logging.WARNING, logger="litellm_codex_oauth_provider.auth.manager"):
        for _ in range(3):
            assert manager.get_credentials().access_token == old["tokens"]["access_token"]
    assert fake.refresh_requests == 1
    assert "refresh_token_reused" in caplog.text and "codex login" in caplog.text
    with pytest.raises(CodexAuthRefreshError, match="refresh_token_reused"):  # the backend refused it: final
        manager.refresh_after_unauthorized(manager.get_credentials())
    assert fake.refresh_requests == 1


def test_a_new_login_after_a_refusal_is_used(fake: FakeCodexBackend, home: Path) -> None:
    old = fake.write_login(home, seconds_left=-10)
    spend(fake, old["tokens"]["refresh_token"])
    manager = CodexTokenManager(policy=FAST)
    with pytest.raises(CodexAuthRefreshError):
        manager.get_credentials()
    new = fake.write_login(home, seconds_left=-10)  # the user ran `codex login` (and it expired, too)
    assert manager.get_credentials().access_token not in (
        old["tokens"]["access_token"],
        new["tokens"]["access_token"],
    )


def test_missing_file_names_the_path_and_codex_login(home: Path) -> None:
    with pytest.raises(CodexAuthFileNotFoundError) as caught:
        CodexTokenManager().get_credentials()
    assert str(home / "auth.json") in caught.value.message and "codex login" in caught.value.message


@pytest.mark.parametrize(
    ("content", "match"),
    [
        ("{not json", "not valid JSON"),
        (json.dumps({"auth_mode": "apikey", "OPENAI_API_KEY": "sk-x"}), "no ChatGPT `tokens`"),
        (json.dumps(make_auth_json(access_token="not-a-jwt")), "not a valid JWT"),
        ("[]", "does not hold a JSON object"),
    ],
    ids=["malformed", "no-tokens", "not-a-jwt", "not-an-object"],
)
def test_unusable_file_names_the_file(home: Path, content: str, match: str) -> None:
    home.mkdir(parents=True)
    (home / "auth.json").write_text(content)
    with pytest.raises(CodexAuthTokenError, match=match) as caught:
        CodexTokenManager().get_credentials()
    assert str(home / "auth.json") in caught.value.message and "codex login" in caught.value.message
    assert (home / "auth.json").read_text() == content


def test_passing_failures_are_retried_with_backoff(fake: FakeCodexBackend, home: Path) -> None:
    fake.write_login(home, seconds_left=-10)
    fake.fail_next_refreshes(2, status=503)
    credentials = CodexTokenManager(policy=FAST).get_credentials()
    assert fake.refresh_requests == 3
    assert credentials.access_token == read_auth_file(home)["tokens"]["access_token"]


@pytest.mark.parametrize("cause", ["5xx", "network"])
def test_passing_failures_give_up_without_touching_the_login(
    fake: FakeCodexBackend, home: Path, monkeypatch: pytest.MonkeyPatch, cause: str
) -> None:
    fake.write_login(home, seconds_left=-10)
    if cause == "5xx":
        fake.token_status = 502
    else:
        monkeypatch.setenv("CODEX_REFRESH_TOKEN_URL_OVERRIDE", "http://127.0.0.1:9/oauth/token")
    before = file_bytes(home)
    with pytest.raises(CodexAuthRefreshUnavailableError, match="stored login is unchanged"):
        CodexTokenManager(policy=RefreshPolicy(attempts=3, backoff=0.01)).get_credentials()
    assert file_bytes(home) == before
    assert fake.refresh_requests == (3 if cause == "5xx" else 0)


def test_passing_failure_with_a_working_token_keeps_it_and_cools_down(
    fake: FakeCodexBackend, home: Path, caplog: pytest.LogCaptureFixture
) -> None:
    old = fake.write_login(home, seconds_left=30)
    fake.token_status = 503
    manager = CodexTokenManager(policy=RefreshPolicy(attempts=2, backoff=0.01))
    with caplog.at_level(logging.WARNING, logger="litellm_codex_oauth_provider.auth.manager"):
        for _ in range(5):
            assert manager.get_credentials().access_token == old["tokens"]["access_token"]
    assert fake.refresh_requests == 2  # one refresh of two attempts, then a cooldown
    assert caplog.text.count("HTTP 503") == 1


# --------------------------------------------------------------------------- the hot path


def test_file_is_parsed_only_when_it_changes(
    fake: FakeCodexBackend, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake.write_login(home)
    reads, decodes = [], []
    real_read, real_decode = file_store.read_auth_file, login_record.decode_jwt_claims
    monkeypatch.setattr(file_store, "read_auth_file", lambda path: reads.append(path) or real_read(path))
    monkeypatch.setattr(
        login_record, "decode_jwt_claims", lambda token: decodes.append(1) or real_decode(token)
    )
    manager = CodexTokenManager()
    for _ in range(200):
        manager.get_credentials()
    assert (len(reads), len(decodes)) == (1, 1)
    fake.write_login(home)  # another program wrote a new login
    assert manager.get_credentials().access_token == read_auth_file(home)["tokens"]["access_token"]
    assert len(reads) == 2


# --------------------------------------------------------------------------- unwritable logins


def test_unwritable_folder_refuses_to_spend_the_refresh_token(
    fake: FakeCodexBackend, home: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def read_only(*args: Any, **kwargs: Any) -> Any:
        raise OSError(errno.EROFS, os.strerror(errno.EROFS))

    old = fake.write_login(home, seconds_left=30)
    monkeypatch.setattr(tempfile, "mkstemp", read_only)
    manager = CodexTokenManager(policy=FAST)
    with caplog.at_level(logging.WARNING, logger="litellm_codex_oauth_provider.auth.manager"):
        assert manager.get_credentials().access_token == old["tokens"]["access_token"]  # still works
    assert "cannot be written (Read-only file system)" in caplog.text

    fake.write_login(home, seconds_left=-10)
    before = file_bytes(home)
    with pytest.raises(CodexAuthFileNotWritableError) as caught:
        manager.get_credentials()
    message = caught.value.message
    assert "cannot be written (Read-only file system)" in message and str(home / "auth.json") in message
    assert "refresh token is unspent" in message
    assert fake.refresh_requests == 0 and file_bytes(home) == before


def test_failed_write_back_keeps_the_new_tokens_in_memory_and_says_who_is_signed_out(
    fake: FakeCodexBackend, home: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def disk_full(self: Any, data: Any, **options: Any) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    old = fake.write_login(home, seconds_left=-10)
    before = file_bytes(home)
    monkeypatch.setattr(files.PendingWrite, "commit", disk_full)
    with caplog.at_level(logging.ERROR, logger="litellm_codex_oauth_provider.auth.file_store"):
        credentials = CodexTokenManager(policy=FAST).get_credentials()
    assert credentials.access_token != old["tokens"]["access_token"]
    assert file_bytes(home) == before and not list(home.glob(".auth-*"))
    assert "No space left on device" in caplog.text and "signed out" in caplog.text
    # every manager of this file in the process now uses the in-memory login, with no second refresh
    assert CodexTokenManager(policy=FAST).get_credentials() == credentials
    assert fake.refresh_requests == 1
    # once someone writes a new login to the file, it wins
    new = fake.write_login(home)
    assert CodexTokenManager(policy=FAST).get_credentials().access_token == new["tokens"]["access_token"]


_READ_ONLY_SCRIPT = """
import json, sys
from litellm_codex_oauth_provider.auth.manager import CodexTokenManager
from litellm_codex_oauth_provider.exceptions import CodexAuthError
for line in sys.stdin:
    try:
        outcome = {"token": CodexTokenManager(codex_home=line.strip()).get_credentials().access_token}
    except CodexAuthError as exc:
        outcome = {"error": type(exc).__name__, "message": exc.message}
    print(json.dumps(outcome), flush=True)
"""


@contextlib.contextmanager
def read_only_mounts(*targets: Path) -> Iterator[Callable[[Path], dict[str, Any]]]:
    """One process that sees each target bind-mounted read-only; call with a Codex home for its token."""
    if shutil.which("unshare") is None:
        pytest.skip("unshare is not installed")
    probe = subprocess.run(["unshare", "-rm", "true"], capture_output=True)
    if probe.returncode != 0:
        pytest.skip(f"cannot make a user+mount namespace here: {probe.stderr.decode().strip()}")
    mounts = " && ".join(f'mount --bind "{t}" "{t}" && mount -o remount,bind,ro "{t}"' for t in targets)
    shell = f'{mounts} && exec "{sys.executable}" -c "$SCRIPT"'
    env = {**os.environ, "SCRIPT": _READ_ONLY_SCRIPT}
    with subprocess.Popen(
        ["unshare", "-rm", "sh", "-c", shell],
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    ) as process:
        assert process.stdin is not None and process.stdout is not None

        def ask(codex_home: Path) -> dict[str, Any]:
            process.stdin.write(f"{codex_home}\n")
            process.stdin.flush()
            line = process.stdout.readline()
            assert line, "the process on the read-only mount died"
            return json.loads(line)

        try:
            yield ask
        finally:
            process.stdin.close()
            process.wait(30)


def test_login_on_a_read_only_mount_works_until_it_expires(fake: FakeCodexBackend, tmp_path: Path) -> None:
    """A read-only folder (the Codex home mounted `:ro`) and a read-only file (`auth.json` mounted `:ro`)."""
    homes = [tmp_path / "ro-folder", tmp_path / "ro-file"]
    valid = [fake.write_login(home, seconds_left=30) for home in homes]
    with read_only_mounts(homes[0], homes[1] / "auth.json") as ask:
        for home, login in zip(homes, valid, strict=True):
            assert ask(home) == {"token": login["tokens"]["access_token"]}
            fake.write_login(home, seconds_left=-10)  # written from outside, where the mount is writable
            before = file_bytes(home)
            outcome = ask(home)
            assert outcome["error"] == "CodexAuthFileNotWritableError", outcome
            assert "cannot be written (Read-only file system)" in outcome["message"]
            assert file_bytes(home) == before
    assert fake.refresh_requests == 0


# --------------------------------------------------------------------------- secrets stay secret


def test_reprs_hold_no_token(fake: FakeCodexBackend, home: Path) -> None:
    data = fake.write_login(home)
    manager = CodexTokenManager()
    record = manager.load()
    text = " ".join(map(repr, (manager, record, record.credentials, Credentials("tok-secret", "acct"))))
    for secret in (*data["tokens"].values(), "tok-secret"):
        if secret != "acct-123":
            assert secret not in text
