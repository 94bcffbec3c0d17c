"""Where a login's tokens live, and how a refresh of them is serialized: the `CODEX_TOKEN_STORE` setting.

`CodexTokenManager` decides *when* to refresh and *whether* someone else already did; a
`TokenStore` answers the questions that depend on where the tokens are kept:

* `load`: the tokens to use now (called on every request, so it must be cheap);
* `locked`: held while refreshing, so no other process anywhere spends the same refresh token;
* `reload`: the authoritative tokens, read under `locked` (another process may have refreshed);
* `saving`: made *before* the refresh token is spent (a store that could not keep the new
  tokens refuses there, when nothing is lost yet), then called with the new tokens.

`file` (the default, `file_store.py`) is `auth.json` with the Codex CLI's `auth.lock`: right on
one host. `redis://…` / `rediss://…` / `litellm` keep the tokens in Redis (`redis_store.py`), for
proxies on many hosts and read-only Secret mounts. `stores.py` picks one from the setting. See
docs/authentication.md.
"""

from __future__ import annotations

import abc
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path

from .record import AuthRecord

#: Called with the refreshed tokens, inside `TokenStore.saving`.
Save = Callable[[AuthRecord], None]

FILE = "file"
#: `CODEX_TOKEN_STORE=litellm`: Redis as LiteLLM itself is configured (REDIS_URL, REDIS_HOST, ...).
LITELLM = "litellm"
REDIS_SCHEMES = ("redis://", "rediss://", "unix://")


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


def redact(spec: str) -> str:
    """A setting without the password a URL may carry."""
    scheme, sep, rest = spec.partition("://")
    if not sep or "@" not in rest:
        return spec
    return f"{scheme}://***@{rest.rsplit('@', 1)[1]}"
