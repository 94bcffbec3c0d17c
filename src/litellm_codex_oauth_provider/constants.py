"""Fixed facts of the ChatGPT Codex backend and the Codex CLI login (see docs/authentication.md)."""

from __future__ import annotations

from typing import Final

PROVIDER_NAME: Final = "codex"
#: Model id prefixes we accept; `codex-oauth/` is the old package's form.
MODEL_PREFIXES: Final = ("codex/", "codex-oauth/")

DEFAULT_API_BASE: Final = "https://chatgpt.com/backend-api/codex"
RESPONSES_PATH: Final = "/responses"
MODELS_PATH: Final = "/models"

TOKEN_URL: Final = "https://auth.openai.com/oauth/token"
OAUTH_CLIENT_ID: Final = "app_EMoamEEZ73f0CkXaXp7hrann"
JWT_AUTH_CLAIM: Final = "https://api.openai.com/auth"

#: The Codex CLI version whose behaviour we mirror (catalog `client_version`, user agent).
CODEX_CLIENT_VERSION: Final = "0.169.0"
ORIGINATOR: Final = "codex_cli_rs"

HEADER_ACCOUNT_ID: Final = "chatgpt-account-id"
HEADER_ORIGINATOR: Final = "originator"
HEADER_SESSION_ID: Final = "session-id"
#: Prefix of the backend's plan-usage headers, passed back to callers on every response.
RATE_LIMIT_HEADER_PREFIX: Final = "x-codex-"

#: Ordered from least to most reasoning; clamping picks the nearest supported neighbour.
REASONING_EFFORTS: Final = ("none", "minimal", "low", "medium", "high", "xhigh", "max", "ultra")

#: Environment variables the package reads (docs/configuration.md lists each).
ENV_AUTH_FILE: Final = "CODEX_AUTH_FILE"
ENV_CODEX_HOME: Final = "CODEX_HOME"
ENV_API_BASE: Final = "CODEX_API_BASE"
ENV_CACHE_DIR: Final = "CODEX_CACHE_DIR"
ENV_MODE: Final = "CODEX_MODE"
ENV_DEBUG: Final = "CODEX_DEBUG"
ENV_REFRESH_URL: Final = "CODEX_REFRESH_TOKEN_URL_OVERRIDE"
ENV_CATALOG_TTL: Final = "CODEX_CATALOG_TTL"
ENV_CLIENT_VERSION: Final = "CODEX_CLIENT_VERSION"
ENV_REASONING_SUMMARY: Final = "CODEX_REASONING_SUMMARY"
ENV_STREAM_IDLE_TIMEOUT: Final = "CODEX_STREAM_IDLE_TIMEOUT"
ENV_MAX_RETRIES: Final = "CODEX_MAX_RETRIES"

DEFAULT_TIMEOUT_SECONDS: Final = 600.0
DEFAULT_STREAM_IDLE_TIMEOUT_SECONDS: Final = 300.0
DEFAULT_CONNECT_TIMEOUT_SECONDS: Final = 10.0
#: The CLI retries requests 4 times from 200 ms doubling with jitter; the openai client does the same.
DEFAULT_MAX_RETRIES: Final = 4
