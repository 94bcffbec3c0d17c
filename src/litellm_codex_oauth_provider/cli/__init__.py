"""The `codex-litellm` command: `main` holds the group and its global options, one module per command.

`main` is the console script's entry point (`litellm_codex_oauth_provider.cli:main`).
"""

from .console import EXIT_FAILED, EXIT_NO_LOGIN, EXIT_OK, EXIT_UNREACHABLE, EXIT_USAGE
from .main import main

__all__ = ["EXIT_FAILED", "EXIT_NO_LOGIN", "EXIT_OK", "EXIT_UNREACHABLE", "EXIT_USAGE", "main"]
