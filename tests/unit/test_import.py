"""Importing the package does no work: no logging set up, no exit or fork hooks, no LiteLLM."""

from __future__ import annotations

import subprocess
import sys
import textwrap


def test_importing_the_package_and_its_light_modules_changes_nothing_in_the_process():
    code = textwrap.dedent(
        """
        import atexit, logging, sys
        before = atexit._ncallbacks()
        import litellm_codex_oauth_provider
        from litellm_codex_oauth_provider import config, log, protocol, usage
        logger = logging.getLogger("litellm_codex_oauth_provider")
        print(atexit._ncallbacks() - before, len(logger.filters), len(logger.handlers), "litellm" in sys.modules)
        usage.record({"x-codex-primary-used-percent": "5"})  # the first use registers the exit hook
        print(atexit._ncallbacks() - before)
        """
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.stdout.split() == ["0", "0", "0", "False", "1"], done.stderr[-2000:]
