"""The login file on disk: reading `auth.json` safely, where it really is, and who else can touch it.

The file is only read as a regular file of at most 1 MiB (never on an event loop: callers on
one use a worker thread), and a login other users can read or replace is warned about once, as
ssh does for a private key. Errors name the file and what to do, never a token.
"""

from __future__ import annotations

import json
import logging
import os
import stat
import threading
from dataclasses import dataclass
from pathlib import Path

from .. import config
from ..bounded import LimitExceeded, NotRegularFile, read_regular_file
from ..exceptions import (
    LOGIN_HINT,
    CodexAuthFileNotFoundError,
    CodexAuthFileNotWritableError,
    CodexAuthTokenError,
)
from .record import AuthRecord, parse_auth_data

logger = logging.getLogger(__name__)


def read_login_bytes(path: Path) -> tuple[bytes, os.stat_result]:
    """The bytes of a login file: a regular file of at most `MAX_LOGIN_FILE_BYTES`, never a FIFO or device.

    Raises the package's errors, each naming the file and what to do. Writers replace the file
    by renaming, so a reader cannot see half a file and takes no lock.
    """
    try:
        return read_regular_file(path, config.MAX_LOGIN_FILE_BYTES)
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


def real_login_path(path: Path) -> Path:
    """Where a login really is: a symlinked `auth.json` is refreshed in its target, the link is kept."""
    return Path(os.path.realpath(path))


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


def not_writable(path: Path, what: str, exc: OSError) -> CodexAuthFileNotWritableError:
    """The error for a login that cannot be refreshed because `what` (beside it) cannot be written."""
    reason = exc.strerror or type(exc).__name__
    return CodexAuthFileNotWritableError(
        f"The ChatGPT login in {path} needs refreshing, but {what} cannot be written ({reason}). "
        "It was not refreshed, so its refresh token is unspent and other programs sharing this login "
        f"keep working. Make {path.parent} writable for this process (or let the Codex CLI refresh the "
        f"login where it is writable); once the current access token has expired: {LOGIN_HINT}",
        path=path,
    )


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
