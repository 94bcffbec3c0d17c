"""The `codex-litellm` command."""

from .main import main

__all__ = ["main"]
