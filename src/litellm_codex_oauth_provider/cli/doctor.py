"""`codex-litellm doctor`: every check in order, one line each, with the fix when it fails.

The checks ask the parts requests use: the auth package reads and judges the login, the catalog
store asks the backend; the doctor only says what they answered.
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from rich.text import Text

from .. import config
from ..bounded import LimitExceeded
from ..protocol import MODELS_PATH
from .console import EXIT_CODES_HELP, EXIT_FAILED, EXIT_OK, console
from .format import iso, mode_text, relative
from .login import LoginChoice, store_status

if TYPE_CHECKING:
    from ..auth.manager import CodexTokenManager
    from ..auth.record import AuthRecord

PASS, FAIL, SKIP = "PASS", "FAIL", "SKIP"

LOGIN_FIX = "Run `codex login` (or point CODEX_HOME / CODEX_AUTH_FILE / --codex-home at your login)."
RELOGIN_FIX = "Run `codex login` to sign in again."
REWRITE_FIX = "Run `codex login` to write the file again."
STORE_FIX = (
    "Start Redis or point CODEX_TOKEN_STORE at a reachable one; set CODEX_TOKEN_STORE_KEY to the "
    "fleet's key (docs/authentication.md)."
)
#: What to do when the backend answers the catalog request with this status.
STATUS_FIXES = {
    401: RELOGIN_FIX,
    403: "Your ChatGPT plan may not include Codex; check the plan or log in with another account.",
    429: "The plan's usage limit is reached; `codex-litellm status` shows when it resets.",
}


@dataclass
class Check:
    name: str
    status: str
    detail: str
    fix: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"check": self.name, "status": self.status.lower(), "detail": self.detail, "fix": self.fix}


@dataclass
class Doctor:
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
        self.login_file(path)
        self.file_mode(path)
        self.valid_json()
        self.tokens(path)
        self.jwt()
        self.token_store()
        self.token()
        self.backend()
        self.versions()
        self.refinements()
        return self.checks

    def login_file(self, path: Path) -> None:
        from ..auth.login_file import read_login_bytes
        from ..exceptions import CodexAuthError

        if not path.exists():
            self.add("login file", FAIL, f"{path} does not exist", LOGIN_FIX)
            return
        try:
            raw, _ = read_login_bytes(path)  # a regular file of sane size only: never a FIFO or a device
        except CodexAuthError as exc:
            fix = f"chmod 600 {path} (as its owner)" if path.is_file() else LOGIN_FIX
            self.add("login file", FAIL, exc.message, fix)
            return
        try:
            self.text = raw.decode("utf-8")
        except UnicodeDecodeError:
            self.add("login file", FAIL, f"{path} is not UTF-8 text", REWRITE_FIX)
            return
        self.add("login file", PASS, f"{path} is present and readable")

    def file_mode(self, path: Path) -> None:
        """Fails when another user can read or replace the login (owner, mode, folder), as ssh would."""
        from ..auth.login_file import login_file_problems

        try:
            mode = path.stat().st_mode
        except OSError:
            self.add("file mode", SKIP, "no login file")
            return
        problems = login_file_problems(path)
        if not problems:
            self.add("file mode", PASS, f"{mode_text(mode)}: only you can read it or replace it")
            return
        self.add(
            "file mode",
            FAIL,
            "; ".join(problem.detail for problem in problems),
            " && ".join(dict.fromkeys(problem.fix for problem in problems)),
        )

    def valid_json(self) -> None:
        if self.text is None:
            self.add("JSON", SKIP, "the login file could not be read")
            return
        try:
            self.data = json.loads(self.text)
        except json.JSONDecodeError as exc:
            self.add("JSON", FAIL, f"not valid JSON (line {exc.lineno}, column {exc.colno})", REWRITE_FIX)
            return
        self.add("JSON", PASS, "valid")

    def tokens(self, path: Path) -> None:
        """The login as requests read it (the auth package's parser): a ChatGPT login with its tokens."""
        from ..auth.record import parse_auth_data
        from ..exceptions import LOGIN_HINT, CodexAuthError

        if self.data is None:
            self.add("tokens", SKIP, "no valid JSON")
            return
        try:
            self.record = parse_auth_data(self.data, path)
        except CodexAuthError as exc:
            detail = exc.message.removesuffix(f" {LOGIN_HINT}")  # the fix line says what to do
            self.add("tokens", FAIL, detail, "Run `codex login` and sign in with ChatGPT (not an API key).")
            return
        if self.record.refresh_token is None:
            self.add("tokens", FAIL, "missing refresh_token", RELOGIN_FIX)
            return
        id_token = (self.record.raw.get("tokens") or {}).get("id_token")
        self.add("tokens", PASS, "access, refresh" + (" and id token" if id_token else " token"))

    def jwt(self) -> None:
        record = self.record
        if record is None:
            self.add("JWT", SKIP, "no access token")
            return
        expiry = record.credentials.expires_at
        self.add(
            "JWT",
            PASS,
            f"account {record.credentials.account_id}"
            + (f", expiry {iso(expiry)}" if expiry is not None else ", no expiry claim"),
        )

    def token_store(self) -> None:
        """Only with CODEX_TOKEN_STORE set: the store answers, and its login (not the file's) is checked next."""
        from ..auth.store import FILE
        from ..exceptions import CodexAuthError

        status = store_status(self.manager)
        if status.kind == FILE:
            return
        if not status.reachable:
            self.add("token store", FAIL, f"{status.where}: {status.detail}", STORE_FIX)
            return
        try:
            record = self.manager.load()  # the store's tokens (seeded from auth.json when it has none)
        except CodexAuthError as exc:
            self.add("token store", FAIL, f"{status.where}: {exc.message}", STORE_FIX)
            return
        if self.record is not None:
            self.record = record  # the login requests use is the store's: check that one next
        status = store_status(self.manager)
        age = f", token issued {relative(status.issued_at)}" if status.issued_at is not None else ""
        self.add("token store", PASS, f"{status.where}: reachable{age}")

    def token(self) -> None:
        from ..exceptions import CodexAuthError

        record = self.record
        if record is None:
            self.add("token", SKIP, "no decodable access token")
            return
        if not record.due():
            expiry = record.credentials.expires_at
            self.add("token", PASS, "valid" + (f", expires {relative(expiry)}" if expiry is not None else ""))
            self.usable = True
            return
        if record.refresh_token is None:
            self.add("token", FAIL, "expired and there is no refresh token", RELOGIN_FIX)
            return
        try:  # refreshes as every request would: under the lock the Codex CLI shares
            credentials = self.manager.get_credentials()
        except CodexAuthError as exc:
            self.add("token", FAIL, f"expired and the refresh failed: {exc.message}", RELOGIN_FIX)
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
        self.add("token", PASS, "refreshed" + (f", expires {relative(expiry)}" if expiry is not None else ""))
        self.usable = True

    def backend(self) -> None:
        """The catalog store asks the backend now (as LiteLLM's health probe does), then reads the catalog."""
        base = config.CODEX_API_BASE.get()
        if not self.usable:
            self.add("backend", SKIP, f"{base}: no usable token")
            return
        import httpx

        from ..exceptions import CodexAuthError
        from ..models.catalog_store import CatalogStore
        from ..transport import CodexOpenAIClient

        store = CatalogStore()
        client = CodexOpenAIClient(base_url=base, token_manager=self.manager, max_retries=0)
        try:
            store.probe(client)
            catalog = store.catalog(client)
        except LimitExceeded as exc:
            self.add("backend", FAIL, f"{base}{MODELS_PATH}: {exc}", "Check CODEX_API_BASE; try again later.")
            return
        except CodexAuthError as exc:
            self.add("backend", FAIL, exc.message, RELOGIN_FIX)
            return
        except httpx.HTTPError as exc:
            self.add(
                "backend",
                FAIL,
                f"cannot reach {base}: {type(exc).__name__}: {exc}",
                "Check the network (and HTTPS_PROXY); CODEX_API_BASE overrides the backend URL.",
            )
            return
        except Exception as exc:
            status = getattr(exc, "status", None)  # the backend answered, with an HTTP error status
            if not isinstance(status, int):
                raise
            self.add(
                "backend",
                FAIL,
                f"{base}{MODELS_PATH} answered HTTP {status}",
                STATUS_FIXES.get(status, "Try again later; CODEX_API_BASE overrides the backend URL."),
            )
            return
        finally:
            client.close()
        if not catalog.authoritative:
            detail = f"the catalog from {base} is unusable (the {catalog.source} catalog stands in for it)"
            self.add("backend", FAIL, detail, "Try again later.")
            return
        self.add("backend", PASS, f"{base}: catalog with {len(catalog)} models")

    def versions(self) -> None:
        from .. import versions

        for name in ("litellm", "openai"):
            verdict = versions.assess(name, versions.installed_version(name))
            self.add(versions.LABELS[name], PASS if verdict.supported else FAIL, verdict.detail, verdict.fix)

    def refinements(self) -> None:
        """The LiteLLM adjustments this LiteLLM version takes; off ones are named."""
        try:
            from .. import provider  # noqa: F401 - applies the adjustments, as any use of the provider does
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


@click.command(epilog=EXIT_CODES_HELP, short_help="Check login, backend and LiteLLM; exit 0 when all pass.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
@click.pass_obj
def doctor(login: LoginChoice, as_json: bool) -> None:
    """Check the setup, in order, one line per check with the fix when it fails.

    Checks: the login file is present and readable, its mode is 0600, it is valid JSON, it
    holds the tokens, the access token decodes, it is valid or can be refreshed (an expired
    token is refreshed, as the next request would), the backend answers with its model
    catalog, the installed LiteLLM and openai are versions this package supports, and this
    LiteLLM takes the package's refinements (litellm_glue/patches.py). A check that needs an earlier
    one that failed is skipped. Exits 0 only when every check passes.
    """
    checks = Doctor(login.manager()).run()
    ok = all(c.status == PASS for c in checks)
    if as_json:
        click.echo(json.dumps({"ok": ok, "checks": [c.to_json() for c in checks]}, indent=2))
    else:
        print_checks(checks, ok)
    sys.exit(EXIT_OK if ok else EXIT_FAILED)


def print_checks(checks: list[Check], ok: bool) -> None:
    out = console()
    width = max(len(c.name) for c in checks)
    styles = {PASS: "green", FAIL: "red", SKIP: "yellow"}
    for check in checks:
        line = Text()
        line.append(f"[{check.status}]", style=styles[check.status])
        line.append(f" {check.name.ljust(width)}  {check.detail}")
        out.print(line)
        if check.fix:
            out.print(Text(f"       fix: {check.fix}"))
    failed = sum(c.status != PASS for c in checks)
    out.print("all checks passed" if ok else f"{failed} of {len(checks)} checks did not pass")
