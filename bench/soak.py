"""Soak: the LiteLLM proxy with 2 workers under sustained load and faults, with short-lived tokens.

Many concurrent openai-package clients send a mix of streamed and non-streamed requests (text,
reasoning, parallel tool calls) through the proxy to the fake Codex backend, which injects
faults by request: a connection cut mid-stream, a clean end without `response.completed`, a 5xx
or a 503 on the first attempt, a spent plan (429), `response.incomplete`. Access tokens live a
few seconds, so both workers refresh the one login under load.

Every request must end in the complete expected answer or in a typed openai error of the
expected kind; no request may hang (a client timeout is a failure); a stream that was cut must
end with an error, never cleanly with part of the answer. Afterwards: zero
`refresh_token_reused`, `auth.json` valid at every read of a watcher thread, and the workers'
memory, file descriptors and threads flat after warm-up.

    .venv/bin/python bench/soak.py                 # full: 180 s, 12 clients
    .venv/bin/python bench/soak.py --short         # 15 s of load, what tests/e2e/test_proxy_soak.py runs
    .venv/bin/python bench/soak.py --duration 600 --clients 24

Results: bench/results/soak-{full,short}.{json,md}. Nothing leaves 127.0.0.1.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

import openai  # noqa: E402
from tests.e2e.proxy import MASTER_KEY, backend_env, running_proxy  # noqa: E402

from litellm_codex_oauth_provider.testing.fake_codex import FakeCodexBackend, HttpError, RecordedRequest, Turn  # noqa: E402

MODEL = "codex/gpt-5.5"
#: Spent-plan faults go to a model of their own, so a Router cooldown cannot touch the others.
LIMITED_MODEL = "codex/gpt-6-luna"
TEXT = "The soak answer, complete and in one piece."
TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "weather",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
        },
    }
]
_MARK = re.compile(r"soak:([a-z0-9_]+):(\d+)")


# --------------------------------------------------------------------------- scenarios


@dataclass(frozen=True)
class Scenario:
    """One kind of request: what the fake answers (by attempt) and what the client must see."""

    name: str
    weight: int
    answer: Callable[[int], Any]  # attempt number (0-based) → Turn | HttpError
    expect: str  # "text", "reasoning", "tools", "length", "error:<kind>" for streams/non-streams alike
    #: when a stream must end otherwise than a non-streamed call: any of these outcomes
    expect_stream: tuple[str, ...] = ()


def _text_turn() -> Turn:
    return Turn().text(TEXT, chunks=5)


def _first_then(fault: Any) -> Callable[[int], Any]:
    return lambda attempt: fault if attempt == 0 else _text_turn()


SCENARIOS = [
    Scenario("text", 30, lambda a: _text_turn(), "text"),
    Scenario(
        "reasoning",
        10,
        lambda a: Turn().reasoning("Thinking it over.", encrypted_content="enc").text(TEXT),
        "text",
    ),
    Scenario(
        "parallel_tools",
        10,
        lambda a: (
            Turn()
            .function_call("weather", '{"city": "Paris"}', call_id="call_a")
            .function_call("weather", '{"city": "Rome"}', call_id="call_b")
        ),
        "tools",
    ),
    # Cut after two text deltas: a stream has shown part of the answer and must end in an error;
    # a non-streamed call is sent again (by the Router) and completes.
    Scenario(
        "cut_mid_stream",
        8,
        _first_then(Turn().text(TEXT, chunks=5).cut(after_events=6, abort=True)),
        "text",
        ("error:stream", "error:500"),
    ),
    Scenario(
        "clean_end_no_completed",
        8,
        _first_then(Turn().text(TEXT, chunks=5).cut()),
        "text",
        ("error:stream", "error:500"),
    ),
    Scenario("5xx_first", 8, _first_then(HttpError(500, {"error": {"message": "boom"}})), "text"),
    Scenario("503_first", 8, _first_then(HttpError.overloaded()), "text"),
    Scenario("usage_limit", 4, lambda a: HttpError.usage_limit_reached(resets_in_seconds=900), "error:429"),
    Scenario(
        "incomplete", 6, lambda a: Turn().text(TEXT, chunks=3).incomplete("max_output_tokens"), "length"
    ),
]
BY_NAME = {s.name: s for s in SCENARIOS}


class FaultHandler:
    """The fake's handler: picks each request's answer from the marker in its message and its attempt."""

    def __init__(self) -> None:
        self._attempts: Counter[str] = Counter()
        self._lock = threading.Lock()

    def __call__(self, record: RecordedRequest) -> Any:
        match = _MARK.search(json.dumps(record.body.get("input") if isinstance(record.body, dict) else ""))
        if match is None:
            return None
        key = f"{match.group(1)}:{match.group(2)}"
        with self._lock:
            attempt = self._attempts[key]
            self._attempts[key] += 1
        return BY_NAME[match.group(1)].answer(attempt)


# --------------------------------------------------------------------------- the clients


@dataclass
class Outcome:
    scenario: str
    stream: bool
    ok: bool
    got: str
    seconds: float


def _observe(client: openai.OpenAI, scenario: Scenario, request_id: int, stream: bool) -> str:
    """What the client saw: "text", "tools", "length", "partial:<text>", or "error:<kind>"."""
    model = LIMITED_MODEL if scenario.name == "usage_limit" else MODEL
    kwargs: dict[str, Any] = {
        "model": model,
        "messages": [{"role": "user", "content": f"soak:{scenario.name}:{request_id} say it"}],
    }
    if scenario.name == "parallel_tools":
        kwargs["tools"] = TOOLS
    try:
        if not stream:
            reply = client.chat.completions.create(**kwargs)
            choice = reply.choices[0]
            calls = [(c.id, c.function.arguments) for c in choice.message.tool_calls or []]
            return _classify(choice.message.content or "", calls, choice.finish_reason)
        text, calls, finish = "", {}, None
        for chunk in client.chat.completions.create(**kwargs, stream=True):
            for choice in chunk.choices:
                text += choice.delta.content or ""
                for call in choice.delta.tool_calls or []:
                    entry = calls.setdefault(call.index, ["", ""])
                    entry[0] = call.id or entry[0]
                    entry[1] += (call.function.arguments or "") if call.function else ""
                finish = choice.finish_reason or finish
        return _classify(text, [tuple(v) for _, v in sorted(calls.items())], finish)
    except openai.APITimeoutError:
        return "hang"
    except openai.RateLimitError:
        return "error:429"
    except openai.APIStatusError as exc:
        return f"error:{exc.status_code}"
    except openai.APIError:  # an error event inside a stream
        return "error:stream"


def _classify(text: str, calls: list[tuple[str, str]], finish: str | None) -> str:
    if calls:
        expected = [("call_a", '{"city": "Paris"}'), ("call_b", '{"city": "Rome"}')]
        return "tools" if calls == expected and finish == "tool_calls" else f"partial:{calls}"
    if text == TEXT and finish == "stop":
        return "text"
    if text == TEXT and finish == "length":
        return "length"
    return f"partial:{text!r}/{finish}"


def _expected(scenario: Scenario, stream: bool) -> tuple[str, ...]:
    """The outcomes a request of `scenario` may end in."""
    return (scenario.expect_stream or (scenario.expect,)) if stream else (scenario.expect,)


# --------------------------------------------------------------------------- watchers


@dataclass
class AuthWatch:
    """Reads auth.json over and over; every read must be a whole, usable login."""

    path: Path
    reads: int = 0
    bad: list[str] = field(default_factory=list)
    refresh_tokens: set[str] = field(default_factory=set)

    def run(self, stop: threading.Event) -> None:
        while not stop.wait(0.01):
            self.reads += 1
            try:
                tokens = json.loads(self.path.read_text(encoding="utf-8"))["tokens"]
                if not (tokens.get("access_token") and tokens.get("refresh_token")):
                    self.bad.append("a token is missing")
                else:
                    self.refresh_tokens.add(tokens["refresh_token"])
            except (OSError, ValueError, KeyError, TypeError) as exc:
                self.bad.append(f"{type(exc).__name__}: {exc}"[:200])


def _children(pid: int) -> list[int]:
    kids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                kids.append(int(entry))
    return kids


def _proxy_pid(port: int) -> int | None:
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                cmd = Path(f"/proc/{entry}/cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if b"--port" in cmd and str(port).encode() in cmd and any(b"litellm" in c for c in cmd):
                return int(entry)
    return None


def _workers(port: int) -> list[int]:
    """The proxy's worker processes (its Python children but multiprocessing's helpers), else the proxy."""
    main = _proxy_pid(port)
    if main is None:
        return []
    workers = []
    for pid in _children(main):
        try:
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        if b"python" in cmd and b"resource_tracker" not in cmd and b"semaphore_tracker" not in cmd:
            workers.append(pid)
    return workers or [main]


def _sample(pid: int) -> dict[str, int] | None:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
        fds = len(os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return None
    values = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
    return {
        "rss_kb": int(values["VmRSS"].split()[0]),
        "threads": int(values["Threads"]),
        "fds": fds,
    }


@dataclass
class ResourceWatch:
    port: int
    samples: dict[int, list[tuple[float, dict[str, int]]]] = field(default_factory=dict)

    #: Worker processes that appeared after the first look: a worker died and was replaced.
    replaced: list[int] = field(default_factory=list)

    def run(self, stop: threading.Event, start: float) -> None:
        first: set[int] | None = None
        while not stop.wait(1.0):
            workers = _workers(self.port)
            if first is None and workers:
                first = set(workers)
            for pid in workers:
                if first is not None and pid not in first and pid not in self.replaced:
                    self.replaced.append(pid)
                sample = _sample(pid)
                if sample is not None:
                    self.samples.setdefault(pid, []).append((time.monotonic() - start, sample))

    def growth(self, warmup: float) -> dict[int, dict[str, Any]]:
        """Per worker: median of the first third of the samples after `warmup` against the last third."""
        report = {}
        for pid, series in self.samples.items():
            steady = [s for t, s in series if t >= warmup]
            if len(steady) < 6:
                continue
            third = len(steady) // 3
            early, late = steady[:third], steady[-third:]
            report[pid] = {
                key: {
                    "after_warmup": statistics.median(s[key] for s in early),
                    "end": statistics.median(s[key] for s in late),
                }
                for key in ("rss_kb", "fds", "threads")
            }
        return report


def _flat(growth: dict[int, dict[str, Any]]) -> list[str]:
    """Growth beyond noise: RSS more than 15 % (and 40 MB), fds more than 16, threads more than 8."""
    problems = []
    for pid, figures in growth.items():
        rss = figures["rss_kb"]
        if rss["end"] - rss["after_warmup"] > max(0.15 * rss["after_warmup"], 40 * 1024):
            problems.append(f"worker {pid}: RSS {rss['after_warmup']} → {rss['end']} kB")
        if figures["fds"]["end"] - figures["fds"]["after_warmup"] > 16:
            problems.append(f"worker {pid}: fds {figures['fds']}")
        if figures["threads"]["end"] - figures["threads"]["after_warmup"] > 8:
            problems.append(f"worker {pid}: threads {figures['threads']}")
    return problems


# --------------------------------------------------------------------------- the run


def soak(duration: float, clients: int, token_lifetime: int, seed: int, workdir: Path) -> dict[str, Any]:
    rng = random.Random(seed)
    home = workdir / "codex-home"
    handler = FaultHandler()
    outcomes: list[Outcome] = []
    lock = threading.Lock()
    with FakeCodexBackend(check_tokens=True, record=False) as fake:
        fake.access_token_lifetime = token_lifetime
        fake.issue_login(home, expires_in=token_lifetime)
        fake.handler = handler
        env = backend_env(fake, workdir / "cache", home)
        log = workdir / "proxy.log"
        with running_proxy(env, extra_args=("--num_workers", "2"), log=log) as url:
            port = int(url.rsplit(":", 1)[1])
            stop = threading.Event()
            auth = AuthWatch(home / "auth.json")
            resources = ResourceWatch(port)
            ids = iter(range(10**9))
            names = [s.name for s in SCENARIOS]
            weights = [s.weight for s in SCENARIOS]
            plans = [(rng.choices(names, weights)[0], rng.random() < 0.5) for _ in range(200_000)]
            warm: Counter[tuple[str, bool]] = Counter()

            def warmed_up() -> bool:
                """Every kind of request answered a few times: both workers have imported what it needs."""
                with lock:
                    return all(warm[(s.name, stream)] >= 3 for s in SCENARIOS for stream in (False, True))

            def client_loop(done: Callable[[], bool], warming: bool) -> None:
                client = openai.OpenAI(base_url=url, api_key=MASTER_KEY, max_retries=0, timeout=60)
                while not done():
                    with lock:
                        request_id = next(ids)
                    if warming:  # every kind in turn, so none is left for the measured part
                        name = SCENARIOS[request_id % len(SCENARIOS)].name
                        stream = (request_id // len(SCENARIOS)) % 2 == 1
                    else:
                        name, stream = plans[request_id % len(plans)]
                    scenario = BY_NAME[name]
                    began = time.monotonic()
                    got = _observe(client, scenario, request_id, stream)
                    with lock:
                        warm[(name, stream)] += 1
                        outcomes.append(
                            Outcome(
                                name,
                                stream,
                                got in _expected(scenario, stream),
                                got,
                                time.monotonic() - began,
                            )
                        )

            def run_clients(done: Callable[[], bool], warming: bool, limit: float) -> int:
                threads = [
                    threading.Thread(target=client_loop, args=(done, warming), daemon=True)
                    for _ in range(clients)
                ]
                for thread in threads:
                    thread.start()
                for thread in threads:
                    thread.join(limit)
                return sum(thread.is_alive() for thread in threads)

            auth_thread = threading.Thread(target=auth.run, args=(stop,), daemon=True)
            auth_thread.start()
            warm_start = time.monotonic()
            hung_clients = run_clients(
                lambda: warmed_up() or time.monotonic() - warm_start > 120, warming=True, limit=300
            )
            warmup_seconds = time.monotonic() - warm_start
            start = time.monotonic()
            resource_thread = threading.Thread(target=resources.run, args=(stop, start), daemon=True)
            resource_thread.start()
            hung_clients += run_clients(lambda: time.monotonic() - start >= duration, False, duration + 120)
            stop.set()
            for thread in (auth_thread, resource_thread):
                thread.join(5)
        reuse_errors, refreshes, responses = fake.reuse_errors, fake.refresh_requests, fake.responses_count
    growth = resources.growth(0.0)
    failures = [o for o in outcomes if not o.ok]
    by_scenario: dict[str, Counter[str]] = {}
    for o in outcomes:
        by_scenario.setdefault(f"{o.scenario}/{'stream' if o.stream else 'call'}", Counter())[o.got] += 1
    latencies = sorted(o.seconds for o in outcomes)
    slowest = sorted(outcomes, key=lambda o: -o.seconds)[:5]
    problems = [
        *(f"{o.scenario} stream={o.stream}: got {o.got}" for o in failures[:20]),
        *(["a client thread hung"] * bool(hung_clients)),
        *([f"{reuse_errors} refresh_token_reused"] if reuse_errors else []),
        *(
            [f"auth.json invalid at {len(auth.bad)} of {auth.reads} reads: {auth.bad[:3]}"]
            if auth.bad
            else []
        ),
        *([] if refreshes else ["no refresh happened: the tokens did not expire during the run"]),
        *([] if growth else ["no resource samples of the workers"]),
        *([f"{len(resources.replaced)} worker(s) replaced during the run"] if resources.replaced else []),
        *([] if len(growth) >= 2 else [f"measured {len(growth)} worker(s), not 2"]),
        *_flat(growth),
    ]
    return {
        "ok": not problems,
        "problems": problems,
        "duration_s": duration,
        "warmup_s": round(warmup_seconds, 1),
        "clients": clients,
        "token_lifetime_s": token_lifetime,
        "requests": len(outcomes),
        "failed_requests": len(failures),
        "backend_attempts": responses,
        "refreshes": refreshes,
        "refresh_token_reused": reuse_errors,
        "distinct_refresh_tokens_seen": len(auth.refresh_tokens),
        "auth_reads": auth.reads,
        "auth_bad_reads": len(auth.bad),
        "latency_s": {
            "p50": latencies[len(latencies) // 2] if latencies else None,
            "p99": latencies[int(len(latencies) * 0.99)] if latencies else None,
            "max": latencies[-1] if latencies else None,
        },
        "slowest": [f"{o.scenario}/{'stream' if o.stream else 'call'}: {o.seconds:.2f} s" for o in slowest],
        "outcomes": {k: dict(v) for k, v in sorted(by_scenario.items())},
        "workers": {str(pid): figures for pid, figures in growth.items()},
    }


def render(report: dict[str, Any]) -> str:
    lines = [
        f"Soak: {report['duration_s']:.0f} s after a {report['warmup_s']:.0f} s warm-up, {report['clients']} clients, proxy with 2 workers, "
        f"tokens living {report['token_lifetime_s']} s — **{'pass' if report['ok'] else 'FAIL'}**",
        "",
        f"- requests: {report['requests']} ({report['failed_requests']} not as expected), "
        f"backend attempts: {report['backend_attempts']}",
        f"- refreshes: {report['refreshes']}, refresh_token_reused: {report['refresh_token_reused']}, "
        f"auth.json reads: {report['auth_reads']} ({report['auth_bad_reads']} invalid)",
        f"- latency p50 {report['latency_s']['p50']:.3f} s, p99 {report['latency_s']['p99']:.3f} s, "
        f"max {report['latency_s']['max']:.3f} s",
        f"- slowest: {'; '.join(report['slowest'])}",
        "",
        "| worker | RSS after warm-up → end (MB) | fds | threads |",
        "| --- | --- | --- | --- |",
    ]
    for pid, f in report["workers"].items():
        lines.append(
            f"| {pid} | {f['rss_kb']['after_warmup'] / 1024:.0f} → {f['rss_kb']['end'] / 1024:.0f} "
            f"| {f['fds']['after_warmup']:.0f} → {f['fds']['end']:.0f} "
            f"| {f['threads']['after_warmup']:.0f} → {f['threads']['end']:.0f} |"
        )
    lines += ["", "| scenario | outcomes |", "| --- | --- |"]
    for name, counts in report["outcomes"].items():
        lines.append(f"| {name} | {', '.join(f'{k}: {v}' for k, v in sorted(counts.items()))} |")
    if report["problems"]:
        lines += ["", "Problems:", *(f"- {p}" for p in report["problems"])]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--short", action="store_true", help="15 s of load after the warm-up, 6 clients (the CI form)"
    )
    parser.add_argument("--duration", type=float, default=None, help="seconds of load")
    parser.add_argument("--clients", type=int, default=None)
    parser.add_argument("--token-lifetime", type=int, default=None, help="seconds an access token lives")
    parser.add_argument("--seed", type=int, default=12)
    parser.add_argument("--no-save", action="store_true", help="do not write bench/results")
    args = parser.parse_args(argv)
    duration = args.duration or (15.0 if args.short else 180.0)
    clients = args.clients or (6 if args.short else 12)
    lifetime = args.token_lifetime or (6 if args.short else 10)
    with tempfile.TemporaryDirectory(prefix="codex-soak-") as tmp:
        report = soak(duration, clients, lifetime, args.seed, Path(tmp))
    text = render(report)
    print(text)
    if not args.no_save:
        name = "soak-short" if args.short else "soak-full"
        RESULTS.mkdir(parents=True, exist_ok=True)
        (RESULTS / f"{name}.json").write_text(json.dumps(report, indent=2) + "\n")
        (RESULTS / f"{name}.md").write_text(text)
    return report


if __name__ == "__main__":
    sys.exit(0 if main()["ok"] else 1)
