"""The Codex CLI's file locks: `flock` on `auth.lock` to refresh, on `auth.json.lock` to write.

Holding `auth.lock` while a refresh token is spent is what keeps two processes (ours, the CLI)
from spending the same single-use token. Waits poll a non-blocking lock, so none is endless.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import time
from collections.abc import Iterator
from pathlib import Path

from .. import config, protocol
from ..exceptions import CodexAuthFileNotWritableError, CodexAuthRefreshUnavailableError
from .login_file import not_writable, real_login_path

try:
    import fcntl
except ImportError:  # Windows: no flock; refreshes stay single-flight within the process only
    fcntl = None  # type: ignore[assignment]

logger = logging.getLogger(__name__)

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
            raise not_writable(auth_path, f"the lock file {lock_path.name} in its folder", exc) from None


def lock_paths(auth_path: Path) -> list[Path]:
    """The `auth.lock` files a refresh of `auth_path` takes, in this order.

    The Codex CLI locks `auth.lock` beside the `auth.json` path it was given, without resolving
    links. When `auth.json` is a symlink into another folder, a CLI may be using either path, so
    we lock beside the link first, then beside the file it points to (always in that order, so
    two of us cannot deadlock). Folders are resolved, so one folder is locked once.
    """
    link_folder = Path(os.path.realpath(Path(os.path.abspath(auth_path)).parent))
    real_folder = real_login_path(auth_path).parent
    return [folder / protocol.AUTH_LOCK_FILE for folder in dict.fromkeys([link_folder, real_folder])]


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
def auth_lock(auth_path: Path, timeout: float = config.AUTH_LOCK_TIMEOUT_SECONDS) -> Iterator[None]:
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
def write_lock(auth_path: Path) -> Iterator[None]:
    """The CLI's writer lock on `auth.json.lock` beside the file written; best effort, as we hold `auth.lock`."""
    fd = None
    with contextlib.suppress(OSError):
        fd = os.open(
            auth_path.parent / protocol.AUTH_WRITE_LOCK_FILE,
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
