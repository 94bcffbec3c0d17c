"""Two narrow adjustments to LiteLLM, each only for calls to a provider whose handler is a `CodexAuthProvider`.

1. Let `reasoning_effort` and `verbosity` through without `allowed_openai_params`. LiteLLM 1.106
   validates chat parameters of custom providers against its generic OpenAI-like list, which
   lacks both, and raises `UnsupportedParamsError`. Its own remedy is the per-call
   `allowed_openai_params`; this adds exactly those two names to that list.
2. Give a streamed call's rate-limit headers to the stream LiteLLM returns. LiteLLM wraps a
   custom provider's stream in a `CustomStreamWrapper` the provider never sees, so its
   `_hidden_params["additional_headers"]` (which the proxy turns into response headers) would
   stay empty; this binds the wrapper to the call's `StreamReport` (see `stream.py`). It also
   opens an async stream's request before `litellm.acompletion` returns (`PrimedStream`), as
   LiteLLM does for its own providers: a spent plan or refused login then fails the call itself
   instead of surfacing as a `MidStreamFallbackError` on the first chunk, which the router would
   not retry on another deployment.

Every other call is left untouched.
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
    """Wrap `litellm.main.get_optional_params` and `_complete_custom_providers` once; idempotent."""
    _install_stream_report()
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


def _install_stream_report() -> None:
    original = getattr(litellm.main, "_complete_custom_providers", None)
    if original is None or getattr(original, "_codex_wrapped", False):
        return  # another LiteLLM layout: streams simply carry no Codex headers

    from litellm.litellm_core_utils.streaming_handler import CustomStreamWrapper

    from .stream import PrimedStream, StreamReport

    async def _opened(wrapper: CustomStreamWrapper, stream: PrimedStream) -> CustomStreamWrapper:
        await stream.open()
        return wrapper

    @functools.wraps(original)
    def _complete_custom_providers(ctx: Any) -> Any:
        result = original(ctx)
        if not isinstance(result, CustomStreamWrapper) or not _is_codex_provider(
            getattr(ctx, "custom_llm_provider", None)
        ):
            return result
        report = StreamReport.of(getattr(ctx, "logging", None))
        hidden = getattr(result, "_hidden_params", None)
        if report is not None and isinstance(hidden, dict):
            report.bind(hidden)
        stream = result.completion_stream
        if isinstance(stream, PrimedStream):
            return _opened(result, stream)  # `acompletion` awaits it: HTTP errors raise there
        return result

    _complete_custom_providers._codex_wrapped = True  # type: ignore[attr-defined]
    litellm.main._complete_custom_providers = _complete_custom_providers  # type: ignore[attr-defined]
