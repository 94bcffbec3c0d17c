"""Use the ChatGPT Codex models through LiteLLM with the Codex CLI's login.

import litellm
from litellm_codex_oauth_provider import codex_auth_provider

litellm.custom_provider_map = [{"provider": "codex", "custom_handler": codex_auth_provider}]
litellm.completion(model="codex/gpt-5.5", messages=[{"role": "user", "content": "hi"}])

The names below are imported on first use, so that `codex-litellm --help` and other light uses
of the package do not pay for importing LiteLLM and openai (seconds).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from .dropin.client import AsyncCodexClient, CodexClient
    from .exceptions import (
        CodexAuthError,
        CodexAuthFileNotFoundError,
        CodexAuthFileNotWritableError,
        CodexAuthRefreshError,
        CodexAuthRefreshUnavailableError,
        CodexAuthTokenError,
        CodexAuthTokenExpiredError,
        CodexBackendURLError,
        CodexError,
        CodexModelError,
        CodexUnknownModelError,
    )
    from .provider import CodexAuthProvider, codex_auth_provider

#: Public name → the module that defines it.
_LAZY = {
    "AsyncCodexClient": ".dropin.client",
    "CodexClient": ".dropin.client",
    "CodexAuthError": ".exceptions",
    "CodexAuthFileNotFoundError": ".exceptions",
    "CodexAuthFileNotWritableError": ".exceptions",
    "CodexAuthRefreshError": ".exceptions",
    "CodexAuthRefreshUnavailableError": ".exceptions",
    "CodexAuthTokenError": ".exceptions",
    "CodexAuthTokenExpiredError": ".exceptions",
    "CodexModelError": ".exceptions",
    "CodexBackendURLError": ".exceptions",
    "CodexError": ".exceptions",
    "CodexUnknownModelError": ".exceptions",
    "CodexAuthProvider": ".provider",
    "codex_auth_provider": ".provider",
}

__all__ = [
    "AsyncCodexClient",
    "CodexAuthError",
    "CodexAuthFileNotFoundError",
    "CodexAuthFileNotWritableError",
    "CodexAuthProvider",
    "CodexAuthRefreshError",
    "CodexAuthRefreshUnavailableError",
    "CodexAuthTokenError",
    "CodexAuthTokenExpiredError",
    "CodexBackendURLError",
    "CodexClient",
    "CodexError",
    "CodexModelError",
    "CodexUnknownModelError",
    "__version__",
    "codex_auth_provider",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})


from . import log  # noqa: E402 - light: logging and settings only

log.configure()
