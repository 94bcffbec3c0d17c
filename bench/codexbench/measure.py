"""The measurements, each interleaved round-robin over the contenders; big streams in subprocesses."""

from __future__ import annotations

import asyncio
import gc
import json
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

from .common import ENTRY, ROOT, SMALL_DELTA, TEXT, Plan, local_only, log, pin
from .contenders import make_contender

# --------------------------------------------------------------------------- measurements


def rotations(names: tuple[str, ...], rounds: int) -> Iterator[tuple[str, ...]]:
    """Round-robin with a rotating start, so no contender always goes first (or after another)."""
    for i in range(rounds):
        k = i % len(names)
        yield names[k:] + names[:k]


def summary(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    p90 = ordered[min(len(ordered) - 1, round(0.9 * (len(ordered) - 1)))]
    return {
        "n": len(samples),
        "median_ms": statistics.median(samples) * 1000,
        "p90_ms": p90 * 1000,
        "mean_ms": statistics.fmean(samples) * 1000,
        "min_ms": ordered[0] * 1000,
    }


def check_text(name: str, text: str) -> None:
    if text != TEXT:
        raise AssertionError(f"{name} answered {text!r}, expected {TEXT!r}")


def bench_sync_calls(contenders: dict[str, Any], rounds: int) -> dict[str, list[float]]:
    samples: dict[str, list[float]] = {name: [] for name in contenders}
    for order in rotations(tuple(contenders), rounds):
        for name in order:
            start = time.perf_counter()
            text = contenders[name].call()
            samples[name].append(time.perf_counter() - start)
            check_text(name, text)
    return samples


async def bench_async_calls(contenders: dict[str, Any], rounds: int) -> dict[str, list[float]]:
    samples: dict[str, list[float]] = {name: [] for name in contenders}
    for order in rotations(tuple(contenders), rounds):
        for name in order:
            start = time.perf_counter()
            text = await contenders[name].acall()
            samples[name].append(time.perf_counter() - start)
            check_text(name, text)
    return samples


def bench_sync_ttfc(contenders: dict[str, Any], rounds: int) -> dict[str, list[float]]:
    samples: dict[str, list[float]] = {name: [] for name in contenders}
    for order in rotations(tuple(contenders), rounds):
        for name in order:
            samples[name].append(contenders[name].first_chunk())
    return samples


async def bench_async_ttfc(contenders: dict[str, Any], rounds: int) -> dict[str, list[float]]:
    samples: dict[str, list[float]] = {name: [] for name in contenders}
    for order in rotations(tuple(contenders), rounds):
        for name in order:
            samples[name].append(await contenders[name].afirst_chunk())
    return samples


async def bench_concurrency(contenders: dict[str, Any], width: int, rounds: int) -> dict[str, list[float]]:
    """Wall time of `width` concurrent calls; one unmeasured batch each first opens the connections."""
    samples: dict[str, list[float]] = {name: [] for name in contenders}

    async def batch(name: str) -> float:
        start = time.perf_counter()
        texts = await asyncio.gather(*(contenders[name].acall("bench:slow") for _ in range(width)))
        elapsed = time.perf_counter() - start
        for text in texts:
            check_text(name, text)
        return elapsed

    for name in contenders:
        await batch(name)
    for order in rotations(tuple(contenders), rounds):
        for name in order:
            samples[name].append(await batch(name))
    return samples


def bench_deltas(contenders: dict[str, Any], deltas: int, rounds: int) -> dict[str, list[float]]:
    """Seconds per text delta of a sync stream of many small deltas (the per-chunk cost of each path)."""
    marker = f"bench:big:{deltas * SMALL_DELTA}:{SMALL_DELTA}"
    samples: dict[str, list[float]] = {name: [] for name in contenders}
    for order in rotations(tuple(contenders), rounds):
        for name in order:
            start = time.perf_counter()
            received = contenders[name].stream_bytes(marker)
            samples[name].append((time.perf_counter() - start) / deltas)
            if received != deltas * SMALL_DELTA:
                raise AssertionError(f"{name} received {received} bytes of {deltas * SMALL_DELTA}")
    return samples


async def awarm(contenders: dict[str, Any], count: int) -> None:
    for _ in range(count):
        for contender in contenders.values():
            check_text(contender.name, await contender.acall())
            await contender.afirst_chunk("bench:fast")


def warm(contenders: dict[str, Any], count: int) -> None:
    for _ in range(count):
        for contender in contenders.values():
            check_text(contender.name, contender.call())
            contender.first_chunk("bench:fast")


def run_in_loop(main: Callable[[], Awaitable[Any]]) -> Any:
    """Each async phase runs in its own loop, as separate programs would."""
    return asyncio.run(main())


# --------------------------------------------------------------------------- big streams (subprocess)


def _status_kb(field_name: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field_name + ":"):
            return int(line.split()[1])
    raise KeyError(field_name)


def _reset_peak_rss() -> bool:
    try:
        Path("/proc/self/clear_refs").write_text("5")  # resets VmHWM to the current RSS (Linux)
        return True
    except OSError:
        return False


def stream_worker(job: dict[str, Any]) -> dict[str, Any]:
    """One contender and size in this fresh process: timed first (peak RSS), then under tracemalloc."""
    local_only()
    pin(0)
    contender = make_contender(job["contender"])
    size = int(job["bytes"])
    marker = f"bench:big:{size}"
    contender.stream_bytes("bench:fast")  # warm: imports, pools, catalog
    contender.stream_bytes("bench:big:65536")
    gc.collect()
    result: dict[str, Any] = {**job}

    base_kb = _status_kb("VmRSS")
    exact = _reset_peak_rss()
    start = time.perf_counter()
    received = contender.stream_bytes(marker)
    elapsed = time.perf_counter() - start
    peak_kb = _status_kb("VmHWM")
    result.update(
        seconds=elapsed,
        mb_per_s=size / 1e6 / elapsed,
        rss_base_mb=base_kb * 1024 / 1e6,
        rss_peak_growth_mb=(peak_kb - base_kb) * 1024 / 1e6,
        rss_peak_is_exact=exact,
    )
    if received != size:
        raise AssertionError(f"{job['contender']} received {received} bytes of {size}")

    import tracemalloc

    gc.collect()
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    tracemalloc.reset_peak()
    received = contender.stream_bytes(marker)
    peak = tracemalloc.get_traced_memory()[1]
    time.sleep(1.0)  # let LiteLLM's background success logging (a thread pool) finish with the stream
    gc.collect()
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    result.update(traced_peak_mb=(peak - base) / 1e6, traced_retained_mb=(after - base) / 1e6)
    if received != size:
        raise AssertionError(f"{job['contender']} received {received} bytes of {size}")
    return result


def bench_big_streams(plan: Plan, names: tuple[str, ...]) -> list[dict[str, Any]]:
    """Each contender and size in its own subprocess, interleaved by contender."""
    results = []
    for size in plan.big_sizes:
        for name in names:
            job = {"contender": name, "bytes": size}
            out = subprocess.run(
                [sys.executable, str(ENTRY), "--stream-worker", json.dumps(job)],
                capture_output=True,
                text=True,
                cwd=ROOT,
                timeout=600,
                check=False,
            )
            if out.returncode != 0:
                raise RuntimeError(f"stream worker {job} failed:\n{out.stderr[-4000:]}")
            result = json.loads(out.stdout.strip().splitlines()[-1])
            log(f"  {name:<13} {size / 1e6:>4.0f} MB: {_brief(result)}")
            results.append(result)
    return results


def _brief(result: dict[str, Any]) -> str:
    return (
        f"{result['seconds']:.2f} s, peak RSS +{result['rss_peak_growth_mb']:.1f} MB, "
        f"traced peak {result['traced_peak_mb']:.1f} MB, retained {result['traced_retained_mb']:.2f} MB"
    )
