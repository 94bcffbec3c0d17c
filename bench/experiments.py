"""What-if variants behind docs/benchmarks.md: see `codexbench/experiments.py`."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from codexbench.experiments import main

if __name__ == "__main__":
    raise SystemExit(main())
