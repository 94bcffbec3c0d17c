"""Facts of the ChatGPT Codex backend and the Codex CLI we mirror: URLs, names, headers, the version.

The bottom of the package: every module may import it and it imports none of them, so the
request headers, the user agent and the `x-codex-*` filter exist once. Nothing here reads the
environment (that is `config`); the numbers the package chooses itself live there too.
"""

from __future__ import annotations

import functools
import platform
from collections.abc import Iterable, Mapping
from typing import Final

import httpx

#: This package's version (also `litellm_codex_oauth_provider.__version__`).
PACKAGE_VERSION: Final = "0.1.0"
#: The distribution name, as pip and the user agent know it.
PACKAGE: Final = "litellm-codex-oauth-provider"

# -- LiteLLM ----------------------------------------------------------------------------------------
PROVIDER_NAME: Final = "codex"
#: Model id prefixes we accept; `codex-oauth/` is the old package's form.
MODEL_PREFIXES: Final = ("codex/", "codex-oauth/")

# -- the backend ------------------------------------------------------------------------------------
DEFAULT_API_BASE: Final = "https://chatgpt.com/backend-api/codex"
RESPONSES_PATH: Final = "/responses"
MODELS_PATH: Final = "/models"
#: Ordered from least to most reasoning; clamping picks the nearest supported neighbour.
REASONING_EFFORTS: Final = ("none", "minimal", "low", "medium", "high", "xhigh", "max", "ultra")
#: The catalog publishes no output limit; the GPT-5 family's is 128k tokens.
DEFAULT_MAX_OUTPUT_TOKENS: Final = 128_000

# -- the login (docs/authentication.md) -------------------------------------------------------------
TOKEN_URL: Final = "https://auth.openai.com/oauth/token"
OAUTH_CLIENT_ID: Final = "app_EMoamEEZ73f0CkXaXp7hrann"
JWT_AUTH_CLAIM: Final = "https://api.openai.com/auth"
#: The lock the Codex CLI takes around a refresh, and ours around writing `auth.json`.
AUTH_LOCK_FILE: Final = "auth.lock"
AUTH_WRITE_LOCK_FILE: Final = "auth.json.lock"
#: Without `exp`, refresh when `last_refresh` is older than this (the CLI's rule).
REFRESH_MAX_AGE_SECONDS: Final = 8 * 24 * 3600.0
#: `refresh_reason` values the CLI sends with a refresh request.
REFRESH_REASON_PROACTIVE: Final = "proactive_expiry"
REFRESH_REASON_UNAUTHORIZED: Final = "unauthorized_recovery"

# -- the Codex prompt files (old models the catalog gives no instructions for) ----------------------
CODEX_RELEASE_API_URL: Final = "https://api.github.com/repos/openai/codex/releases/latest"
CODEX_PROMPT_URL_TEMPLATE: Final = "https://raw.githubusercontent.com/openai/codex/{tag}/codex-rs/core/{file}"

# -- headers ----------------------------------------------------------------------------------------
#: The Codex CLI version whose behaviour we mirror (catalog `client_version`, user agent).
CODEX_CLIENT_VERSION: Final = "0.169.0"
ORIGINATOR: Final = "codex_cli_rs"
HEADER_ACCOUNT_ID: Final = "chatgpt-account-id"
HEADER_ORIGINATOR: Final = "originator"
HEADER_SESSION_ID: Final = "session-id"
#: Prefix of the backend's plan-usage headers, passed back to callers on every response.
RATE_LIMIT_HEADER_PREFIX: Final = "x-codex-"
ACCEPT_EVENTS: Final = "text/event-stream"
ACCEPT_JSON: Final = "application/json"
#: The codings the Codex CLI (0.171.0) accepts, in its order.
CODEX_CLI_CODINGS: Final = ("zstd", "gzip")
#: `b"ok"` as a zstd frame: httpx reads zstd only with the optional `zstandard` package installed.
_ZSTD_SAMPLE: Final = bytes.fromhex("28b52ffd20021100006f6b")
#: An answer carries about fifteen `x-codex-*` headers of a few characters; more is not the backend.
_MAX_RATE_LIMIT_HEADERS: Final = 64
_MAX_RATE_LIMIT_VALUE: Final = 256


@functools.cache
def user_agent() -> str:
    """A Codex-style user agent: `<originator>/<version> (<os> <release>; <arch>) <us>/<version>`."""
    return (
        f"{ORIGINATOR}/{CODEX_CLIENT_VERSION} ({platform.system()} {platform.release()}; {platform.machine()}) "
        f"{PACKAGE}/{PACKAGE_VERSION}"
    )


@functools.cache
def accept_encoding() -> str:
    """The Codex CLI's `accept-encoding: zstd,gzip`, less any coding httpx cannot decode here."""
    response = httpx.Response(200, headers={"content-encoding": "zstd"}, content=_ZSTD_SAMPLE)
    try:
        zstd = response.read() == b"ok"
    except httpx.DecodingError:
        zstd = False
    return ",".join(c for c in CODEX_CLI_CODINGS if zstd or c != "zstd")


def codex_headers(accept: str = ACCEPT_EVENTS) -> dict[str, str]:
    """What every request to the backend and the token endpoint carries, as the Codex CLI sends it."""
    return {
        HEADER_ORIGINATOR: ORIGINATOR,
        "User-Agent": user_agent(),
        "Accept": accept,
        "Accept-Encoding": accept_encoding(),
    }


def rate_limit_headers(headers: Mapping[str, str] | Iterable[tuple[str, str]]) -> dict[str, str]:
    """The `x-codex-*` headers of an answer (lower-case names, bounded values), nothing else."""
    items = headers.items() if isinstance(headers, Mapping) else headers
    values: dict[str, str] = {}
    for name, value in items:
        key = name.lower()
        if key.startswith(RATE_LIMIT_HEADER_PREFIX) and len(values) < _MAX_RATE_LIMIT_HEADERS:
            values[key] = str(value)[:_MAX_RATE_LIMIT_VALUE]
    return values
