"""What-if runs behind the hotspots named in docs/benchmarks.md, interleaved against stock `codex/`.

Each variant is a second `CodexAuthProvider` registered under another prefix and patched at the
instance level (nothing in `src/` changes), measured round-robin with the stock provider:

    parse      the pooled clients hand the raw event dicts to the translator instead of building
               the openai package's typed event models (`_process_response_data` returns the dict)
    httpx      the async client sends through httpx's own transport (httpcore's pool), as before the
               provider used LiteLLM's aiohttp transport (what that change bought)
    nolog      stock provider, with `litellm.disable_streaming_logging = True` (LiteLLM's per-chunk
               logging hand-off to a thread pool switched off; a user setting, shown for scale)
    typed      the async client sends the turn through `responses.create`, whose typed transform
               walks all of its parameters, as before `open_turn` posted the body as it is

    .venv/bin/python bench/experiments.py        # ~1.5 min; prints a markdown table
"""

from __future__ import annotations

import asyncio
import os
import statistics
import tempfile
from pathlib import Path
from typing import Any

from .common import FULL, local_only
from .contenders import ViaLiteLLM, make_contender
from .fake import configure_environment, fake_backend
from .measure import awarm, bench_async_calls, bench_concurrency, bench_deltas, bench_sync_calls, warm


def _passthrough(*, data: Any, cast_to: Any, response: Any) -> Any:
    return data


def _variants(*names: str) -> dict[str, tuple[Any, Any]]:
    """Fresh providers registered as `name/` next to `codex/`, each with a contender calling it."""
    import litellm

    from litellm_codex_oauth_provider import CodexAuthProvider

    made = {name: (CodexAuthProvider(), ViaLiteLLM(name)) for name in names}
    # ViaLiteLLM (re)registers only codex/; add the variants after the last one was made.
    litellm.custom_provider_map = [
        *litellm.custom_provider_map,
        *({"provider": name, "custom_handler": provider} for name, (provider, _) in made.items()),
    ]
    return made


def _httpx_client(pool: Any) -> Any:
    """The async client's HTTP client as it was before the aiohttp transport: httpx's own pool."""
    import httpx

    from litellm_codex_oauth_provider.auth.httpx_auth import CodexAuth
    from litellm_codex_oauth_provider.transport import default_timeout

    return httpx.AsyncClient(
        auth=CodexAuth(pool.token_manager),
        timeout=default_timeout(),
        limits=httpx.Limits(max_connections=200, max_keepalive_connections=200),
    )


def _through_responses_create(client: Any) -> None:
    """`open_turn` of one async client sent through `responses.create` (its typed request transform)."""

    async def open_turn(body: Any, *, headers: Any, timeout: Any = None) -> Any:
        extra = dict(body)
        typed = {key: extra.pop(key) for key in ("model", "stream")}
        options = {} if timeout is None else {"timeout": timeout}
        return await client.responses.create(
            **typed, extra_body=extra, extra_headers=dict(headers), **options
        )

    client.open_turn = open_turn


def _ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def main() -> int:
    local_only()
    rows: list[tuple[str, str, float, float]] = []
    with tempfile.TemporaryDirectory(prefix="codex-bench-") as tmp:
        workdir = Path(tmp)
        (workdir / "home").mkdir()
        with fake_backend(workdir, FULL) as fake:
            configure_environment(workdir, fake)
            base = os.environ["CODEX_API_BASE"]
            stock = make_contender("codex")
            made = _variants("codexparse", "codexaio", "codextyped")
            (parse_provider, parse), (aio_provider, aio) = made["codexparse"], made["codexaio"]
            typed_provider, typed = made["codextyped"]
            parse_pool, aio_pool = parse_provider.pool_for(), aio_provider.pool_for()
            parse_pool.sync_client(base)._process_response_data = _passthrough
            pair = {"codex": stock, "codexparse": parse}
            warm(pair, 3)

            sync_calls = bench_sync_calls(pair, 150)
            rows.append(
                (
                    "parse",
                    "per call, sync, median ms",
                    _ms(sync_calls["codex"]),
                    _ms(sync_calls["codexparse"]),
                )
            )
            deltas = bench_deltas(pair, 2000, 3)
            rows.append(
                (
                    "parse",
                    "us per 64-byte delta",
                    _ms(deltas["codex"]) * 1000,
                    _ms(deltas["codexparse"]) * 1000,
                )
            )

            import litellm

            logged: dict[bool, list[float]] = {False: [], True: []}
            for _ in range(3):
                for flag in (False, True):
                    litellm.disable_streaming_logging = flag
                    logged[flag] += bench_deltas({"codex": stock}, 2000, 1)["codex"]
            litellm.disable_streaming_logging = False
            rows.append(
                ("nolog", "us per 64-byte delta", _ms(logged[False]) * 1000, _ms(logged[True]) * 1000)
            )

            async def run_async() -> None:
                parse_pool.async_client(base)._process_response_data = _passthrough
                aio_pool.async_client(base)._client = _httpx_client(aio_pool)
                _through_responses_create(typed_provider.pool_for().async_client(base))
                trio = {"codex": stock, "codexparse": parse, "codexaio": aio, "codextyped": typed}
                await awarm(trio, 3)
                calls = await bench_async_calls(trio, 150)
                rows.append(
                    ("parse", "per call, async, median ms", _ms(calls["codex"]), _ms(calls["codexparse"]))
                )
                rows.append(
                    ("httpx", "per call, async, median ms", _ms(calls["codex"]), _ms(calls["codexaio"]))
                )
                rows.append(
                    ("typed", "per call, async, median ms", _ms(calls["codex"]), _ms(calls["codextyped"]))
                )
                batches = await bench_concurrency(
                    {"codex": stock, "codexaio": aio, "codextyped": typed}, 100, 8
                )
                for variant, name in (("httpx", "codexaio"), ("typed", "codextyped")):
                    rows.append(
                        (
                            variant,
                            "100 concurrent acompletion, median batch ms",
                            _ms(batches["codex"]),
                            _ms(batches[name]),
                        )
                    )

            asyncio.run(run_async())

    print("| variant | measurement | stock codex/ | variant | variant / stock |")
    print("|---|---|---:|---:|---:|")
    for variant, label, before, after in rows:
        print(f"| {variant} | {label} | {before:.2f} | {after:.2f} | {after / before:.2f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
