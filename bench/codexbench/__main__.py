"""`python -m bench.codexbench` (from the repository root) is `python bench/bench.py`."""

from .cli import main

raise SystemExit(main())
