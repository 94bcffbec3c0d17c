"""The plot of a run (matplotlib, else a hand-drawn SVG)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .common import CONTENDERS, LABELS, SMALL_DELTA
from .report import big_result


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
    found = {n: [big_result(data["big"], n, s) for s in (small, large)] for n in with_direct}
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
