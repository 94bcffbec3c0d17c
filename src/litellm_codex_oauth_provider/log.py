"""Logging for the package: quiet by default, debug lines with `CODEX_DEBUG=1`, never a token."""

from __future__ import annotations

import logging
import re

from . import settings

PACKAGE_LOGGER = "litellm_codex_oauth_provider"
#: JWTs and bearer values, in case a library message ever carries one into our handler.
_SECRET = re.compile(r"(eyJ[\w-]+\.[\w-]+\.[\w-]+|(?i:bearer)\s+\S+)")


class RedactingFilter(logging.Filter):
    """Replaces anything shaped like a token in a record before it is written."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = _SECRET.sub("[redacted]", message)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True


def configure() -> None:
    """With `CODEX_DEBUG` on, send the package's debug lines to stderr (once)."""
    logger = logging.getLogger(PACKAGE_LOGGER)
    if not any(isinstance(f, RedactingFilter) for f in logger.filters):
        logger.addFilter(RedactingFilter())
    if settings.debug() and not logger.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
        handler.addFilter(RedactingFilter())
        logger.addHandler(handler)
        logger.setLevel(logging.DEBUG)
