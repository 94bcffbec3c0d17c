"""`codex-litellm serve`: the LiteLLM proxy with the packaged config and a private master key.

The proxy and its workers read the provider's settings from their environment, so the login
the global options chose and the key are handed over there, just before the proxy starts.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import sys
from collections.abc import Iterator
from importlib import resources
from pathlib import Path

import click
import platformdirs
from rich.table import Table
from rich.text import Text

from ..protocol import PACKAGE, PACKAGE_VERSION
from .console import EXIT_CODES_HELP, EXIT_FAILED, console, err
from .login import LoginChoice

MASTER_KEY_ENV = "LITELLM_MASTER_KEY"


def default_master_key_file() -> Path:
    return Path(platformdirs.user_config_dir(PACKAGE)) / "master-key"


def ensure_master_key(key_file: Path) -> tuple[str, str]:
    """The proxy key and where it came from: `LITELLM_MASTER_KEY`, else `key_file` (made once, mode 0600)."""
    key = os.environ.get(MASTER_KEY_ENV)
    if key:
        return key, f"${MASTER_KEY_ENV}"
    with contextlib.suppress(FileNotFoundError):
        key = key_file.read_text(encoding="utf-8").strip()
        if key:
            return key, str(key_file)
    key_file.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    key = "sk-" + secrets.token_hex(32)
    fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(key + "\n")
    os.chmod(key_file, 0o600)
    return key, str(key_file)


@contextlib.contextmanager
def packaged_config() -> Iterator[Path]:
    """The proxy config shipped in the package (a copy of the repository's litellm_config.yaml)."""
    with resources.as_file(
        resources.files("litellm_codex_oauth_provider").joinpath("data/litellm_config.yaml")
    ) as path:
        yield path


def configured_models(config: Path) -> list[str]:
    """The `model_name`s of a proxy config."""
    import yaml

    data = yaml.safe_load(config.read_text(encoding="utf-8")) or {}
    entries = data.get("model_list") or [] if isinstance(data, dict) else []
    return [str(e["model_name"]) for e in entries if isinstance(e, dict) and e.get("model_name")]


def url_host(host: str) -> str:
    """The host part of a URL that reaches an address the proxy listens on."""
    if host in ("0.0.0.0", "::", ""):
        return "127.0.0.1"
    return f"[{host}]" if ":" in host else host


@click.command(
    epilog=EXIT_CODES_HELP,
    short_help="Start the LiteLLM proxy with the Codex models.",
    context_settings={"ignore_unknown_options": True},
)
@click.option(
    "--port", default=4000, show_default=True, type=click.IntRange(0, 65535), help="Port to listen on."
)
@click.option(
    "--host", default="127.0.0.1", show_default=True, help="Address to listen on (0.0.0.0: every interface)."
)
@click.option("--workers", default=1, show_default=True, type=click.IntRange(min=1), help="Worker processes.")
@click.option(
    "--config",
    "config_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A LiteLLM proxy config instead of the packaged one.",
)
@click.option(
    "--master-key-file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help=f"Where the proxy key is kept when LITELLM_MASTER_KEY is not set (default: {default_master_key_file()}).",
)
@click.argument("litellm_args", nargs=-1, type=click.UNPROCESSED)
@click.pass_obj
def serve(
    login: LoginChoice,
    port: int,
    host: str,
    workers: int,
    config_file: Path | None,
    master_key_file: Path | None,
    litellm_args: tuple[str, ...],
) -> None:
    """Start the LiteLLM proxy with the Codex models (the packaged config, unless --config).

    Clients use it as an OpenAI endpoint: base_url http://HOST:PORT/v1 and the proxy's master
    key as api_key. The key is LITELLM_MASTER_KEY when set; otherwise one is made on first run
    and kept in --master-key-file (mode 0600): the proxy refuses to start without a key, and a
    proxy without one would let anyone who reaches the port spend your plan. Arguments after
    `--` go to `litellm` as they are, e.g. `codex-litellm serve -- --detailed_debug`.
    Once the proxy runs, the exit status is the proxy's.
    """
    try:
        from litellm import run_server
    except ImportError as exc:  # pragma: no cover - litellm always ships its CLI
        err(f"The LiteLLM proxy is not installed ({exc}): pip install '{PACKAGE}[proxy]'")
        sys.exit(EXIT_FAILED)
    try:
        import fastapi  # noqa: F401 - the proxy's extras
        import uvicorn  # noqa: F401
    except ImportError:
        err(f"The LiteLLM proxy's dependencies are missing: pip install '{PACKAGE}[proxy]'")
        sys.exit(EXIT_FAILED)
    key_file = master_key_file.expanduser() if master_key_file is not None else default_master_key_file()
    try:
        key, key_source = ensure_master_key(key_file)
    except OSError as exc:
        err(f"Cannot make the proxy key in {key_file}: {exc.strerror}. Set LITELLM_MASTER_KEY instead.")
        sys.exit(EXIT_FAILED)
    with contextlib.ExitStack() as stack:
        config = config_file if config_file is not None else stack.enter_context(packaged_config())
        announce(login, config, host, port, workers, key_source)
        args = ["--config", str(config), "--host", host, "--port", str(port)]
        if workers > 1:
            args += ["--num_workers", str(workers)]
        hand_over({**login.environment(), MASTER_KEY_ENV: key})
        run_server.main(args=[*args, *litellm_args], prog_name="litellm", standalone_mode=True)


def hand_over(settings: dict[str, str | None]) -> None:
    """Set (None: unset) `settings` in the environment, where the proxy and each worker it starts read them."""
    for name, value in settings.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


def announce(login: LoginChoice, config: Path, host: str, port: int, workers: int, key_source: str) -> None:
    """Where the proxy listens, how to call it, and which models it serves (never the key itself)."""
    from ..exceptions import CodexAuthError

    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column(overflow="fold")
    grid.add_row("listening on", Text(f"{host}:{port} ({workers} worker{'s' if workers > 1 else ''})"))
    grid.add_row("OpenAI base_url", Text(f"http://{url_host(host)}:{port}/v1"))
    grid.add_row("api_key", Text(f"the proxy key, in {key_source}"))
    grid.add_row("config", Text(str(config)))
    warnings = []
    try:
        manager = login.manager()
        record = manager.load()
        grid.add_row("login", Text(f"{manager.path} (account {record.credentials.account_id})"))
    except CodexAuthError as exc:
        warnings.append(f"{exc.message} Requests fail until you log in.")
    try:
        names = configured_models(config)
    except Exception as exc:  # the proxy reports a broken config itself
        names = []
        warnings.append(f"cannot read the model list of {config}: {exc}")
    explicit = [n for n in names if "*" not in n]
    if explicit:
        grid.add_row("models", Text(", ".join(explicit)))
    for pattern in (n for n in names if "*" in n):
        grid.add_row(
            "", Text(f"{pattern}: any other catalog model, effort suffix (-high) or Fast tier (-fast)")
        )
    out = console()
    out.print(
        Text(f"codex-litellm {PACKAGE_VERSION}: LiteLLM proxy for the ChatGPT Codex models", style="bold")
    )
    out.print(grid)
    if host not in ("127.0.0.1", "localhost", "::1"):
        warnings.append("it is reachable from other machines: keep the key secret and put TLS in front")
    for warning in warnings:
        err(f"warning: {warning}")
    sys.stdout.flush()
