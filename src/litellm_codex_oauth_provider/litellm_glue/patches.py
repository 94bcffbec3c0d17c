"""Three narrow adjustments to LiteLLM, each only for a provider whose handler is a `CodexAuthProvider`.

1. Let `reasoning_effort` and `verbosity` through without `allowed_openai_params`. LiteLLM
   validates chat parameters of custom providers against its generic OpenAI-like list, which
   lacks both, and raises `UnsupportedParamsError`. Its own remedy is the per-call
   `allowed_openai_params`; this adds exactly those two names to that list.
2. Give a streamed call's rate-limit headers to the stream LiteLLM returns. LiteLLM wraps a
   custom provider's stream in a `CustomStreamWrapper` the provider never sees, so its
   `_hidden_params["additional_headers"]` (which the proxy turns into response headers) would
   stay empty; this binds the wrapper to the call's `StreamReport` (see `streams`). It also
   opens an async stream's request before `litellm.acompletion` returns (`PrimedStream`), as
   LiteLLM does for its own providers: a spent plan or refused login then fails the call itself
   instead of surfacing as a `MidStreamFallbackError` on the first chunk, which the router would
   not retry on another deployment.
3. Register the Codex models in LiteLLM's model map before LiteLLM first needs them. Building
   the provider does no work; its models are registered (`CodexAuthProvider.register_models`,
   no request) when LiteLLM sets up its custom providers (the proxy when it loads its config,
   every call before anything else) or first looks up a model's info, so
   `litellm.get_model_info("codex/...")`, a Router's model groups and the proxy's `/model/info`
   see them before any call. Off, they are registered on the provider's first call.

`install(handler_type)` is given the provider class, so this module never imports the provider.
Each is applied only where LiteLLM still has the function it wraps, with the parameters it
relies on; elsewhere the package works without it, and `refinements()` (shown by
`codex-litellm doctor`) says which one is off and what that costs. Every other call is left
untouched.
"""

from __future__ import annotations

import functools
import inspect
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import litellm
import litellm.main
import litellm.utils
from litellm.litellm_core_utils.streaming_handler import CustomStreamWrapper

from ..models import registry
from .streams import PrimedStream, StreamReport

logger = logging.getLogger(__name__)

#: Chat parameters the Codex backend understands that LiteLLM's generic custom-provider list lacks.
CODEX_EXTRA_OPENAI_PARAMS = ("reasoning_effort", "verbosity")

PARAMS = "reasoning_effort and verbosity without allowed_openai_params"
STREAMS = "plan-usage headers and early HTTP errors on streams"
MODELS = "codex models in LiteLLM's model info before the first call"


@dataclass(frozen=True)
class Refinement:
    """One adjustment, whether this LiteLLM takes it, and what a user loses when it does not."""

    name: str
    active: bool
    detail: str


_refinements: dict[str, Refinement] = {}


def refinements() -> tuple[Refinement, ...]:
    """The adjustments `install()` applied or left off on this LiteLLM, in a stable order."""
    return tuple(_refinements[name] for name in (PARAMS, STREAMS, MODELS) if name in _refinements)


def routed_handler(provider: str | None) -> Any:
    """The `custom_provider_map` handler LiteLLM sends `provider` to, or None.

    With several entries for one provider, LiteLLM 1.106 takes the last one and 1.108+ the first
    (its `ProviderConfigManager.get_custom_llm_handler`); this asks LiteLLM's own lookup where
    it has one, so the answer is the handler that will actually run.
    """
    lookup = getattr(getattr(litellm.utils, "ProviderConfigManager", None), "get_custom_llm_handler", None)
    if callable(lookup):
        return lookup(provider)
    handler = None
    for entry in litellm.custom_provider_map or []:
        if entry.get("provider") == provider:
            handler = entry.get("custom_handler")
    return handler


#: The provider class `install` was given; the adjustments act for its instances only.
_handler_type: type | None = None


def _is_codex_provider(name: str | None) -> bool:
    return name is not None and _handler_type is not None and isinstance(routed_handler(name), _handler_type)


def register_codex_models() -> None:
    """Every Codex handler in `litellm.custom_provider_map` registers its models (once each).

    Not while models are being registered: LiteLLM's `register_model` looks model info up itself.
    """
    if _handler_type is None or registry.registering():
        return
    for entry in litellm.custom_provider_map or []:
        handler = entry.get("custom_handler")
        if isinstance(handler, _handler_type):
            handler.register_models()


def _wrapped(function: Any) -> bool:
    return bool(getattr(function, "_codex_wrapped", False))


def install(handler_type: type) -> None:
    """Apply each adjustment this LiteLLM has room for, once, for handlers of `handler_type`.

    Idempotent and never raises.
    """
    global _handler_type
    _handler_type = handler_type
    for name, apply in (
        (PARAMS, _install_params),
        (STREAMS, _install_stream_report),
        (MODELS, _install_model_registration),
    ):
        if name in _refinements and _refinements[name].active:
            continue
        try:
            missing = apply()
        except Exception as exc:  # a LiteLLM layout this package does not know: work without it
            missing = f"could not be applied ({type(exc).__name__}: {exc})"
        _refinements[name] = Refinement(name, missing is None, missing or "on")
        if missing is not None:
            logger.warning("codex: this LiteLLM version leaves a refinement off: %s: %s", name, missing)


def _install_params() -> str | None:
    original: Callable[..., Any] | None = getattr(litellm.main, "get_optional_params", None)
    if (
        original is None
        or not {"custom_llm_provider", "allowed_openai_params"} <= _parameters(original).keys()
    ):
        return (
            "LiteLLM's get_optional_params is not the one this package knows; pass "
            f"allowed_openai_params={list(CODEX_EXTRA_OPENAI_PARAMS)} with calls that set them"
        )
    if _wrapped(original):
        return None

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
    return None


def _install_stream_report() -> str | None:
    original = getattr(litellm.main, "_complete_custom_providers", None)
    if original is None or list(_parameters(original)) != ["ctx"]:
        return (
            "LiteLLM's custom-provider dispatch is not the one this package knows; streams carry no "
            "plan-usage headers, and an async stream's HTTP errors arrive with its first chunk"
        )
    if _wrapped(original):
        return None

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
    return None


def _install_model_registration() -> str | None:
    setup = getattr(litellm.utils, "custom_llm_setup", None)
    lookup = getattr(litellm.utils, "get_model_info_helper", None)
    if not callable(setup) or not callable(lookup) or _parameters(setup):
        return (
            "LiteLLM's custom-provider setup or model-info lookup is not the one this package knows; "
            "the codex models are in LiteLLM's model info only from the provider's first call on"
        )
    if not _wrapped(setup):

        @functools.wraps(setup)
        def custom_llm_setup() -> Any:
            result = setup()
            register_codex_models()
            return result

        custom_llm_setup._codex_wrapped = True  # type: ignore[attr-defined]
        litellm.utils.custom_llm_setup = custom_llm_setup  # type: ignore[assignment]
    if not _wrapped(lookup):

        @functools.wraps(lookup)
        def get_model_info_helper(*args: Any, **kwargs: Any) -> Any:
            register_codex_models()
            return lookup(*args, **kwargs)

        get_model_info_helper._codex_wrapped = True  # type: ignore[attr-defined]
        litellm.utils.get_model_info_helper = get_model_info_helper  # type: ignore[assignment]
    return None


def _parameters(function: Any) -> dict[str, inspect.Parameter]:
    try:
        return dict(inspect.signature(function).parameters)
    except (TypeError, ValueError):
        return {}
