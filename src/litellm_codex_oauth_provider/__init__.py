"""Use the ChatGPT Codex models through LiteLLM with the Codex CLI's login.

import litellm
from litellm_codex_oauth_provider import codex_auth_provider

litellm.custom_provider_map = [{"provider": "codex", "custom_handler": codex_auth_provider}]
litellm.completion(model="codex/gpt-5.5", messages=[{"role": "user", "content": "hi"}])

The names below are imported on first use, so that `codex-litellm --help` and other light uses
of the package do not pay for importing LiteLLM and openai (seconds). Importing the package does
nothing else either: logging is set up when the first of these names is used.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

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
    from .protocol import PACKAGE_VERSION as __version__
    from .provider import CodexAuthProvider, codex_auth_provider

#: Public name → the module that defines it (and its name there, where it differs).
_LAZY: dict[str, str | tuple[str, str]] = {
    "__version__": (".protocol", "PACKAGE_VERSION"),
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
    where = _LAZY.get(name)
    if where is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    module, attribute = where if isinstance(where, tuple) else (where, name)
    importlib.import_module(".log", __name__).configure()
    value = getattr(importlib.import_module(module, __name__), attribute)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})
