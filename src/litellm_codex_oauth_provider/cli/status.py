"""`codex-litellm status`: the login, its token and the plan's usage windows as bars."""

from __future__ import annotations

import json
import sys
import time
from typing import TYPE_CHECKING

import click
from rich.console import Console
from rich.table import Table
from rich.text import Text

from .. import usage
from .console import EXIT_CODES_HELP, EXIT_NO_LOGIN, console
from .format import bar, mode_text, relative, when, window_label
from .login import LoginChoice, LoginFacts

if TYPE_CHECKING:
    from ..auth.login_file import LoginFileProblem
    from ..auth.store import StoreStatus


@click.command(epilog=EXIT_CODES_HELP, short_help="The login, token expiry and the plan's usage.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts (no tokens either).")
@click.pass_obj
def status(login: LoginChoice, as_json: bool) -> None:
    """The login and the plan's usage.

    Shows which auth.json is used, the account, plan and e-mail, when the access token expires
    and when it was last refreshed, whether the file's mode is safe, and the plan's usage
    windows as bars. The usage is what the backend reported with the last answer any program
    using this package received on this machine (kept in the cache folder, CODEX_CACHE_DIR);
    with several logins it is that of whichever answered last. Make a request to update it.
    Tokens are never printed.
    """
    facts = LoginFacts.read(login.manager())
    snapshot = usage.load_snapshot()
    if as_json:
        data = facts.to_json()
        data["usage"] = snapshot.to_json() if snapshot is not None else None
        click.echo(json.dumps(data, indent=2))
    else:
        print_status(facts, snapshot)
    if facts.error is not None:
        sys.exit(EXIT_NO_LOGIN)


def print_status(facts: LoginFacts, snapshot: usage.UsageSnapshot | None) -> None:
    out = console()
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold")
    grid.add_column()
    grid.add_row("auth file", Text(str(facts.auth_file)))
    if facts.file_mode is not None:
        mode = mode_text(facts.file_mode)
        grid.add_row(
            "file mode",
            Text(f"{mode} (UNSAFE: other users can read or replace it, see below)", style="red")
            if facts.file_problems
            else Text(f"{mode} (safe: only you can read it)"),
        )
    if facts.store is not None:
        grid.add_row("token store", store_text(facts.store))
    if facts.error is not None:
        grid.add_row("login", Text(facts.error, style="red"))
        out.print(grid)
        print_file_problems(out, facts.file_problems)
        return
    expired = facts.expires_at is not None and facts.expires_at <= time.time()
    grid.add_row("account", Text(facts.account_id or "unknown"))
    grid.add_row("plan", Text(str(facts.plan or "unknown")))
    grid.add_row("e-mail", Text(str(facts.email or "unknown")))
    grid.add_row(
        "access token",
        Text(
            ("expired " if expired else "expires ")
            + when(facts.expires_at)
            + (" (refreshed on the next request)" if expired else ""),
            style="yellow" if expired else "",
        ),
    )
    grid.add_row("last refresh", Text(when(facts.last_refresh)))
    out.print(grid)
    print_file_problems(out, facts.file_problems)
    out.print()
    print_usage(out, snapshot)


def store_text(status: StoreStatus) -> Text:
    from ..auth.store import FILE

    if status.kind == FILE:
        return Text("auth.json (CODEX_TOKEN_STORE unset or file)")
    if status.reachable is False:
        return Text(f"{status.where}: UNREACHABLE ({status.detail})", style="red")
    if status.reachable is None:
        return Text(f"{status.where}: {status.detail}", style="red")
    text = f"{status.where}: reachable"
    if status.issued_at is not None:
        text += f", token issued {relative(status.issued_at)}"
    if status.saved_at is not None:
        text += f", saved {relative(status.saved_at)} (version {status.version})"
    if status.detail:
        text += f"; {status.detail}"
    return Text(text, style="yellow" if status.detail and status.issued_at is not None else "")


def print_file_problems(out: Console, problems: list[LoginFileProblem]) -> None:
    for problem in problems:
        out.print(Text(f"UNSAFE: {problem.detail}", style="red"))
        out.print(Text(f"   fix: {problem.fix}"))


def print_usage(out: Console, snapshot: usage.UsageSnapshot | None) -> None:
    if snapshot is None or not snapshot.windows:
        out.print(
            "plan usage: nothing recorded yet; it is read from the backend's answers, so make a request first"
        )
        return
    out.print(f"[bold]plan usage[/bold] (reported with the last answer, {relative(snapshot.recorded_at)})")
    table = Table.grid(padding=(0, 2))
    for _ in range(5):
        table.add_column()
    now = time.time()
    for window in snapshot.windows:
        used = window.used_percent
        if window.reset_since(now):
            shown = bar(0)
            used_text = "reset since"
            resets = f"reset at {when(window.resets_at)}"
        else:
            shown = bar(used or 0.0)
            used_text = f"{used:.0f}% used" if used is not None else "? used"
            resets = f"resets {when(window.resets_at)}" if window.resets_at is not None else ""
        table.add_row(
            Text(window.name), Text(window_label(window.window_minutes)), shown, Text(used_text), Text(resets)
        )
    out.print(table)
    credits = snapshot.credits
    if credits is not None:
        if credits.unlimited:
            text = "unlimited"
        elif credits.has_credits:
            text = f"balance {credits.balance}" if credits.balance is not None else "available"
        else:
            text = "none"
        out.print(f"credits: {text}")
