"""Give `codex/` models LiteLLM's native Responses path instead of its chat-completions bridge.

LiteLLM chooses how to send a `/v1/responses` call with
`ProviderConfigManager.get_provider_responses_api_config(provider, model, api_base)`: a config
means the request goes to the provider as a Responses request through LiteLLM's own handler
(logging, spend tracking, callbacks, the proxy's auth and budgets included); no config means it is
bridged to `completion()` and back, which loses encrypted reasoning, hosted tools and event
fidelity. The lookup knows LiteLLM's built-in providers only. This wraps it so that a provider
whose handler in `litellm.custom_provider_map` is a `CodexAuthProvider` gets a
`CodexResponsesAPIConfig`; every other provider gets LiteLLM's answer unchanged.

Feature-detected: on a LiteLLM without that lookup (or without `BaseResponsesAPIConfig`) nothing is
patched, a warning says so once, and `/v1/responses` keeps working through LiteLLM's bridge.
"""

from __future__ import annotations

import functools
import logging
from typing import Any

import litellm

from ..responses_api import CodexResponsesAPIConfig

logger = logging.getLogger(__name__)

#: The provider class `install` was given (this module never imports the provider).
_handler_type: type | None = None


def codex_handler(provider: Any) -> Any:
    """The `CodexAuthProvider` registered under `provider` in `litellm.custom_provider_map`, if any."""
    name = getattr(provider, "value", provider)
    for entry in litellm.custom_provider_map or []:
        handler = entry.get("custom_handler")
        if entry.get("provider") == name and _handler_type is not None and isinstance(handler, _handler_type):
            return handler
    return None


def _lookup() -> tuple[Any, Any] | None:
    try:
        from litellm.llms.base_llm.responses.transformation import BaseResponsesAPIConfig  # noqa: F401
        from litellm.utils import ProviderConfigManager
    except ImportError:
        return None
    original = getattr(ProviderConfigManager, "get_provider_responses_api_config", None)
    return (ProviderConfigManager, original) if callable(original) else None


def installed() -> bool:
    """Whether `/v1/responses` for `codex/` models takes the native path on this LiteLLM."""
    found = _lookup()
    return found is not None and getattr(found[1], "_codex_wrapped", False)


def install(handler_type: type) -> bool:
    """Wrap LiteLLM's Responses config lookup once, for handlers of `handler_type` (the provider
    class); returns whether the native path is in place."""
    global _handler_type
    _handler_type = handler_type
    found = _lookup()
    if found is None:
        logger.warning(
            "codex: this LiteLLM (%s) has no Responses provider-config lookup; /v1/responses for codex/ "
            "models goes through LiteLLM's chat bridge (reasoning between tool calls and hosted tools "
            "such as web_search are lost there). Use LiteLLM 1.106.2 to 1.110.2.",
            getattr(litellm, "version", "unknown version"),
        )
        return False
    manager, original = found
    if getattr(original, "_codex_wrapped", False):
        return True

    @functools.wraps(original)
    def get_provider_responses_api_config(provider: Any, *args: Any, **kwargs: Any) -> Any:
        handler = codex_handler(provider)
        if handler is not None:
            return CodexResponsesAPIConfig(handler)
        return original(provider, *args, **kwargs)

    get_provider_responses_api_config._codex_wrapped = True  # type: ignore[attr-defined]
    manager.get_provider_responses_api_config = staticmethod(get_provider_responses_api_config)
    return True
