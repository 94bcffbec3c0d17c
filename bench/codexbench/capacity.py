"""Capacity: how many concurrent streaming clients one LiteLLM proxy worker carries.

One proxy worker (`litellm --config ... --num_workers 1`, a subprocess, as tests/e2e/proxy.py
starts it) serves `codex/` and `chatgpt/` against the fake backend (its own process). N
concurrent clients each stream an answer of `deltas` four-character text deltas that the fake
sends `gap_ms` apart (100 per second by default: a fast model). N rises level by level; at each
level the contenders run one after another in rotating order:

    codex       the proxy, model `codex/gpt-5.5` (this provider)
    codex-base  with `--baseline REF`: the provider as of git REF, renamed, in the same proxy
    chatgpt     the proxy, model `chatgpt/gpt-5.5` (LiteLLM's built-in provider)
    direct      the fake itself, read by the same clients (no proxy): the ceiling of the setup

Per level and contender: delivered deltas per second (characters received / 4 / wall time),
the gap between content chunks at the client (p50, p99), time to first content chunk (p50,
p99), chunks per answer, errors, and the proxy's CPU seconds per 1,000 deltas (user + system
of the worker's process tree, from /proc). A level is carried with p99 gap < 100 ms, p99 first
chunk < 1 s and no error. Before the levels: idle rounds (one stream at a time) and the CPU per
streamed delta of the provider next to the openai package's, in this process.

    .venv/bin/python bench/capacity.py --baseline main         # levels 1 4 8 16 32 64, ~7 min
    .venv/bin/python bench/capacity.py --levels 1 8 16 24 32 48 64 --baseline c631541
    .venv/bin/python bench/capacity.py --levels 16 32 --settings disable_streaming_logging=true
    .venv/bin/python bench/capacity.py --levels                # only the CPU per delta (no proxy)

Writes bench/results/capacity[-<tag>].{json,md,png}. Nothing leaves the machine: the bench and
the proxy (through a sitecustomize on its PYTHONPATH) refuse every connection not to 127.0.0.1.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .common import (
    DRIP_CHARS,
    FULL,
    MODEL,
    RAW_INSTRUCTIONS,
    RESULTS,
    ROOT,
    local_only,
    log,
    machine,
    versions,
)
from .contenders import RawClient, ViaLiteLLM, messages
from .fake import configure_environment, fake_backend
from .measure import rotations

MASTER_KEY = "sk-capacity-" + "7c1e4b9a2d6f3e08" * 3
CONTENDERS = ("codex", "chatgpt", "direct")
ALL_CONTENDERS = ("codex", "codex-base", "chatgpt", "direct")
MODELS = {"codex": "codex/gpt-5.5", "chatgpt": "chatgpt/gpt-5.5", "codex-base": "codexbase/gpt-5.5"}
BASELINE_PACKAGE = "codex_baseline"  # `--baseline REF`: the provider at REF, renamed, as `codexbase/`

#: Put on the proxy's PYTHONPATH: the same guard as the bench's own, with network-style errors.
SITECUSTOMIZE = """
import sys

def local_only(event, args):
    allowed = {"127.0.0.1", "localhost", "::1", None}
    if event == "socket.connect":
        address = args[1]
        if isinstance(address, tuple) and address[0] not in allowed:
            raise ConnectionRefusedError(f"capacity bench: no connection to {address[0]!r}")
    elif event == "socket.getaddrinfo":
        host = args[0].decode() if isinstance(args[0], bytes) else args[0]
        if host not in allowed:
            raise OSError(f"capacity bench: no lookup of {host!r}")

sys.addaudithook(local_only)
"""


# --------------------------------------------------------------------------- the proxy


def _config(workdir: Path, settings: dict[str, Any], baseline: bool) -> Path:
    lines = [
        "general_settings:",
        "  master_key: os.environ/LITELLM_MASTER_KEY",
        "litellm_settings:",
        "  custom_provider_map:",
        "    - provider: codex",
        "      custom_handler: litellm_codex_oauth_provider.codex_auth_provider",
        *(
            ["    - provider: codexbase", f"      custom_handler: {BASELINE_PACKAGE}.codex_auth_provider"]
            if baseline
            else []
        ),
        *(f"  {key}: {json.dumps(value)}" for key, value in settings.items()),
        "model_list:",
    ]
    for kind, model in MODELS.items():
        if kind == "codex-base" and not baseline:
            continue
        lines += [f"  - model_name: {model}", "    litellm_params:", f"      model: {model}"]
    path = workdir / "capacity-config.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


@contextlib.contextmanager
def proxy(
    workdir: Path, settings: dict[str, Any], src: Path | None = None, baseline: Path | None = None
) -> Iterator[tuple[str, int]]:
    """One proxy worker on a free port: `(url, pid)`; its environment is the bench's (the fake)."""
    sys.path.insert(0, str(ROOT))
    from tests.e2e.proxy import LITELLM, free_port, serving

    guard = workdir / "guard"
    guard.mkdir(exist_ok=True)
    (guard / "sitecustomize.py").write_text(SITECUSTOMIZE)
    port = free_port()
    env = {
        **os.environ,
        "LITELLM_MASTER_KEY": MASTER_KEY,
        "LITELLM_LOG": "ERROR",
        # `src`: another checkout's src/ (e.g. `git archive` of an older commit), to compare against.
        "PYTHONPATH": os.pathsep.join([str(guard), *(str(p) for p in (src, baseline) if p), str(ROOT)]),
    }
    command = [
        str(LITELLM),
        "--config",
        str(_config(workdir, settings, baseline is not None)),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--num_workers",
        "1",
    ]
    log = workdir / "proxy.log"
    with serving(command, port=port, env=env, cwd=ROOT, log=log) as url:
        yield url, _listener_pid(port)


def _listener_pid(port: int) -> int:
    """The process listening on `port` (the worker), from /proc/net/tcp and the fds of each process."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError):
            for line in Path(table).read_text().splitlines()[1:]:
                fields = line.split()
                if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[3] == "0A":  # LISTEN
                    inodes.add(fields[9])
    for pid in (int(p) for p in os.listdir("/proc") if p.isdigit()):
        with contextlib.suppress(OSError):
            for fd in os.listdir(f"/proc/{pid}/fd"):
                with contextlib.suppress(OSError):
                    link = os.readlink(f"/proc/{pid}/fd/{fd}")
                    if link.startswith("socket:[") and link[8:-1] in inodes:
                        return pid
    raise RuntimeError(f"no process listens on port {port}")


def _cpu_seconds(root: int) -> float:
    """User + system CPU of `root` and its descendants, now."""
    ticks = os.sysconf("SC_CLK_TCK")
    stats: dict[int, tuple[int, float]] = {}
    for pid in (int(p) for p in os.listdir("/proc") if p.isdigit()):
        with contextlib.suppress(OSError, ValueError, IndexError):
            raw = Path(f"/proc/{pid}/stat").read_text()
            rest = raw[raw.rindex(")") + 2 :].split()
            stats[pid] = (int(rest[1]), (int(rest[11]) + int(rest[12])) / ticks)
    total, todo = 0.0, [root]
    while todo:
        pid = todo.pop()
        total += stats.get(pid, (0, 0.0))[1]
        todo += [child for child, (parent, _) in stats.items() if parent == pid]
    return total


def baseline_package(workdir: Path, ref: str) -> Path:
    """The provider as it was at git `ref`, as package `codex_baseline` in a folder for sys.path.

    Its imports within the package are relative, so a renamed copy runs next to the current one,
    in the same proxy and the same run: before and after are interleaved like the rest.
    """
    import io
    import subprocess
    import tarfile

    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", ref, "src/litellm_codex_oauth_provider"],
        capture_output=True,
        check=True,
    ).stdout
    folder = workdir / "baseline"
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(folder / "x", filter="data")
    (folder / "x" / "src" / "litellm_codex_oauth_provider").rename(folder / BASELINE_PACKAGE)
    return folder


# --------------------------------------------------------------------------- the clients


@dataclass
class Stream:
    started: float
    first: float | None = None
    arrivals: list[float] = field(default_factory=list)
    chars: int = 0
    chunks: int = 0
    error: str | None = None


def _content_of(kind: str, payload: dict[str, Any]) -> str:
    if kind == "direct":
        return payload.get("delta", "") if payload.get("type") == "response.output_text.delta" else ""
    choices = payload.get("choices") or []
    return (choices[0].get("delta") or {}).get("content") or "" if choices else ""


async def _one_stream(session: Any, kind: str, target: dict[str, Any], deltas: int, gap_ms: int) -> Stream:
    marker = f"bench:drip:{deltas}:{gap_ms} Say hello."
    if kind == "direct":
        url, headers = target["responses_url"], target["direct_headers"]
        body: dict[str, Any] = {
            "model": MODEL,
            "instructions": RAW_INSTRUCTIONS,
            "input": [{"role": "user", "content": marker}],
            "stream": True,
            "store": False,
        }
    else:
        url, headers = target["chat_url"], {"Authorization": f"Bearer {MASTER_KEY}"}
        body = {"model": MODELS[kind], "messages": [{"role": "user", "content": marker}], "stream": True}
    stream = Stream(started=time.perf_counter())
    try:
        async with session.post(url, json=body, headers=headers) as response:
            if response.status != 200:
                stream.error = f"HTTP {response.status}: {(await response.text())[:200]}"
                return stream
            async for line in response.content:
                if not line.startswith(b"data:"):
                    continue
                data = line[5:].strip()
                if not data or data == b"[DONE]":
                    continue
                text = _content_of(kind, json.loads(data))
                if text:
                    now = time.perf_counter()
                    if stream.first is None:
                        stream.first = now - stream.started
                    stream.arrivals.append(now)
                    stream.chars += len(text)
                    stream.chunks += 1
    except Exception as exc:  # counted, not raised: errors are one of the figures
        stream.error = f"{type(exc).__name__}: {exc}"[:200]
    if stream.error is None and stream.chars != deltas * DRIP_CHARS:
        stream.error = f"received {stream.chars} characters of {deltas * DRIP_CHARS}"
    return stream


def _quantile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def run_level(
    kind: str, target: dict[str, Any], width: int, deltas: int, gap_ms: int, proxy_pid: int
) -> dict[str, Any]:
    import aiohttp

    connector = aiohttp.TCPConnector(limit=0)
    timeout = aiohttp.ClientTimeout(total=600, sock_read=120)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        cpu_before, start = _cpu_seconds(proxy_pid), time.perf_counter()
        streams = await asyncio.gather(
            *(_one_stream(session, kind, target, deltas, gap_ms) for _ in range(width))
        )
        wall, cpu = time.perf_counter() - start, _cpu_seconds(proxy_pid) - cpu_before
    gaps = [b - a for s in streams for a, b in zip(s.arrivals, s.arrivals[1:], strict=False)]
    firsts = [s.first for s in streams if s.first is not None]
    delivered = sum(s.chars for s in streams) / DRIP_CHARS
    errors = [s.error for s in streams if s.error]
    return {
        "contender": kind,
        "streams": width,
        "wall_s": wall,
        "deltas_per_s": delivered / wall,
        "gap_p50_ms": _quantile(gaps, 0.5) * 1000,
        "gap_p99_ms": _quantile(gaps, 0.99) * 1000,
        "gap_max_ms": max(gaps, default=float("nan")) * 1000,
        "ttfc_p50_ms": _quantile(firsts, 0.5) * 1000,
        "ttfc_p99_ms": _quantile(firsts, 0.99) * 1000,
        "chunks_per_answer": statistics.fmean(s.chunks for s in streams),
        "errors": len(errors),
        "error_sample": errors[:2],
        "proxy_cpu_s_per_1000_deltas": (cpu / delivered * 1000) if kind != "direct" and delivered else None,
        "proxy_cpu_share": cpu / wall if kind != "direct" else None,
    }


# --------------------------------------------------------------------------- CPU per delta, in-process


async def _cpu_of(consume: Any, deltas: int, gap_ms: int) -> float:
    """Process CPU seconds per delta to read one paced answer (the fake's CPU is its own process's)."""
    start = time.process_time()
    received = await consume(f"bench:drip:{deltas}:{gap_ms}")
    if received != deltas * DRIP_CHARS:
        raise AssertionError(f"received {received} characters of {deltas * DRIP_CHARS}")
    return (time.process_time() - start) / deltas


def cpu_per_delta(
    deltas: int, gap_ms: int, rounds: int, baseline: Path | None = None
) -> dict[str, list[float]]:
    """The provider's own CPU per streamed delta next to the openai package's own per event.

    openai    `AsyncOpenAI.responses.create(stream=True)` iterated: SSE decoding and typed events
    openai+aiohttp  the same on the provider's transport (LiteLLM's aiohttp transport)
    provider  `codex_auth_provider.astreaming(...)` iterated directly: that, plus the translation
              into LiteLLM chunks (and the provider's request building), no LiteLLM wrapper
    codex/    `litellm.acompletion(model="codex/...", stream=True)`: with LiteLLM's stream wrapper
    The answer is paced (`gap_ms` apart) so that each delta arrives alone, as at a real pace.
    """
    from litellm.types.utils import ModelResponse

    from litellm_codex_oauth_provider import codex_auth_provider

    raw, via = RawClient(), ViaLiteLLM("codex")

    made: list[Any] = []  # closed at the end, in the loop that made them

    def openai_on(make_client: Any) -> Any:
        clients: dict[int, Any] = {}

        def fresh() -> Any:
            made.append(make_client())
            return made[-1]

        async def consume(marker: str) -> int:
            loop = id(asyncio.get_running_loop())
            client = clients.get(loop) or clients.setdefault(loop, fresh())
            total = 0
            async with await client.responses.create(**raw._body(marker)) as stream:
                async for event in stream:
                    if event.type == "response.output_text.delta":
                        total += len(event.delta)
            return total

        return consume

    def openai_aiohttp() -> Any:
        """The openai package on the provider's transport, to tell the transport from the rest."""
        import httpx
        from openai import AsyncOpenAI

        from litellm_codex_oauth_provider.transport import aiohttp_transport

        args = {k: v for k, v in raw.client_args().items()}
        return AsyncOpenAI(**args, http_client=httpx.AsyncClient(transport=aiohttp_transport()))

    def provider_of(instance: Any) -> Any:
        async def consume(marker: str) -> int:
            return await _provider_stream(instance, marker)

        return consume

    async def _provider_stream(instance: Any, marker: str) -> int:
        total = 0
        stream = instance.astreaming(
            model=MODEL,
            messages=messages(marker),
            api_base=None,  # type: ignore[arg-type]
            custom_prompt_dict={},
            model_response=ModelResponse(),
            print_verbose=print,
            encoding=None,
            api_key=None,
            logging_obj=None,
            optional_params={},
            litellm_params={},
        )
        async for chunk in stream:
            total += len(chunk.choices[0].delta.content or "")
        return total

    async def litellm_codex(marker: str) -> int:
        total = 0
        stream = await via.litellm.acompletion(model=via.model, messages=messages(marker), stream=True)
        async for chunk in stream:
            if chunk.choices:
                total += len(chunk.choices[0].delta.content or "")
        return total

    consumers = {
        "openai": openai_on(raw.new_async_client),
        "openai+aiohttp": openai_on(openai_aiohttp),
        "provider": provider_of(codex_auth_provider),
        "codex/": litellm_codex,
    }
    if baseline is not None:
        sys.path.insert(0, str(baseline))
        consumers["provider-base"] = provider_of(__import__(BASELINE_PACKAGE).codex_auth_provider)

    async def main() -> dict[str, list[float]]:
        samples: dict[str, list[float]] = {name: [] for name in consumers}
        for consume in consumers.values():  # warm
            await _cpu_of(consume, 20, 0)
        for order in rotations(tuple(consumers), rounds):
            for name in order:
                samples[name].append(await _cpu_of(consumers[name], deltas, gap_ms))
        for client in made:
            await client.close()
        return samples

    return asyncio.run(main())


# --------------------------------------------------------------------------- the run


def run(
    levels: list[int],
    deltas: int,
    gap_ms: int,
    settings: dict[str, Any],
    src: Path | None = None,
    per_delta_rounds: int = 3,
    per_delta_deltas: int = 1000,
    baseline: str | None = None,
    idle_rounds: int = 10,
) -> dict[str, Any]:
    results: list[dict[str, Any]] = []
    idle: list[dict[str, Any]] = []
    load = [os.getloadavg()[0]]
    with tempfile.TemporaryDirectory(prefix="codex-capacity-") as tmp:
        workdir = Path(tmp)
        (workdir / "home").mkdir()
        with fake_backend(workdir, FULL) as fake:
            configure_environment(workdir, fake)
            tokens = json.loads((workdir / "codex" / "auth.json").read_text())["tokens"]
            base = baseline_package(workdir, baseline) if baseline else None
            names = ALL_CONTENDERS if base else CONTENDERS
            log(f"CPU per delta: {per_delta_rounds} rounds of {per_delta_deltas} deltas, 2 ms apart")
            per_delta = cpu_per_delta(per_delta_deltas, 2, per_delta_rounds, base) if per_delta_rounds else {}
            if levels:  # none: only the CPU per delta
                with proxy(workdir, settings, src, base) as (url, pid):
                    target = {
                        "chat_url": f"{url}/v1/chat/completions",
                        "responses_url": f"{fake['base_url']}/responses",
                        "direct_headers": {
                            "Authorization": f"Bearer {tokens['access_token']}",
                            "chatgpt-account-id": tokens["account_id"],
                        },
                    }
                    for kind in names:  # warm-up: imports, catalog, connections
                        asyncio.run(run_level(kind, target, 2, 20, 5, pid))
                    for index in range(idle_rounds):  # an idle proxy: one stream at a time
                        k = index % len(names)
                        for kind in names[k:] + names[:k]:
                            idle.append(asyncio.run(run_level(kind, target, 1, 50, gap_ms, pid)))
                    if idle_rounds:
                        log(_idle_line(idle))
                    for index, width in enumerate(levels):
                        k = index % len(names)
                        order = names[k:] + names[:k]
                        for kind in order:
                            result = asyncio.run(run_level(kind, target, width, deltas, gap_ms, pid))
                            results.append(result)
                            log(_brief(result))
    load.append(os.getloadavg()[0])
    return {
        "when": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "machine": machine(),
        "versions": versions(),
        "load": load,
        "deltas": deltas,
        "gap_ms": gap_ms,
        "settings": settings,
        "src": str(src) if src else None,
        "baseline": baseline,
        "results": results,
        "idle": idle,
        "cpu_per_delta_us": {n: [x * 1e6 for x in v] for n, v in per_delta.items()},
    }


def _brief(r: dict[str, Any]) -> str:
    cpu = r["proxy_cpu_s_per_1000_deltas"]
    return (
        f"  {r['contender']:<8} N={r['streams']:<3} {r['deltas_per_s']:7.0f} deltas/s, gap p50 "
        f"{r['gap_p50_ms']:6.1f} p99 {r['gap_p99_ms']:7.1f} ms, first p99 {r['ttfc_p99_ms']:7.0f} ms, "
        f"{r['chunks_per_answer']:5.0f} chunks/answer, errors {r['errors']}"
        + (f", proxy CPU {cpu:.2f} s/1000 deltas" if cpu is not None else "")
    )


def _idle_summary(idle: list[dict[str, Any]]) -> dict[str, dict[str, float]]:
    """Per contender, medians over the idle rounds: first chunk, and the gaps' p50 and p99."""
    summary = {}
    for name in ALL_CONTENDERS:
        rows = [r for r in idle if r["contender"] == name]
        if rows:
            summary[name] = {
                key: statistics.median(r[key] for r in rows)
                for key in ("ttfc_p50_ms", "gap_p50_ms", "gap_p99_ms")
            }
            summary[name]["n"] = len(rows)
    return summary


def _idle_line(idle: list[dict[str, Any]]) -> str:
    return "  idle: " + "; ".join(
        f"{name} first chunk {v['ttfc_p50_ms']:.1f} ms, gap p50 {v['gap_p50_ms']:.1f} p99 {v['gap_p99_ms']:.1f} ms"
        for name, v in _idle_summary(idle).items()
    )


def capacity(data: dict[str, Any], name: str, gap_ms: float = 100.0, first_ms: float = 1000.0) -> int:
    """The largest level `name` kept pace at: p99 gap under `gap_ms`, p99 first chunk under
    `first_ms`, no error (0: none). Both bounds count: a worker that serves the streams one after
    another keeps small gaps but makes the later clients wait seconds for their first chunk.
    """
    ok = [
        r["streams"]
        for r in data["results"]
        if r["contender"] == name
        and r["gap_p99_ms"] < gap_ms
        and r["ttfc_p99_ms"] < first_ms
        and not r["errors"]
    ]
    return max(ok, default=0)


def compact_table(data: dict[str, Any]) -> str:
    """Per level and contender: p99 gap / p99 first chunk (ms), chunks per answer, CPU per 1000 deltas."""
    names = [n for n in ALL_CONTENDERS if any(r["contender"] == n for r in data["results"])]
    head = "| streams | " + " | ".join(names) + " |"
    lines = [
        "p99 gap / p99 first chunk in ms; chunks per answer; proxy CPU seconds per 1000 deltas "
        "(**bold**: carried)",
        "",
        head,
        "|---:|" + "---|" * len(names),
    ]
    for level in sorted({r["streams"] for r in data["results"]}):
        cells = []
        for name in names:
            found = [r for r in data["results"] if r["contender"] == name and r["streams"] == level]
            if not found:
                cells.append("-")
                continue
            r = found[0]
            ok = r["gap_p99_ms"] < 100 and r["ttfc_p99_ms"] < 1000 and not r["errors"]
            text = f"{r['gap_p99_ms']:.0f} / {r['ttfc_p99_ms']:.0f}; {r['chunks_per_answer']:.0f}"
            if r["proxy_cpu_s_per_1000_deltas"] is not None:
                text += f"; {r['proxy_cpu_s_per_1000_deltas']:.2f} s"
            cells.append(f"**{text}**" if ok else text)
        lines.append(f"| {level} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def render(data: dict[str, Any]) -> str:
    settings = ", ".join(f"`{k}: {v}`" for k, v in data["settings"].items()) or "LiteLLM defaults"
    versions = ", ".join(f"{k} {v}" for k, v in data["versions"].items())
    lines = [
        f"Capacity run at {data['when']} on {data['machine']} ({versions}); {settings}; "
        f"{data['deltas']} deltas of {DRIP_CHARS} characters, {data['gap_ms']} ms apart, per answer; "
        f"load average {data['load'][0]:.1f} at the start, {data['load'][1]:.1f} at the end.",
    ]
    if data["results"]:
        lines += [
            "",
            "| streams | contender | deltas/s | gap p50 ms | gap p99 ms | first chunk p50 ms "
            "| first chunk p99 ms | chunks per answer | errors | proxy CPU s per 1000 deltas |",
            "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
    ordered = sorted(data["results"], key=lambda r: (r["streams"], ALL_CONTENDERS.index(r["contender"])))
    for r in ordered:
        cpu = r["proxy_cpu_s_per_1000_deltas"]
        lines.append(
            f"| {r['streams']} | {r['contender']} | {r['deltas_per_s']:.0f} | {r['gap_p50_ms']:.1f} | "
            f"{r['gap_p99_ms']:.1f} | {r['ttfc_p50_ms']:.0f} | {r['ttfc_p99_ms']:.0f} | "
            f"{r['chunks_per_answer']:.0f} | {r['errors']} | {'-' if cpu is None else f'{cpu:.2f}'} |"
        )
    idle = _idle_summary(data.get("idle") or [])
    if idle:
        lines += [
            "",
            "Idle proxy (one stream at a time, 50 deltas, median over "
            f"{next(iter(idle.values()))['n']:.0f} streams each, interleaved):",
            "",
            "| contender | first chunk ms | gap p50 ms | gap p99 ms |",
            "|---|---:|---:|---:|",
            *(
                f"| {name} | {v['ttfc_p50_ms']:.1f} | {v['gap_p50_ms']:.1f} | {v['gap_p99_ms']:.1f} |"
                for name, v in idle.items()
            ),
        ]
    per_delta = data.get("cpu_per_delta_us") or {}
    if per_delta:
        medians = {name: statistics.median(v) for name, v in per_delta.items()}
        lines += [
            "",
            "CPU per streamed delta in the bench process (median of "
            f"{len(next(iter(per_delta.values())))} answers, deltas 2 ms apart): "
            + ", ".join(f"{name} {us:.0f} us" for name, us in medians.items())
            + f"; provider / openai = {medians['provider'] / medians['openai']:.2f}.",
        ]
    if not data["results"]:
        return "\n".join(lines) + "\n"
    carried = ", ".join(
        f"{name} {capacity(data, name)}"
        for name in ALL_CONTENDERS
        if any(r["contender"] == name for r in data["results"])
    )
    lines += ["", compact_table(data).rstrip()]
    lines += [
        "",
        "Streams carried (the largest level with p99 gap < 100 ms, p99 first chunk < 1 s and no error, "
        f"of the levels run): {carried}.",
    ]
    return "\n".join(lines) + "\n"


def plot(data: dict[str, Any], path: Path) -> Path | None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    colors = {"codex": "#1f77b4", "codex-base": "#9ecae1", "chatgpt": "#ff7f0e", "direct": "#7f7f7f"}
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.5))
    for kind in ALL_CONTENDERS:
        rows = sorted((r for r in data["results"] if r["contender"] == kind), key=lambda r: r["streams"])
        if not rows:
            continue
        xs = [r["streams"] for r in rows]
        axes[0].plot(xs, [r["gap_p99_ms"] for r in rows], "o-", color=colors[kind], label=kind)
        axes[1].plot(xs, [r["ttfc_p99_ms"] for r in rows], "o-", color=colors[kind], label=kind)
        if kind != "direct":
            cpu = [r["proxy_cpu_s_per_1000_deltas"] for r in rows]
            axes[2].plot(xs, cpu, "o-", color=colors[kind], label=kind)
    axes[0].axhline(100, color="red", linestyle=":", linewidth=1)
    axes[1].axhline(1000, color="red", linestyle=":", linewidth=1)
    axes[0].set_title("inter-chunk gap p99 at the client (ms)")
    axes[1].set_title("first content chunk p99 (ms)")
    axes[2].set_title("proxy CPU seconds per 1000 deltas")
    levels = sorted({r["streams"] for r in data["results"]})
    for ax in axes:
        ax.set_xscale("log", base=2)
        ax.set_xticks(levels, [str(level) for level in levels])
        ax.set_xlabel("concurrent streams, one proxy worker")
        ax.legend(fontsize=8)
    axes[0].set_yscale("log")
    axes[1].set_yscale("log")
    fig.suptitle(
        f"one LiteLLM proxy worker, {data['deltas']} deltas per answer at {1000 / data['gap_ms']:.0f}/s"
    )
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def _setting(text: str) -> tuple[str, Any]:
    key, _, value = text.partition("=")
    return key, json.loads(value) if value else True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--levels", type=int, nargs="*", default=[1, 4, 8, 16, 32, 64])
    parser.add_argument("--deltas", type=int, default=300, help="deltas per answer")
    parser.add_argument("--gap-ms", type=int, default=10, help="ms between deltas at the fake")
    parser.add_argument(
        "--settings", nargs="*", default=[], metavar="KEY=JSON", help="litellm_settings for the proxy"
    )
    parser.add_argument("--tag", default="", help="results file suffix")
    parser.add_argument("--src", type=Path, help="the proxy imports the provider from this src/ instead")
    parser.add_argument("--per-delta-rounds", type=int, default=3, help="0: skip the CPU-per-delta rounds")
    parser.add_argument("--idle-rounds", type=int, default=10, help="single streams per contender, idle")
    parser.add_argument(
        "--baseline",
        metavar="GIT_REF",
        help="also run the provider as of GIT_REF (`codex-base`), interleaved",
    )
    parser.add_argument("--render", type=Path, metavar="JSON", help="redo the table from a results JSON")
    args = parser.parse_args(argv)
    if args.render:
        data = json.loads(args.render.read_text())
    else:
        local_only()
        data = run(
            args.levels,
            args.deltas,
            args.gap_ms,
            dict(_setting(s) for s in args.settings),
            args.src,
            args.per_delta_rounds,
            baseline=args.baseline,
            idle_rounds=args.idle_rounds,
        )
    stem = RESULTS / ("capacity" + (f"-{args.tag.replace('.', '-')}" if args.tag else ""))
    RESULTS.mkdir(parents=True, exist_ok=True)
    table = render(data)
    if not args.render:
        stem.with_suffix(".json").write_text(json.dumps(data, indent=2) + "\n")
    stem.with_suffix(".md").write_text(table)
    chart = plot(data, stem.with_suffix(".png")) if data["results"] else None
    print(table)
    log(f"wrote {stem}.json, {stem}.md" + (f" and {chart}" if chart else ""))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
