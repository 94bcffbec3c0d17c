"""Which login and backend a call uses: server-side configuration, never the request body.

In Python the caller is the operator, so its own keyword arguments (`codex_home=...`) choose the
login. Behind the LiteLLM proxy every request body is hostile: LiteLLM merges body fields into the
same keyword arguments as the deployment's `litellm_params`, so the provider cannot tell them
apart by looking at the call. It asks the proxy's router instead: the router stamps the chosen
deployment's `model_info` (its id) onto the call after the body is merged, and the deployment
record holds what the operator configured. A request that names a login, a token store or a
backend URL other than its deployment's is refused with a 400 before anything is read or sent,
so it can neither choose a login nor trip the router's cooldown for other clients.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import litellm

from .exceptions import CodexRequestRefusedError

logger = logging.getLogger(__name__)

#: Deployment settings that select a login; LiteLLM passes them to the provider among the optional params.
LOGIN_PARAMS = ("codex_home", "codex_auth_file", "codex_token_store")
#: The module LiteLLM's proxy keeps its router in; only looked up, never imported here.
_PROXY_MODULE = "litellm.proxy.proxy_server"


@dataclass(frozen=True)
class LoginConfig:
    """The login (and backend URL) one call may use, as the operator configured it."""

    codex_home: str | None = None
    codex_auth_file: str | None = None
    codex_token_store: str | None = None
    api_base: str | None = None


def proxy_router() -> Any | None:
    """The running LiteLLM proxy's router, or None outside a proxy (or before it has one)."""
    module = sys.modules.get(_PROXY_MODULE)
    return getattr(module, "llm_router", None) if module is not None else None


def resolve_login(
    optional_params: dict[str, Any], litellm_params: Mapping[str, Any], api_base: str | None
) -> LoginConfig:
    """Pop the login settings out of `optional_params` and decide which ones apply.

    Outside a proxy the caller's own arguments apply. Inside one, only the deployment's: a
    request value that differs from it raises `CodexRequestRefusedError` (a 400).
    """
    requested = {k: optional_params.pop(k, None) or litellm_params.get(k) for k in LOGIN_PARAMS}
    router = proxy_router()
    if router is None:
        return LoginConfig(**requested, api_base=api_base)
    configured = _deployment_params(router, litellm_params)
    if configured is None:  # no router stamp: the proxy's own calls (health probes) name a deployment's login
        configured = _matching_deployment(router, requested)
    for key, value in requested.items():
        if value is not None and value != configured.get(key):
            raise CodexRequestRefusedError(
                f"`{key}` is server configuration: a request may not set it. The login a model uses is "
                "chosen by the proxy's operator in the deployment's `litellm_params`; remove the field."
            )
    allowed_bases = {configured.get("api_base"), litellm.api_base, None}
    if api_base not in allowed_bases:
        raise CodexRequestRefusedError(
            "`api_base` is server configuration for codex/ models: the ChatGPT login is only sent to the "
            "Codex backend the operator configured. Remove `api_base` from the request."
        )
    return LoginConfig(
        codex_home=configured.get("codex_home"),
        codex_auth_file=configured.get("codex_auth_file"),
        codex_token_store=configured.get("codex_token_store"),
        api_base=configured.get("api_base") or litellm.api_base,
    )


def _params_of(deployment: Any) -> dict[str, Any]:
    params = deployment.get("litellm_params") if isinstance(deployment, Mapping) else None
    if params is None:
        params = getattr(deployment, "litellm_params", None)
    if hasattr(params, "model_dump"):
        return params.model_dump(exclude_none=True)
    return dict(params or {})


def _matching_deployment(router: Any, requested: Mapping[str, Any]) -> dict[str, Any]:
    """A configured deployment whose login is exactly `requested` ({} if none): a call the router
    did not stamp (LiteLLM's health probe passes a deployment's params without its `model_info`)
    may use a login the operator configured, never one it names itself."""
    if all(value is None for value in requested.values()):
        return {}
    for deployment in getattr(router, "model_list", None) or []:
        params = _params_of(deployment)
        if all(params.get(key) == value for key, value in requested.items()):
            return params
    return {}


def _deployment_params(router: Any, litellm_params: Mapping[str, Any]) -> dict[str, Any] | None:
    """The `litellm_params` the operator configured for the deployment serving this call.

    None when the call carries no deployment id the router knows. A per-request deployment
    LiteLLM builds for client-side credentials carries the configured one's id as
    `original_model_id`.
    """
    model_info = litellm_params.get("model_info")
    if not isinstance(model_info, Mapping):
        return None
    get_deployment = getattr(router, "get_deployment", None)
    for key in ("original_model_id", "id"):
        model_id = model_info.get(key)
        if not model_id or get_deployment is None:
            continue
        deployment = get_deployment(model_id=str(model_id))
        if deployment is not None:
            return _params_of(deployment)
    return None
