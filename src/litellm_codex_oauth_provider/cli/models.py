"""`codex-litellm models`: the live model catalog as a table or JSON."""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Any

import click
from rich.table import Table
from rich.text import Text

from .. import config
from ..protocol import PROVIDER_NAME
from .console import EXIT_CODES_HELP, EXIT_NO_LOGIN, EXIT_UNREACHABLE, console, err
from .login import LoginChoice

if TYPE_CHECKING:
    from ..auth.manager import CodexTokenManager
    from ..models.catalog import ModelCatalog, ModelInfo


@click.command(epilog=EXIT_CODES_HELP, short_help="The live model catalog as a table, or --json.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
@click.option("--all", "show_all", is_flag=True, help="Hidden models too (the Codex CLI does not list them).")
@click.option("--refresh", is_flag=True, help="Ask the backend now even if the cached catalog is fresh.")
@click.pass_obj
def models(login: LoginChoice, as_json: bool, show_all: bool, refresh: bool) -> None:
    """The live model catalog: slug, efforts (* marks the default), context window, image input, Fast tier.

    Use a model as `codex/<slug>`, optionally with an effort suffix (`codex/gpt-5.5-high`) or the
    Fast tier (`codex/gpt-5.5-fast`). When the backend cannot be reached, the cached (else
    bundled) catalog is shown and the exit status is 4.
    """
    from ..exceptions import CodexAuthError

    manager = login.manager()
    try:
        manager.load()
    except CodexAuthError as exc:
        err(exc.message)
        sys.exit(EXIT_NO_LOGIN)
    catalog = fetch_catalog(manager, refresh=refresh)
    shown = [info for info in catalog.ordered() if show_all or info.listed]
    if as_json:
        payload = {
            "source": catalog.source,
            "base_url": config.CODEX_API_BASE.get(),
            "models": [model_json(m) for m in shown],
        }
        click.echo(json.dumps(payload, indent=2))
    else:
        console().print(catalog_table(shown))
    if not catalog.authoritative:
        err(
            f"The backend at {config.CODEX_API_BASE.get()} could not be reached; this is the {catalog.source} "
            "catalog, which may be out of date. `codex-litellm doctor` shows why."
        )
        sys.exit(EXIT_UNREACHABLE)


def fetch_catalog(manager: CodexTokenManager, *, refresh: bool) -> ModelCatalog:
    """The catalog as the provider would read it; `refresh` asks the backend even if the cache is fresh."""
    from ..models.catalog_store import CatalogStore
    from ..transport import CodexOpenAIClient

    client = CodexOpenAIClient(base_url=config.CODEX_API_BASE.get(), token_manager=manager, max_retries=0)
    try:
        return CatalogStore(ttl=0.0 if refresh else None).catalog(client)
    finally:
        client.close()


def model_json(info: ModelInfo) -> dict[str, Any]:
    return {
        "id": f"{PROVIDER_NAME}/{info.slug}",
        "slug": info.slug,
        "display_name": info.display_name,
        "efforts": list(info.efforts),
        "default_effort": info.default_effort,
        "context_window": info.context_window,
        "max_output_tokens": info.max_output_tokens,
        "image_input": info.supports_vision,
        "fast": info.supports_fast,
        "listed": info.listed,
    }


def catalog_table(shown: list[ModelInfo]) -> Table:
    table = Table(caption=Text("* default effort. Use as codex/<slug>[-<effort>][-fast]."))
    table.add_column("model")
    table.add_column("efforts")
    table.add_column("context", justify="right")
    table.add_column("images")
    table.add_column("fast")
    for info in shown:
        name = Text(info.slug) if info.listed else Text(f"{info.slug} (hidden)", style="dim")
        table.add_row(
            name,
            efforts_text(info),
            f"{info.context_window:,}" if info.context_window else "?",
            "yes" if info.supports_vision else "no",
            "yes" if info.supports_fast else "no",
        )
    return table


def efforts_text(info: ModelInfo) -> Text:
    """The model's efforts, the default one in bold with a `*`."""
    text = Text()
    for i, effort in enumerate(info.efforts):
        if i:
            text.append(" ")
        if effort == info.default_effort:
            text.append(effort + "*", style="bold")
        else:
            text.append(effort)
    return text if info.efforts else Text("-")
