"""`python bench/bench.py`: the run, the profile and the command line."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from . import __doc__ as PACKAGE_DOC
from .common import (
    CONTENDERS,
    FULL,
    PLOT,
    QUICK,
    RESULTS,
    SMALL_DELTA,
    Plan,
    local_only,
    log,
    machine,
    pin,
    versions,
)
from .contenders import make_contender
from .fake import configure_environment, fake_backend, serve_fake
from .measure import (
    awarm,
    bench_async_calls,
    bench_async_ttfc,
    bench_big_streams,
    bench_concurrency,
    bench_deltas,
    bench_sync_calls,
    bench_sync_ttfc,
    run_in_loop,
    stream_worker,
    summary,
    warm,
)
from .plot import plot
from .report import evaluate, render_markdown


def run(plan: Plan) -> dict[str, Any]:
    started, host, load_before = time.perf_counter(), machine(), os.getloadavg()[0]
    phases: dict[str, float] = {}

    def phase(name: str, message: str, work: Callable[[], Any]) -> Any:
        log(message)
        t0 = time.perf_counter()
        result = work()
        phases[name] = time.perf_counter() - t0
        return result

    with tempfile.TemporaryDirectory(prefix="codex-bench-") as tmp:
        workdir = Path(tmp)
        (workdir / "home").mkdir()
        with fake_backend(workdir, plan) as fake:
            configure_environment(workdir, fake)
            pin(0)
            contenders = {name: make_contender(name) for name in CONTENDERS}

            def warm_up() -> None:
                warm(contenders, plan.warmup)
                run_in_loop(lambda: awarm(contenders, plan.warmup))

            async def concurrency() -> dict[str, list[float]]:
                await awarm(contenders, 1)
                return await bench_concurrency(contenders, plan.concurrency, plan.concurrency_rounds)

            phase("warmup", f"fake backend at {fake['base_url']}; warming up", warm_up)
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
        "machine": host,
        "versions": versions(),
        "pinned": bool(os.environ.get("BENCH_PIN")),
        "per_call": {
            "sync": {n: summary(s) for n, s in sync_calls.items()},
            "async": {n: summary(s) for n, s in async_calls.items()},
        },
        "ttfc": {
            "sync": {n: summary(s) for n, s in sync_ttfc.items()},
            "async": {n: summary(s) for n, s in async_ttfc.items()},
        },
        "concurrency": {n: summary(s) for n, s in conc.items()},
        "deltas": {n: summary(s) for n, s in deltas.items()},
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
            pin(0)
            codex = make_contender("codex")
            warm({"codex": codex}, plan.warmup)
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
    total = cumulative("contenders.py", "call") + cumulative("contenders.py", "acall")
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
        "events.py: TurnTranslator.handle (incl. ModelResponseStream building)": cumulative(
            "events.py", "handle"
        ),
        "own time of every function in our package": own,
    }
    lines = ["## per call, ms (cProfile, sync and async together)\n"]
    lines += [f"{value / calls * 1000:8.2f}  {label}\n" for label, value in shares.items()]
    return "".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=PACKAGE_DOC, formatter_class=argparse.RawDescriptionHelpFormatter
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
    local_only()
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
    log(f"wrote {stem}.json, {stem}.md and {chart} in {data['seconds']:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
