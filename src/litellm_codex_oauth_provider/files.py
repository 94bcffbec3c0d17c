"""Writing files others read while we write: through a temporary file and a rename, never in place."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path


class PendingWrite:
    """A temporary file (mode 0600) beside `target`, made before the work whose result it will hold.

    Making it first means a folder we cannot write costs nothing: the caller finds out before
    it spends anything (a refresh token, say). `commit` renames it over the target, so readers
    see the old file or the new one, never half of either.
    """

    def __init__(self, target: Path, *, prefix: str = ".tmp-") -> None:
        self.target = target
        self._fd: int | None
        self._fd, name = tempfile.mkstemp(prefix=prefix, dir=target.parent)
        self.name = Path(name)

    def commit(self, data: bytes, *, mode: int | None = None, durable: bool = False) -> None:
        """Write `data`, then rename over the target; `durable` flushes file and folder to disk first."""
        fd, self._fd = self._fd, None
        if fd is None:
            raise RuntimeError("PendingWrite.commit called twice")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                if durable:
                    handle.flush()
                    os.fsync(handle.fileno())
                if mode is not None:
                    os.fchmod(handle.fileno(), mode)
            os.replace(self.name, self.target)
        except BaseException:
            self.discard()
            raise
        if durable:
            fsync_folder(self.target.parent)

    def discard(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
        with contextlib.suppress(FileNotFoundError):
            self.name.unlink()

    def __enter__(self) -> PendingWrite:
        return self

    def __exit__(self, *exc: object) -> None:
        self.discard()


def write_atomic(path: Path, data: bytes, *, prefix: str = ".tmp-") -> None:
    """Replace `path` with `data` (mode 0600) in one rename."""
    with PendingWrite(path, prefix=prefix) as pending:
        pending.commit(data)


def fsync_folder(folder: Path) -> None:
    """Make a rename inside `folder` survive a crash (best effort: not every filesystem allows it)."""
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY | os.O_CLOEXEC)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
