"""Which login the commands use (the global options, as values) and what `status` shows of it.

The login modules need openai (seconds to import), so they are imported by the functions that
use them: `--help` and `--version` answer at once.
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..config import CODEX_AUTH_FILE, CODEX_HOME
from ..protocol import JWT_AUTH_CLAIM
from .format import iso, mode_text

if TYPE_CHECKING:
    from ..auth.login_file import LoginFileProblem
    from ..auth.manager import CodexTokenManager
    from ..auth.record import AuthRecord
    from ..auth.store import StoreStatus

PROFILE_CLAIM = "https://api.openai.com/profile"


@dataclass(frozen=True)
class LoginChoice:
    """`--auth-file` and `--codex-home`: an explicit file wins, then an explicit home, then the settings."""

    auth_file: Path | None = None
    codex_home: Path | None = None

    def manager(self) -> CodexTokenManager:
        from ..auth.manager import CodexTokenManager

        home = str(self.codex_home) if self.codex_home is not None else None
        return CodexTokenManager(self.auth_file, codex_home=home)

    def environment(self) -> dict[str, str | None]:
        """The settings another process needs to use this login: name to value, None to unset it."""
        changes: dict[str, str | None] = {}
        if self.auth_file is not None:
            changes[CODEX_AUTH_FILE.name] = str(self.auth_file.expanduser())
        elif self.codex_home is not None:
            changes[CODEX_AUTH_FILE.name] = None  # the explicit home wins over the environment's file
        if self.codex_home is not None:
            changes[CODEX_HOME.name] = str(self.codex_home.expanduser())
        return changes


def claims(token: Any) -> dict[str, Any]:
    """A token's claims, or none when it is not a JWT (the commands report, they do not fail)."""
    import jwt

    from ..auth.record import decode_jwt_claims

    if not isinstance(token, str) or not token:
        return {}
    try:
        return decode_jwt_claims(token)
    except jwt.PyJWTError:
        return {}


def store_status(manager: CodexTokenManager) -> StoreStatus:
    """The token store's status; a store that cannot even be opened reports why."""
    from ..auth.store import StoreStatus, redact
    from ..auth.stores import store_spec
    from ..exceptions import CodexAuthError

    try:
        return manager.store.status(manager.path)
    except CodexAuthError as exc:
        return StoreStatus(kind=store_spec().lower(), where=redact(store_spec()), detail=exc.message)


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
        from ..auth.login_file import login_file_problems, read_auth_file
        from ..exceptions import CodexAuthError, CodexTokenStoreError, CodexTokenStoreUnavailableError

        facts = cls(auth_file=manager.path)
        with contextlib.suppress(OSError):
            facts.file_mode = facts.auth_file.stat().st_mode
            facts.file_problems = login_file_problems(facts.auth_file)
        facts.store = store_status(manager)
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
        from ..auth.record import parse_rfc3339

        tokens = record.raw.get("tokens") or {}
        access = claims(record.credentials.access_token)
        identity = claims(tokens.get("id_token"))
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
            "file_mode": mode_text(self.file_mode) if self.file_mode is not None else None,
            "file_mode_safe": not self.file_problems if self.file_mode is not None else None,
            "file_problems": [problem.detail for problem in self.file_problems],
            "token_store": store_json(self.store) if self.store is not None else None,
        }
        if self.error is not None:
            return {**data, "error": self.error}
        return {
            **data,
            "account_id": self.account_id,
            "plan": self.plan,
            "email": self.email,
            "access_token_expires_at": iso(self.expires_at),
            "last_refresh": iso(self.last_refresh),
        }


def store_json(status: StoreStatus) -> dict[str, Any]:
    age = time.time() - status.issued_at if status.issued_at is not None else None
    return {
        "kind": status.kind,
        "where": status.where,
        "reachable": status.reachable,
        "detail": status.detail,
        "version": status.version,
        "token_issued_at": iso(status.issued_at),
        "token_age_seconds": round(age) if age is not None else None,
        "saved_at": iso(status.saved_at),
    }
