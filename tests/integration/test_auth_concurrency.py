"""One refresh at a time: threads, event-loop tasks and processes sharing one single-use login."""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import multiprocessing
import os
import signal
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from litellm_codex_oauth_provider.auth import manager as manager_module
from litellm_codex_oauth_provider.auth.httpx_auth import CodexAuth
from litellm_codex_oauth_provider.auth.manager import CodexTokenManager
from litellm_codex_oauth_provider.auth.token_endpoint import RefreshPolicy
from litellm_codex_oauth_provider.exceptions import CodexAuthRefreshError
from litellm_codex_oauth_provider.testing.fake_codex import FakeCodexBackend
from litellm_codex_oauth_provider.testing.logins import read_auth_file


def run_loop_tasks(coro_factory: Any, tasks: int, start: threading.Barrier) -> list[str]:
    """In a fresh event loop (in this thread): wait for `start`, then run `tasks` coroutines at once."""

    async def main() -> list[str]:
        await asyncio.to_thread(start.wait)
        return list(await asyncio.gather(*(coro_factory() for _ in range(tasks))))

    return asyncio.run(main())


# --------------------------------------------------------------------------- one process


def test_threads_and_tasks_share_one_refresh(fake: FakeCodexBackend, home: Path) -> None:
    old = fake.write_login(home, seconds_left=10)["tokens"]["access_token"]
    fake.token_delay = 0.3  # everyone arrives while the refresh is in flight
    managers = [CodexTokenManager(), CodexTokenManager()]  # two managers of one file share it too
    threads, loops, tasks_per_loop = 8, 3, 10
    start = threading.Barrier(threads + loops)
    results: list[str] = []
    lock = threading.Lock()

    def sync_worker(index: int) -> None:
        start.wait()
        token = managers[index % 2].get_credentials().access_token
        with lock:
            results.append(token)

    def async_worker(index: int) -> None:
        async def one() -> str:
            return (await managers[index % 2].aget_credentials()).access_token

        tokens = run_loop_tasks(one, tasks_per_loop, start)
        with lock:
            results.extend(tokens)

    workers = [threading.Thread(target=sync_worker, args=(i,)) for i in range(threads)]
    workers += [threading.Thread(target=async_worker, args=(i,)) for i in range(loops)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(30)

    new = read_auth_file(home)["tokens"]["access_token"]
    assert len(results) == threads + loops * tasks_per_loop
    assert set(results) == {new} and new != old
    assert fake.refresh_requests == 1 and fake.reuse_errors == 0


async def test_a_burst_of_401s_makes_one_refresh(fake: FakeCodexBackend, home: Path) -> None:
    old = fake.write_login(home, seconds_left=3000)["tokens"]["access_token"]
    fake.expected_access_token = lambda token: token != old
    fake.token_delay = 0.2
    async with httpx.AsyncClient(auth=CodexAuth(CodexTokenManager())) as client:
        responses = await asyncio.gather(*(client.get(fake.models_url) for _ in range(20)))
    assert {r.status_code for r in responses} == {200}
    assert fake.refresh_requests == 1 and fake.reuse_errors == 0


async def test_the_event_loop_keeps_running_during_a_slow_refresh(fake: FakeCodexBackend, home: Path) -> None:
    fake.write_login(home, seconds_left=10)
    fake.token_delay = 1.0
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    ticking = asyncio.create_task(ticker())
    await asyncio.sleep(0.05)
    before = ticks
    await CodexTokenManager().aget_credentials()
    during = ticks - before
    ticking.cancel()
    assert fake.refresh_requests == 1
    # A loop blocked for the 1 s refresh would tick at most once; a free one ticks ~100 times.
    assert during >= 10


async def test_a_cancelled_caller_does_not_cancel_the_shared_refresh(
    fake: FakeCodexBackend, home: Path
) -> None:
    fake.write_login(home, seconds_left=10)
    fake.token_delay = 0.5
    manager = CodexTokenManager()
    first = asyncio.create_task(manager.aget_credentials())
    second = asyncio.create_task(manager.aget_credentials())
    await asyncio.sleep(0.1)
    first.cancel()
    credentials = await second
    assert credentials.access_token == read_auth_file(home)["tokens"]["access_token"]
    assert fake.refresh_requests == 1


def test_threads_queued_behind_a_failed_refresh_share_its_failure(fake: FakeCodexBackend, home: Path) -> None:
    fake.write_login(home, seconds_left=-5)
    fake.token_status = 503
    fake.token_delay = 0.2
    manager = CodexTokenManager(policy=RefreshPolicy(attempts=2, backoff=0.01))
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            manager.get_credentials()
        except Exception as exc:
            errors.append(exc)

    workers = [threading.Thread(target=worker) for _ in range(6)]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join(30)
    assert len(errors) == 6 and all("HTTP 503" in str(e) for e in errors)
    assert fake.refresh_requests == 2  # one refresh of two attempts, not one per thread


# --------------------------------------------------------------------------- several processes

# Forked, not spawned: a fresh interpreter spends seconds importing LiteLLM. Each child is still
# its own process with its own memory, locks and file descriptors, like a proxy worker.
FORK = multiprocessing.get_context("fork")


def _request_loop(url: str, seconds: float, results: Any) -> None:
    statuses: dict[str, int] = {}
    deadline = time.monotonic() + seconds
    with httpx.Client(auth=CodexAuth(CodexTokenManager())) as client:
        while time.monotonic() < deadline:
            try:
                outcome = str(client.get(url).status_code)
            except Exception as exc:  # e.g. a refused refresh: report it rather than die silently
                outcome = type(exc).__name__
            statuses[outcome] = statuses.get(outcome, 0) + 1
            time.sleep(0.02)
    results.put(statuses)


def test_processes_share_one_login_without_reusing_a_refresh_token(
    fake: FakeCodexBackend, home: Path
) -> None:
    """Four workers of ours, tokens living 4 s: every refresh happens once, under `auth.lock`."""
    fake.check_tokens = True  # the fake accepts only tokens it minted, and only until `exp`
    fake.access_token_lifetime = 4
    fake.issue_login(home, expires_in=4)
    results = FORK.Queue()
    workers = [FORK.Process(target=_request_loop, args=(fake.models_url, 7.0, results)) for _ in range(4)]
    for worker in workers:
        worker.start()
    outcomes = [results.get(timeout=60) for _ in workers]
    for worker in workers:
        worker.join(10)
        assert worker.exitcode == 0

    assert fake.reuse_errors == 0
    assert all(set(statuses) == {"200"} for statuses in outcomes), outcomes
    assert sum(sum(statuses.values()) for statuses in outcomes) > 100
    # a token lives 4 s and is refreshed 1 s early: two or three refreshes in 7 s, not that many per process
    assert 1 <= fake.refresh_requests <= 4, fake.refresh_requests
    assert fake.is_valid_refresh_token(read_auth_file(home)["tokens"]["refresh_token"])


# --------------------------------------------------------------------------- crash safety


def _read_loop(path: str, stop: Any, results: Any) -> None:
    reads = bad = 0
    while not stop.is_set():
        try:
            with open(path) as handle:
                data = json.load(handle)
            if data["tokens"]["access_token"] and data["tokens"]["refresh_token"]:
                reads += 1
            else:
                bad += 1
        except (OSError, ValueError, KeyError):
            bad += 1
    results.put((reads, bad))


def test_a_reader_never_sees_a_partial_file(fake: FakeCodexBackend, home: Path) -> None:
    fake.issue_login(home)
    stop, results = FORK.Event(), FORK.Queue()
    reader = FORK.Process(target=_read_loop, args=(str(home / "auth.json"), stop, results))
    reader.start()
    manager = CodexTokenManager()
    try:
        for _ in range(60):
            manager.refresh_after_unauthorized(manager.get_credentials())
    finally:
        stop.set()
        reads, bad = results.get(timeout=30)
        reader.join(10)
    assert fake.refresh_requests == 60 and fake.reuse_errors == 0
    assert bad == 0 and reads > 0


def _refresh_forever() -> None:
    manager = CodexTokenManager()
    while True:
        try:
            manager.refresh_after_unauthorized(manager.get_credentials())
        except CodexAuthRefreshError:
            time.sleep(0.01)  # killed between spending a token and saving it: wait for a new login


def test_a_killed_refresher_leaves_a_whole_file(fake: FakeCodexBackend, home: Path) -> None:
    """SIGKILL in the middle of refresh loops, five times: `auth.json` is always whole and parseable."""
    fake.issue_login(home, extra={"unknown_field": [1, 2, 3]})
    for _ in range(5):
        refresher = FORK.Process(target=_refresh_forever)
        seen = fake.refresh_requests
        refresher.start()
        deadline = time.monotonic() + 20
        while fake.refresh_requests < seen + 3 and time.monotonic() < deadline:
            time.sleep(0.002)
        os.kill(refresher.pid, signal.SIGKILL)
        refresher.join(10)
        data: dict[str, Any] = json.loads((home / "auth.json").read_text())
        assert list(data) == ["auth_mode", "OPENAI_API_KEY", "tokens", "last_refresh", "unknown_field"]
        assert all(data["tokens"].values()) and data["unknown_field"] == [1, 2, 3]
        if not fake.is_valid_refresh_token(data["tokens"]["refresh_token"]):
            fake.issue_login(home, extra={"unknown_field": [1, 2, 3]})  # the token was spent unsaved
    assert fake.refresh_requests >= 15


class _DoneAtOnce(concurrent.futures.Executor):
    """Runs each refresh before `submit` returns: the refresh that finishes before its waiter looks."""

    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> concurrent.futures.Future[Any]:
        future: concurrent.futures.Future[Any] = concurrent.futures.Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as exc:
            future.set_exception(exc)
        return future


@pytest.mark.parametrize("outcome", ["refreshed", "refused at once"])
def test_a_refresh_that_finishes_before_its_waiter_looks_does_not_hang(
    fake: FakeCodexBackend, home: Path, monkeypatch: pytest.MonkeyPatch, outcome: str
) -> None:
    old = fake.write_login(home, seconds_left=-10)
    if outcome == "refused at once":
        fake.token_status = 401
    monkeypatch.setattr(manager_module, "_refreshers", _DoneAtOnce)
    results: list[object] = []

    def ask() -> None:
        try:
            results.append(CodexTokenManager().get_credentials().access_token)
        except CodexAuthRefreshError as exc:
            results.append(exc)

    caller = threading.Thread(target=ask, daemon=True)
    caller.start()
    caller.join(20)
    assert not caller.is_alive(), "the caller deadlocked on its own finished refresh"
    (result,) = results
    if outcome == "refreshed":
        assert result == read_auth_file(home)["tokens"]["access_token"] != old["tokens"]["access_token"]
    else:
        assert isinstance(result, CodexAuthRefreshError)
