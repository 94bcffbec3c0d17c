"""Which token store a setting names (`CODEX_TOKEN_STORE` or a deployment's `codex_token_store`).

One store per setting per process, made on first use and shared by every manager.
"""

from __future__ import annotations

import threading

from .. import config
from ..exceptions import CodexTokenStoreError
from .file_store import FileTokenStore
from .store import FILE, LITELLM, REDIS_SCHEMES, TokenStore, redact


def store_spec(explicit: str | None = None) -> str:
    """The store setting: a deployment's `codex_token_store`, else `CODEX_TOKEN_STORE`, else `file`."""
    spec = (explicit or config.CODEX_TOKEN_STORE.get() or FILE).strip()
    return spec or FILE


_STORES: dict[tuple[str, str | None, tuple[tuple[str, str], ...]], TokenStore] = {}
_STORES_LOCK = threading.Lock()


def open_store(explicit: str | None = None) -> TokenStore:
    """The store for a setting, made once per process and setting (and key) and then shared."""
    spec = store_spec(explicit)
    key = None if spec.lower() == FILE else config.CODEX_TOKEN_STORE_KEY.get()
    # `litellm` follows LiteLLM's REDIS_* variables: a change of them is another store
    redis_env = tuple(sorted(config.litellm_redis_env().items())) if spec.lower() == LITELLM else ()
    with _STORES_LOCK:
        store = _STORES.get((spec, key, redis_env))
        if store is None:
            store = _STORES[(spec, key, redis_env)] = _make(spec, key)
        return store


def _make(spec: str, key: str | None) -> TokenStore:
    if spec.lower() == FILE:
        return FileTokenStore()
    if spec.lower() == LITELLM or spec.lower().startswith(REDIS_SCHEMES):
        try:  # only here: Redis support is an optional extra
            from .redis_store import RedisTokenStore
        except ImportError as exc:
            raise CodexTokenStoreError(
                f"CODEX_TOKEN_STORE asks for Redis, but a package it needs is missing ({exc.name}). "
                "Install it with `pip install 'litellm-codex-oauth-provider[redis]'`, or unset "
                "CODEX_TOKEN_STORE to keep the login in auth.json."
            ) from None
        return RedisTokenStore.from_setting(spec, key)
    raise CodexTokenStoreError(
        f"CODEX_TOKEN_STORE (or codex_token_store) is {redact(spec)!r}, which is not a token store. "
        "Use `file` (the default), `redis://[user:password@]host:port/db`, `rediss://...`, or `litellm` "
        "(the Redis LiteLLM is configured with: REDIS_URL, or REDIS_HOST and REDIS_PORT)."
    )
