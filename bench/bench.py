"""Entry point of the benchmark (the code is the `codexbench` package beside this file).

    .venv/bin/python bench/bench.py            # full run (~4-5 min on 2 cores)
    .venv/bin/python bench/bench.py --quick    # smaller run (~2 min), results kept apart
    .venv/bin/python bench/bench.py --profile  # cProfile of the codex/ per-call path
    .venv/bin/python bench/capacity.py         # streams per proxy worker (~4 min)
    .venv/bin/python bench/experiments.py      # what-if variants (~1.5 min)

The bench's own subprocesses (the fake backend, the big-stream workers) run this file too.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from codexbench.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
