"""`codex-litellm`: the Codex login, the plan's usage, the models, a health check and the proxy.

    codex-litellm status            login, token expiry, plan usage bars
    codex-litellm models [--json]   the live model catalog
    codex-litellm doctor            checks everything in order, says how to fix what fails
    codex-litellm serve             the LiteLLM proxy with the packaged config

Tokens are never printed. Exit codes are listed in `codex-litellm --help`.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import secrets
import stat
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
import platformdirs
from rich.console import Console
from rich.table import Table
from rich.text import Text

from .. import __version__, settings
from .. import usage as usage_snapshot
from ..bounded import LimitExceeded, budget, buffered, read_capped
from ..constants import JWT_AUTH_CLAIM, MAX_CATALOG_BYTES, MODELS_PATH, PROVIDER_NAME
from ..log import RedactingFilter
from ..protocol import ACCEPT_JSON, codex_headers

if TYPE_CHECKING:
    from ..auth.manager import AuthRecord, CodexTokenManager, LoginFileProblem
    from ..auth.store import StoreStatus
    from ..models.catalog import ModelCatalog, ModelInfo

# The login, catalog and LiteLLM modules (openai, LiteLLM: seconds to import) are imported by the
# commands that use them, so that `--help` and `--version` answer at once.

PACKAGE = "litellm-codex-oauth-provider"
PROFILE_CLAIM = "https://api.openai.com/profile"

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


def _console(stderr: bool = False) -> Console:
    """Rich output without guessing colours into plain numbers; plain text when not a terminal."""
    return Console(stderr=stderr, highlight=False, soft_wrap=False)


def _err(message: str) -> None:
    _console(stderr=True).print(message, markup=False)


# --------------------------------------------------------------------------- formatting


def _ago(seconds: float) -> str:
    seconds = abs(seconds)
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} min"
    if seconds < 48 * 3600:
        return f"{seconds / 3600:.0f} h"
    return f"{seconds / 86400:.0f} d"


def _relative(epoch: float, now: float | None = None) -> str:
    delta = epoch - (time.time() if now is None else now)
    return f"in {_ago(delta)}" if delta >= 0 else f"{_ago(delta)} ago"


def _when(epoch: float | None, now: float | None = None) -> str:
    if epoch is None:
        return "unknown"
    local = datetime.fromtimestamp(epoch).astimezone().strftime("%Y-%m-%d %H:%M %Z")
    return f"{local} ({_relative(epoch, now)})"


def _iso(epoch: float | None) -> str | None:
    return None if epoch is None else datetime.fromtimestamp(epoch).astimezone().isoformat(timespec="seconds")


def _window_label(minutes: int | None) -> str:
    if not minutes:
        return "window"
    if minutes % 1440 == 0:
        return f"{minutes // 1440} d window"
    if minutes % 60 == 0:
        return f"{minutes // 60} h window"
    return f"{minutes} min window"


def _mode_text(mode: int) -> str:
    return f"{stat.S_IMODE(mode):04o}"


# --------------------------------------------------------------------------- the login


def _manager() -> CodexTokenManager:
    from ..auth.manager import CodexTokenManager

    return CodexTokenManager()


def _claims(token: Any) -> dict[str, Any]:
    import jwt

    from ..auth.manager import decode_jwt_claims

    if not isinstance(token, str) or not token:
        return {}
    try:
        return decode_jwt_claims(token)
    except jwt.PyJWTError:
        return {}


def _store_status(manager: CodexTokenManager) -> StoreStatus:
    """The token store's status; a store that cannot even be opened reports why."""
    from ..auth.store import StoreStatus, redact, store_spec
    from ..exceptions import CodexAuthError

    try:
        return manager.store.status(manager.path)
    except CodexAuthError as exc:
        return StoreStatus(kind=store_spec().lower(), where=redact(store_spec()), detail=exc.message)


def _store_json(status: StoreStatus) -> dict[str, Any]:
    age = time.time() - status.issued_at if status.issued_at is not None else None
    return {
        "kind": status.kind,
        "where": status.where,
        "reachable": status.reachable,
        "detail": status.detail,
        "version": status.version,
        "token_issued_at": _iso(status.issued_at),
        "token_age_seconds": round(age) if age is not None else None,
        "saved_at": _iso(status.saved_at),
    }


def _store_text(status: StoreStatus) -> Text:
    from ..auth.store import FILE

    if status.kind == FILE:
        return Text("auth.json (CODEX_TOKEN_STORE unset or file)")
    if status.reachable is False:
        return Text(f"{status.where}: UNREACHABLE ({status.detail})", style="red")
    if status.reachable is None:
        return Text(f"{status.where}: {status.detail}", style="red")
    text = f"{status.where}: reachable"
    if status.issued_at is not None:
        text += f", token issued {_relative(status.issued_at)}"
    if status.saved_at is not None:
        text += f", saved {_relative(status.saved_at)} (version {status.version})"
    if status.detail:
        text += f"; {status.detail}"
    return Text(text, style="yellow" if status.detail and status.issued_at is not None else "")


@dataclass
class LoginFacts:
    """What `status` shows of a login: never a token."""

    auth_file: Path
    file_mode: int | None = None
    #: Who else can read or replace the login (auth.login_file_problems: owner, mode, folder).
    file_problems: list[LoginFileProblem] = field(default_factory=list)
    account_id: str | None = None
    plan: str | None = None
    email: str | None = None
    expires_at: float | None = None
    last_refresh: float | None = None
    error: str | None = None
    store: StoreStatus | None = None

    @classmethod
    def read(cls, manager: CodexTokenManager) -> LoginFacts:
        from ..auth.manager import login_file_problems, read_auth_file
        from ..exceptions import CodexAuthError, CodexTokenStoreError, CodexTokenStoreUnavailableError

        facts = cls(auth_file=manager.path)
        with contextlib.suppress(OSError):
            facts.file_mode = facts.auth_file.stat().st_mode
            facts.file_problems = login_file_problems(facts.auth_file)
        facts.store = _store_status(manager)
        try:
            try:
                record = manager.load()
            except (CodexTokenStoreError, CodexTokenStoreUnavailableError):
                record = read_auth_file(manager.path)  # the store's row says what is wrong with it
        except CodexAuthError as exc:
            facts.error = exc.message
            return facts
        facts.fill(record)
        return facts

    def fill(self, record: AuthRecord) -> None:
        from ..auth.manager import parse_rfc3339

        tokens = record.raw.get("tokens") or {}
        access = _claims(record.credentials.access_token)
        identity = _claims(tokens.get("id_token"))
        auth = {**(identity.get(JWT_AUTH_CLAIM) or {}), **(access.get(JWT_AUTH_CLAIM) or {})}
        profile = access.get(PROFILE_CLAIM) or {}
        self.account_id = record.credentials.account_id
        self.plan = auth.get("chatgpt_plan_type") or None
        self.email = identity.get("email") or (profile.get("email") if isinstance(profile, dict) else None)
        self.expires_at = record.credentials.expires_at
        self.last_refresh = parse_rfc3339(record.last_refresh)

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "auth_file": str(self.auth_file),
            "file_mode": _mode_text(self.file_mode) if self.file_mode is not None else None,
            "file_mode_safe": not self.file_problems if self.file_mode is not None else None,
            "file_problems": [problem.detail for problem in self.file_problems],
            "token_store": _store_json(self.store) if self.store is not None else None,
        }
        if self.error is not None:
            return {**data, "error": self.error}
        return {
            **data,
            "account_id": self.account_id,
            "plan": self.plan,
            "email": self.email,
            "access_token_expires_at": _iso(self.expires_at),
            "last_refresh": _iso(self.last_refresh),
        }


# --------------------------------------------------------------------------- the command group


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
@click.version_option(__version__, "-V", "--version", prog_name="codex-litellm")
def main(codex_home: Path | None, auth_file: Path | None, verbose: bool) -> None:
    """Use the ChatGPT Codex models through LiteLLM with the Codex CLI login.

    Every command reads the login the provider uses: --auth-file, else --codex-home,
    else $CODEX_AUTH_FILE, else $CODEX_HOME/auth.json, else ~/.codex/auth.json.
    """
    if auth_file is not None:
        os.environ["CODEX_AUTH_FILE"] = str(auth_file.expanduser())
    elif codex_home is not None:
        os.environ.pop("CODEX_AUTH_FILE", None)  # the explicit home wins over the environment's file
    if codex_home is not None:
        os.environ["CODEX_HOME"] = str(codex_home.expanduser())
    package_logger = logging.getLogger("litellm_codex_oauth_provider")
    if verbose:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
        handler.addFilter(RedactingFilter())
        package_logger.addHandler(handler)
        package_logger.setLevel(logging.DEBUG)
    elif not package_logger.handlers:
        package_logger.addHandler(logging.NullHandler())  # the commands report problems themselves


# --------------------------------------------------------------------------- status


@main.command(epilog=EXIT_CODES_HELP, short_help="The login, token expiry and the plan's usage.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts (no tokens either).")
def status(as_json: bool) -> None:
    """The login and the plan's usage.

    Shows which auth.json is used, the account, plan and e-mail, when the access token expires
    and when it was last refreshed, whether the file's mode is safe, and the plan's usage
    windows as bars. The usage is what the backend reported with the last answer any program
    using this package received on this machine (kept in the cache folder, CODEX_CACHE_DIR);
    with several logins it is that of whichever answered last. Make a request to update it.
    Tokens are never printed.
    """
    facts = LoginFacts.read(_manager())
    snapshot = usage_snapshot.load_snapshot()
    if as_json:
        data = facts.to_json()
        data["usage"] = snapshot.to_json() if snapshot is not None else None
        click.echo(json.dumps(data, indent=2))
    else:
        _print_status(facts, snapshot)
    if facts.error is not None:
        sys.exit(EXIT_NO_LOGIN)


def _print_status(facts: LoginFacts, snapshot: usage_snapshot.UsageSnapshot | None) -> None:
    console = _console()
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold")
    grid.add_column()
    grid.add_row("auth file", Text(str(facts.auth_file)))
    if facts.file_mode is not None:
        mode = _mode_text(facts.file_mode)
        grid.add_row(
            "file mode",
            Text(f"{mode} (UNSAFE: other users can read or replace it, see below)", style="red")
            if facts.file_problems
            else Text(f"{mode} (safe: only you can read it)"),
        )
    if facts.store is not None:
        grid.add_row("token store", _store_text(facts.store))
    if facts.error is not None:
        grid.add_row("login", Text(facts.error, style="red"))
        console.print(grid)
        _print_file_problems(console, facts.file_problems)
        return
    expired = facts.expires_at is not None and facts.expires_at <= time.time()
    grid.add_row("account", Text(facts.account_id or "unknown"))
    grid.add_row("plan", Text(str(facts.plan or "unknown")))
    grid.add_row("e-mail", Text(str(facts.email or "unknown")))
    grid.add_row(
        "access token",
        Text(
            ("expired " if expired else "expires ")
            + _when(facts.expires_at)
            + (" (refreshed on the next request)" if expired else ""),
            style="yellow" if expired else "",
        ),
    )
    grid.add_row("last refresh", Text(_when(facts.last_refresh)))
    console.print(grid)
    _print_file_problems(console, facts.file_problems)
    console.print()
    _print_usage(console, snapshot)


def _print_file_problems(console: Console, problems: list[LoginFileProblem]) -> None:
    for problem in problems:
        console.print(Text(f"UNSAFE: {problem.detail}", style="red"))
        console.print(Text(f"   fix: {problem.fix}"))


def _bar(percent: float, width: int = 30) -> Text:
    """`█████░░░░░`: readable with colours and without (piped, logged)."""
    filled = round(width * max(0.0, min(100.0, percent)) / 100)
    style = "red" if percent >= 90 else "yellow" if percent >= 70 else "green"
    return Text("█" * filled, style=style) + Text("░" * (width - filled), style="dim")


def _print_usage(console: Console, snapshot: usage_snapshot.UsageSnapshot | None) -> None:
    if snapshot is None or not snapshot.windows:
        console.print(
            "plan usage: nothing recorded yet; it is read from the backend's answers, so make a request first"
        )
        return
    console.print(
        f"[bold]plan usage[/bold] (reported with the last answer, {_relative(snapshot.recorded_at)})"
    )
    table = Table.grid(padding=(0, 2))
    for _ in range(5):
        table.add_column()
    now = time.time()
    for window in snapshot.windows:
        used = window.used_percent
        if window.reset_since(now):
            bar = _bar(0)
            used_text = "reset since"
            resets = f"reset at {_when(window.resets_at)}"
        else:
            bar = _bar(used or 0.0)
            used_text = f"{used:.0f}% used" if used is not None else "? used"
            resets = f"resets {_when(window.resets_at)}" if window.resets_at is not None else ""
        table.add_row(
            Text(window.name), Text(_window_label(window.window_minutes)), bar, Text(used_text), Text(resets)
        )
    console.print(table)
    credits = snapshot.credits
    if credits is not None:
        if credits.unlimited:
            text = "unlimited"
        elif credits.has_credits:
            text = f"balance {credits.balance}" if credits.balance is not None else "available"
        else:
            text = "none"
        console.print(f"credits: {text}")


# --------------------------------------------------------------------------- models


def _fetch_catalog(manager: CodexTokenManager) -> ModelCatalog:
    from ..models.stores import CatalogStore
    from ..transport import CodexOpenAIClient

    client = CodexOpenAIClient(base_url=settings.api_base(), token_manager=manager, max_retries=0)
    try:
        return CatalogStore().catalog(client)
    finally:
        client.close()


def _model_json(info: ModelInfo) -> dict[str, Any]:
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


def _efforts_text(info: ModelInfo) -> Text:
    text = Text()
    for i, effort in enumerate(info.efforts):
        if i:
            text.append(" ")
        if effort == info.default_effort:
            text.append(effort + "*", style="bold")
        else:
            text.append(effort)
    return text if info.efforts else Text("-")


@main.command(epilog=EXIT_CODES_HELP, short_help="The live model catalog as a table, or --json.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
@click.option("--all", "show_all", is_flag=True, help="Hidden models too (the Codex CLI does not list them).")
@click.option("--refresh", is_flag=True, help="Ask the backend now even if the cached catalog is fresh.")
def models(as_json: bool, show_all: bool, refresh: bool) -> None:
    """The live model catalog: slug, efforts (* marks the default), context window, image input, Fast tier.

    Use a model as `codex/<slug>`, optionally with an effort suffix (`codex/gpt-5.5-high`) or the
    Fast tier (`codex/gpt-5.5-fast`). When the backend cannot be reached, the cached (else
    bundled) catalog is shown and the exit status is 4.
    """
    from ..exceptions import CodexAuthError
    from ..models.catalog import AUTHORITATIVE_SOURCES

    manager = _manager()
    try:
        manager.load()
    except CodexAuthError as exc:
        _err(exc.message)
        sys.exit(EXIT_NO_LOGIN)
    if refresh:
        os.environ["CODEX_CATALOG_TTL"] = "0"
    catalog = _fetch_catalog(manager)
    shown = [info for info in catalog.ordered() if show_all or info.listed]
    live = catalog.source in AUTHORITATIVE_SOURCES
    if as_json:
        payload = {
            "source": catalog.source,
            "base_url": settings.api_base(),
            "models": [_model_json(m) for m in shown],
        }
        click.echo(json.dumps(payload, indent=2))
    else:
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
                _efforts_text(info),
                f"{info.context_window:,}" if info.context_window else "?",
                "yes" if info.supports_vision else "no",
                "yes" if info.supports_fast else "no",
            )
        _console().print(table)
    if not live:
        _err(
            f"The backend at {settings.api_base()} could not be reached; this is the {catalog.source} "
            "catalog, which may be out of date. `codex-litellm doctor` shows why."
        )
        sys.exit(EXIT_UNREACHABLE)


# --------------------------------------------------------------------------- doctor


PASS, FAIL, SKIP = "PASS", "FAIL", "SKIP"
#: The doctor's catalog request may take this long in all.
_DOCTOR_CATALOG_SECONDS = 20.0


@dataclass
class Check:
    name: str
    status: str
    detail: str
    fix: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"check": self.name, "status": self.status.lower(), "detail": self.detail, "fix": self.fix}


@dataclass
class _Doctor:
    """Runs the checks in order; a check whose input is missing is skipped (and counts as not passed)."""

    manager: CodexTokenManager
    checks: list[Check] = field(default_factory=list)
    text: str | None = None
    data: Any = None
    record: AuthRecord | None = None
    usable: bool = False

    def add(self, name: str, status: str, detail: str, fix: str | None = None) -> None:
        self.checks.append(Check(name, status, detail, fix))

    def run(self) -> list[Check]:
        path = self.manager.path
        login = "Run `codex login` (or point CODEX_HOME / CODEX_AUTH_FILE / --codex-home at your login)."
        self._file(path, login)
        self._mode(path)
        self._json(path)
        self._tokens(path)
        self._jwt(path)
        self._store()
        self._token()
        self._backend()
        self._versions()
        self._refinements()
        return self.checks

    def _file(self, path: Path, login: str) -> None:
        from ..auth.manager import read_login_bytes
        from ..exceptions import CodexAuthError

        if not path.exists():
            self.add("login file", FAIL, f"{path} does not exist", login)
            return
        try:
            raw, _ = read_login_bytes(path)  # a regular file of sane size only: never a FIFO or a device
        except CodexAuthError as exc:
            fix = f"chmod 600 {path} (as its owner)" if path.is_file() else login
            self.add("login file", FAIL, exc.message, fix)
            return
        try:
            self.text = raw.decode("utf-8")
        except UnicodeDecodeError:
            self.add("login file", FAIL, f"{path} is not UTF-8 text", "Run `codex login` to write it again.")
            return
        self.add("login file", PASS, f"{path} is present and readable")

    def _mode(self, path: Path) -> None:
        """Fails when another user can read or replace the login (owner, mode, folder), as ssh would."""
        from ..auth.manager import login_file_problems

        try:
            mode = path.stat().st_mode
        except OSError:
            self.add("file mode", SKIP, "no login file")
            return
        problems = login_file_problems(path)
        if not problems:
            self.add("file mode", PASS, f"{_mode_text(mode)}: only you can read it or replace it")
            return
        self.add(
            "file mode",
            FAIL,
            "; ".join(problem.detail for problem in problems),
            " && ".join(dict.fromkeys(problem.fix for problem in problems)),
        )

    def _json(self, path: Path) -> None:
        if self.text is None:
            self.add("JSON", SKIP, "the login file could not be read")
            return
        try:
            self.data = json.loads(self.text)
        except json.JSONDecodeError as exc:
            self.add(
                "JSON",
                FAIL,
                f"not valid JSON (line {exc.lineno}, column {exc.colno})",
                "Run `codex login` to write the file again.",
            )
            return
        if not isinstance(self.data, dict):
            self.add(
                "JSON", FAIL, "the file holds no JSON object", "Run `codex login` to write the file again."
            )
            self.data = None
            return
        self.add("JSON", PASS, "valid")

    def _tokens(self, path: Path) -> None:
        if self.data is None:
            self.add("tokens", SKIP, "no valid JSON")
            return
        tokens = self.data.get("tokens")
        if not isinstance(tokens, dict):
            mode = self.data.get("auth_mode")
            detail = "no ChatGPT `tokens`" + (f" (auth_mode is {mode!r})" if mode else "")
            self.add("tokens", FAIL, detail, "Run `codex login` and sign in with ChatGPT (not an API key).")
            self.data = None
            return
        missing = [
            k
            for k in ("access_token", "refresh_token")
            if not isinstance(tokens.get(k), str) or not tokens[k]
        ]
        if missing:
            self.add("tokens", FAIL, f"missing {', '.join(missing)}", "Run `codex login` to sign in again.")
            if "access_token" in missing:
                self.data = None
            return
        self.add(
            "tokens", PASS, "access, refresh" + (" and id token" if tokens.get("id_token") else " token")
        )

    def _jwt(self, path: Path) -> None:
        from ..auth.manager import parse_auth_data
        from ..exceptions import CodexAuthError

        if self.data is None:
            self.add("JWT", SKIP, "no access token")
            return
        try:
            self.record = parse_auth_data(self.data, path)
        except CodexAuthError as exc:
            self.add("JWT", FAIL, exc.message, "Run `codex login` to sign in again.")
            return
        expiry = self.record.credentials.expires_at
        self.add(
            "JWT",
            PASS,
            f"account {self.record.credentials.account_id}"
            + (f", expiry {_iso(expiry)}" if expiry is not None else ", no expiry claim"),
        )

    def _store(self) -> None:
        """Only with CODEX_TOKEN_STORE set: the store answers, and its login (not the file's) is checked next."""
        from ..auth.store import FILE
        from ..exceptions import CodexAuthError

        status = _store_status(self.manager)
        if status.kind == FILE:
            return
        fix = (
            "Start Redis or point CODEX_TOKEN_STORE at a reachable one; set CODEX_TOKEN_STORE_KEY to the "
            "fleet's key (docs/authentication.md)."
        )
        if not status.reachable:
            self.add("token store", FAIL, f"{status.where}: {status.detail}", fix)
            return
        try:
            record = self.manager.load()  # the store's tokens (seeded from auth.json when it has none)
        except CodexAuthError as exc:
            self.add("token store", FAIL, f"{status.where}: {exc.message}", fix)
            return
        if self.record is not None:
            self.record = record  # the login requests use is the store's: check that one next
        status = _store_status(self.manager)
        age = f", token issued {_relative(status.issued_at)}" if status.issued_at is not None else ""
        self.add("token store", PASS, f"{status.where}: reachable{age}")

    def _token(self) -> None:
        from ..exceptions import CodexAuthError

        record = self.record
        if record is None:
            self.add("token", SKIP, "no decodable access token")
            return
        if not record.due():
            expiry = record.credentials.expires_at
            self.add(
                "token", PASS, "valid" + (f", expires {_relative(expiry)}" if expiry is not None else "")
            )
            self.usable = True
            return
        if record.refresh_token is None:
            self.add(
                "token", FAIL, "expired and there is no refresh token", "Run `codex login` to sign in again."
            )
            return
        try:  # refreshes as every request would: under the lock the Codex CLI shares
            credentials = self.manager.get_credentials()
        except CodexAuthError as exc:
            self.add(
                "token",
                FAIL,
                f"expired and the refresh failed: {exc.message}",
                "Run `codex login` to sign in again.",
            )
            return
        expiry = credentials.expires_at
        if expiry is not None and expiry <= time.time():
            self.add(
                "token",
                FAIL,
                "expired and not refreshed (the token endpoint could not be reached)",
                "Check the network, then run `codex-litellm doctor` again.",
            )
            return
        self.add(
            "token", PASS, "refreshed" + (f", expires {_relative(expiry)}" if expiry is not None else "")
        )
        self.usable = True

    def _backend(self) -> None:
        base = settings.api_base()
        if not self.usable:
            self.add("backend", SKIP, f"{base}: no usable token")
            return
        import httpx

        from ..exceptions import CodexAuthError
        from ..models.catalog import ModelCatalog as Catalog
        from ..transport import CodexOpenAIClient

        client = CodexOpenAIClient(base_url=base, token_manager=self.manager, max_retries=0)
        deadline = time.monotonic() + _DOCTOR_CATALOG_SECONDS
        try:
            with client._client.stream(
                "GET",
                base + MODELS_PATH,
                params={"client_version": settings.client_version()},
                headers=codex_headers(ACCEPT_JSON),
                timeout=budget(deadline),
            ) as streamed:
                content = b""
                if streamed.status_code == 200:  # read up to the catalog's size cap, within the time
                    content = read_capped(
                        streamed.iter_bytes(),
                        MAX_CATALOG_BYTES,
                        deadline=deadline,
                        seconds=_DOCTOR_CATALOG_SECONDS,
                        what="the model catalog",
                    )
                response = buffered(streamed, content)
        except LimitExceeded as exc:
            self.add("backend", FAIL, f"{base}{MODELS_PATH}: {exc}", "Check CODEX_API_BASE; try again later.")
            return
        except CodexAuthError as exc:
            self.add("backend", FAIL, exc.message, "Run `codex login` to sign in again.")
            return
        except httpx.HTTPError as exc:
            self.add(
                "backend",
                FAIL,
                f"cannot reach {base}: {type(exc).__name__}: {exc}",
                "Check the network (and HTTPS_PROXY); CODEX_API_BASE overrides the backend URL.",
            )
            return
        finally:
            client.close()
        if response.status_code != 200:
            fixes = {
                401: "Run `codex login` to sign in again.",
                403: "Your ChatGPT plan may not include Codex; check the plan or log in with another account.",
                429: "The plan's usage limit is reached; `codex-litellm status` shows when it resets.",
            }
            self.add(
                "backend",
                FAIL,
                f"{base}{MODELS_PATH} answered HTTP {response.status_code}",
                fixes.get(response.status_code, "Try again later; CODEX_API_BASE overrides the backend URL."),
            )
            return
        try:
            catalog = Catalog.from_payload(response.json(), source="live")
            if not len(catalog):
                raise ValueError("the catalog lists no models")
        except ValueError as exc:
            self.add("backend", FAIL, f"the catalog from {base} is unusable: {exc}", "Try again later.")
            return
        self.add("backend", PASS, f"{base}: catalog with {len(catalog)} models")

    def _versions(self) -> None:
        from .. import versions

        for name in ("litellm", "openai"):
            verdict = versions.assess(name, versions.installed_version(name))
            self.add(versions.LABELS[name], PASS if verdict.supported else FAIL, verdict.detail, verdict.fix)

    def _refinements(self) -> None:
        """The LiteLLM adjustments (litellm_compat) this LiteLLM version takes; off ones are named."""
        try:
            from . import provider  # noqa: F401 - applies the adjustments, as any use of the provider does
        except Exception as exc:  # LiteLLM missing or broken: the version check above says so
            self.add("refinements", SKIP, f"the provider cannot be loaded: {type(exc).__name__}: {exc}")
            return
        from ..litellm_glue.patches import refinements

        off = [r for r in refinements() if not r.active]
        if not off:
            self.add("refinements", PASS, "all on: " + "; ".join(r.name for r in refinements()))
            return
        self.add(
            "refinements",
            FAIL,
            "off on this LiteLLM: " + "; ".join(f"{r.name} ({r.detail})" for r in off),
            "Everything else works; install a tested LiteLLM version (see the LiteLLM line) to have them.",
        )


@main.command(epilog=EXIT_CODES_HELP, short_help="Check login, backend and LiteLLM; exit 0 when all pass.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
def doctor(as_json: bool) -> None:
    """Check the setup, in order, one line per check with the fix when it fails.

    Checks: the login file is present and readable, its mode is 0600, it is valid JSON, it
    holds the tokens, the access token decodes, it is valid or can be refreshed (an expired
    token is refreshed, as the next request would), the backend answers with its model
    catalog, the installed LiteLLM and openai are versions this package supports, and this
    LiteLLM takes the package's refinements (litellm_compat). A check that needs an earlier
    one that failed is skipped. Exits 0 only when every check passes.
    """
    checks = _Doctor(_manager()).run()
    ok = all(c.status == PASS for c in checks)
    if as_json:
        click.echo(json.dumps({"ok": ok, "checks": [c.to_json() for c in checks]}, indent=2))
    else:
        console = _console()
        width = max(len(c.name) for c in checks)
        styles = {PASS: "green", FAIL: "red", SKIP: "yellow"}
        for check in checks:
            line = Text()
            line.append(f"[{check.status}]", style=styles[check.status])
            line.append(f" {check.name.ljust(width)}  {check.detail}")
            console.print(line)
            if check.fix:
                console.print(Text(f"       fix: {check.fix}"))
        failed = sum(c.status != PASS for c in checks)
        console.print("all checks passed" if ok else f"{failed} of {len(checks)} checks did not pass")
    sys.exit(EXIT_OK if ok else EXIT_FAILED)


# --------------------------------------------------------------------------- serve


def default_master_key_file() -> Path:
    return Path(platformdirs.user_config_dir(PACKAGE)) / "master-key"


def ensure_master_key(key_file: Path) -> tuple[str, str]:
    """The proxy key and where it came from: `LITELLM_MASTER_KEY`, else `key_file` (made once, mode 0600)."""
    key = os.environ.get("LITELLM_MASTER_KEY")
    if key:
        return key, "$LITELLM_MASTER_KEY"
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
    import yaml

    data = yaml.safe_load(config.read_text(encoding="utf-8")) or {}
    entries = data.get("model_list") or [] if isinstance(data, dict) else []
    return [str(e["model_name"]) for e in entries if isinstance(e, dict) and e.get("model_name")]


def _url_host(host: str) -> str:
    if host in ("0.0.0.0", "::", ""):
        return "127.0.0.1"
    return f"[{host}]" if ":" in host else host


@main.command(
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
def serve(
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
        _err(f"The LiteLLM proxy is not installed ({exc}): pip install '{PACKAGE}[proxy]'")
        sys.exit(EXIT_FAILED)
    try:
        import fastapi  # noqa: F401 - the proxy's extras
        import uvicorn  # noqa: F401
    except ImportError:
        _err(f"The LiteLLM proxy's dependencies are missing: pip install '{PACKAGE}[proxy]'")
        sys.exit(EXIT_FAILED)
    key_file = master_key_file.expanduser() if master_key_file is not None else default_master_key_file()
    try:
        key, key_source = ensure_master_key(key_file)
    except OSError as exc:
        _err(f"Cannot make the proxy key in {key_file}: {exc.strerror}. Set LITELLM_MASTER_KEY instead.")
        sys.exit(EXIT_FAILED)
    os.environ["LITELLM_MASTER_KEY"] = key
    with contextlib.ExitStack() as stack:
        config = config_file if config_file is not None else stack.enter_context(packaged_config())
        _announce(config, host, port, workers, key_source)
        args = ["--config", str(config), "--host", host, "--port", str(port)]
        if workers > 1:
            args += ["--num_workers", str(workers)]
        run_server.main(args=[*args, *litellm_args], prog_name="litellm", standalone_mode=True)


def _announce(config: Path, host: str, port: int, workers: int, key_source: str) -> None:
    """Where the proxy listens, how to call it, and which models it serves (never the key itself)."""
    from ..exceptions import CodexAuthError

    console = _console()
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column(overflow="fold")
    grid.add_row("listening on", Text(f"{host}:{port} ({workers} worker{'s' if workers > 1 else ''})"))
    grid.add_row("OpenAI base_url", Text(f"http://{_url_host(host)}:{port}/v1"))
    grid.add_row("api_key", Text(f"the proxy key, in {key_source}"))
    grid.add_row("config", Text(str(config)))
    warnings = []
    try:
        manager = _manager()
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
    console.print(
        Text(f"codex-litellm {__version__}: LiteLLM proxy for the ChatGPT Codex models", style="bold")
    )
    console.print(grid)
    if host not in ("127.0.0.1", "localhost", "::1"):
        warnings.append("it is reachable from other machines: keep the key secret and put TLS in front")
    for warning in warnings:
        _err(f"warning: {warning}")
    sys.stdout.flush()


if __name__ == "__main__":  # pragma: no cover
    main()
