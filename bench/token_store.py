"""Benchmark: the Redis token store next to the file store (auth.json + flock).

Against the fake Codex backend in its own process and a real `redis-server` on a free port, both
started here, on 127.0.0.1 only:

    refresh    latency of one refresh (forced, as after a 401): lock, re-read, POST to the token
               endpoint, save; file = flock + rename over auth.json, redis = SET NX PX lock, HGETALL,
               compare-and-set, write-back to auth.json
    hot path   `get_credentials()` on a fresh token: what every request pays (one stat either way)
    calls/s    `litellm.completion` from 2 processes x 4 threads for a while, access tokens living
               4 s (so the fleet refreshes every 3 s): the file store with one shared CODEX_HOME (its
               setup, one host), the Redis store with a CODEX_HOME copy per process (as separate hosts)

    .venv/bin/python bench/token_store.py              # ~1.5 min: 3 alternating rounds of 8 s per store
    .venv/bin/python bench/token_store.py --rounds 5 --seconds 20 --refreshes 100

Prints a markdown table and writes bench/results/token-store.{md,json}.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"

import httpx  # noqa: E402

from litellm_codex_oauth_provider.testing.fake_codex import STATS_PATH  # noqa: E402
from litellm_codex_oauth_provider.testing.redis_server import RedisServer  # noqa: E402

RESULTS = ROOT / "bench" / "results"
KEY = "bench-token-store-key-0123456789abcdef"
LIFETIME = 4
FORK = multiprocessing.get_context("fork")
STORES = ("redis", "file")


def start_fake(folder: Path) -> tuple[subprocess.Popen[str], str]:
    """The fake in its own process (its CPU is not ours); it writes an accepted login into `folder/login`."""
    args = [sys.executable, "-m", "litellm_codex_oauth_provider.testing.fake_codex", "--check-tokens"]
    args += ["--access-token-lifetime", str(LIFETIME), "--issue-login", str(folder / "login")]
    process = subprocess.Popen(args, cwd=ROOT, stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    base_url = process.stdout.readline().strip()
    if not base_url:
        raise RuntimeError("the fake Codex backend did not start")
    return process, base_url


def stats(base_url: str) -> dict[str, int]:
    """The fake's counters (refreshes, `refresh_token_reused` answers)."""
    return httpx.get(base_url.split("/backend-api")[0] + STATS_PATH).json()


def environment(base_url: str, store: str, redis_url: str, cache: Path) -> None:
    root = base_url.split("/backend-api")[0]
    os.environ.update(
        CODEX_API_BASE=base_url,
        CODEX_REFRESH_TOKEN_URL_OVERRIDE=root + "/oauth/token",
        CODEX_INSTRUCTIONS_URL="http://127.0.0.1:9/x",
        CODEX_CACHE_DIR=str(cache),
        CODEX_MAX_RETRIES="0",
    )
    os.environ.pop("CODEX_TOKEN_STORE", None)
    if store == "redis":
        os.environ.update(CODEX_TOKEN_STORE=redis_url, CODEX_TOKEN_STORE_KEY=KEY)


def refresh_latency(home: Path, count: int) -> list[float]:
    from litellm_codex_oauth_provider.auth.manager import CodexTokenManager

    manager = CodexTokenManager(codex_home=str(home))
    credentials = manager.get_credentials()
    samples = []
    for _ in range(count):
        started = time.perf_counter()
        credentials = manager.refresh_after_unauthorized(credentials)
        samples.append(time.perf_counter() - started)
    return samples


def hot_path(home: Path, count: int) -> float:
    """Seconds per `get_credentials()` of a fresh token."""
    from litellm_codex_oauth_provider.auth.manager import CodexTokenManager

    manager = CodexTokenManager(codex_home=str(home))
    manager.get_credentials()
    started = time.perf_counter()
    for _ in range(count):
        manager.get_credentials()
    return (time.perf_counter() - started) / count


def _caller(home: str, seconds: float, threads: int, results: Any) -> None:
    from concurrent.futures import ThreadPoolExecutor

    import litellm

    from litellm_codex_oauth_provider import CodexAuthProvider

    os.environ["CODEX_HOME"] = home
    litellm.custom_provider_map = [{"provider": "codex", "custom_handler": CodexAuthProvider()}]
    messages = [{"role": "user", "content": "hi"}]
    deadline = time.monotonic() + seconds

    def loop(_: int) -> tuple[int, int]:
        ok = failed = 0
        while time.monotonic() < deadline:
            try:
                litellm.completion(model="codex/gpt-5.5", messages=messages)
                ok += 1
            except Exception:
                failed += 1
        return ok, failed

    with ThreadPoolExecutor(threads) as pool:
        outcomes = list(pool.map(loop, range(threads)))
    results.put((sum(o for o, _ in outcomes), sum(f for _, f in outcomes)))


def throughput(homes: list[Path], seconds: float, threads: int) -> tuple[float, int]:
    results = FORK.Queue()
    processes = [FORK.Process(target=_caller, args=(str(h), seconds, threads, results)) for h in homes]
    started = time.monotonic()
    for process in processes:
        process.start()
    outcomes = [results.get(timeout=seconds + 120) for _ in processes]
    elapsed = time.monotonic() - started
    for process in processes:
        process.join(30)
    return sum(o for o, _ in outcomes) / elapsed, sum(f for _, f in outcomes)


def copy_login(source: Path, target: Path) -> Path:
    target.mkdir(parents=True, exist_ok=True)
    shutil.copy2(source / "auth.json", target / "auth.json")
    return target


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=8.0, help="length of each calls/s run")
    parser.add_argument("--refreshes", type=int, default=40, help="refreshes timed per store")
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds of both stores")
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="bench-token-store-"))
    fake, base_url = start_fake(folder)
    redis_server = RedisServer(folder / "redis").start()
    samples: dict[str, dict[str, list[float]]] = {
        store: {"refresh": [], "hot": [], "rate": [], "failed": [], "refreshes": [], "reused": []}
        for store in STORES
    }
    try:
        # The login moves from store to store: each phase goes on from the newest auth.json (a file
        # newer than Redis's login replaces it there). Rounds alternate the order, so a busy moment
        # of the machine hits both stores alike.
        login = folder / "login"
        for round_ in range(args.rounds):
            for store in STORES if round_ % 2 == 0 else STORES[::-1]:
                environment(base_url, store, redis_server.url, folder / f"cache-{store}")
                home = copy_login(login, folder / f"latency-{store}")
                before = stats(base_url)
                samples[store]["refresh"] += refresh_latency(home, max(1, args.refreshes // args.rounds))
                samples[store]["hot"].append(hot_path(home, 20000))
                shutil.copy2(home / "auth.json", login / "auth.json")
                if store == "redis":
                    homes = [copy_login(login, folder / f"host-{i}") for i in range(args.processes)]
                else:
                    homes = [copy_login(login, folder / "shared")] * args.processes
                mid = stats(base_url)
                rate, failed = throughput(homes, args.seconds, args.threads)
                after = stats(base_url)
                shutil.copy2(homes[0] / "auth.json", login / "auth.json")
                samples[store]["rate"].append(rate)
                samples[store]["failed"].append(failed)
                samples[store]["refreshes"].append(after["refresh"] - mid["refresh"])
                samples[store]["reused"].append(after["reuse_errors"] - before["reuse_errors"])
    finally:
        redis_server.stop()
        fake.terminate()
        fake.wait(10)
        shutil.rmtree(folder, ignore_errors=True)

    rows: dict[str, dict[str, Any]] = {}
    for store, got in samples.items():
        refresh = sorted(got["refresh"])
        rows[store] = {
            "refresh_median_ms": statistics.median(refresh) * 1000,
            "refresh_p95_ms": refresh[max(0, int(len(refresh) * 0.95) - 1)] * 1000,
            "hot_path_us": statistics.median(got["hot"]) * 1e6,
            "calls_per_second": statistics.median(got["rate"]),
            "calls_per_second_runs": got["rate"],
            "failed_calls": int(sum(got["failed"])),
            "fleet_refreshes": int(sum(got["refreshes"])),
            "reuse_errors": int(sum(got["reused"])),
            "seconds": args.seconds * args.rounds,
        }
    title = (
        f"Token stores, {args.processes} processes x {args.threads} threads, tokens living {LIFETIME} s, "
        f"{args.rounds} alternating rounds, "
        f"Python {platform.python_version()}, {os.cpu_count()} CPUs"
    )
    lines = [
        f"**{title}**",
        "",
        "| store | refresh median | refresh p95 | get_credentials (fresh token) | calls/s (median of rounds) | failed calls | refreshes in the calls/s runs | refresh_token_reused |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for store, row in rows.items():
        lines.append(
            f"| {store} | {row['refresh_median_ms']:.1f} ms | {row['refresh_p95_ms']:.1f} ms | "
            f"{row['hot_path_us']:.1f} µs | {row['calls_per_second']:.0f} | {row['failed_calls']} | "
            f"{row['fleet_refreshes']} in {row['seconds']:g} s | {row['reuse_errors']} |"
        )
    table = "\n".join(lines)
    print(table)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "token-store.md").write_text(table + "\n", encoding="utf-8")
    (RESULTS / "token-store.json").write_text(
        json.dumps({"title": title, "rows": rows}, indent=2), encoding="utf-8"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
