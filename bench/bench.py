"""Benchmark: the `codex/` provider through LiteLLM next to the raw OpenAI client and LiteLLM's `chatgpt/`.

Everything runs against the fake Codex backend (`tests/support/fake_codex.py`) served by a
separate process on 127.0.0.1, so its CPU is not charged to the client. The three contenders
are measured in one run and interleaved round-robin (the order rotates every round):

    raw      `OpenAI` / `AsyncOpenAI` `responses.create(stream=True)` straight to the fake: the floor
    codex    `litellm.completion(model="codex/gpt-5.5")` with this package as the custom provider
    chatgpt  `litellm.completion(model="chatgpt/gpt-5.5")`, LiteLLM's built-in ChatGPT provider,
             pointed at the same fake with CHATGPT_API_BASE and a login in CHATGPT_TOKEN_DIR

Big streams run in a fresh subprocess per contender and size (a timed pass for time and peak
RSS, then a tracemalloc pass), so peaks never mix; a fourth contender, `codex-direct`, iterates the
provider's own `streaming()` without LiteLLM's stream wrapper, to tell our cost from LiteLLM's.

    .venv/bin/python bench/bench.py            # full run (~4-5 min on 2 cores)
    .venv/bin/python bench/bench.py --quick    # smaller run (~2 min), results kept apart
    .venv/bin/python bench/bench.py --profile  # cProfile of the codex/ per-call path: our hotspots
    .venv/bin/python bench/bench.py --render bench/results/bench-full.json   # table + plot again
    .venv/bin/python bench/experiments.py      # what-if variants behind the hotspots (~1.5 min)

Results: `bench/results/bench-{full,quick}.{md,json}`; the full run also draws `docs/benchmarks.png`.
Nothing leaves the machine: an audit hook refuses every connection that is not to 127.0.0.1.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import os
import platform
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
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


def _local_only() -> None:
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


def _pin(cpu: int) -> None:
    """With `--pin`: run this process on one CPU and the fake on another (needs two or more)."""
    if not os.environ.get("BENCH_PIN") or not hasattr(os, "sched_setaffinity"):
        return
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) >= 2:
        os.sched_setaffinity(0, {cpus[cpu % len(cpus)]})


# --------------------------------------------------------------------------- the fake backend process


def serve_fake(workdir: Path) -> None:
    """Serve the fake backend until stdin closes; print `{"base_url", "token_url"}` first.

    The turn depends on a marker in the user message: `bench:fast`, `bench:ttfc`,
    `bench:slow` (with latency), `bench:big:<bytes>[:<delta bytes>]`. Tokens are checked:
    only the login issued here (written for both providers) is accepted.
    """
    _local_only()
    _pin(1)
    sys.path.insert(0, str(ROOT))
    from tests.support.fake_codex import FakeCodexBackend, Turn

    settings = json.loads(os.environ["BENCH_FAKE"])
    turns = {
        "fast": Turn().text(TEXT, chunks=4),
        "ttfc": Turn().text(TEXT, chunks=4).first_delta_delay(settings["first_delta_delay"]),
        "slow": Turn().text(TEXT, chunks=4).latency(settings["latency"]),
    }
    marker = re.compile(r"bench:(\w+)(?::(\d+))?(?::(\d+))?")

    def handler(record: Any) -> Any:
        body = record.body if isinstance(record.body, dict) else {}
        found = marker.search(json.dumps(body.get("input", "")))
        if found is None:
            return None
        kind, size, chunk = found.group(1), found.group(2), found.group(3)
        if kind == "big":
            return Turn().big_text(int(size), int(chunk or settings["big_chunk"]))
        if kind == "drip":  # `bench:drip:<deltas>:<ms apart>`: 4-character deltas at a steady pace
            deltas, gap = int(size), int(chunk) / 1000
            return Turn().text(drip_text(deltas), chunks=deltas).first_delta_delay(gap).delta_delay(gap)
        return turns.get(kind)

    fake = FakeCodexBackend(check_tokens=True, record=False)
    fake.handler = handler
    with fake:
        auth = fake.issue_login(workdir / "codex", expires_in=24 * 3600)
        _write_chatgpt_login(auth, workdir / "chatgpt")
        print(json.dumps({"base_url": fake.base_url, "token_url": fake.token_url}), flush=True)
        sys.stdin.read()  # the parent closes our stdin (or kills us) when it is done


def _write_chatgpt_login(codex_auth: Path, token_dir: Path) -> None:
    """The same login in the file format of LiteLLM's `chatgpt/` Authenticator (flat, with expires_at)."""
    import jwt

    tokens = json.loads(codex_auth.read_text())["tokens"]
    claims = jwt.decode(tokens["access_token"], options={"verify_signature": False})
    token_dir.mkdir(parents=True, exist_ok=True)
    record = {
        "access_token": tokens["access_token"],
        "refresh_token": tokens["refresh_token"],
        "id_token": tokens["id_token"],
        "expires_at": claims["exp"],
        "account_id": tokens["account_id"],
    }
    (token_dir / "auth.json").write_text(json.dumps(record))


@contextlib.contextmanager
def fake_backend(workdir: Path, plan: Plan) -> Iterator[dict[str, str]]:
    env = {
        **os.environ,
        "BENCH_FAKE": json.dumps(
            {
                "first_delta_delay": plan.first_delta_delay,
                "latency": plan.latency,
                "big_chunk": plan.big_chunk,
            }
        ),
    }
    proc = subprocess.Popen(
        [sys.executable, __file__, "--serve-fake", str(workdir)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        env=env,
        text=True,
        cwd=ROOT,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        if not line:
            raise RuntimeError("the fake backend did not start")
        yield json.loads(line)
    finally:
        with contextlib.suppress(Exception):
            assert proc.stdin is not None
            proc.stdin.close()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGKILL)
            proc.wait()


def configure_environment(workdir: Path, fake: dict[str, str]) -> None:
    """Point both providers at the fake and keep everything inside `workdir` (inherited by workers)."""
    os.environ.update(
        {
            "LITELLM_LOCAL_MODEL_COST_MAP": "True",
            "HOME": str(workdir / "home"),
            "CODEX_HOME": str(workdir / "codex"),
            "CODEX_CACHE_DIR": str(workdir / "cache"),
            "CODEX_API_BASE": fake["base_url"],
            "CODEX_REFRESH_TOKEN_URL_OVERRIDE": fake["token_url"],
            "CODEX_INSTRUCTIONS_URL": "http://127.0.0.1:9/x",
            "CHATGPT_TOKEN_DIR": str(workdir / "chatgpt"),
            "CHATGPT_API_BASE": fake["base_url"],
            "BENCH_WORKDIR": str(workdir),
        }
    )
    for name in (
        "CODEX_AUTH_FILE",
        "CODEX_MODE",
        "CODEX_DEBUG",
        "CHATGPT_AUTH_FILE",
        "OPENAI_CHATGPT_API_BASE",
    ):
        os.environ.pop(name, None)


# --------------------------------------------------------------------------- the contenders


def _messages(marker: str) -> list[dict[str, str]]:
    return [{"role": "user", "content": f"{marker} Say hello."}]


def _import_litellm() -> Any:
    """LiteLLM with the codex provider registered and the chatgpt/ login flows fenced off."""
    import litellm
    from litellm.llms.chatgpt.authenticator import Authenticator

    from litellm_codex_oauth_provider import codex_auth_provider

    def no_network_login(self: Any, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("bench: the chatgpt/ login expired; it must never log in or refresh here")

    # These talk to auth.openai.com; with the fresh login written for the bench they are never
    # reached, and if they were, the run must fail rather than leave the machine.
    Authenticator._login_device_code = no_network_login  # type: ignore[method-assign]
    Authenticator._refresh_tokens = no_network_login  # type: ignore[method-assign]
    litellm.custom_provider_map = [{"provider": "codex", "custom_handler": codex_auth_provider}]
    litellm.suppress_debug_info = True
    # LiteLLM's chatgpt/ path trips pydantic serializer warnings on every call; they say nothing here.
    warnings.filterwarnings("ignore", category=UserWarning, module="pydantic")
    return litellm


class RawClient:
    """The floor: the openai package's Responses client straight to the fake, no translation."""

    name = "raw"

    def __init__(self) -> None:
        from openai import AsyncOpenAI, OpenAI

        workdir = Path(os.environ["BENCH_WORKDIR"])
        tokens = json.loads((workdir / "codex" / "auth.json").read_text())["tokens"]
        self._args = {
            "base_url": os.environ["CODEX_API_BASE"],
            "api_key": tokens["access_token"],
            "default_headers": {"chatgpt-account-id": tokens["account_id"], "originator": "codex_cli_rs"},
            "max_retries": 0,
        }
        self._sync = OpenAI(**self._args)
        self._async_cls = AsyncOpenAI
        self._async: dict[int, Any] = {}

    def _aclient(self) -> Any:
        loop = id(asyncio.get_running_loop())
        if loop not in self._async:
            self._async[loop] = self._async_cls(**self._args)
        return self._async[loop]

    @staticmethod
    def _body(marker: str) -> dict[str, Any]:
        return {
            "model": MODEL,
            "instructions": RAW_INSTRUCTIONS,
            "input": [{"role": "user", "content": f"{marker} Say hello."}],
            "stream": True,
            "store": False,
        }

    def call(self, marker: str = "bench:fast") -> str:
        parts = []
        with self._sync.responses.create(**self._body(marker)) as stream:
            for event in stream:
                if event.type == "response.output_text.delta":
                    parts.append(event.delta)
        return "".join(parts)

    async def acall(self, marker: str = "bench:fast") -> str:
        parts = []
        async with await self._aclient().responses.create(**self._body(marker)) as stream:
            async for event in stream:
                if event.type == "response.output_text.delta":
                    parts.append(event.delta)
        return "".join(parts)

    def first_chunk(self, marker: str = "bench:ttfc") -> float:
        start, first = time.perf_counter(), None
        with self._sync.responses.create(**self._body(marker)) as stream:
            for event in stream:
                if first is None and event.type == "response.output_text.delta" and event.delta:
                    first = time.perf_counter() - start
        assert first is not None
        return first

    async def afirst_chunk(self, marker: str = "bench:ttfc") -> float:
        start, first = time.perf_counter(), None
        async with await self._aclient().responses.create(**self._body(marker)) as stream:
            async for event in stream:
                if first is None and event.type == "response.output_text.delta" and event.delta:
                    first = time.perf_counter() - start
        assert first is not None
        return first

    def stream_bytes(self, marker: str) -> int:
        total = 0
        with self._sync.responses.create(**self._body(marker)) as stream:
            for event in stream:
                if event.type == "response.output_text.delta":
                    total += len(event.delta)
        return total


class ViaLiteLLM:
    """`litellm.completion` / `acompletion` with one model prefix (codex/ or chatgpt/)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.model = f"{name}/{MODEL}"
        self.litellm = _import_litellm()

    def call(self, marker: str = "bench:fast") -> str:
        response = self.litellm.completion(model=self.model, messages=_messages(marker))
        return response.choices[0].message.content

    async def acall(self, marker: str = "bench:fast") -> str:
        response = await self.litellm.acompletion(model=self.model, messages=_messages(marker))
        return response.choices[0].message.content

    def first_chunk(self, marker: str = "bench:ttfc") -> float:
        start, first = time.perf_counter(), None
        for chunk in self.litellm.completion(model=self.model, messages=_messages(marker), stream=True):
            if first is None and chunk.choices and chunk.choices[0].delta.content:
                first = time.perf_counter() - start
        assert first is not None
        return first

    async def afirst_chunk(self, marker: str = "bench:ttfc") -> float:
        start, first = time.perf_counter(), None
        stream = await self.litellm.acompletion(model=self.model, messages=_messages(marker), stream=True)
        async for chunk in stream:
            if first is None and chunk.choices and chunk.choices[0].delta.content:
                first = time.perf_counter() - start
        assert first is not None
        return first

    def stream_bytes(self, marker: str) -> int:
        total = 0
        for chunk in self.litellm.completion(model=self.model, messages=_messages(marker), stream=True):
            if chunk.choices:
                total += len(chunk.choices[0].delta.content or "")
        return total


class CodexDirect:
    """Diagnostic: the provider's own `streaming()` iterator, without LiteLLM's stream wrapper."""

    name = "codex-direct"

    def __init__(self) -> None:
        _import_litellm()
        from litellm.types.utils import ModelResponse

        from litellm_codex_oauth_provider import codex_auth_provider

        self._provider, self._response = codex_auth_provider, ModelResponse

    def stream_bytes(self, marker: str) -> int:
        total = 0
        for chunk in self._provider.streaming(
            model=MODEL,
            messages=_messages(marker),
            api_base=None,  # type: ignore[arg-type]
            custom_prompt_dict={},
            model_response=self._response(),
            print_verbose=print,
            encoding=None,
            api_key=None,
            logging_obj=None,
            optional_params={},
            litellm_params={},
        ):
            total += len(chunk.choices[0].delta.content or "")
        return total


def make_contender(name: str) -> Any:
    if name == "raw":
        return RawClient()
    if name == "codex-direct":
        return CodexDirect()
    return ViaLiteLLM(name)


# --------------------------------------------------------------------------- measurements


def _rotations(names: tuple[str, ...], rounds: int) -> Iterator[tuple[str, ...]]:
    """Round-robin with a rotating start, so no contender always goes first (or after another)."""
    for i in range(rounds):
        k = i % len(names)
        yield names[k:] + names[:k]


def _summary(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    p90 = ordered[min(len(ordered) - 1, round(0.9 * (len(ordered) - 1)))]
    return {
        "n": len(samples),
        "median_ms": statistics.median(samples) * 1000,
        "p90_ms": p90 * 1000,
        "mean_ms": statistics.fmean(samples) * 1000,
        "min_ms": ordered[0] * 1000,
    }


def _check(name: str, text: str) -> None:
    if text != TEXT:
        raise AssertionError(f"{name} answered {text!r}, expected {TEXT!r}")


def bench_sync_calls(contenders: dict[str, Any], rounds: int) -> dict[str, list[float]]:
    samples: dict[str, list[float]] = {name: [] for name in contenders}
    for order in _rotations(tuple(contenders), rounds):
        for name in order:
            start = time.perf_counter()
            text = contenders[name].call()
            samples[name].append(time.perf_counter() - start)
            _check(name, text)
    return samples


async def bench_async_calls(contenders: dict[str, Any], rounds: int) -> dict[str, list[float]]:
    samples: dict[str, list[float]] = {name: [] for name in contenders}
    for order in _rotations(tuple(contenders), rounds):
        for name in order:
            start = time.perf_counter()
            text = await contenders[name].acall()
            samples[name].append(time.perf_counter() - start)
            _check(name, text)
    return samples


def bench_sync_ttfc(contenders: dict[str, Any], rounds: int) -> dict[str, list[float]]:
    samples: dict[str, list[float]] = {name: [] for name in contenders}
    for order in _rotations(tuple(contenders), rounds):
        for name in order:
            samples[name].append(contenders[name].first_chunk())
    return samples


async def bench_async_ttfc(contenders: dict[str, Any], rounds: int) -> dict[str, list[float]]:
    samples: dict[str, list[float]] = {name: [] for name in contenders}
    for order in _rotations(tuple(contenders), rounds):
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
            _check(name, text)
        return elapsed

    for name in contenders:
        await batch(name)
    for order in _rotations(tuple(contenders), rounds):
        for name in order:
            samples[name].append(await batch(name))
    return samples


def bench_deltas(contenders: dict[str, Any], deltas: int, rounds: int) -> dict[str, list[float]]:
    """Seconds per text delta of a sync stream of many small deltas (the per-chunk cost of each path)."""
    marker = f"bench:big:{deltas * SMALL_DELTA}:{SMALL_DELTA}"
    samples: dict[str, list[float]] = {name: [] for name in contenders}
    for order in _rotations(tuple(contenders), rounds):
        for name in order:
            start = time.perf_counter()
            received = contenders[name].stream_bytes(marker)
            samples[name].append((time.perf_counter() - start) / deltas)
            if received != deltas * SMALL_DELTA:
                raise AssertionError(f"{name} received {received} bytes of {deltas * SMALL_DELTA}")
    return samples


async def _awarm(contenders: dict[str, Any], count: int) -> None:
    for _ in range(count):
        for contender in contenders.values():
            _check(contender.name, await contender.acall())
            await contender.afirst_chunk("bench:fast")


def _warm(contenders: dict[str, Any], count: int) -> None:
    for _ in range(count):
        for contender in contenders.values():
            _check(contender.name, contender.call())
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
    _local_only()
    _pin(0)
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
                [sys.executable, __file__, "--stream-worker", json.dumps(job)],
                capture_output=True,
                text=True,
                cwd=ROOT,
                timeout=600,
                check=False,
            )
            if out.returncode != 0:
                raise RuntimeError(f"stream worker {job} failed:\n{out.stderr[-4000:]}")
            result = json.loads(out.stdout.strip().splitlines()[-1])
            _log(f"  {name:<13} {size / 1e6:>4.0f} MB: {_brief(result)}")
            results.append(result)
    return results


def _brief(result: dict[str, Any]) -> str:
    return (
        f"{result['seconds']:.2f} s, peak RSS +{result['rss_peak_growth_mb']:.1f} MB, "
        f"traced peak {result['traced_peak_mb']:.1f} MB, retained {result['traced_retained_mb']:.2f} MB"
    )


# --------------------------------------------------------------------------- the report


def _ratio(a: float, b: float) -> float:
    return a / b if b else float("inf")


def _num(value: float, digits: int = 2) -> str:
    text = f"{value:.{digits}f}"
    return text[1:] if text.startswith("-") and float(text) == 0 else text


def _verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def evaluate(data: dict[str, Any]) -> list[dict[str, Any]]:
    """The goals of the issue, as ratios measured in this run."""
    goals = []
    for kind in ("sync", "async"):
        ours, theirs = data["per_call"][kind]["codex"], data["per_call"][kind]["chatgpt"]
        ratio = _ratio(ours["median_ms"], theirs["median_ms"])
        goals.append(
            {
                "goal": f"per-call time ({kind}) at most chatgpt/'s",
                "measure": "median codex / median chatgpt",
                "ratio": ratio,
                "target": "<= 1.00",
                "pass": ratio <= 1.0,
            }
        )
    for kind in ("sync", "async"):
        ours, floor = data["ttfc"][kind]["codex"], data["ttfc"][kind]["raw"]
        ratio = _ratio(ours["median_ms"], floor["median_ms"])
        goals.append(
            {
                "goal": f"first chunk ({kind} stream) within 5% of the raw call",
                "measure": "median codex / median raw",
                "ratio": ratio,
                "target": "<= 1.05",
                "pass": ratio <= 1.05,
            }
        )
    conc = data["concurrency"]
    ratio = _ratio(conc["codex"]["median_ms"], conc["raw"]["median_ms"])
    goals.append(
        {
            "goal": f"{data['plan']['concurrency']} concurrent acompletion within 1.2x the raw client",
            "measure": "median batch wall codex / raw",
            "ratio": ratio,
            "target": "<= 1.20",
            "pass": ratio <= 1.2,
        }
    )
    small, large = data["plan"]["big_sizes"]
    for name in ("codex", "codex-direct"):
        slope = _excess_slope(data["big"], name, small, large)
        if slope is None:
            continue
        label = (
            "codex/ through LiteLLM" if name == "codex" else "the codex provider itself (no LiteLLM wrapper)"
        )
        goals.append(
            {
                "goal": f"memory does not grow with an unkept stream: {label}",
                "measure": f"tracemalloc peak above the raw floor, MB per MB streamed ({small / 1e6:.0f} to {large / 1e6:.0f} MB)",
                "ratio": slope,
                "target": "<= 0.05",
                "pass": slope <= 0.05,
            }
        )
    return goals


def _big(results: list[dict[str, Any]], name: str, size: int) -> dict[str, Any] | None:
    for result in results:
        if result["contender"] == name and result["bytes"] == size:
            return result
    return None


def _excess_slope(results: list[dict[str, Any]], name: str, small: int, large: int) -> float | None:
    """Growth of the peak beyond the raw client's (which must hold what the wire repeats), per MB streamed.

    The backend repeats the whole text in its `.done` events, so every consumer of the raw
    event stream holds a few copies of it at the end; only what comes on top of that is ours.
    """
    found = [_big(results, n, size) for n in (name, "raw") for size in (small, large)]
    if any(f is None for f in found):
        return None
    ours_small, ours_large, raw_small, raw_large = (f["traced_peak_mb"] for f in found)  # type: ignore[index]
    return ((ours_large - raw_large) - (ours_small - raw_small)) / ((large - small) / 1e6)


def render_markdown(data: dict[str, Any]) -> str:
    names = list(CONTENDERS)
    head = "| measurement | " + " | ".join(LABELS[n] for n in names) + " | codex / chatgpt | codex / raw |"
    rule = "|---|" + "---:|" * (len(names) + 2)
    lines = [
        f"Run `{data['plan']['name']}` at {data['when']} on {data['machine']}; "
        f"{data['plan']['calls']} calls per contender per per-call row, "
        f"{data['plan']['ttfc_rounds']} first-chunk streams, "
        f"{data['plan']['concurrency_rounds']} batches of {data['plan']['concurrency']}; "
        f"load average {data['load'][0]:.1f} at the start, {data['load'][1]:.1f} at the end "
        f"({'client and fake pinned to separate CPUs' if data['pinned'] else 'no CPU pinning'}).",
        "",
        head,
        rule,
    ]

    def row(label: str, values: dict[str, float], ratios: bool = True) -> None:
        cells = [_num(values[n]) for n in names]
        tail = (
            f" | {_ratio(values['codex'], values['chatgpt']):.2f} | {_ratio(values['codex'], values['raw']):.2f} |"
            if ratios
            else " | - | - |"
        )
        lines.append(f"| {label} | " + " | ".join(cells) + tail)

    for kind in ("sync", "async"):
        per = data["per_call"][kind]
        row(f"per call, {kind}, median ms", {n: per[n]["median_ms"] for n in names})
        row(f"per call, {kind}, p90 ms", {n: per[n]["p90_ms"] for n in names})
    delay = data["plan"]["first_delta_delay"] * 1000
    for kind in ("sync", "async"):
        ttfc = data["ttfc"][kind]
        row(
            f"first chunk, {kind} stream, median ms ({delay:.0f} ms delay)",
            {n: ttfc[n]["median_ms"] for n in names},
        )
    conc = data["concurrency"]
    label = f"{data['plan']['concurrency']} concurrent acompletion, batch wall ms ({data['plan']['latency'] * 1000:.0f} ms latency)"
    row(label, {n: conc[n]["median_ms"] for n in names})
    per_delta = data["deltas"]
    row(
        f"stream of {data['plan']['deltas']} x {SMALL_DELTA}-byte deltas, us per delta",
        {n: per_delta[n]["median_ms"] * 1000 for n in names},
    )
    small, large = data["plan"]["big_sizes"]
    for size in (small, large):
        mb = size / 1e6
        for key, label in (
            ("seconds", f"{mb:.0f} MB stream, seconds"),
            ("rss_peak_growth_mb", f"{mb:.0f} MB stream, peak RSS growth MB"),
            ("traced_peak_mb", f"{mb:.0f} MB stream, tracemalloc peak MB"),
            ("traced_retained_mb", f"{mb:.0f} MB stream, retained after it MB"),
        ):
            values = {}
            for n in names:
                found = _big(data["big"], n, size)
                values[n] = found[key] if found else float("nan")
            row(label, values, ratios=key != "traced_retained_mb")
    slopes = {n: _excess_slope(data["big"], n, small, large) for n in names}
    if all(v is not None for v in slopes.values()):
        row("peak above the raw floor, MB per MB streamed", slopes, ratios=False)  # type: ignore[arg-type]
    direct = [r for r in data["big"] if r["contender"] == "codex-direct"]
    if direct:
        lines += [
            "",
            f"Diagnostic, {LABELS['codex-direct']} (`provider.streaming()` iterated directly): "
            f"{data['deltas']['codex-direct']['median_ms'] * 1000:.0f} us per small delta; the big streams:",
            "",
        ]
        lines += [
            "| stream | seconds | peak RSS growth MB | tracemalloc peak MB | retained MB |",
            "|---|---:|---:|---:|---:|",
        ]
        for size in (small, large):
            found = _big(direct, "codex-direct", size)
            if found:
                lines.append(
                    f"| {size / 1e6:.0f} MB | {found['seconds']:.2f} | {found['rss_peak_growth_mb']:.1f} | "
                    f"{found['traced_peak_mb']:.1f} | {found['traced_retained_mb']:.2f} |"
                )
    lines += ["", "| goal | measure | ratio | target | verdict |", "|---|---|---:|---:|---|"]
    for goal in data["goals"]:
        lines.append(
            f"| {goal['goal']} | {goal['measure']} | {_num(goal['ratio'], 3)} | {goal['target']} | **{_verdict(goal['pass'])}** |"
        )
    return "\n".join(lines) + "\n"


def plot(data: dict[str, Any], path: Path) -> Path:
    """Six panels (per call, first chunk, concurrency, per delta, memory, big-stream time); PNG, else SVG."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return _plot_svg(data, path.with_suffix(".svg"))
    names = list(CONTENDERS)
    colors = {"raw": "#7f7f7f", "codex": "#1f77b4", "chatgpt": "#ff7f0e", "codex-direct": "#2ca02c"}
    fig, axes = plt.subplots(2, 3, figsize=(16, 8.5))
    width = 0.2

    def bars(
        ax: Any, groups: list[str], values: dict[str, list[float]], errs: dict[str, list[float]] | None = None
    ) -> None:
        for i, n in enumerate(values):
            xs = [g + (i - (len(values) - 1) / 2) * width for g in range(len(groups))]
            yerr = None
            if errs is not None:
                yerr = [[0] * len(groups), [e - v for e, v in zip(errs[n], values[n], strict=True)]]
            ax.bar(xs, values[n], width, label=LABELS[n], color=colors[n], yerr=yerr, capsize=3)
        ax.set_xticks(range(len(groups)), groups)

    per, ttfc, conc = data["per_call"], data["ttfc"], data["concurrency"]
    ax = axes[0][0]
    bars(
        ax,
        ["sync", "async"],
        {n: [per["sync"][n]["median_ms"], per["async"][n]["median_ms"]] for n in names},
        {n: [per["sync"][n]["p90_ms"], per["async"][n]["p90_ms"]] for n in names},
    )
    ax.set_title("per call (ms): median, whisker to p90")
    ax = axes[0][1]
    bars(
        ax,
        ["sync stream", "async stream"],
        {n: [ttfc[k][n]["median_ms"] for k in ("sync", "async")] for n in names},
    )
    ax.set_title(f"first content chunk (ms), backend waits {data['plan']['first_delta_delay'] * 1000:.0f} ms")
    ax.set_ylim(bottom=data["plan"]["first_delta_delay"] * 1000 * 0.95)
    ax = axes[0][2]
    bars(
        ax,
        [f"{data['plan']['concurrency']} concurrent acompletion"],
        {n: [conc[n]["median_ms"]] for n in names},
    )
    ax.set_title(f"batch wall time (ms), backend latency {data['plan']['latency'] * 1000:.0f} ms")
    ax = axes[1][0]
    with_direct = [*names, "codex-direct"]
    bars(
        ax, [f"{SMALL_DELTA}-byte deltas"], {n: [data["deltas"][n]["median_ms"] * 1000] for n in with_direct}
    )
    ax.set_title("streaming cost per text delta (us)")
    small, large = data["plan"]["big_sizes"]
    groups = [f"{small / 1e6:.0f} MB", f"{large / 1e6:.0f} MB"]
    found = {n: [_big(data["big"], n, s) for s in (small, large)] for n in with_direct}
    ax = axes[1][1]
    bars(ax, groups, {n: [f["traced_peak_mb"] for f in found[n]] for n in with_direct})  # type: ignore[index]
    ax.set_title("consumer peak memory (MB, tracemalloc), answer not kept")
    ax.legend(fontsize=8)
    ax = axes[1][2]
    bars(ax, groups, {n: [f["seconds"] for f in found[n]] for n in with_direct})  # type: ignore[index]
    ax.set_title("time to stream the answer (s)")
    fig.suptitle(f"codex/ vs raw OpenAI client vs LiteLLM chatgpt/ on the fake backend - {data['machine']}")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def _plot_svg(data: dict[str, Any], path: Path) -> Path:
    """Fallback without matplotlib: one bar chart of the medians, drawn by hand."""
    rows = []
    for kind in ("sync", "async"):
        for n in CONTENDERS:
            rows.append((f"per call {kind} - {n}", data["per_call"][kind][n]["median_ms"]))
    for n in CONTENDERS:
        rows.append((f"batch of {data['plan']['concurrency']} - {n}", data["concurrency"][n]["median_ms"]))
    top = max(v for _, v in rows) or 1.0
    height = 24 * len(rows) + 40
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="760" height="{height}" font-family="sans-serif" font-size="12">'
    ]
    for i, (label, value) in enumerate(rows):
        y = 20 + 24 * i
        parts.append(f'<text x="5" y="{y + 14}">{label}</text>')
        parts.append(f'<rect x="260" y="{y}" width="{420 * value / top:.1f}" height="18" fill="#1f77b4"/>')
        parts.append(f'<text x="{265 + 420 * value / top:.1f}" y="{y + 14}">{value:.1f} ms</text>')
    parts.append("</svg>")
    path.write_text("\n".join(parts))
    return path


# --------------------------------------------------------------------------- the run


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _machine() -> str:
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return f"{platform.system()} {platform.machine()}, {cpus} CPUs, Python {platform.python_version()}"


def _versions() -> dict[str, str]:
    from importlib.metadata import version

    return {pkg: version(pkg) for pkg in ("litellm", "openai", "httpx", "litellm-codex-oauth-provider")}


def run(plan: Plan) -> dict[str, Any]:
    started, machine, load_before = time.perf_counter(), _machine(), os.getloadavg()[0]
    phases: dict[str, float] = {}

    def phase(name: str, message: str, work: Callable[[], Any]) -> Any:
        _log(message)
        t0 = time.perf_counter()
        result = work()
        phases[name] = time.perf_counter() - t0
        return result

    with tempfile.TemporaryDirectory(prefix="codex-bench-") as tmp:
        workdir = Path(tmp)
        (workdir / "home").mkdir()
        with fake_backend(workdir, plan) as fake:
            configure_environment(workdir, fake)
            _pin(0)
            contenders = {name: make_contender(name) for name in CONTENDERS}

            def warm() -> None:
                _warm(contenders, plan.warmup)
                run_in_loop(lambda: _awarm(contenders, plan.warmup))

            async def concurrency() -> dict[str, list[float]]:
                await _awarm(contenders, 1)
                return await bench_concurrency(contenders, plan.concurrency, plan.concurrency_rounds)

            phase("warmup", f"fake backend at {fake['base_url']}; warming up", warm)
            sync_calls = phase(
                "per_call_sync",
                f"per call, sync: {plan.calls} rounds",
                lambda: bench_sync_calls(contenders, plan.calls),
            )
            async_calls = phase(
                "per_call_async",
                f"per call, async: {plan.calls} rounds",
                lambda: run_in_loop(lambda: bench_async_calls(contenders, plan.calls)),
            )
            sync_ttfc = phase(
                "ttfc_sync",
                f"first chunk, sync: {plan.ttfc_rounds} rounds",
                lambda: bench_sync_ttfc(contenders, plan.ttfc_rounds),
            )
            async_ttfc = phase(
                "ttfc_async",
                f"first chunk, async: {plan.ttfc_rounds} rounds",
                lambda: run_in_loop(lambda: bench_async_ttfc(contenders, plan.ttfc_rounds)),
            )
            conc = phase(
                "concurrency",
                f"concurrency: {plan.concurrency_rounds} batches of {plan.concurrency} per contender",
                lambda: run_in_loop(concurrency),
            )
            with_direct = {**contenders, "codex-direct": make_contender("codex-direct")}
            deltas = phase(
                "deltas",
                f"many small deltas: {plan.deltas} x {SMALL_DELTA} bytes, {plan.delta_rounds} rounds",
                lambda: bench_deltas(with_direct, plan.deltas, plan.delta_rounds),
            )
            big = phase(
                "big_streams",
                f"big streams: {plan.big_sizes[0] / 1e6:.0f} and {plan.big_sizes[1] / 1e6:.0f} MB, "
                "one subprocess per contender and size",
                lambda: bench_big_streams(plan, (*CONTENDERS, "codex-direct")),
            )
    data: dict[str, Any] = {
        "plan": plan.__dict__,
        "when": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "machine": machine,
        "versions": _versions(),
        "pinned": bool(os.environ.get("BENCH_PIN")),
        "per_call": {
            "sync": {n: _summary(s) for n, s in sync_calls.items()},
            "async": {n: _summary(s) for n, s in async_calls.items()},
        },
        "ttfc": {
            "sync": {n: _summary(s) for n, s in sync_ttfc.items()},
            "async": {n: _summary(s) for n, s in async_ttfc.items()},
        },
        "concurrency": {n: _summary(s) for n, s in conc.items()},
        "deltas": {n: _summary(s) for n, s in deltas.items()},
        "big": big,
        "raw_samples_ms": {
            "per_call_sync": {n: [x * 1000 for x in s] for n, s in sync_calls.items()},
            "per_call_async": {n: [x * 1000 for x in s] for n, s in async_calls.items()},
            "ttfc_sync": {n: [x * 1000 for x in s] for n, s in sync_ttfc.items()},
            "ttfc_async": {n: [x * 1000 for x in s] for n, s in async_ttfc.items()},
            "concurrency": {n: [x * 1000 for x in s] for n, s in conc.items()},
            "per_delta": {n: [x * 1000 for x in s] for n, s in deltas.items()},
        },
    }
    data["goals"] = evaluate(data)
    data["seconds"] = time.perf_counter() - started
    data["load"] = [load_before, os.getloadavg()[0]]
    data["phase_seconds"] = phases
    return data


def profile(calls: int) -> None:
    """cProfile the codex/ per-call path (sync and async) and list the hotspots in our package."""
    import cProfile
    import pstats

    plan = QUICK
    with tempfile.TemporaryDirectory(prefix="codex-bench-") as tmp:
        workdir = Path(tmp)
        (workdir / "home").mkdir()
        with fake_backend(workdir, plan) as fake:
            configure_environment(workdir, fake)
            _pin(0)
            codex = make_contender("codex")
            _warm({"codex": codex}, plan.warmup)
            profiler = cProfile.Profile()
            profiler.enable()
            for _ in range(calls):
                codex.call()

            async def many() -> None:
                for _ in range(calls):
                    await codex.acall()

            asyncio.run(many())
            profiler.disable()
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / "profile-codex.txt"
    profiler.dump_stats(RESULTS / "profile-codex.prof")  # for snakeviz / pstats
    with out.open("w") as handle:
        stats = pstats.Stats(profiler, stream=handle)
        handle.write(
            f"# cProfile of {calls} sync + {calls} async codex/ calls (per-call time includes LiteLLM)\n\n"
        )
        handle.write(_profile_shares(stats, 2 * calls))
        handle.write("## our package, by own time\n")
        stats.sort_stats("tottime").print_stats("litellm_codex_oauth_provider", 25)
        handle.write("## our package, by cumulative time\n")
        stats.sort_stats("cumulative").print_stats("litellm_codex_oauth_provider", 30)
        handle.write("## everything, by cumulative time\n")
        stats.sort_stats("cumulative").print_stats(45)
    print(out)


def _profile_shares(stats: Any, calls: int) -> str:
    """Where a call's time goes, in ms per call under the profiler (which inflates everything alike)."""
    raw: dict[Any, Any] = stats.stats  # {(file, line, name): (cc, nc, tottime, cumtime, callers)}

    def cumulative(file_part: str, name: str) -> float:
        return sum(v[3] for k, v in raw.items() if file_part in k[0] and k[2] == name)

    own = sum(v[2] for k, v in raw.items() if "litellm_codex_oauth_provider" in k[0])
    total = cumulative("bench.py", "call") + cumulative("bench.py", "acall")
    shares = {
        "whole call (LiteLLM + provider + openai + HTTP)": total,
        "inside the provider's completion/acompletion": cumulative("provider.py", "completion")
        + cumulative("provider.py", "acompletion"),
        "openai: typed parsing of the response events (_process_response_data)": cumulative(
            "openai/_base_client.py", "_process_response_data"
        ),
        "openai: typed transform of the request body (maybe_transform)": cumulative(
            "openai/_utils/_transform.py", "maybe_transform"
        )
        + cumulative("openai/_utils/_transform.py", "async_maybe_transform"),
        "stream.py: TurnTranslator.handle (incl. ModelResponseStream building)": cumulative(
            "stream.py", "handle"
        ),
        "own time of every function in our package": own,
    }
    lines = ["## per call, ms (cProfile, sync and async together)\n"]
    lines += [f"{value / calls * 1000:8.2f}  {label}\n" for label, value in shares.items()]
    return "".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="a smaller run (~2 minutes)")
    parser.add_argument(
        "--profile", type=int, nargs="?", const=300, metavar="CALLS", help="cProfile codex/ calls"
    )
    parser.add_argument(
        "--pin", action="store_true", help="pin the client and the fake to separate CPUs (slower on VMs)"
    )
    parser.add_argument(
        "--render", type=Path, metavar="JSON", help="redo the table and plot from a results JSON, no run"
    )
    parser.add_argument("--serve-fake", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--stream-worker", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.pin:
        os.environ["BENCH_PIN"] = "1"
    if args.serve_fake:
        serve_fake(args.serve_fake)
        return 0
    _local_only()
    if args.stream_worker:
        print(json.dumps(stream_worker(json.loads(args.stream_worker))), flush=True)
        os._exit(0)  # skip tearing down LiteLLM's heap: seconds per worker, and nothing is left to flush
    if args.profile:
        profile(args.profile)
        return 0
    plan = QUICK if args.quick else FULL
    if args.render:
        data = json.loads(args.render.read_text())
        data["goals"] = evaluate(data)
        plan = FULL if data["plan"]["name"] == "full" else QUICK
    else:
        data = run(plan)
    table = render_markdown(data)
    RESULTS.mkdir(parents=True, exist_ok=True)
    stem = RESULTS / f"bench-{plan.name}"
    stem.with_suffix(".json").write_text(json.dumps(data, indent=2) + "\n")
    stem.with_suffix(".md").write_text(table)
    chart = plot(data, PLOT if plan is FULL else RESULTS / f"bench-{plan.name}.png")
    print(table)
    _log(f"wrote {stem}.json, {stem}.md and {chart} in {data['seconds']:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
