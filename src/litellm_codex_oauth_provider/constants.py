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
ENV_MAX_N: Final = "CODEX_MAX_N"

DEFAULT_TIMEOUT_SECONDS: Final = 600.0
DEFAULT_STREAM_IDLE_TIMEOUT_SECONDS: Final = 300.0
DEFAULT_CONNECT_TIMEOUT_SECONDS: Final = 10.0
#: The CLI retries requests 4 times from 200 ms doubling with jitter; the openai client does the same.
DEFAULT_MAX_RETRIES: Final = 4
#: Most answers (`n`) one call may ask for: each is a full turn on the shared plan.
DEFAULT_MAX_N: Final = 8
#: Most logins (Codex homes or auth files) whose clients one provider keeps open at once.
MAX_LOGIN_POOLS: Final = 16

# -- refreshing the login (docs/authentication.md) --------------------------------------------------
#: Refresh this long before `exp`, or a quarter of a short token's life. The CLI refreshes at
#: 300 s and before it takes its lock, so while a CLI runs it always refreshes first.
REFRESH_MARGIN_SECONDS: Final = 60.0
#: Without `exp`, refresh when `last_refresh` is older than this (the CLI's rule).
REFRESH_MAX_AGE_SECONDS: Final = 8 * 24 * 3600.0
#: `refresh_reason` values the CLI sends with a refresh request.
REFRESH_REASON_PROACTIVE: Final = "proactive_expiry"
REFRESH_REASON_UNAUTHORIZED: Final = "unauthorized_recovery"
#: Attempts at the token endpoint when it fails for a passing reason, and the first backoff (doubling).
REFRESH_ATTEMPTS: Final = 4
REFRESH_BACKOFF_SECONDS: Final = 0.5
#: After a refresh failed but the token still works: wait this long before trying again.
REFRESH_COOLDOWN_SECONDS: Final = 15.0
REFRESH_TIMEOUT_SECONDS: Final = 20.0
#: Longest wait for `auth.lock` (another program's refresh holds it for a moment only).
AUTH_LOCK_TIMEOUT_SECONDS: Final = 90.0
AUTH_LOCK_FILE: Final = "auth.lock"
AUTH_WRITE_LOCK_FILE: Final = "auth.json.lock"

# -- the token store (docs/authentication.md, "Many hosts: the Redis token store") ------------------
ENV_TOKEN_STORE: Final = "CODEX_TOKEN_STORE"
ENV_TOKEN_STORE_KEY: Final = "CODEX_TOKEN_STORE_KEY"
#: A Redis refresh lock lives this long unless its holder renews it (every third of it while alive),
#: so a holder that died frees the login within this time.
TOKEN_STORE_LOCK_TTL_SECONDS: Final = 15.0
#: Seconds to connect to Redis, and to wait for one answer, before calling it unreachable.
TOKEN_STORE_CONNECT_TIMEOUT_SECONDS: Final = 3.0
TOKEN_STORE_SOCKET_TIMEOUT_SECONDS: Final = 5.0
#: After Redis failed to answer, requests that would read it fail (or keep the token in memory) at once
#: for this long instead of each waiting for a connection timeout; refreshes still try.
TOKEN_STORE_RETRY_SECONDS: Final = 2.0
#: Shortest `CODEX_TOKEN_STORE_KEY` accepted (characters of a random secret).
TOKEN_STORE_KEY_MIN_LENGTH: Final = 32
#: A token this close to `exp` no longer counts as usable while a refresh keeps failing.
EXPIRY_SKEW_SECONDS: Final = 1.0

# -- model catalog and instructions (docs/models.md) ------------------------------------------------
ENV_CATALOG_TIMEOUT: Final = "CODEX_CATALOG_TIMEOUT"
ENV_INSTRUCTIONS_URL: Final = "CODEX_INSTRUCTIONS_URL"
DEFAULT_CATALOG_TTL_SECONDS: Final = 300.0
#: A `/models` fetch that takes longer falls back to the cached catalog; the turn must not wait on it.
DEFAULT_CATALOG_TIMEOUT_SECONDS: Final = 10.0
#: After a failed fetch, the fallback is used without asking again for this long (at most the TTL).
CATALOG_FAILURE_BACKOFF_SECONDS: Final = 60.0
#: The Codex prompt files on GitHub (old models the catalog gives no instructions for).
INSTRUCTIONS_TTL_SECONDS: Final = 900.0
CODEX_RELEASE_API_URL: Final = "https://api.github.com/repos/openai/codex/releases/latest"
CODEX_PROMPT_URL_TEMPLATE: Final = "https://raw.githubusercontent.com/openai/codex/{tag}/codex-rs/core/{file}"
#: The catalog publishes no output limit; the GPT-5 family's is 128k tokens.
DEFAULT_MAX_OUTPUT_TOKENS: Final = 128_000

# -- size limits on what a file or a server hands us (docs/authentication.md, docs/models.md) ------
#: A Codex login is a few KB; a larger `auth.json` is not a login and is not read.
MAX_LOGIN_FILE_BYTES: Final = 1 << 20
#: The token endpoint answers with three tokens, a few KB.
MAX_TOKEN_REPLY_BYTES: Final = 64 << 10
#: The model catalog is about 100 KB today.
MAX_CATALOG_BYTES: Final = 8 << 20
#: A Codex prompt file is about 20 KB; the release API answer a few KB.
MAX_PROMPT_BYTES: Final = 1 << 20
#: What is read of a backend's error answer (the rest is dropped unread).
MAX_ERROR_BODY_BYTES: Final = 64 << 10
#: The longest a Codex prompt file fetch may take in all.
PROMPT_TIMEOUT_SECONDS: Final = 20.0
