"""Times, usage bars and file modes as the commands print them: pure functions of their arguments."""

from __future__ import annotations

import stat
import time
from datetime import datetime

from rich.text import Text


def ago(seconds: float) -> str:
    """A duration in the unit a person would pick: `45 s`, `12 min`, `5 h`, `3 d`."""
    seconds = abs(seconds)
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} min"
    if seconds < 48 * 3600:
        return f"{seconds / 3600:.0f} h"
    return f"{seconds / 86400:.0f} d"


def relative(epoch: float, now: float | None = None) -> str:
    delta = epoch - (time.time() if now is None else now)
    return f"in {ago(delta)}" if delta >= 0 else f"{ago(delta)} ago"


def when(epoch: float | None, now: float | None = None) -> str:
    """Local date and time with how far away it is: `2026-12-02 13:32 UTC (in 60 min)`."""
    if epoch is None:
        return "unknown"
    local = datetime.fromtimestamp(epoch).astimezone().strftime("%Y-%m-%d %H:%M %Z")
    return f"{local} ({relative(epoch, now)})"


def iso(epoch: float | None) -> str | None:
    """For JSON: local time with its offset, or None."""
    return None if epoch is None else datetime.fromtimestamp(epoch).astimezone().isoformat(timespec="seconds")


def window_label(minutes: int | None) -> str:
    if not minutes:
        return "window"
    if minutes % 1440 == 0:
        return f"{minutes // 1440} d window"
    if minutes % 60 == 0:
        return f"{minutes // 60} h window"
    return f"{minutes} min window"


def mode_text(mode: int) -> str:
    return f"{stat.S_IMODE(mode):04o}"


def bar(percent: float, width: int = 30) -> Text:
    """`█████░░░░░`: readable with colours and without (piped, logged)."""
    filled = round(width * max(0.0, min(100.0, percent)) / 100)
    style = "red" if percent >= 90 else "yellow" if percent >= 70 else "green"
    return Text("█" * filled, style=style) + Text("░" * (width - filled), style="dim")
