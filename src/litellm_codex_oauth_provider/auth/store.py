"""Where a login's tokens live, and how a refresh of them is serialized: the `CODEX_TOKEN_STORE` setting.

`CodexTokenManager` decides *when* to refresh and *whether* someone else already did; a
`TokenStore` answers the questions that depend on where the tokens are kept:

* `load`: the tokens to use now (called on every request, so it must be cheap);
* `locked`: held while refreshing, so no other process anywhere spends the same refresh token;
* `reload`: the authoritative tokens, read under `locked` (another process may have refreshed);
* `saving`: made *before* the refresh token is spent (a store that could not keep the new
  tokens refuses there, when nothing is lost yet), then called with the new tokens.

`file` (the default) is `auth.json` with the Codex CLI's `auth.lock`: right on one host.
`redis://…` / `rediss://…` / `litellm` keep the tokens in Redis (see `redis_store.py`), for
proxies on many hosts and read-only Secret mounts. See docs/authentication.md.
"""

from __future__ import annotations

import abc
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from .. import settings
from ..exceptions import CodexTokenStoreError

if TYPE_CHECKING:
    from .manager import AuthRecord

#: Called with the refreshed tokens, inside `TokenStore.saving`.
Save = Callable[["AuthRecord"], None]

FILE = "file"
#: `CODEX_TOKEN_STORE=litellm`: Redis as LiteLLM itself is configured (REDIS_URL, REDIS_HOST, ...).
LITELLM = "litellm"
_REDIS_SCHEMES = ("redis://", "rediss://", "unix://")


@dataclass(frozen=True)
class StoreStatus:
    """What `codex-litellm status` and `doctor` show of a store; never a token."""

    kind: str
    where: str
    reachable: bool | None = None  # None: nothing to reach (the file store)
    detail: str | None = None
    #: Epoch seconds: when the stored access token was issued, and when the store last saved it.
    issued_at: float | None = None
    saved_at: float | None = None
    version: int | None = None


class TokenStore(abc.ABC):
    """One place that holds the current tokens of a login and serializes its refreshes."""

    kind: str

    @abc.abstractmethod
    def load(self, path: Path) -> AuthRecord:
        """The tokens to use now; cheap, as every request asks."""

    @abc.abstractmethod
    def reload(self, path: Path) -> AuthRecord:
        """The current tokens whatever is cached; called under `locked`."""

    @abc.abstractmethod
    def locked(self, current: AuthRecord, timeout: float) -> AbstractContextManager[None]:
        """Exclusive across every process sharing this store, for at most `timeout` seconds of waiting."""

    @abc.abstractmethod
    def saving(self, current: AuthRecord) -> AbstractContextManager[Save]:
        """Prepare to keep the tokens that replace `current`; raise here, before anything is spent."""

    @abc.abstractmethod
    def status(self, path: Path) -> StoreStatus:
        """Reachability and the stored token's age, for the CLI."""


def store_spec(explicit: str | None = None) -> str:
    """The store setting: a deployment's `codex_token_store`, else `CODEX_TOKEN_STORE`, else `file`."""
    spec = (explicit or settings.token_store() or FILE).strip()
    return spec or FILE


_STORES: dict[tuple[str, str | None, tuple[tuple[str, str], ...]], TokenStore] = {}
_STORES_LOCK = threading.Lock()


def open_store(explicit: str | None = None) -> TokenStore:
    """The store for a setting, made once per process and setting (and key) and then shared."""
    spec = store_spec(explicit)
    key = None if spec.lower() == FILE else settings.token_store_key()
    # `litellm` follows LiteLLM's REDIS_* variables: a change of them is another store
    redis_env = tuple(sorted(settings.litellm_redis_env().items())) if spec.lower() == LITELLM else ()
    with _STORES_LOCK:
        store = _STORES.get((spec, key, redis_env))
        if store is None:
            store = _STORES[(spec, key, redis_env)] = _make(spec, key)
        return store


def _make(spec: str, key: str | None) -> TokenStore:
    if spec.lower() == FILE:
        from .manager import FileTokenStore

        return FileTokenStore()
    if spec.lower() == LITELLM or spec.lower().startswith(_REDIS_SCHEMES):
        try:
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


def redact(spec: str) -> str:
    """A setting without the password a URL may carry."""
    scheme, sep, rest = spec.partition("://")
    if not sep or "@" not in rest:
        return spec
    return f"{scheme}://***@{rest.rsplit('@', 1)[1]}"
