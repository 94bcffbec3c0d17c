"""Errors raised by the package; each says what happened and what to do."""

from __future__ import annotations

from pathlib import Path

import openai

LOGIN_HINT = "Run `codex login` to sign in again."


class CodexAuthError(openai.OpenAIError):
    """Base of every login problem; surfaces through LiteLLM as a 401 AuthenticationError.

    It derives from `openai.OpenAIError` because it is raised inside the httpx auth flow, and the
    openai client passes `OpenAIError`s through as they are: anything else it would retry and
    then wrap as a connection error, hiding the "run `codex login`" message.
    """

    def __init__(self, message: str, *, path: Path | None = None) -> None:
        super().__init__(message)
        self.message = message
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


class CodexModelError(ValueError):
    """A model id that no catalog knows, or a tier the model does not offer."""


class CodexUnknownModelError(CodexModelError):
    """A model id the live catalog does not have (the drop-in client answers it with a 404, as openai does)."""


class CodexRequestRefusedError(ValueError):
    """A request that asks for what only the operator may set (a login, a backend URL) or more than the cap."""


class CodexAuthRefreshUnavailableError(CodexAuthRefreshError):
    """A refresh that failed for a passing reason (network, 5xx, lock held too long); the stored login is unchanged."""


class CodexAuthRefreshTimeoutError(CodexAuthRefreshUnavailableError):
    """The call's timeout ran out while its refresh went on; the refresh still completes and saves."""


class CodexAuthFileNotWritableError(CodexAuthRefreshError):
    """The login needs refreshing but its folder cannot be written, so the refresh token was not spent."""


class CodexDeadlineExceededError(Exception):
    """The call's timeout leaves no time for its next attempt; surfaces through LiteLLM as a Timeout."""


class CodexBackendURLError(openai.OpenAIError, ValueError):
    """A base URL that is not the Codex backend: the ChatGPT login is never sent there."""


class CodexTokenStoreError(CodexAuthError):
    """The token store (`CODEX_TOKEN_STORE`) is misconfigured, or holds a login that cannot be used.

    Never answered by falling back to another store: a process that quietly used its own copy
    of the login could spend a refresh token the rest of the fleet still holds.
    """


class CodexTokenStoreUnavailableError(CodexAuthRefreshUnavailableError):
    """The token store could not be reached for a refresh; a still-valid access token stays in use."""
