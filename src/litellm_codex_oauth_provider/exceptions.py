"""Errors raised by the package, all under `CodexError`; each says what happened and what to do.

    CodexError
    ├── CodexAuthError (also openai.OpenAIError)     the login: missing, unusable, refused, not refreshed
    │   ├── CodexAuthFileNotFoundError
    │   ├── CodexAuthTokenError
    │   │   └── CodexAuthTokenExpiredError
    │   ├── CodexAuthRefreshError
    │   │   ├── CodexAuthRefreshUnavailableError     passing: the login is unchanged, try again later
    │   │   │   ├── CodexAuthRefreshTimeoutError
    │   │   │   └── CodexTokenStoreUnavailableError
    │   │   └── CodexAuthFileNotWritableError
    │   └── CodexTokenStoreError
    ├── CodexRequestError (also ValueError)         a request that cannot be sent as it is
    │   ├── CodexModelError
    │   │   └── CodexUnknownModelError
    │   └── CodexRequestRefusedError
    ├── CodexBackendURLError (also openai.OpenAIError, ValueError)
    └── CodexStreamError                             a turn that failed inside the event stream

The extra bases are for code that already catches them: openai-package code catches
`openai.OpenAIError`, and request errors were `ValueError`s. The package's own decisions (what
a failure means, see failures.py) key on these classes only, never on a bare `ValueError`.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import openai

from .log import redact

LOGIN_HINT = "Run `codex login` to sign in again."


class CodexError(Exception):
    """Base of every error the package raises; `message` is the text meant for the caller."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


# -- the login ------------------------------------------------------------------------------------


class CodexAuthError(CodexError, openai.OpenAIError):
    """Base of every login problem; surfaces through LiteLLM as a 401 AuthenticationError.

    It is an `openai.OpenAIError` too because it is raised inside the httpx auth flow, and the
    openai client passes `OpenAIError`s through as they are: anything else it would retry and
    then wrap as a connection error, hiding the "run `codex login`" message.
    """

    def __init__(self, message: str, *, path: Path | None = None) -> None:
        super().__init__(message)
        self.path = path


class CodexAuthFileNotFoundError(CodexAuthError):
    """The Codex CLI login file does not exist where we looked."""

    def __init__(self, path: Path) -> None:
        super().__init__(
            f"No Codex login found at {path}. {LOGIN_HINT} "
            "(or set CODEX_HOME / CODEX_AUTH_FILE to where your auth.json lives).",
            path=path,
        )


class CodexAuthTokenError(CodexAuthError):
    """The login file exists but its tokens cannot be used as they are."""


class CodexAuthTokenExpiredError(CodexAuthTokenError):
    """The access token has expired and could not be refreshed."""


class CodexAuthRefreshError(CodexAuthError):
    """Refreshing the login failed; `code` is the token endpoint's error code when it gave one."""

    def __init__(self, message: str, *, path: Path | None = None, code: str | None = None) -> None:
        super().__init__(message, path=path)
        self.code = code


class CodexAuthRefreshUnavailableError(CodexAuthRefreshError):
    """A refresh that failed for a passing reason (network, 5xx, lock held too long); the stored login is unchanged."""


class CodexAuthRefreshTimeoutError(CodexAuthRefreshUnavailableError):
    """The call's timeout ran out while its refresh went on; the refresh still completes and saves."""


class CodexAuthFileNotWritableError(CodexAuthRefreshError):
    """The login needs refreshing but its folder cannot be written, so the refresh token was not spent."""


class CodexTokenStoreError(CodexAuthError):
    """The token store (`CODEX_TOKEN_STORE`) is misconfigured, or holds a login that cannot be used.

    Never answered by falling back to another store: a process that quietly used its own copy
    of the login could spend a refresh token the rest of the fleet still holds.
    """


class CodexTokenStoreUnavailableError(CodexAuthRefreshUnavailableError):
    """The token store could not be reached for a refresh; a still-valid access token stays in use."""


# -- the request ----------------------------------------------------------------------------------


class CodexRequestError(CodexError, ValueError):
    """A request the package cannot send as it is (a 400): nothing was sent to the backend."""


class CodexModelError(CodexRequestError):
    """A model id that no catalog knows, or a tier the model does not offer."""


class CodexUnknownModelError(CodexModelError):
    """A model id the live catalog does not have (the drop-in client answers it with a 404, as openai does)."""


class CodexRequestRefusedError(CodexRequestError):
    """A request that asks for what only the operator may set (a login, a backend URL) or more than the cap."""


class CodexBackendURLError(CodexError, openai.OpenAIError, ValueError):
    """A base URL that is not the Codex backend: the ChatGPT login is never sent there."""


# -- the answer -----------------------------------------------------------------------------------


class CodexStreamError(CodexError):
    """A turn that failed inside the event stream (`response.failed`, `error`, cut short).

    `code` is the backend's error code (or ours: `stream_incomplete`, `deadline_exceeded`),
    `details` the error object it came with; `message` is redacted, as it reaches callers and logs.
    """

    def __init__(self, code: str | None, message: str, *, details: Mapping[str, Any] | None = None) -> None:
        message = redact(message)
        super().__init__(message)
        self.args = (f"{message} ({code})" if code else message,)
        self.code = code
        self.details: dict[str, Any] = dict(details or {})
