"""The Codex CLI login: reading `auth.json`, keeping it fresh, and putting it on each request.

`CodexAuth` is an `httpx.Auth` flow: it adds the bearer token and account header, and on a
401 asks the token manager for fresh credentials and sends the request once more.

`CodexTokenManager` is the one place that refreshes. ChatGPT refresh tokens are single-use, so
a refresh must never race another one on the same login, in this process or any other:

* threads queue on one lock per auth file, event-loop tasks share one refresh per loop (run in
  a worker thread, so the loop never waits on HTTP or a file lock);
* processes (other workers, the Codex CLI) take `flock(LOCK_EX)` on `<folder>/auth.lock`, as
  the CLI does (beside a symlinked `auth.json` and beside its target), and re-read `auth.json`
  under it: if another process already refreshed, its tokens are used and ours is never spent;
* we refresh 60 s before expiry (or a quarter of a short token's life), well after the CLI
  (300 s, and before it locks), so while a CLI runs it always refreshes first;
* the new tokens are written to a temporary file beside `auth.json` (where a link really
  points) and renamed over it.

The file is only read as a regular file of at most 1 MiB, never on an event loop, and a login
other users can read or replace is warned about once. The token endpoint gets a total deadline
and a size cap on its answer.

See docs/authentication.md.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import copy
import errno
import functools
import json
import logging
import os
import random
import re
import ssl
import stat
import tempfile
import threading
import time
from collections.abc import AsyncGenerator, Generator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import jwt

from .. import constants as C
from .. import settings
from ..bounded import (
    LimitExceeded,
    NotRegularFile,
    aread_capped,
    budget,
    buffered,
    read_regular_file,
    time_left,
)
from ..constants import HEADER_ACCOUNT_ID, JWT_AUTH_CLAIM
from ..exceptions import (
    LOGIN_HINT,
    CodexAuthFileNotFoundError,
    CodexAuthFileNotWritableError,
    CodexAuthRefreshError,
    CodexAuthRefreshTimeoutError,
    CodexAuthRefreshUnavailableError,
    CodexAuthTokenError,
)
from ..protocol import ACCEPT_JSON, codex_headers
from .store import Save, StoreStatus, TokenStore, open_store

try:
    import fcntl
except ImportError:  # Windows: no flock; refreshes stay single-flight within the process only
    fcntl = None  # type: ignore[assignment]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Credentials:
    """What a request needs; the token is kept out of `repr` so it never lands in a log."""

    access_token: str = field(repr=False)
    account_id: str
    expires_at: float | None = None

    def headers(self) -> dict[str, str]:
        """The two headers every backend request carries."""
        return {"Authorization": f"Bearer {self.access_token}", HEADER_ACCOUNT_ID: self.account_id}


def decode_jwt_claims(token: str) -> dict[str, Any]:
    """Claims of a JWT without verifying it: we only read `exp` and the account claim."""
    claims = jwt.decode(token, options={"verify_signature": False, "verify_exp": False, "verify_aud": False})
    if not isinstance(claims, dict):
        raise jwt.DecodeError("claims are not an object")
    return claims


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def parse_rfc3339(text: Any) -> float | None:
    """Epoch seconds of an RFC 3339 time such as `last_refresh` (the CLI writes nanoseconds)."""
    if not isinstance(text, str) or not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


def rfc3339_now() -> str:
    """`last_refresh` as the CLI writes it: RFC 3339 in UTC with a `Z`."""
    return datetime.now(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def refresh_due_at(claims: dict[str, Any], last_refresh: Any) -> float | None:
    """When to refresh: a margin before `exp`, else 8 days after `last_refresh`, else never.

    The margin is 60 s, or a quarter of the token's life when that is shorter, so a short-lived
    token is not refreshed the moment it arrives; both are far inside the CLI's 300 s.
    """
    exp = _number(claims.get("exp"))
    if exp is not None:
        iat = _number(claims.get("iat"))
        margin = C.REFRESH_MARGIN_SECONDS
        if iat is not None and exp > iat:
            margin = min(margin, (exp - iat) / 4)
        return exp - margin
    refreshed = parse_rfc3339(last_refresh)
    return None if refreshed is None else refreshed + C.REFRESH_MAX_AGE_SECONDS


@dataclass(frozen=True)
class AuthRecord:
    """A parsed `auth.json`; `raw` keeps every field so a write-back loses none."""

    path: Path
    raw: dict[str, Any] = field(repr=False)
    credentials: Credentials
    refresh_token: str | None = field(default=None, repr=False)
    last_refresh: str | None = None
    #: Epoch seconds after which a request should refresh first (computed once, not per request).
    refresh_at: float | None = None

    @property
    def access_claims(self) -> dict[str, Any]:
        return decode_jwt_claims(self.credentials.access_token)

    def due(self, now: float | None = None) -> bool:
        """True when the token should be refreshed before it is used."""
        return self.refresh_at is not None and (time.time() if now is None else now) >= self.refresh_at

    def usable(self, now: float | None = None) -> bool:
        """True while the access token has not expired (unknown expiry counts as usable)."""
        expires_at = self.credentials.expires_at
        now = time.time() if now is None else now
        return expires_at is None or now < expires_at - C.EXPIRY_SKEW_SECONDS


def _account_from_claims(claims: dict[str, Any]) -> str | None:
    auth_claim = claims.get(JWT_AUTH_CLAIM)
    account = auth_claim.get("chatgpt_account_id") if isinstance(auth_claim, dict) else None
    return account if isinstance(account, str) and account else None


#: `auth_mode` values the Codex CLI writes; errors name these and no other value.
_KNOWN_AUTH_MODES = frozenset({"chatgpt", "apikey", "api_key", "agent_identity", "personal_access_token"})


def parse_auth_data(data: Any, path: Path) -> AuthRecord:
    """Validate the shape of an `auth.json` document; errors name the file, never a token."""
    if not isinstance(data, dict):
        raise CodexAuthTokenError(f"{path} does not hold a JSON object. {LOGIN_HINT}", path=path)
    tokens = data.get("tokens")
    if not isinstance(tokens, dict):
        mode = data.get("auth_mode")
        # only modes the Codex CLI writes are named: an error must not echo a file's contents
        shown = f"{mode!r}" if mode in _KNOWN_AUTH_MODES else "not a ChatGPT login"
        detail = f" (auth_mode is {shown}; this provider needs a ChatGPT login)" if mode else ""
        raise CodexAuthTokenError(f"{path} has no ChatGPT `tokens`{detail}. {LOGIN_HINT}", path=path)
    access_token = tokens.get("access_token")
    if not isinstance(access_token, str) or not access_token:
        raise CodexAuthTokenError(f"{path} has no `tokens.access_token`. {LOGIN_HINT}", path=path)
    try:
        claims = decode_jwt_claims(access_token)
    except jwt.PyJWTError:
        raise CodexAuthTokenError(
            f"The access token in {path} is not a valid JWT. {LOGIN_HINT}", path=path
        ) from None
    account_id = tokens.get("account_id")
    if not isinstance(account_id, str) or not account_id:
        account_id = _account_from_claims(claims)
    if not account_id:
        raise CodexAuthTokenError(
            f"{path} names no ChatGPT account (no `tokens.account_id`, no account claim in the token). {LOGIN_HINT}",
            path=path,
        )
    exp = _number(claims.get("exp"))
    refresh_token = tokens.get("refresh_token")
    last_refresh = data.get("last_refresh")
    return AuthRecord(
        path=path,
        raw=data,
        credentials=Credentials(access_token=access_token, account_id=account_id, expires_at=exp),
        refresh_token=refresh_token if isinstance(refresh_token, str) and refresh_token else None,
        last_refresh=last_refresh if isinstance(last_refresh, str) else None,
        refresh_at=refresh_due_at(claims, last_refresh),
    )


def read_login_bytes(path: Path) -> tuple[bytes, os.stat_result]:
    """The bytes of a login file: a regular file of at most `MAX_LOGIN_FILE_BYTES`, never a FIFO or device.

    Raises the package's errors, each naming the file and what to do. Writers replace the file
    by renaming, so a reader cannot see half a file and takes no lock.
    """
    try:
        return read_regular_file(path, C.MAX_LOGIN_FILE_BYTES)
    except FileNotFoundError:
        raise CodexAuthFileNotFoundError(path) from None
    except NotRegularFile as exc:
        raise CodexAuthTokenError(
            f"{exc}. A Codex login is the auth.json file `codex login` writes; point CODEX_HOME or "
            "CODEX_AUTH_FILE at it.",
            path=path,
        ) from None
    except LimitExceeded as exc:
        raise CodexAuthTokenError(
            f"{exc}: a Codex login is a few KB, so this is not one. Point CODEX_HOME or CODEX_AUTH_FILE "
            f"at the auth.json `codex login` writes. {LOGIN_HINT}",
            path=path,
        ) from None
    except OSError as exc:
        raise CodexAuthTokenError(
            f"Cannot read {path}: {exc.strerror or type(exc).__name__}. {LOGIN_HINT}", path=path
        ) from None


def read_auth_file(path: Path) -> AuthRecord:
    """Read and parse `auth.json`; a missing file says where we looked and how to log in.

    Blocking file I/O: the async paths call it in a worker thread. A login other users can
    read or replace is logged once, as ssh does (see `login_file_problems`).
    """
    raw, info = read_login_bytes(path)
    warn_about_login_file(path, info)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise CodexAuthTokenError(f"{path} is not UTF-8 text. {LOGIN_HINT}", path=path) from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CodexAuthTokenError(
            f"{path} is not valid JSON (line {exc.lineno}, column {exc.colno}). {LOGIN_HINT}", path=path
        ) from None
    return parse_auth_data(data, path)


# --------------------------------------------------------------------------- who else can touch it


@dataclass(frozen=True)
class LoginFileProblem:
    """Something that lets another user read or replace a login, and the command that fixes it."""

    detail: str
    fix: str


def _user(uid: int) -> str | None:
    try:
        import pwd

        return pwd.getpwuid(uid).pw_name
    except (ImportError, KeyError):
        return None


def _owner(uid: int) -> str:
    name = _user(uid)
    return f"{name} (uid {uid})" if name else f"uid {uid}"


def login_file_problems(path: Path, info: os.stat_result | None = None) -> list[LoginFileProblem]:
    """ssh's rules for a private key, applied to a login: only its owner may read it or replace it.

    The file (where a symlink really points) must belong to the current user (or root) and be
    readable by no one else; its folder, and the folder of a symlink to it, must not be writable
    by others. `info` is the file's `fstat` when the caller has it. Empty on Windows.
    """
    if not hasattr(os, "geteuid"):
        return []
    me = os.geteuid()
    real = Path(os.path.realpath(path))
    problems: list[LoginFileProblem] = []
    try:
        info = info or os.stat(real)
    except OSError:
        return problems
    if info.st_uid not in (me, 0):
        problems.append(
            LoginFileProblem(
                f"{real} belongs to {_owner(info.st_uid)}, not to you ({_owner(me)}): that user can "
                "read and change your ChatGPT login",
                f"chown {_user(me) or me} {real} (or run as its owner)",
            )
        )
    mode = stat.S_IMODE(info.st_mode)
    if mode & 0o077:
        problems.append(
            LoginFileProblem(
                f"{real} has mode {mode:04o}: other users can read or change your ChatGPT tokens",
                f"chmod 600 {real}",
            )
        )
    folders = dict.fromkeys([real.parent, Path(os.path.abspath(path)).parent])
    for folder in folders:
        try:
            folder_info = os.stat(folder)
        except OSError:
            continue
        folder_mode = stat.S_IMODE(folder_info.st_mode)
        if folder_mode & 0o022:
            problems.append(
                LoginFileProblem(
                    f"the folder {folder} has mode {folder_mode:04o}: other users can replace the login in it",
                    f"chmod go-w {folder}",
                )
            )
        if folder_info.st_uid not in (me, 0):
            problems.append(
                LoginFileProblem(
                    f"the folder {folder} belongs to {_owner(folder_info.st_uid)}, who can replace the login in it",
                    "move the login to a folder of your own (e.g. `codex login` with CODEX_HOME there)",
                )
            )
    return problems


_WARNED: set[tuple[str, tuple[str, ...]]] = set()
_WARNED_LOCK = threading.Lock()


def warn_about_login_file(path: Path, info: os.stat_result | None = None) -> None:
    """Log once per file and set of problems that other users can read or replace the login."""
    problems = login_file_problems(path, info)
    if not problems:
        return
    key = (str(path), tuple(problem.detail for problem in problems))
    with _WARNED_LOCK:
        if key in _WARNED:
            return
        _WARNED.add(key)
    for problem in problems:
        logger.warning("codex auth: UNPROTECTED LOGIN: %s. Fix: %s", problem.detail, problem.fix)


Stamp = tuple[int, int, int]


def file_stamp(path: Path) -> Stamp:
    """Inode, mtime and size: a rename-over (ours, the CLI's) always changes the inode."""
    try:
        st = path.stat()
    except FileNotFoundError:
        raise CodexAuthFileNotFoundError(path) from None
    except OSError as exc:
        raise CodexAuthTokenError(f"Cannot read {path}: {exc.strerror}. {LOGIN_HINT}", path=path) from None
    return (st.st_ino, st.st_mtime_ns, st.st_size)


# --------------------------------------------------------------------------- shared per-file state


@dataclass
class _Failure:
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


class _LoginState:
    """What every manager of one auth file in this process shares."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.refresh_lock = threading.Lock()  # one refresh at a time per file in this process
        self._lock = threading.Lock()  # guards the fields below
        self._record: AuthRecord | None = None
        self._stamp: Stamp | None = None
        self._unsaved: _Unsaved | None = None
        self._failure: _Failure | None = None
        self._last_warning = float("-inf")

    def __repr__(self) -> str:
        return f"<_LoginState {self.path}>"

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
            self._failure = _Failure(refresh_token, error, time.monotonic())

    def failure_for(self, record: AuthRecord) -> _Failure | None:
        with self._lock:
            failure = self._failure
        return failure if failure is not None and failure.refresh_token == record.refresh_token else None

    def should_warn(self) -> bool:
        """At most one warning per cooldown, however many requests fall back at once."""
        with self._lock:
            now = time.monotonic()
            if now - self._last_warning < C.REFRESH_COOLDOWN_SECONDS:
                return False
            self._last_warning = now
            return True


_STATES: dict[Path, _LoginState] = {}
_STATES_LOCK = threading.Lock()


def _state_for(path: Path) -> _LoginState:
    with _STATES_LOCK:
        state = _STATES.get(path)
        if state is None:
            state = _STATES[path] = _LoginState(path)
        return state


# --------------------------------------------------------------------------- file locks and writing


def _not_writable(path: Path, what: str, exc: OSError) -> CodexAuthFileNotWritableError:
    reason = exc.strerror or type(exc).__name__
    return CodexAuthFileNotWritableError(
        f"The ChatGPT login in {path} needs refreshing, but {what} cannot be written ({reason}). "
        "It was not refreshed, so its refresh token is unspent and other programs sharing this login "
        f"keep working. Make {path.parent} writable for this process (or let the Codex CLI refresh the "
        f"login where it is writable); once the current access token has expired: {LOGIN_HINT}",
        path=path,
    )


_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)


def _open_lock_file(lock_path: Path, auth_path: Path) -> int:
    """A descriptor to flock; read-only when the file exists but cannot be created or written.

    Never follows a symlink: whoever can write the folder could otherwise make us create or
    lock any file the link names.
    """
    try:
        return os.open(lock_path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC | _NOFOLLOW, 0o600)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise CodexAuthFileNotWritableError(
                f"The ChatGPT login in {auth_path} needs refreshing, but its lock file {lock_path} is a "
                "symbolic link, which is never followed. It was not refreshed, so its refresh token is "
                f"unspent. Remove the link (`rm {lock_path}`); the lock is recreated as a plain file.",
                path=auth_path,
            ) from None
        try:
            return os.open(lock_path, os.O_RDONLY | os.O_CLOEXEC | _NOFOLLOW)
        except OSError:
            raise _not_writable(auth_path, f"the lock file {lock_path.name} in its folder", exc) from None


def real_login_path(path: Path) -> Path:
    """Where a login really is: a symlinked `auth.json` is refreshed in its target, the link is kept."""
    return Path(os.path.realpath(path))


def lock_paths(auth_path: Path) -> list[Path]:
    """The `auth.lock` files a refresh of `auth_path` takes, in this order.

    The Codex CLI locks `auth.lock` beside the `auth.json` path it was given, without resolving
    links. When `auth.json` is a symlink into another folder, a CLI may be using either path, so
    we lock beside the link first, then beside the file it points to (always in that order, so
    two of us cannot deadlock). Folders are resolved, so one folder is locked once.
    """
    link_folder = Path(os.path.realpath(Path(os.path.abspath(auth_path)).parent))
    real_folder = real_login_path(auth_path).parent
    return [folder / C.AUTH_LOCK_FILE for folder in dict.fromkeys([link_folder, real_folder])]


def _wait_for_flock(fd: int, timeout: float) -> bool:
    """Poll a non-blocking exclusive flock until granted or `timeout` passes (never blocks forever)."""
    if fcntl is None:
        return True
    deadline = time.monotonic() + timeout
    pause = 0.002
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            if time.monotonic() >= deadline:
                return False
            time.sleep(pause)
            pause = min(pause * 2, 0.05)


@contextlib.contextmanager
def auth_lock(auth_path: Path, timeout: float = C.AUTH_LOCK_TIMEOUT_SECONDS) -> Iterator[None]:
    """`flock(LOCK_EX)` on `auth.lock`, the lock the Codex CLI takes to refresh (see `lock_paths`)."""
    deadline = time.monotonic() + timeout
    held: list[int] = []
    seen: set[tuple[int, int]] = set()
    try:
        for lock_path in lock_paths(auth_path):
            fd = _open_lock_file(lock_path, auth_path)
            info = os.fstat(fd)
            if (info.st_dev, info.st_ino) in seen:  # one folder reached twice (a bind mount): lock it once
                os.close(fd)
                continue
            seen.add((info.st_dev, info.st_ino))
            held.append(fd)
            if not _wait_for_flock(fd, max(0.0, deadline - time.monotonic())):
                raise CodexAuthRefreshUnavailableError(
                    f"Waited {timeout:g} s for {lock_path}, which another program refreshing this login "
                    "holds; the stored login is unchanged and the refresh is tried again later.",
                    path=auth_path,
                )
        yield
    finally:
        for fd in reversed(held):
            os.close(fd)  # closing releases the lock


@contextlib.contextmanager
def _write_lock(auth_path: Path) -> Iterator[None]:
    """The CLI's writer lock on `auth.json.lock` beside the file written; best effort, as we hold `auth.lock`."""
    fd = None
    with contextlib.suppress(OSError):
        fd = os.open(
            auth_path.parent / C.AUTH_WRITE_LOCK_FILE,
            os.O_RDWR | os.O_CREAT | os.O_CLOEXEC | _NOFOLLOW,
            0o600,
        )
    try:
        if fd is not None and not _wait_for_flock(fd, 1.0):
            logger.debug("codex auth: %s.lock stayed busy; writing without it", auth_path.name)
        yield
    finally:
        if fd is not None:
            os.close(fd)


class _PendingWrite:
    """A temporary file beside `auth.json`, made before the refresh so an unwritable folder costs nothing."""

    def __init__(self, target: Path) -> None:
        self.target = target
        _check_target_writable(target)
        try:
            self._fd: int | None
            self._fd, name = tempfile.mkstemp(prefix=".auth-", dir=target.parent)  # mode 0600
        except OSError as exc:
            raise _not_writable(target, "its folder", exc) from None
        self.name = Path(name)

    def commit(self, data: dict[str, Any]) -> None:
        """Write, flush to disk, then rename over the target: readers see the old file or the new one."""
        try:
            mode = self.target.stat().st_mode & 0o7777
        except OSError:
            mode = 0o600
        fd, self._fd = self._fd, None
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(json.dumps(data, indent=2))
            handle.flush()
            os.fsync(handle.fileno())
            os.fchmod(handle.fileno(), mode)
        os.replace(self.name, self.target)
        _fsync_folder(self.target.parent)

    def discard(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
        with contextlib.suppress(FileNotFoundError):
            self.name.unlink()

    def __enter__(self) -> _PendingWrite:
        return self

    def __exit__(self, *exc: object) -> None:
        self.discard()


def _check_target_writable(target: Path) -> None:
    """Refuse before refreshing when `auth.json` itself is on a read-only mount (e.g. a `:ro` volume).

    `statvfs` sees a read-only mount of the single file too, which creating a temporary file in
    its (writable) folder would not; a mere mode 0444 is fine, renaming over it still works.
    """
    try:
        read_only = bool(os.statvfs(target).f_flag & os.ST_RDONLY)
    except OSError:
        return
    if read_only:
        raise _not_writable(target, "the file", OSError(errno.EROFS, os.strerror(errno.EROFS)))


def _fsync_folder(folder: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY | os.O_CLOEXEC)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def merge_tokens(raw: dict[str, Any], answer: dict[str, Any]) -> dict[str, Any]:
    """The file with the token endpoint's answer in it; every other field, unknown ones too, kept."""
    data = copy.deepcopy(raw)
    tokens = dict(data.get("tokens") or {})
    tokens["access_token"] = answer["access_token"]
    for key in ("id_token", "refresh_token"):
        value = answer.get(key)
        if isinstance(value, str) and value:
            tokens[key] = value
    account = _account_from_token(tokens.get("id_token")) or _account_from_token(tokens["access_token"])
    if account:
        tokens["account_id"] = account
    data["tokens"] = tokens
    data["last_refresh"] = rfc3339_now()
    return data


def _account_from_token(token: Any) -> str | None:
    if not isinstance(token, str):
        return None
    try:
        return _account_from_claims(decode_jwt_claims(token))
    except jwt.PyJWTError:
        return None


# --------------------------------------------------------------------------- the token endpoint

_FINAL_REASONS = {
    "refresh_token_reused": (
        "was already used (refresh_token_reused): another program refreshed this login at the same time, "
        "and the login is now signed out everywhere"
    ),
    "refresh_token_expired": "has expired (refresh_token_expired)",
    "refresh_token_invalidated": (
        "was revoked (refresh_token_invalidated), e.g. after signing out or changing the password"
    ),
}
_CODE_PATTERN = re.compile(r"^[A-Za-z0-9_.\-]{1,64}$")


def _error_code(response: httpx.Response) -> str | None:
    """The OAuth error code of a refusal (`{"error": {"code"}}` or `{"error": "code"}`), if it looks like one."""
    try:
        body = response.json()
    except ValueError:
        return None
    error = body.get("error") if isinstance(body, dict) else None
    code = error.get("code") or error.get("type") if isinstance(error, dict) else error
    return code if isinstance(code, str) and _CODE_PATTERN.match(code) else None


def _refused(response: httpx.Response, path: Path) -> CodexAuthRefreshError:
    """The final error for a refusal: what happened and that `codex login` is the way out."""
    code = _error_code(response)
    reason = _FINAL_REASONS.get(code or "")
    if reason is None:
        detail = f"HTTP {response.status_code}" + (f", {code}" if code else "")
        reason = f"was refused by the token endpoint ({detail})"
    return CodexAuthRefreshError(
        f"Cannot refresh the ChatGPT login in {path}: its refresh token {reason}. {LOGIN_HINT}",
        path=path,
        code=code,
    )


def _transient(status: int) -> bool:
    return status in (408, 429) or status >= 500


def _scrub(text: str, *secrets: str | None) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, "[redacted]")
    return text


@functools.cache
def _ssl_context() -> ssl.SSLContext:
    """Built once: making one costs ~40 ms, and it would be paid under `auth.lock` on every refresh."""
    return httpx.create_ssl_context()


@dataclass(frozen=True)
class RefreshPolicy:
    """How hard to try: attempts and first backoff at the token endpoint, longest wait for `auth.lock`."""

    attempts: int = C.REFRESH_ATTEMPTS
    backoff: float = C.REFRESH_BACKOFF_SECONDS
    timeout: float = C.REFRESH_TIMEOUT_SECONDS
    lock_timeout: float = C.AUTH_LOCK_TIMEOUT_SECONDS

    def pause(self, attempt: int) -> float:
        """Seconds before retry number `attempt` (1-based): doubling, with jitter."""
        return self.backoff * 2 ** (attempt - 1) * random.uniform(0.8, 1.2)


def request_tokens(refresh_token: str, reason: str, path: Path, policy: RefreshPolicy) -> dict[str, Any]:
    """Spend `refresh_token` at the token endpoint, as the CLI does; retry only passing failures.

    `policy.timeout` bounds the whole exchange, retries included, and the answer is read only up
    to `MAX_TOKEN_REPLY_BYTES`: a slow or flooding endpoint cannot hold the refresh (and the
    `auth.lock` other programs wait on) or the memory of the process.
    """
    body = {
        "client_id": C.OAUTH_CLIENT_ID,
        "grant_type": "refresh_token",
        "refresh_token": refresh_token,
        "refresh_reason": reason,
    }
    problem = "no attempt was made"
    deadline = time.monotonic() + policy.timeout
    attempts, tried = max(1, policy.attempts), 0
    for attempt in range(attempts):
        if attempt:
            pause = policy.pause(attempt)
            if time.monotonic() + pause >= deadline:
                break
            time.sleep(pause)
        tried += 1
        try:
            response = _post_within(settings.token_url(), body, deadline)
        except httpx.RequestError as exc:
            problem = _scrub(f"{type(exc).__name__}: {exc}", refresh_token)
            continue
        except TimeoutError:
            problem = f"no complete answer within {policy.timeout:g} s"
            break
        except LimitExceeded as exc:
            raise CodexAuthRefreshUnavailableError(
                f"The token endpoint's answer to the refresh of {path} was not read: {exc}. The stored "
                "login is unchanged and the refresh is tried again on a later request; should that "
                f"report the refresh token as already used: {LOGIN_HINT}",
                path=path,
            ) from None
        if _transient(response.status_code):
            problem = f"HTTP {response.status_code}"
            continue
        if response.status_code != 200:
            raise _refused(response, path)
        return _answer(response, path)
    raise CodexAuthRefreshUnavailableError(
        f"Cannot reach the token endpoint to refresh the ChatGPT login in {path} "
        f"({problem}, {tried} attempt{'s' if tried > 1 else ''}); the stored login is unchanged and the "
        "refresh is tried again on a later request.",
        path=path,
    )


def _post_within(url: str, body: dict[str, Any], deadline: float) -> httpx.Response:
    """POST `body` and read the answer (at most `MAX_TOKEN_REPLY_BYTES`) before `deadline`, or raise.

    httpx's timeouts are per read; the whole exchange (connect, headers, body) runs on a private
    event loop under `asyncio.wait_for`, the one way to bound all of it. This function blocks: it
    runs in a worker thread (async callers) or the calling thread (sync callers).
    """

    async def post() -> httpx.Response:
        async with (
            httpx.AsyncClient(
                timeout=budget(deadline), headers=codex_headers(ACCEPT_JSON), verify=_ssl_context()
            ) as client,
            client.stream("POST", url, json=body) as response,
        ):
            content = await aread_capped(
                response.aiter_bytes(), C.MAX_TOKEN_REPLY_BYTES, what="the token endpoint's answer"
            )
            return buffered(response, content)

    async def bounded() -> httpx.Response:
        return await asyncio.wait_for(post(), max(0.0, deadline - time.monotonic()))

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(bounded())
    # Called on a thread that runs an event loop (a sync call made from async code): use another.
    outcome: list[Any] = []

    def run() -> None:
        try:
            outcome.append(asyncio.run(bounded()))
        except BaseException as exc:  # handed to the caller's thread below
            outcome.append(exc)

    worker = threading.Thread(target=run, name="codex-token-request", daemon=True)
    worker.start()
    worker.join()
    if isinstance(outcome[0], BaseException):
        raise outcome[0]
    return outcome[0]


def _answer(response: httpx.Response, path: Path) -> dict[str, Any]:
    try:
        data = response.json()
    except ValueError:
        data = None
    if not isinstance(data, dict) or not isinstance(data.get("access_token"), str):
        raise CodexAuthRefreshUnavailableError(
            f"The token endpoint answered the refresh of {path} without new tokens; "
            "the stored login is unchanged.",
            path=path,
        )
    return data


# --------------------------------------------------------------------------- the file store


class FileTokenStore(TokenStore):
    """`auth.json` itself, refreshed under the Codex CLI's `auth.lock`: the default, right on one host."""

    kind = "file"

    def load(self, path: Path) -> AuthRecord:
        """The parsed file, from memory unless its inode, mtime or size changed (one `stat`)."""
        state = _state_for(path)
        stamp = file_stamp(path)
        record = state.cached(stamp)
        return record if record is not None else state.adopt(read_auth_file(path), stamp)

    def reload(self, path: Path) -> AuthRecord:
        state = _state_for(path)
        stamp = file_stamp(path)
        return state.adopt(read_auth_file(path), stamp)

    def locked(self, current: AuthRecord, timeout: float) -> contextlib.AbstractContextManager[None]:
        return auth_lock(current.path, timeout)

    @contextlib.contextmanager
    def saving(self, current: AuthRecord) -> Iterator[Save]:
        with _PendingWrite(real_login_path(current.path)) as pending:
            yield functools.partial(self._save, _state_for(current.path), pending, current)

    def status(self, path: Path) -> StoreStatus:
        return StoreStatus(kind=self.kind, where=str(path))

    def write_back(self, record: AuthRecord) -> bool:
        """Write tokens another store holds into `auth.json` when it can be written; False when not."""
        path = record.path
        try:
            with _PendingWrite(real_login_path(path)) as pending, _write_lock(pending.target):
                pending.commit(record.raw)
        except (CodexAuthFileNotWritableError, OSError) as exc:
            logger.debug("codex auth: %s stays as it is (%s)", path, getattr(exc, "strerror", None) or exc)
            return False
        _state_for(path).saved(record, file_stamp(path))
        return True

    @staticmethod
    def _save(state: _LoginState, pending: _PendingWrite, current: AuthRecord, record: AuthRecord) -> None:
        """Write back; when that fails, keep the new tokens in memory and say who is logged out."""
        path = record.path
        try:
            with _write_lock(pending.target):
                pending.commit(record.raw)
            state.saved(record, file_stamp(path))
        except OSError as exc:
            state.keep_unsaved(current, record)
            logger.error(
                "codex auth: refreshed the ChatGPT login but could not save it to %s (%s). The refresh "
                "token stored there is now spent: the Codex CLI and every other program using that file "
                "will be signed out and need `codex login`. This process keeps working with the new tokens "
                "in memory until it exits.",
                path,
                exc.strerror or type(exc).__name__,
            )


# --------------------------------------------------------------------------- the manager


def _same_token(record: AuthRecord, credentials: Credentials) -> bool:
    return record.credentials.access_token == credentials.access_token


def _superseded(current: AuthRecord, stale: AuthRecord, forced: bool) -> bool:
    """True when `current` can be used instead of refreshing `stale` (someone else refreshed)."""
    if _same_token(current, stale.credentials):
        return not forced and not current.due()
    return not current.due()


@functools.cache
def _refreshers() -> concurrent.futures.ThreadPoolExecutor:
    """Where refreshes run: a caller can stop waiting at its deadline while the refresh it started
    finishes and saves (cutting a refresh short could spend the token and lose its answer)."""
    return concurrent.futures.ThreadPoolExecutor(max_workers=4, thread_name_prefix="codex-refresh")


if hasattr(os, "register_at_fork"):  # a forked child has none of the parent's worker threads
    os.register_at_fork(after_in_child=_refreshers.cache_clear)


def _land(
    flights: dict[str, concurrent.futures.Future[AuthRecord]],
    lock: threading.Lock,
    key: str,
    future: concurrent.futures.Future[AuthRecord],
) -> None:
    """Forget a finished flight and mark its error retrieved, whoever still waits on it."""
    with lock:
        if flights.get(key) is future:
            del flights[key]
    if not future.cancelled():
        future.exception()


def _retrieved(future: asyncio.Future[Any]) -> None:
    """An async waiter that stopped waiting must not leave "exception never retrieved" behind."""
    if not future.cancelled():
        future.exception()


def _refresh_timeout(record: AuthRecord) -> CodexAuthRefreshTimeoutError:
    return CodexAuthRefreshTimeoutError(
        f"Refreshing the ChatGPT login in {record.path} did not finish within the call's timeout. It "
        "goes on and saves the new tokens; retry the call, or give it a longer `timeout`.",
        path=record.path,
    )


class CodexTokenManager:
    """Hands out the current credentials of one login and refreshes it, never twice at once.

    Where the tokens live is the token store's business (`token_store`: a deployment's setting,
    else `CODEX_TOKEN_STORE`, else `auth.json`); a request that finds the token fresh costs the
    store's `load`, one `stat` for both stores.
    """

    def __init__(
        self,
        auth_file: str | os.PathLike[str] | None = None,
        *,
        codex_home: str | None = None,
        policy: RefreshPolicy | None = None,
        token_store: str | None = None,
    ) -> None:
        self._explicit_file = auth_file
        self._explicit_home = codex_home
        self._store_setting = token_store
        self.policy = policy or RefreshPolicy()
        self._state: _LoginState | None = None
        self._flights_lock = threading.Lock()
        #: The refresh under way per access token, shared by every thread and event loop.
        self._flights: dict[tuple[int, str], concurrent.futures.Future[AuthRecord]] = {}

    def __repr__(self) -> str:
        return f"<CodexTokenManager {self.path}>"

    @property
    def path(self) -> Path:
        return settings.auth_file(self._explicit_file, self._explicit_home)

    @property
    def store(self) -> TokenStore:
        """The token store in use (read per call, like every setting); shared by the process."""
        return open_store(self._store_setting)

    def _login_state(self, path: Path) -> _LoginState:
        state = self._state
        if state is None or state.path != path:
            state = self._state = _state_for(path)
        return state

    # -- reading -------------------------------------------------------------------------------

    def load(self) -> AuthRecord:
        """The parsed file, from memory unless it changed since the last read (blocking file I/O)."""
        return self._load(self.path)

    async def aload(self) -> AuthRecord:
        """`load` for an event loop: the `stat` and any read run in a worker thread, never on the loop."""
        return await asyncio.to_thread(self.load)

    def _load(self, path: Path) -> AuthRecord:
        return self.store.load(path)

    def _reload(self, path: Path) -> AuthRecord:
        """The store's current tokens whatever is cached (under its lock, where they must be current)."""
        return self.store.reload(path)

    # -- the public interface ------------------------------------------------------------------

    def get_credentials(self) -> Credentials:
        """Credentials for a request, refreshed first when the token is about to expire."""
        record = self.load()
        if not record.due():
            return record.credentials
        return self._obtain(record, forced=False).credentials

    async def aget_credentials(self) -> Credentials:
        """`get_credentials` for an event loop: file I/O and a refresh run in worker threads."""
        record = await self.aload()
        if not record.due():
            return record.credentials
        return (await self._aobtain(record, forced=False)).credentials

    def refresh_after_unauthorized(self, rejected: Credentials) -> Credentials:
        """Credentials to retry with after the backend refused `rejected`: newer ones, or a refresh."""
        record = self.load()
        forced = _same_token(record, rejected)
        if not forced and not record.due():
            return record.credentials
        return self._obtain(record, forced=forced).credentials

    async def arefresh_after_unauthorized(self, rejected: Credentials) -> Credentials:
        record = await self.aload()
        forced = _same_token(record, rejected)
        if not forced and not record.due():
            return record.credentials
        return (await self._aobtain(record, forced=forced)).credentials

    # -- deciding ------------------------------------------------------------------------------

    def _obtain(self, record: AuthRecord, *, forced: bool) -> AuthRecord:
        state = self._login_state(record.path)
        kept = self._without_refresh(state, record, forced)
        if kept is not None:
            return kept
        try:
            try:
                return self._flight(record, forced).result(timeout=time_left(None))
            except TimeoutError:
                raise _refresh_timeout(record) from None
        except CodexAuthRefreshError as exc:
            return self._fallback(state, record, forced, exc)

    async def _aobtain(self, record: AuthRecord, *, forced: bool) -> AuthRecord:
        state = self._login_state(record.path)
        kept = self._without_refresh(state, record, forced)
        if kept is not None:
            return kept
        try:
            waiting = asyncio.wrap_future(self._flight(record, forced))
            waiting.add_done_callback(_retrieved)
            try:
                return await asyncio.wait_for(asyncio.shield(waiting), time_left(None))
            except TimeoutError:
                raise _refresh_timeout(record) from None
        except CodexAuthRefreshError as exc:
            return self._fallback(state, record, forced, exc)

    @staticmethod
    def _without_refresh(state: _LoginState, record: AuthRecord, forced: bool) -> AuthRecord | None:
        """After a failed refresh of this very token: keep using it while it works.

        A refusal is final (raise at once, no second request with a spent token); a passing
        failure is retried, after a cooldown while the token still works.
        """
        failure = state.failure_for(record)
        if failure is None:
            return None
        if failure.final:
            if not forced and record.usable():
                return record
            raise failure.again()
        recent = time.monotonic() - failure.at < C.REFRESH_COOLDOWN_SECONDS
        return record if recent and not forced and record.usable() else None

    @staticmethod
    def _fallback(
        state: _LoginState, record: AuthRecord, forced: bool, exc: CodexAuthRefreshError
    ) -> AuthRecord:
        """A failed proactive refresh leaves a still-valid token in use; anything else raises."""
        if forced or not record.usable():
            raise exc
        if state.should_warn():
            left = record.credentials.expires_at
            when = (
                f"for {left - time.time():.0f} s more" if left is not None else "until the backend refuses it"
            )
            logger.warning("codex auth: %s The current access token is used %s.", exc.message, when)
        return record

    # -- refreshing ----------------------------------------------------------------------------

    def _flight(self, record: AuthRecord, forced: bool) -> concurrent.futures.Future[AuthRecord]:
        """The refresh of `record`'s token, started once in a worker thread for every waiter.

        Sync and async callers wait on it for as long as their call allows; the refresh itself
        is bounded by its own policy and always completes (or fails) on its own.
        """
        # by process too: a forked child inherits the dict, never the thread finishing its futures
        key = (os.getpid(), record.credentials.access_token)
        with self._flights_lock:
            future = self._flights.get(key)
            if future is None:
                future = _refreshers().submit(self._refresh_blocking, record, forced)
                self._flights[key] = future
                future.add_done_callback(functools.partial(_land, self._flights, self._flights_lock, key))
        return future

    def _refresh_blocking(self, stale: AuthRecord, forced: bool) -> AuthRecord:
        """Refresh `stale` unless someone did already: threads queue here, processes on the store's lock."""
        path = stale.path
        state = self._login_state(path)
        waiting_since = time.monotonic()
        with state.refresh_lock:
            current = self._load(path)
            if _superseded(current, stale, forced):
                return current
            shared = state.failure_for(current)
            if shared is not None and shared.at >= waiting_since:
                raise shared.again()  # the refresh we queued behind failed; do not repeat it
            try:
                store = self.store
                with store.locked(current, self.policy.lock_timeout):
                    current = self._reload(path)
                    if _superseded(current, stale, forced):
                        logger.debug("codex auth: another program refreshed %s; using its tokens", path)
                        return current
                    return self._rotate(store, current, forced)
            except CodexAuthRefreshError as exc:
                state.note_failure(current.refresh_token, exc)
                raise

    def _rotate(self, store: TokenStore, current: AuthRecord, forced: bool) -> AuthRecord:
        """Spend the refresh token and save the new tokens in the store; called under its lock."""
        path = current.path
        if current.refresh_token is None:
            raise CodexAuthRefreshError(
                f"The ChatGPT login in {path} has no refresh token, so it cannot be renewed. {LOGIN_HINT}",
                path=path,
            )
        reason = C.REFRESH_REASON_UNAUTHORIZED if forced else C.REFRESH_REASON_PROACTIVE
        with store.saving(current) as save:
            answer = request_tokens(current.refresh_token, reason, path, self.policy)
            try:
                record = parse_auth_data(merge_tokens(current.raw, answer), path)
            except CodexAuthTokenError:
                raise CodexAuthRefreshError(
                    f"The token endpoint answered the refresh of {path} with an access token that is "
                    f"not a JWT; the old refresh token is spent. {LOGIN_HINT}",
                    path=path,
                ) from None
            save(record)
        expires_at = record.credentials.expires_at
        logger.info(
            "codex auth: refreshed %s (%s); the new access token expires in %s s",
            path,
            reason,
            f"{expires_at - time.time():.0f}" if expires_at is not None else "?",
        )
        return record


def _apply(request: httpx.Request, credentials: Credentials) -> None:
    request.headers.update(credentials.headers())


class CodexAuth(httpx.Auth):
    """Adds the login to each request; on a 401, refreshes once and retries once."""

    def __init__(self, manager: CodexTokenManager) -> None:
        self.manager = manager

    def sync_auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        credentials = self.manager.get_credentials()
        _apply(request, credentials)
        response = yield request
        if response.status_code == 401:
            _apply(request, self.manager.refresh_after_unauthorized(credentials))
            yield request

    async def async_auth_flow(self, request: httpx.Request) -> AsyncGenerator[httpx.Request, httpx.Response]:
        credentials = await self.manager.aget_credentials()
        _apply(request, credentials)
        response = yield request
        if response.status_code == 401:
            _apply(request, await self.manager.arefresh_after_unauthorized(credentials))
            yield request
