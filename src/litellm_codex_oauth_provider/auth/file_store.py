"""The default token store: `auth.json` itself, refreshed under the Codex CLI's `auth.lock`.

Right on one host. The parsed file is kept in memory until its inode, mtime or size change (one
`stat` per request); the new tokens are written to a temporary file beside the file a symlinked
`auth.json` points to, flushed to disk with the file's mode kept, and renamed over it.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import json
import logging
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..exceptions import CodexAuthFileNotWritableError
from ..files import PendingWrite
from .locks import auth_lock, write_lock
from .login_file import file_stamp, not_writable, read_auth_file, real_login_path
from .login_state import LoginState, state_for
from .record import AuthRecord
from .store import Save, StoreStatus, TokenStore

logger = logging.getLogger(__name__)


class FileTokenStore(TokenStore):
    """`auth.json` itself, refreshed under the Codex CLI's `auth.lock`: the default, right on one host."""

    kind = "file"

    def load(self, path: Path) -> AuthRecord:
        """The parsed file, from memory unless its inode, mtime or size changed (one `stat`)."""
        state = state_for(path)
        stamp = file_stamp(path)
        record = state.cached(stamp)
        return record if record is not None else state.adopt(read_auth_file(path), stamp)

    def reload(self, path: Path) -> AuthRecord:
        state = state_for(path)
        stamp = file_stamp(path)
        return state.adopt(read_auth_file(path), stamp)

    def locked(self, current: AuthRecord, timeout: float) -> contextlib.AbstractContextManager[None]:
        return auth_lock(current.path, timeout)

    @contextlib.contextmanager
    def saving(self, current: AuthRecord) -> Iterator[Save]:
        with _pending_write(real_login_path(current.path)) as pending:
            yield functools.partial(self._save, state_for(current.path), pending, current)

    def status(self, path: Path) -> StoreStatus:
        return StoreStatus(kind=self.kind, where=str(path))

    def write_back(self, record: AuthRecord) -> bool:
        """Write tokens another store holds into `auth.json` when it can be written; False when not."""
        path = record.path
        try:
            with _pending_write(real_login_path(path)) as pending:
                _commit(pending, record.raw)
        except (CodexAuthFileNotWritableError, OSError) as exc:
            logger.debug("codex auth: %s stays as it is (%s)", path, getattr(exc, "strerror", None) or exc)
            return False
        state_for(path).saved(record, file_stamp(path))
        return True

    @staticmethod
    def _save(state: LoginState, pending: PendingWrite, current: AuthRecord, record: AuthRecord) -> None:
        """Write back; when that fails, keep the new tokens in memory and say who is logged out."""
        path = record.path
        try:
            _commit(pending, record.raw)
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


def _pending_write(target: Path) -> PendingWrite:
    """A temporary file beside `auth.json`, made before the refresh so an unwritable folder costs nothing."""
    _check_target_writable(target)
    try:
        return PendingWrite(target, prefix=".auth-")  # mode 0600
    except OSError as exc:
        raise not_writable(target, "its folder", exc) from None


def _commit(pending: PendingWrite, data: dict[str, Any]) -> None:
    """Under the CLI's writer lock: write, flush to disk, keep the file's mode, rename over it."""
    with write_lock(pending.target):
        try:
            mode = pending.target.stat().st_mode & 0o7777
        except OSError:
            mode = 0o600
        pending.commit(json.dumps(data, indent=2).encode("utf-8"), mode=mode, durable=True)


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
        raise not_writable(target, "the file", OSError(errno.EROFS, os.strerror(errno.EROFS)))
