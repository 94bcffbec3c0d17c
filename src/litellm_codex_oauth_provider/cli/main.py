"""`codex-litellm`: the Codex login, the plan's usage, the models, a health check and the proxy.

    codex-litellm status            login, token expiry, plan usage bars
    codex-litellm models [--json]   the live model catalog
    codex-litellm doctor            checks everything in order, says how to fix what fails
    codex-litellm serve             the LiteLLM proxy with the packaged config

Tokens are never printed. Exit codes are listed in `codex-litellm --help`. Each command lives in
its own module and imports the login, catalog and LiteLLM modules (openai, LiteLLM: seconds to
import) only when it runs, so that `--help` and `--version` answer at once.
"""

from __future__ import annotations

import logging
from pathlib import Path

import click

from ..log import RedactingFilter
from ..protocol import PACKAGE_VERSION
from .console import CONTEXT, EXIT_CODES_HELP
from .doctor import doctor
from .login import LoginChoice
from .models import models
from .serve import serve
from .status import status


@click.group(context_settings=CONTEXT, epilog=EXIT_CODES_HELP)
@click.option(
    "--codex-home",
    type=click.Path(file_okay=False, path_type=Path),
    help="Codex home folder whose auth.json to use (default: $CODEX_HOME, else ~/.codex).",
)
@click.option(
    "--auth-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="An explicit auth.json (default: $CODEX_AUTH_FILE, else <codex home>/auth.json).",
)
@click.option("-v", "--verbose", is_flag=True, help="Log the package's debug lines to stderr (never tokens).")
@click.version_option(PACKAGE_VERSION, "-V", "--version", prog_name="codex-litellm")
@click.pass_context
def main(ctx: click.Context, codex_home: Path | None, auth_file: Path | None, verbose: bool) -> None:
    """Use the ChatGPT Codex models through LiteLLM with the Codex CLI login.

    Every command reads the login the provider uses: --auth-file, else --codex-home,
    else $CODEX_AUTH_FILE, else $CODEX_HOME/auth.json, else ~/.codex/auth.json.
    """
    ctx.obj = LoginChoice(auth_file=auth_file, codex_home=codex_home)
    package_logger = logging.getLogger("litellm_codex_oauth_provider")
    if verbose:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
        handler.addFilter(RedactingFilter())
        package_logger.addHandler(handler)
        package_logger.setLevel(logging.DEBUG)
    elif not package_logger.handlers:
        package_logger.addHandler(logging.NullHandler())  # the commands report problems themselves


main.add_command(status)
main.add_command(models)
main.add_command(doctor)
main.add_command(serve)


if __name__ == "__main__":  # pragma: no cover
    main()
