"""Reads with limits and private cache folders.

A login file, the cache, a token endpoint, the catalog and error answers are inputs an attacker or
a broken server may control. Nothing here waits on a FIFO or a device, reads past a cap, or keeps
reading after a deadline: httpx's timeouts are per read, so a server that sends one byte a second
would otherwise hold a call for as long as it likes. What the package caches is written in folders
only the current user can enter (`private_folder`), as files of mode 0600.
"""

from __future__ import annotations

import contextlib
import os
import stat
import time
from collections.abc import AsyncIterator, Iterable, Iterator
from contextvars import ContextVar
from pathlib import Path
from typing import Any

import httpx

from . import config

#: When the current call must be done (monotonic clock), set by the provider around a turn.
_CALL_DEADLINE: ContextVar[float | None] = ContextVar("codex_call_deadline", default=None)


@contextlib.contextmanager
def call_deadline(at: float | None) -> Iterator[None]:
    """Within this block every step of the call (catalog, refresh wait, retries) ends by `at`."""
    token = _CALL_DEADLINE.set(at)
    try:
        yield
    finally:
        _CALL_DEADLINE.reset(token)


def current_deadline() -> float | None:
    """The current call's deadline, or None where the call has no total bound."""
    return _CALL_DEADLINE.get()


def time_left(limit: float | None, *, share: float = 1.0) -> float | None:
    """`limit` seconds, or fewer where the current call must be done sooner (at least 1 ms).

    `share` < 1 leaves the rest of the call's time to the steps after this one: a step with a
    fallback (the catalog) must not use up the time of the step that has none (the turn).
    """
    deadline = _CALL_DEADLINE.get()
    if deadline is None:
        return limit
    left = max(0.001, (deadline - time.monotonic()) * share)
    return left if limit is None else min(limit, left)


class LimitExceeded(Exception):
    """A body or file over its size cap, or a read past its deadline; the message says which."""


class NotRegularFile(OSError):
    """The path is a FIFO, a device, a socket or a folder: nothing a login can be."""


_KINDS = (
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISDIR, "a folder"),
)


def _kind(mode: int) -> str:
    return next((name for test, name in _KINDS if test(mode)), "not a regular file")


def read_regular_file(path: str | os.PathLike[str], cap: int) -> tuple[bytes, os.stat_result]:
    """The bytes of a regular file of at most `cap` bytes, and its `fstat`.

    Opened with `O_NONBLOCK` so a FIFO cannot block the open; anything but a regular file is
    refused before a byte is read. Raises `NotRegularFile`, `LimitExceeded` or the `OSError`.
    """
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    fd = os.open(path, flags)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise NotRegularFile(f"{path} is {_kind(info.st_mode)}, not a regular file")
        if info.st_size > cap:
            raise LimitExceeded(f"{path} is {info.st_size} bytes, over the {_size(cap)} limit")
        chunks: list[bytes] = []
        total = 0
        while True:  # the file may grow while we read: never read past the cap either way
            chunk = os.read(fd, min(65536, cap + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
            if total > cap:
                raise LimitExceeded(f"{path} is over the {_size(cap)} limit")
        return b"".join(chunks), info
    finally:
        os.close(fd)


def private_folder(folder: Path) -> Path:
    """`folder`, created with its missing parents as 0700, and made 0700 when it is ours and looser.

    A cache another user can write into could feed us a tampered catalog; one they can read
    tells them the plan's usage.
    """
    missing: list[Path] = []
    probe = folder
    while not probe.exists() and probe != probe.parent:
        missing.append(probe)
        probe = probe.parent
    for path in reversed(missing):
        with contextlib.suppress(FileExistsError):
            path.mkdir(mode=0o700)
    if hasattr(os, "geteuid"):
        info = folder.stat()
        if info.st_uid == os.geteuid() and stat.S_IMODE(info.st_mode) & 0o077:
            folder.chmod(0o700)
    return folder


def _size(cap: int) -> str:
    for unit, factor in (("MiB", 1 << 20), ("KiB", 1 << 10)):
        if cap >= factor and cap % factor == 0:
            return f"{cap // factor} {unit}"
    return f"{cap} bytes"


def _check(total: int, cap: int, deadline: float | None, what: str, seconds: float | None) -> None:
    if total > cap:
        raise LimitExceeded(f"{what} is larger than {_size(cap)}")
    if deadline is not None and time.monotonic() >= deadline:
        raise LimitExceeded(f"{what} took longer than {seconds:g} s")


def read_capped(
    chunks: Iterable[bytes],
    cap: int,
    *,
    deadline: float | None = None,
    seconds: float | None = None,
    what: str = "the answer",
) -> bytes:
    """Join `chunks` while they stay within `cap` bytes and arrive before `deadline` (monotonic).

    `seconds` is the time limit the deadline stands for, for the message.
    """
    if seconds is None and deadline is not None:
        seconds = max(0.0, deadline - time.monotonic())
    parts: list[bytes] = []
    total = 0
    for chunk in chunks:
        parts.append(chunk)
        total += len(chunk)
        _check(total, cap, deadline, what, seconds)
    return b"".join(parts)


async def aread_capped(chunks: AsyncIterator[bytes], cap: int, *, what: str = "the answer") -> bytes:
    """`read_capped` for an async byte stream; the caller bounds the time (`asyncio.wait_for`)."""
    parts: list[bytes] = []
    total = 0
    async for chunk in chunks:
        parts.append(chunk)
        total += len(chunk)
        _check(total, cap, None, what, None)
    return b"".join(parts)


_BODY_HEADERS = ("content-encoding", "content-length", "transfer-encoding")


def buffered(response: httpx.Response, content: bytes) -> httpx.Response:
    """A read response: `response`'s status and headers with the (decoded, capped) `content` it sent."""
    headers = [(k, v) for k, v in response.headers.multi_items() if k.lower() not in _BODY_HEADERS]
    return httpx.Response(response.status_code, headers=headers, content=content, request=response.request)


def budget(deadline: float, connect: float = config.DEFAULT_CONNECT_TIMEOUT_SECONDS) -> httpx.Timeout:
    """httpx timeouts from what is left until `deadline`: no single wait may outlast it."""
    left = max(0.001, deadline - time.monotonic())
    return httpx.Timeout(left, connect=min(left, connect))


# --------------------------------------------------------------------------- error bodies


class _CappedStream(httpx.SyncByteStream, httpx.AsyncByteStream):
    """A response body cut off after `cap` bytes (the rest is never read)."""

    def __init__(self, inner: Any, cap: int) -> None:
        self._inner = inner
        self._cap = cap

    def __iter__(self) -> Iterator[bytes]:
        left = self._cap
        for chunk in self._inner:
            if left <= 0:
                break
            yield chunk[:left]
            left -= len(chunk)

    async def __aiter__(self) -> AsyncIterator[bytes]:
        left = self._cap
        async for chunk in self._inner:
            if left <= 0:
                break
            yield chunk[:left]
            left -= len(chunk)

    def close(self) -> None:
        self._inner.close()

    async def aclose(self) -> None:
        await self._inner.aclose()


def _cap_if_error(response: httpx.Response) -> None:
    if response.status_code >= 400:
        response.stream = _CappedStream(response.stream, config.MAX_ERROR_BODY_BYTES)


def cap_error_body(response: httpx.Response) -> None:
    """httpx response hook: an error answer's body is read at most up to `MAX_ERROR_BODY_BYTES`.

    The openai client reads a failed request's whole body to build its exception; a hostile
    server could otherwise make that body as large as it likes.
    """
    _cap_if_error(response)


async def acap_error_body(response: httpx.Response) -> None:
    """`cap_error_body` for an `httpx.AsyncClient`."""
    _cap_if_error(response)
