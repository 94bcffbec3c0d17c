"""Streams per proxy worker: see `codexbench/capacity.py`."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from codexbench.capacity import main

if __name__ == "__main__":
    raise SystemExit(main())
