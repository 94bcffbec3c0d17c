"""Readers of the settings table, under their old names; `config` holds the table."""

from __future__ import annotations

import os
from pathlib import Path

from . import config
from .config import auth_file, litellm_redis_env

__all__ = ["auth_file", "litellm_redis_env"]


def codex_home(override: str | os.PathLike[str] | None = None) -> Path:
    return config.CODEX_HOME.get(override)


def api_base(override: str | None = None) -> str:
    return config.CODEX_API_BASE.get(override)


def token_url() -> str:
    return config.CODEX_REFRESH_TOKEN_URL_OVERRIDE.get()


def cache_dir() -> Path:
    return config.CODEX_CACHE_DIR.get()


def codex_mode() -> bool:
    return config.CODEX_MODE.get()


def debug() -> bool:
    return config.CODEX_DEBUG.get()


def catalog_ttl() -> float:
    return config.CODEX_CATALOG_TTL.get()


def client_version() -> str:
    return config.CODEX_CLIENT_VERSION.get()


def reasoning_summary() -> str | None:
    return config.CODEX_REASONING_SUMMARY.get()


def stream_idle_timeout() -> float:
    return config.CODEX_STREAM_IDLE_TIMEOUT.get()


def max_retries() -> int:
    return config.CODEX_MAX_RETRIES.get()


def max_n() -> int:
    return config.CODEX_MAX_N.get()


def catalog_timeout() -> float:
    return config.CODEX_CATALOG_TIMEOUT.get()


def instructions_url() -> str | None:
    return config.CODEX_INSTRUCTIONS_URL.get()


def token_store() -> str | None:
    return config.CODEX_TOKEN_STORE.get()


def token_store_key() -> str | None:
    return config.CODEX_TOKEN_STORE_KEY.get()
