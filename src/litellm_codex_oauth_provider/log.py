"""Logging for the package: quiet by default, debug lines with `CODEX_DEBUG=1`, never a token."""

from __future__ import annotations

import logging
import re
import threading

from . import config

PACKAGE_LOGGER = "litellm_codex_oauth_provider"
#: JWTs, bearer values and key-shaped words: what a token looks like in a message from anywhere.
_SECRET = re.compile(
    r"(eyJ[\w-]+\.[\w-]+\.[\w-]*"  # a JWT (access and id tokens), signature optional
    r"|(?i:bearer)\s+[^\s\"',;]+"  # an Authorization header value
    r"|\b(?:sk|rt|sess)[-_][\w-]{16,}"  # API keys, refresh and session tokens
    r"|(?i:(?:refresh|access|id)_token)[\"']?\s*[:=]\s*[\"']?[^\s\"',;}]+)"  # token=..., "token": "..."
)


def redact(text: str) -> str:
    """`text` with anything shaped like a token replaced: for upstream messages before anyone sees them."""
    return _SECRET.sub("[redacted]", text)


class RedactingFilter(logging.Filter):
    """Replaces anything shaped like a token in a record before it is written."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = redact(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True


def configure() -> None:
    """With `CODEX_DEBUG` on, send the package's debug lines to stderr (once, on first use, never at import)."""
    logger = logging.getLogger(PACKAGE_LOGGER)
    if not any(isinstance(f, RedactingFilter) for f in logger.filters):
        logger.addFilter(RedactingFilter())
    if config.CODEX_DEBUG.get() and not logger.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
        handler.addFilter(RedactingFilter())
        logger.addHandler(handler)
        logger.setLevel(logging.DEBUG)


_logged: set[tuple[object, ...]] = set()
_logged_lock = threading.Lock()


def log_once(
    logger: logging.Logger, key: tuple[object, ...], level: int, message: str, *args: object
) -> None:
    """Log `message` the first time `key` is seen in this process: a warning per model, not per call."""
    with _logged_lock:
        if key in _logged:
            return
        _logged.add(key)
    logger.log(level, message, *args)


def forget_logged() -> None:
    """Let every `log_once` message be logged again (tests; a long-lived process after a reload)."""
    with _logged_lock:
        _logged.clear()
