"""Let `reasoning_effort` and `verbosity` reach Codex providers without `allowed_openai_params`.

LiteLLM 1.106 validates chat parameters of custom providers against its generic OpenAI-like
list, which lacks both, and raises `UnsupportedParamsError`. Its own remedy is the per-call
`allowed_openai_params`; this adds exactly those two names to that list, for calls to a
provider whose handler is a `CodexAuthProvider`, and leaves every other call untouched.
"""

from __future__ import annotations

import functools
from typing import Any

import litellm
import litellm.main

#: Chat parameters the Codex backend understands that LiteLLM's generic custom-provider list lacks.
CODEX_EXTRA_OPENAI_PARAMS = ("reasoning_effort", "verbosity")


def _is_codex_provider(name: str | None) -> bool:
    from .provider import CodexAuthProvider

    return any(
        entry.get("provider") == name and isinstance(entry.get("custom_handler"), CodexAuthProvider)
        for entry in litellm.custom_provider_map or []
    )


def install() -> None:
    """Wrap `litellm.main.get_optional_params` once; idempotent."""
    original = litellm.main.get_optional_params
    if getattr(original, "_codex_wrapped", False):
        return

    @functools.wraps(original)
    def get_optional_params(*args: Any, **kwargs: Any) -> Any:
        if _is_codex_provider(kwargs.get("custom_llm_provider")):
            allowed = list(kwargs.get("allowed_openai_params") or [])
            kwargs["allowed_openai_params"] = allowed + [
                p for p in CODEX_EXTRA_OPENAI_PARAMS if p not in allowed
            ]
        return original(*args, **kwargs)

    get_optional_params._codex_wrapped = True  # type: ignore[attr-defined]
    litellm.main.get_optional_params = get_optional_params  # type: ignore[assignment]
