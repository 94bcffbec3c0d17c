"""codexbench, the project's benchmark: the `codex/` provider through LiteLLM next to the raw OpenAI client and LiteLLM's `chatgpt/`.

Everything runs against the fake Codex backend (`litellm_codex_oauth_provider.testing.fake_codex`) served by a
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

Modules: `common` (constants, plans, the local-only guard), `fake` (the fake backend process,
logins, environment), `contenders`, `measure` (interleaved measurements, big-stream workers),
`report` (goals and table), `plot`, `cli` (the run and the command line), `capacity` (streams per
proxy worker), `experiments` (what-if variants).
"""
