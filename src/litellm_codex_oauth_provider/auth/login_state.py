"""What every user of one login in this process shares: its cached record, its refresh lock, its last failure.

One `LoginState` per auth file path, whatever number of managers, stores or providers point
at it: threads queue on its `refresh_lock`, and a failed refresh is remembered so the callers
queued behind it share the failure instead of repeating it.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from .. import config
from ..exceptions import (
    CodexAuthFileNotWritableError,
    CodexAuthRefreshError,
    CodexAuthRefreshUnavailableError,
)
from .login_file import Stamp
from .record import AuthRecord


@dataclass
class RefreshFailure:
    """The last failed refresh of a login, so queued callers share it instead of repeating it."""

    refresh_token: str | None = field(repr=False)
    error: CodexAuthRefreshError
    at: float  # time.monotonic()

    @property
    def final(self) -> bool:
        """The token endpoint refused the token: trying it again cannot help, only a new login."""
        return not isinstance(self.error, CodexAuthRefreshUnavailableError | CodexAuthFileNotWritableError)

    def again(self) -> CodexAuthRefreshError:
        """A fresh copy to raise (raising one instance over and over piles up tracebacks)."""
        error = self.error
        return type(error)(error.message, path=error.path, code=error.code)


@dataclass
class _Unsaved:
    """Tokens this process got but could not write back; `spent` is the file's used refresh token."""

    spent: str | None = field(repr=False)
    record: AuthRecord


class LoginState:
    """What every manager of one auth file in this process shares."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.refresh_lock = threading.Lock()  # one refresh at a time per file in this process
        self._lock = threading.Lock()  # guards the fields below
        self._record: AuthRecord | None = None
        self._stamp: Stamp | None = None
        self._unsaved: _Unsaved | None = None
        self._failure: RefreshFailure | None = None
        self._last_warning = float("-inf")

    def __repr__(self) -> str:
        return f"<LoginState {self.path}>"

    def cached(self, stamp: Stamp) -> AuthRecord | None:
        with self._lock:
            return self._record if self._stamp == stamp else None

    def adopt(self, record: AuthRecord, stamp: Stamp) -> AuthRecord:
        """Cache what the file holds, unless it still holds a refresh token we spent and could not replace."""
        with self._lock:
            unsaved = self._unsaved
            if unsaved is not None:
                if record.refresh_token == unsaved.spent:
                    record = unsaved.record
                else:
                    self._unsaved = None  # someone wrote a newer login (`codex login`, another program)
            self._record, self._stamp = record, stamp
            return record

    def saved(self, record: AuthRecord, stamp: Stamp) -> None:
        with self._lock:
            self._record, self._stamp, self._unsaved = record, stamp, None

    def keep_unsaved(self, file_record: AuthRecord, record: AuthRecord) -> None:
        """Remember new tokens the file could not take, for as long as the file holds the spent ones."""
        with self._lock:
            spent = self._unsaved.spent if self._unsaved is not None else file_record.refresh_token
            self._unsaved = _Unsaved(spent, record)
            self._record = record

    def note_failure(self, refresh_token: str | None, error: CodexAuthRefreshError) -> None:
        with self._lock:
            self._failure = RefreshFailure(refresh_token, error, time.monotonic())

    def failure_for(self, record: AuthRecord) -> RefreshFailure | None:
        with self._lock:
            failure = self._failure
        return failure if failure is not None and failure.refresh_token == record.refresh_token else None

    def should_warn(self) -> bool:
        """At most one warning per cooldown, however many requests fall back at once."""
        with self._lock:
            now = time.monotonic()
            if now - self._last_warning < config.REFRESH_COOLDOWN_SECONDS:
                return False
            self._last_warning = now
            return True


_STATES: dict[Path, LoginState] = {}
_STATES_LOCK = threading.Lock()


def state_for(path: Path) -> LoginState:
    """The one state of the login at `path` in this process, made on first use."""
    with _STATES_LOCK:
        state = _STATES.get(path)
        if state is None:
            state = _STATES[path] = LoginState(path)
        return state
