"""What every command shares: the exit codes, the help epilog that lists them, and the consoles."""

from __future__ import annotations

from rich.console import Console

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_NO_LOGIN = 3
EXIT_UNREACHABLE = 4

EXIT_CODES_HELP = f"""\b
Exit codes:
  {EXIT_OK}  success (doctor: every check passed)
  {EXIT_FAILED}  failure (doctor: a check failed; serve: the proxy could not start)
  {EXIT_USAGE}  bad command line
  {EXIT_NO_LOGIN}  no usable Codex login (missing, unreadable or broken auth.json)
  {EXIT_UNREACHABLE}  the backend could not be reached (models shows a cached or bundled catalog)
"""

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


def console(stderr: bool = False) -> Console:
    """Rich output without guessing colours into plain numbers; plain text when not a terminal."""
    return Console(stderr=stderr, highlight=False, soft_wrap=False)


def err(message: str) -> None:
    """A message for the user on stderr, printed as it is (no rich markup)."""
    console(stderr=True).print(message, markup=False)
