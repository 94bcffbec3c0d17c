"""Use the ChatGPT Codex models through LiteLLM with the Codex CLI's login.

import litellm
from litellm_codex_oauth_provider import codex_auth_provider

litellm.custom_provider_map = [{"provider": "codex", "custom_handler": codex_auth_provider}]
litellm.completion(model="codex/gpt-5.5", messages=[{"role": "user", "content": "hi"}])
"""

from __future__ import annotations

__version__ = "0.1.0"

from . import litellm_compat, log, responses_compat
from .client import AsyncCodexClient, CodexClient
from .exceptions import (
    CodexAuthError,
    CodexAuthFileNotFoundError,
    CodexAuthFileNotWritableError,
    CodexAuthRefreshError,
    CodexAuthRefreshUnavailableError,
    CodexAuthTokenError,
    CodexAuthTokenExpiredError,
    CodexModelError,
)
from .provider import CodexAuthProvider, codex_auth_provider

litellm_compat.install()
responses_compat.install()
log.configure()

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
    "CodexClient",
    "CodexModelError",
    "__version__",
    "codex_auth_provider",
]
