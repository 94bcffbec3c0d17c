"""Goals, verdicts and the markdown table of a run."""

from __future__ import annotations

from typing import Any

from .common import CONTENDERS, LABELS, SMALL_DELTA

# --------------------------------------------------------------------------- the report


def ratio_of(a: float, b: float) -> float:
    return a / b if b else float("inf")


def num(value: float, digits: int = 2) -> str:
    text = f"{value:.{digits}f}"
    return text[1:] if text.startswith("-") and float(text) == 0 else text


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def evaluate(data: dict[str, Any]) -> list[dict[str, Any]]:
    """The goals the benchmark checks, as ratios measured in this run."""
    goals = []
    for kind in ("sync", "async"):
        ours, theirs = data["per_call"][kind]["codex"], data["per_call"][kind]["chatgpt"]
        ratio = ratio_of(ours["median_ms"], theirs["median_ms"])
        goals.append(
            {
                "goal": f"per-call time ({kind}) at most 0.7x chatgpt/'s",
                "measure": "median codex / median chatgpt",
                "ratio": ratio,
                "target": "<= 0.70",
                "pass": ratio <= 0.7,
            }
        )
    for kind in ("sync", "async"):
        ours, floor = data["ttfc"][kind]["codex"], data["ttfc"][kind]["raw"]
        ratio = ratio_of(ours["median_ms"], floor["median_ms"])
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
    ratio = ratio_of(conc["codex"]["median_ms"], conc["raw"]["median_ms"])
    goals.append(
        {
            "goal": f"{data['plan']['concurrency']} concurrent acompletion no slower than the raw client",
            "measure": "median batch wall codex / raw",
            "ratio": ratio,
            "target": "<= 1.00",
            "pass": ratio <= 1.0,
        }
    )
    small, large = data["plan"]["big_sizes"]
    for name in ("codex", "codex-direct"):
        slope = excess_slope(data["big"], name, small, large)
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


def big_result(results: list[dict[str, Any]], name: str, size: int) -> dict[str, Any] | None:
    for result in results:
        if result["contender"] == name and result["bytes"] == size:
            return result
    return None


def excess_slope(results: list[dict[str, Any]], name: str, small: int, large: int) -> float | None:
    """Growth of the peak beyond the raw client's (which must hold what the wire repeats), per MB streamed.

    The backend repeats the whole text in its `.done` events, so every consumer of the raw
    event stream holds a few copies of it at the end; only what comes on top of that is ours.
    """
    found = [big_result(results, n, size) for n in (name, "raw") for size in (small, large)]
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
        cells = [num(values[n]) for n in names]
        tail = (
            f" | {ratio_of(values['codex'], values['chatgpt']):.2f} | {ratio_of(values['codex'], values['raw']):.2f} |"
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
                found = big_result(data["big"], n, size)
                values[n] = found[key] if found else float("nan")
            row(label, values, ratios=key != "traced_retained_mb")
    slopes = {n: excess_slope(data["big"], n, small, large) for n in names}
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
            found = big_result(direct, "codex-direct", size)
            if found:
                lines.append(
                    f"| {size / 1e6:.0f} MB | {found['seconds']:.2f} | {found['rss_peak_growth_mb']:.1f} | "
                    f"{found['traced_peak_mb']:.1f} | {found['traced_retained_mb']:.2f} |"
                )
    lines += ["", "| goal | measure | ratio | target | verdict |", "|---|---|---:|---:|---|"]
    for goal in data["goals"]:
        lines.append(
            f"| {goal['goal']} | {goal['measure']} | {num(goal['ratio'], 3)} | {goal['target']} | **{verdict(goal['pass'])}** |"
        )
    return "\n".join(lines) + "\n"
