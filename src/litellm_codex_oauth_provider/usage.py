"""The plan's latest usage, as the backend's `x-codex-*` headers reported it, kept for `codex-litellm status`.

Every backend answer carries the plan's rate-limit windows (`x-codex-primary-used-percent`,
`…-window-minutes`, `…-reset-at`, the same for `secondary`, and `x-codex-credits-*`). The
provider hands them to `record()` on every turn; the latest values are written to
`<cache dir>/usage.json` as `{"recorded_at": <epoch s>, "headers": {<x-codex-* header>: <value>}}`:
header values and a timestamp, never a token.

`record()` is cheap enough for the hot path: it filters the headers and compares them with the
last ones it saw. A file is written only when the values changed (or, to keep `recorded_at`
honest, when the last write is over a minute old), at most once per second per file, by a
background thread, atomically (a temporary file renamed over the old one). Whatever is still
pending is written when the interpreter exits.
"""

from __future__ import annotations

import atexit
import json
import logging
import os
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from . import config
from .bounded import LimitExceeded, private_folder, read_regular_file
from .files import write_atomic
from .protocol import RATE_LIMIT_HEADER_PREFIX, rate_limit_headers

logger = logging.getLogger(__name__)

SNAPSHOT_FILE = "usage.json"
#: Never write one snapshot file more often than this (seconds).
MIN_WRITE_INTERVAL = 1.0
#: Unchanged values are written again after this long, so `recorded_at` says how recent they are.
REFRESH_INTERVAL = 60.0
#: The windows the backend reports: a short one (5 h) and a long one (weekly).
WINDOW_NAMES = ("primary", "secondary")
_MAX_SNAPSHOT_BYTES = 1 << 20  # 64 values of 256 characters, with room to spare


def snapshot_path() -> Path:
    """Where the snapshot lives: `<CODEX_CACHE_DIR or the user cache folder>/usage.json`."""
    return config.CODEX_CACHE_DIR.get() / SNAPSHOT_FILE


# --------------------------------------------------------------------------- reading


def _float(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    return number if number == number and abs(number) != float("inf") else None  # no NaN, no inf


def _epoch(value: str | None) -> float | None:
    """A reset time: epoch seconds (or milliseconds), or an RFC 3339 time."""
    number = _float(value)
    if number is not None:
        return number / 1000 if number > 1e12 else number
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment.timestamp() if moment.tzinfo else None


def _flag(value: str | None) -> bool | None:
    if value is None:
        return None
    lowered = value.strip().lower()
    if lowered in ("true", "1", "yes"):
        return True
    if lowered in ("false", "0", "no"):
        return False
    return None


@dataclass(frozen=True)
class UsageWindow:
    """One rate-limit window of the plan as of the snapshot."""

    name: str
    used_percent: float | None
    window_minutes: int | None
    resets_at: float | None  # epoch seconds

    def reset_since(self, now: float | None = None) -> bool:
        """True when the window has rolled over after the snapshot: its `used_percent` is out of date."""
        return self.resets_at is not None and (time.time() if now is None else now) >= self.resets_at

    def to_json(self) -> dict[str, Any]:
        return {
            "used_percent": self.used_percent,
            "window_minutes": self.window_minutes,
            "resets_at": self.resets_at,
        }


@dataclass(frozen=True)
class Credits:
    has_credits: bool | None
    unlimited: bool | None
    balance: str | None

    def to_json(self) -> dict[str, Any]:
        return {"has_credits": self.has_credits, "unlimited": self.unlimited, "balance": self.balance}


@dataclass(frozen=True)
class UsageSnapshot:
    """The `x-codex-*` headers of the latest answer and when they were recorded (epoch seconds)."""

    recorded_at: float
    headers: dict[str, str]

    def _header(self, name: str) -> str | None:
        return self.headers.get(RATE_LIMIT_HEADER_PREFIX + name)

    def window(self, name: str) -> UsageWindow | None:
        used = _float(self._header(f"{name}-used-percent"))
        minutes = _float(self._header(f"{name}-window-minutes"))
        resets_at = _epoch(self._header(f"{name}-reset-at"))
        if resets_at is None:  # older backends send the time left instead
            after = _float(self._header(f"{name}-reset-after-seconds"))
            resets_at = self.recorded_at + after if after is not None else None
        if used is None and minutes is None and resets_at is None:
            return None
        return UsageWindow(name, used, int(minutes) if minutes is not None else None, resets_at)

    @property
    def windows(self) -> list[UsageWindow]:
        return [w for w in (self.window(name) for name in WINDOW_NAMES) if w is not None]

    @property
    def credits(self) -> Credits | None:
        credits = Credits(
            _flag(self._header("credits-has-credits")),
            _flag(self._header("credits-unlimited")),
            self._header("credits-balance"),
        )
        return None if credits == Credits(None, None, None) else credits

    def to_json(self) -> dict[str, Any]:
        """What `codex-litellm status --json` shows of the snapshot."""
        credits = self.credits
        return {
            "recorded_at": self.recorded_at,
            **{w.name: w.to_json() for w in self.windows},
            "credits": credits.to_json() if credits is not None else None,
        }


def load_snapshot(path: Path | None = None) -> UsageSnapshot | None:
    """The snapshot on disk, or None when there is none yet (or it cannot be read)."""
    path = snapshot_path() if path is None else path
    try:
        data = json.loads(read_regular_file(path, _MAX_SNAPSHOT_BYTES)[0])
    except (OSError, ValueError, LimitExceeded):
        return None
    if not isinstance(data, dict):
        return None
    recorded_at, headers = data.get("recorded_at"), data.get("headers")
    if (
        not isinstance(recorded_at, int | float)
        or isinstance(recorded_at, bool)
        or not isinstance(headers, dict)
    ):
        return None
    return UsageSnapshot(float(recorded_at), rate_limit_headers({str(k): str(v) for k, v in headers.items()}))


# --------------------------------------------------------------------------- writing


def write_snapshot(path: Path, headers: Mapping[str, str], recorded_at: float | None = None) -> None:
    """Write a snapshot file now, atomically: only the `x-codex-*` values and the time."""
    payload = {
        "recorded_at": time.time() if recorded_at is None else recorded_at,
        "headers": rate_limit_headers(headers),
    }
    private_folder(path.parent)
    write_atomic(path, json.dumps(payload).encode(), prefix=".usage-")


class SnapshotRecorder:
    """Takes every answer's headers on the caller's thread; writes from one background thread.

    Its exit and fork hooks are registered when its writer first starts, not when it is made:
    a process that never records pays nothing.
    """

    def __init__(
        self, *, min_interval: float = MIN_WRITE_INTERVAL, refresh_interval: float = REFRESH_INTERVAL
    ):
        self.min_interval = min_interval
        self.refresh_interval = refresh_interval
        self._hooked = False  # survives `_reset`: a forked child inherits the hooks
        self._reset()

    def _reset(self) -> None:
        self._cond = threading.Condition()
        self._write_lock = threading.Lock()  # pops and writes happen in order under it
        self._pending: dict[Path, tuple[float, dict[str, str]]] = {}
        self._seen: dict[Path, tuple[dict[str, str], float]] = {}  # last values accepted, and when
        self._written_at: dict[Path, float] = {}  # time.monotonic() of the last write
        self._thread: threading.Thread | None = None
        self.failures = 0

    def record(
        self, headers: Mapping[str, str] | Iterable[tuple[str, str]], path: Path | None = None
    ) -> bool:
        """Remember the answer's usage headers; True when a write was scheduled (values new or due)."""
        values = rate_limit_headers(headers)
        if not values:
            return False
        path = snapshot_path() if path is None else path
        now = time.time()
        with self._cond:
            seen = self._seen.get(path)
            if seen is not None and seen[0] == values and now - seen[1] < self.refresh_interval:
                return False
            self._seen[path] = (values, now)
            self._pending[path] = (now, values)
            self._start()
            self._cond.notify()
        return True

    def flush(self, timeout: float = 2.0) -> None:
        """Write everything pending now (at exit, and for tests); waits at most `timeout` for a running write."""
        if not self._write_lock.acquire(timeout=timeout):
            return
        try:
            with self._cond:
                pending, self._pending = self._pending, {}
                for path in pending:
                    self._written_at[path] = time.monotonic()
            for path, (recorded_at, values) in pending.items():
                self._write(path, values, recorded_at)
        finally:
            self._write_lock.release()

    # -- the writer thread --

    def _start(self) -> None:
        """Called with the condition held; (re)starts the writer, also in a forked child."""
        if not self._hooked:
            self._hooked = True
            atexit.register(self.flush)  # what is still pending is written at exit
            if hasattr(os, "register_at_fork"):  # a forked worker gets fresh locks and starts its own writer
                os.register_at_fork(after_in_child=self._reset)
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(target=self._run, name="codex-usage-snapshot", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._pending:
                    self._cond.wait()
                now = time.monotonic()
                due = {p: self._written_at.get(p, float("-inf")) + self.min_interval for p in self._pending}
                path = min(due, key=due.__getitem__)
                if due[path] > now:
                    self._cond.wait(due[path] - now)
                    continue
            self._write_next(path)

    def _write_next(self, path: Path) -> None:
        with self._write_lock:
            with self._cond:
                item = self._pending.pop(path, None)
                if item is None:
                    return
                self._written_at[path] = time.monotonic()
            self._write(path, item[1], item[0])

    def _write(self, path: Path, values: dict[str, str], recorded_at: float) -> None:
        try:
            write_snapshot(path, values, recorded_at)
        except OSError as exc:
            self.failures += 1
            if self.failures == 1:
                logger.warning(
                    "codex: cannot save the plan usage snapshot to %s: %s", path, exc.strerror or exc
                )


_RECORDER = SnapshotRecorder()


def record(headers: Mapping[str, str] | Iterable[tuple[str, str]]) -> bool:
    """Keep the answer's `x-codex-*` headers as the latest plan usage (see the module docstring)."""
    return _RECORDER.record(headers)


def flush() -> None:
    """Write the pending snapshot now instead of within the next second."""
    _RECORDER.flush()
