"""The login file as an attacker or a careless setup leaves it: FIFOs, devices, huge files, symlinks, loose modes.

Real files, FIFOs, `/dev/zero`, symlinks and the socket fake; the proxy-level attacks live with
the proxy tests.
"""

from __future__ import annotations

import asyncio
import fcntl
import json
import logging
import os
import threading
import time
from pathlib import Path

import litellm
import pytest
from click.testing import CliRunner

from litellm_codex_oauth_provider import cli
from litellm_codex_oauth_provider.auth.manager import CodexTokenManager
from litellm_codex_oauth_provider.auth.token_endpoint import RefreshPolicy
from litellm_codex_oauth_provider.exceptions import (
    CodexAuthFileNotWritableError,
    CodexAuthRefreshUnavailableError,
    CodexAuthTokenError,
)
from litellm_codex_oauth_provider.testing.fake_codex import FakeCodexBackend
from litellm_codex_oauth_provider.testing.logins import read_auth_file
from tests.support.fifo import FifoWatch

MESSAGES = [{"role": "user", "content": "hi"}]
FAST = RefreshPolicy(backoff=0.01)
OTHER_UID = 54321


# --------------------------------------------------------------------------- nothing can stall a read


@pytest.mark.usefixtures("provider")
async def test_a_fifo_login_fails_fast_and_the_event_loop_keeps_running(
    fake: FakeCodexBackend, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fifo = tmp_path / "auth.json"
    os.mkfifo(fifo)
    monkeypatch.setenv("CODEX_AUTH_FILE", str(fifo))
    ticks = [0]

    async def ticker() -> None:
        while True:
            ticks[0] += 1
            await asyncio.sleep(0)

    ticking = asyncio.create_task(ticker())
    try:
        with (
            FifoWatch(fifo, probe=lambda: ticks[0]) as watch,
            pytest.raises(litellm.AuthenticationError) as caught,
        ):
            await litellm.acompletion(model="codex/gpt-5.5", messages=MESSAGES)
    finally:
        ticking.cancel()
    assert all(before != after for before, after in watch.samples), "reading the login blocked the event loop"
    assert watch.stuck_readers == 0, "the FIFO was read"
    message = str(caught.value)
    assert "FIFO" in message and "CODEX_AUTH_FILE" in message
    assert ticks[0] > 0
    assert fake.responses_count == 0


async def test_the_async_path_reads_the_login_in_a_worker_thread(
    codex_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every file access of `aget_credentials` happens off the loop's thread."""
    loop_thread = threading.get_ident()
    seen: list[int] = []
    original = os.stat

    def spying_stat(*args: object, **kwargs: object) -> os.stat_result:
        if str(args[0]).startswith(str(codex_home)):
            seen.append(threading.get_ident())
        return original(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "stat", spying_stat)
    credentials = await CodexTokenManager().aget_credentials()
    assert credentials.account_id == "acct-123"
    assert seen and loop_thread not in seen


def test_a_device_is_refused_without_reading_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CODEX_AUTH_FILE", "/dev/zero")
    with pytest.raises(CodexAuthTokenError) as caught:
        CodexTokenManager().get_credentials()
    assert "character device" in caught.value.message and "CODEX_AUTH_FILE" in caught.value.message


def test_a_huge_login_file_is_refused_without_reading_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    huge = tmp_path / "auth.json"
    with open(huge, "wb") as handle:
        handle.truncate(64 << 20)  # sparse: 64 MiB of zeros that take no disk
    monkeypatch.setenv("CODEX_AUTH_FILE", str(huge))
    with pytest.raises(CodexAuthTokenError) as caught:
        CodexTokenManager().get_credentials()
    assert "1 MiB" in caught.value.message and "codex login" in caught.value.message


def test_doctor_refuses_a_fifo_login_instead_of_hanging(tmp_path: Path) -> None:
    fifo = tmp_path / "auth.json"
    os.mkfifo(fifo)
    with FifoWatch(fifo) as watch:
        result = CliRunner().invoke(cli.main, ["--auth-file", str(fifo), "doctor"])
    assert watch.stuck_readers == 0
    assert result.exit_code == cli.EXIT_FAILED
    assert "FIFO" in result.output


# --------------------------------------------------------------------------- symlinks


def _linked_login(fake: FakeCodexBackend, tmp_path: Path, home: Path) -> Path:
    """`home/auth.json` is a symlink to `tmp_path/vault/auth.json`, whose token is due for a refresh."""
    vault = tmp_path / "vault"
    fake.write_login(vault, seconds_left=10)
    home.mkdir(parents=True, exist_ok=True)
    (home / "auth.json").symlink_to(vault / "auth.json")
    return vault


def test_a_symlinked_login_is_refreshed_in_its_target_and_the_link_is_kept(
    fake: FakeCodexBackend, tmp_path: Path, home: Path
) -> None:
    vault = _linked_login(fake, tmp_path, home)
    old = read_auth_file(vault)["tokens"]["refresh_token"]
    credentials = CodexTokenManager(policy=FAST).get_credentials()
    assert fake.refresh_requests == 1
    assert (home / "auth.json").is_symlink()
    stored = read_auth_file(vault)["tokens"]
    assert stored["access_token"] == credentials.access_token
    assert stored["refresh_token"] != old and fake.is_valid_refresh_token(stored["refresh_token"])
    assert not [p.name for p in vault.iterdir() if p.name.startswith(".auth-")]


@pytest.mark.parametrize("holder", ["link folder", "target folder"])
def test_a_symlinked_login_is_locked_beside_the_link_and_beside_its_target(
    fake: FakeCodexBackend, tmp_path: Path, home: Path, holder: str
) -> None:
    """A Codex CLI locks `auth.lock` beside the path it was given: either one must keep us waiting."""
    vault = _linked_login(fake, tmp_path, home)
    folder = home if holder == "link folder" else vault
    fd = os.open(folder / "auth.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        manager = CodexTokenManager(policy=RefreshPolicy(backoff=0.01, lock_timeout=0.3))
        with pytest.raises(CodexAuthRefreshUnavailableError) as caught:
            manager._refresh_blocking(manager.load(), forced=False)
    finally:
        os.close(fd)
    assert str(folder / "auth.lock") in caught.value.message
    assert fake.refresh_requests == 0


def test_a_symlinked_codex_home_is_locked_once(fake: FakeCodexBackend, tmp_path: Path, monkeypatch) -> None:
    real = tmp_path / "real-home"
    fake.write_login(real, seconds_left=10)
    link = tmp_path / "link-home"
    link.symlink_to(real, target_is_directory=True)
    monkeypatch.setenv("CODEX_HOME", str(link))
    manager = CodexTokenManager(policy=RefreshPolicy(backoff=0.01, lock_timeout=2))
    assert manager.get_credentials().access_token == read_auth_file(real)["tokens"]["access_token"]
    assert fake.refresh_requests == 1 and link.is_symlink()


def test_a_symlinked_lock_file_is_never_followed(fake: FakeCodexBackend, tmp_path: Path, home: Path) -> None:
    old = fake.write_login(home, seconds_left=10)
    victim = tmp_path / "victim"
    (home / "auth.lock").symlink_to(victim)
    with pytest.raises(CodexAuthFileNotWritableError) as caught:
        CodexTokenManager(policy=FAST)._refresh_blocking(CodexTokenManager().load(), forced=False)
    assert "symbolic link" in caught.value.message and f"rm {home / 'auth.lock'}" in caught.value.message
    assert not victim.exists()
    assert fake.refresh_requests == 0
    assert read_auth_file(home) == old  # the refresh token was not spent


# --------------------------------------------------------------------------- loose login files


def _warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if "UNPROTECTED LOGIN" in r.getMessage()]


def test_a_readable_login_is_warned_about_once(codex_home: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = codex_home / "auth.json"
    path.chmod(0o644)
    caplog.set_level(logging.WARNING, logger="litellm_codex_oauth_provider")
    CodexTokenManager().load()
    os.utime(path, ns=(time.time_ns(), time.time_ns() + 10**9))  # changed: it is read again
    CodexTokenManager().load()
    assert _warnings(caplog) == [
        f"codex auth: UNPROTECTED LOGIN: {path} has mode 0644: other users can read or change your "
        f"ChatGPT tokens. Fix: chmod 600 {path}"
    ]
    assert path.stat().st_mode & 0o777 == 0o644  # a warning, not a surprise chmod


def test_a_login_in_a_folder_others_can_write_is_warned_about(
    codex_home: Path, caplog: pytest.LogCaptureFixture
) -> None:
    codex_home.chmod(0o777)
    caplog.set_level(logging.WARNING, logger="litellm_codex_oauth_provider")
    CodexTokenManager().load()
    (warning,) = _warnings(caplog)
    assert f"the folder {codex_home} has mode 0777" in warning and f"chmod go-w {codex_home}" in warning


def _owned_by_someone_else(path: Path) -> None:
    if os.geteuid() != 0:
        pytest.skip("giving a file to another user needs root")
    os.chown(path, OTHER_UID, OTHER_UID)


def test_a_login_owned_by_another_user_is_warned_about(
    codex_home: Path, caplog: pytest.LogCaptureFixture
) -> None:
    _owned_by_someone_else(codex_home / "auth.json")
    caplog.set_level(logging.WARNING, logger="litellm_codex_oauth_provider")
    CodexTokenManager().load()
    (warning,) = _warnings(caplog)
    assert f"belongs to uid {OTHER_UID}" in warning and "chown" in warning


def test_doctor_fails_a_login_owned_by_another_user_in_a_folder_anyone_can_write(codex_home: Path) -> None:
    _owned_by_someone_else(codex_home / "auth.json")
    codex_home.chmod(0o777)
    result = CliRunner().invoke(cli.main, ["doctor", "--json"])
    assert result.exit_code == cli.EXIT_FAILED
    checks = {c["check"]: c for c in json.loads(result.output)["checks"]}
    mode = checks["file mode"]
    assert mode["status"] == "fail"
    assert f"uid {OTHER_UID}" in mode["detail"] and "0777" in mode["detail"]
    assert f"chmod go-w {codex_home}" in mode["fix"] and "chown" in mode["fix"]


def test_doctor_passes_a_private_login(codex_home: Path) -> None:
    result = CliRunner().invoke(cli.main, ["doctor", "--json"])
    checks = {c["check"]: c for c in json.loads(result.output)["checks"]}
    assert checks["file mode"]["status"] == "pass"
    assert checks["login file"]["status"] == "pass"


def test_status_calls_a_login_in_a_folder_anyone_can_write_unsafe(codex_home: Path) -> None:
    codex_home.chmod(0o777)
    result = CliRunner().invoke(cli.main, ["status", "--json"])
    data = json.loads(result.output)
    assert data["file_mode"] == "0600" and data["file_mode_safe"] is False
    assert any("0777" in problem for problem in data["file_problems"])
    text = CliRunner().invoke(cli.main, ["status"]).output
    assert "UNSAFE" in text and f"chmod go-w {codex_home}" in text.replace("\n", "")
