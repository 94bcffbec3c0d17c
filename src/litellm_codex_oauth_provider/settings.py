"""Settings read from the environment at the moment they are needed, so a change takes effect at once."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

from . import constants as C


def _env(name: str) -> str | None:
    value = os.environ.get(name)
    return value if value not in (None, "") else None


def _env_float(name: str, default: float) -> float:
    raw = _env(name)
    if raw is None:
        return default
    try:
        return float(raw)
    except ValueError as exc:
        raise ValueError(
            f"{name}={raw!r} is not a number; unset it or give seconds, e.g. {default:g}"
        ) from exc


def _env_flag(name: str, default: bool) -> bool:
    raw = _env(name)
    if raw is None:
        return default
    return raw.strip().lower() not in ("0", "false", "no", "off")


def codex_home(override: str | os.PathLike[str] | None = None) -> Path:
    """The Codex CLI's home folder: explicit override, else `CODEX_HOME`, else `~/.codex`."""
    if override:
        return Path(override).expanduser()
    env = _env(C.ENV_CODEX_HOME)
    return Path(env).expanduser() if env else Path.home() / ".codex"


def auth_file(
    override: str | os.PathLike[str] | None = None, codex_home_override: str | os.PathLike[str] | None = None
) -> Path:
    """`auth.json` to read: explicit file, else `CODEX_AUTH_FILE`, else `<codex home>/auth.json`."""
    if override:
        return Path(override).expanduser()
    if codex_home_override:
        return codex_home(codex_home_override) / "auth.json"
    env = _env(C.ENV_AUTH_FILE)
    return Path(env).expanduser() if env else codex_home() / "auth.json"


def api_base(override: str | None = None) -> str:
    """Backend base URL without a trailing slash: per-model `api_base`, else `CODEX_API_BASE`, else ChatGPT."""
    return (override or _env(C.ENV_API_BASE) or C.DEFAULT_API_BASE).rstrip("/")


def token_url() -> str:
    return _env(C.ENV_REFRESH_URL) or C.TOKEN_URL


def cache_dir() -> Path:
    env = _env(C.ENV_CACHE_DIR)
    return (
        Path(env).expanduser() if env else Path(platformdirs.user_cache_dir("litellm-codex-oauth-provider"))
    )


def codex_mode() -> bool:
    """`CODEX_MODE` (default on): send the Codex instructions for the model."""
    return _env_flag(C.ENV_MODE, True)


def debug() -> bool:
    return _env_flag(C.ENV_DEBUG, False)


def catalog_ttl() -> float:
    return _env_float(C.ENV_CATALOG_TTL, 300.0)


def client_version() -> str:
    return _env(C.ENV_CLIENT_VERSION) or C.CODEX_CLIENT_VERSION


def reasoning_summary() -> str | None:
    """`CODEX_REASONING_SUMMARY`: `auto` (default), `concise`, `detailed`, or `off`/`none` to ask for none."""
    raw = (_env(C.ENV_REASONING_SUMMARY) or "auto").strip().lower()
    return None if raw in ("0", "off", "none", "false", "no") else raw


def stream_idle_timeout() -> float:
    return _env_float(C.ENV_STREAM_IDLE_TIMEOUT, C.DEFAULT_STREAM_IDLE_TIMEOUT_SECONDS)


def max_retries() -> int:
    return int(_env_float(C.ENV_MAX_RETRIES, C.DEFAULT_MAX_RETRIES))


def max_n() -> int:
    """`CODEX_MAX_N`: most answers one call may ask for (`n`); each is a whole turn on the plan."""
    return int(_env_float(C.ENV_MAX_N, C.DEFAULT_MAX_N))


def catalog_timeout() -> float:
    """`CODEX_CATALOG_TIMEOUT`: seconds one `/models` fetch may take before the cached catalog is used."""
    return _env_float(C.ENV_CATALOG_TIMEOUT, C.DEFAULT_CATALOG_TIMEOUT_SECONDS)


def instructions_url() -> str | None:
    """`CODEX_INSTRUCTIONS_URL`: where the Codex prompt files are fetched instead of GitHub's latest release.

    A value with `{file}` is a template; otherwise the prompt file name is appended to it.
    """
    return _env(C.ENV_INSTRUCTIONS_URL)


def token_store() -> str | None:
    """`CODEX_TOKEN_STORE`: `file` (default), a `redis://` / `rediss://` URL, or `litellm`."""
    return _env(C.ENV_TOKEN_STORE)


def token_store_key() -> str | None:
    """`CODEX_TOKEN_STORE_KEY`: the secret the Redis store encrypts tokens with."""
    return _env(C.ENV_TOKEN_STORE_KEY)


def litellm_redis_env() -> dict[str, str]:
    """LiteLLM's `REDIS_*` variables (REDIS_URL, REDIS_HOST, ...), which `CODEX_TOKEN_STORE=litellm` follows."""
    return {k: v for k, v in os.environ.items() if k.startswith("REDIS_")}
