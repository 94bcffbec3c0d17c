"""Constants, the run plans and the guard every bench process installs."""

from __future__ import annotations

import os
import platform
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
ENTRY = ROOT / "bench" / "bench.py"  # what the bench's own subprocesses run
RESULTS = ROOT / "bench" / "results"
PLOT = ROOT / "docs" / "benchmarks.png"
MODEL = "gpt-5.5"
CONTENDERS = ("raw", "codex", "chatgpt")
LABELS = {
    "raw": "raw OpenAI client (floor)",
    "codex": "codex/ (this provider)",
    "chatgpt": "chatgpt/ (LiteLLM built-in)",
    "codex-direct": "codex provider, no LiteLLM wrapper",
}
TEXT = "Hello from the fake Codex backend."
RAW_INSTRUCTIONS = "You are Codex, a coding agent. Answer briefly."
BIG_CHUNK = 32_768  # bytes per text delta of the big answers (see docs/benchmarks.md)
SMALL_DELTA = 64  # bytes per text delta of the many-deltas stream
DRIP_CHARS = 4  # characters per text delta of a `bench:drip` answer, about one token


def drip_text(deltas: int) -> str:
    """`deltas` different 4-character pieces (LiteLLM stops a stream that repeats one chunk 100 times)."""
    return "".join(f"{i % 10_000:04d}" for i in range(deltas))


@dataclass(frozen=True)
class Plan:
    """How much of everything one run does."""

    name: str
    calls: int  # per-call rounds (each contender once per round), sync and async
    ttfc_rounds: int
    first_delta_delay: float
    concurrency: int
    concurrency_rounds: int
    latency: float
    big_sizes: tuple[int, int]
    deltas: int  # text deltas of SMALL_DELTA bytes in the many-deltas stream
    delta_rounds: int
    big_chunk: int = BIG_CHUNK
    warmup: int = 5


FULL = Plan("full", 200, 20, 0.2, 100, 8, 0.1, (5_000_000, 20_000_000), 2000, 3)
QUICK = Plan("quick", 40, 6, 0.2, 100, 2, 0.1, (1_000_000, 4_000_000), 500, 1)


# --------------------------------------------------------------------------- local-only guard


def local_only() -> None:
    """Refuse any socket connection or name lookup that is not for this machine (audit hook)."""
    allowed = {"127.0.0.1", "localhost", "::1", None}

    def hook(event: str, args: tuple[Any, ...]) -> None:
        if event == "socket.connect":
            address = args[1]
            if isinstance(address, tuple) and address[0] not in allowed:
                raise RuntimeError(
                    f"bench: refusing a connection to {address[0]!r}: only 127.0.0.1 is allowed"
                )
        elif event == "socket.getaddrinfo":
            host = args[0]
            if isinstance(host, bytes):
                host = host.decode()
            if host not in allowed:
                raise RuntimeError(f"bench: refusing to look up {host!r}: only 127.0.0.1 is allowed")

    sys.addaudithook(hook)


def pin(cpu: int) -> None:
    """With `--pin`: run this process on one CPU and the fake on another (needs two or more)."""
    if not os.environ.get("BENCH_PIN") or not hasattr(os, "sched_setaffinity"):
        return
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) >= 2:
        os.sched_setaffinity(0, {cpus[cpu % len(cpus)]})


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def machine() -> str:
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return f"{platform.system()} {platform.machine()}, {cpus} CPUs, Python {platform.python_version()}"


def versions() -> dict[str, str]:
    from importlib.metadata import version

    return {pkg: version(pkg) for pkg in ("litellm", "openai", "httpx", "litellm-codex-oauth-provider")}
