"""The package's settings: one table of environment variables, and the numbers it chooses itself.

Each `Setting` is read from the environment when it is needed, so a change takes effect at once
(the proxy reads them per request too). `SETTINGS` is the whole table: docs/configuration.md
documents every entry and the test fixtures clear every one, both by reading it. An empty value
counts as unset.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Generic, TypeVar

import platformdirs

from . import protocol

T = TypeVar("T")
#: How docs/configuration.md shows a setting without a default.
_NONE: Final = "\N{EN DASH}"


@dataclass(frozen=True)
class Setting(Generic[T]):
    """One environment variable: its name, default, how its text is read, and what it is for.

    `default` is a value, or a function computing it when read (a folder under the home
    directory, which tests move). `shown` is the default as docs/configuration.md writes it.
    """

    name: str
    default: T | Callable[[], T]
    parse: Callable[[str], T]
    doc: str
    shown: str

    def raw(self) -> str | None:
        """The variable's text, or None when it is unset or empty."""
        value = os.environ.get(self.name)
        return value if value else None

    def get(self, override: str | os.PathLike[str] | None = None) -> T:
        """The value: `override` when given (a caller's explicit choice), else the environment's, else the default."""
        raw = os.fspath(override) if override else self.raw()
        if raw is None:
            return self.default() if callable(self.default) else self.default
        try:
            return self.parse(raw)
        except ValueError as exc:
            raise ValueError(f"{self.name}={raw!r} is {exc}; unset it or give one like {self.shown}") from exc


def _text(raw: str) -> str:
    return raw


def _url(raw: str) -> str:
    return raw.rstrip("/")


def _path(raw: str) -> Path:
    return Path(raw).expanduser()


def _flag(raw: str) -> bool:
    return raw.strip().lower() not in ("0", "false", "no", "off")


def _seconds(raw: str) -> float:
    try:
        return float(raw)
    except ValueError:
        raise ValueError("not a number") from None


def _count(raw: str) -> int:
    return int(_seconds(raw))


def _summary(raw: str) -> str | None:
    value = raw.strip().lower()
    return None if value in ("0", "off", "none", "false", "no") else value


def _default_home() -> Path:
    return Path.home() / ".codex"


def _default_cache_dir() -> Path:
    return Path(platformdirs.user_cache_dir(protocol.PACKAGE))


# -- the table (docs/configuration.md) --------------------------------------------------------------

CODEX_HOME: Final = Setting[Path](
    "CODEX_HOME", _default_home, _path, "The Codex CLI's home folder, which holds `auth.json`.", "~/.codex"
)
CODEX_AUTH_FILE: Final = Setting[Path | None](
    "CODEX_AUTH_FILE", None, _path, "An explicit `auth.json`; wins over `CODEX_HOME`.", _NONE
)
CODEX_API_BASE: Final = Setting[str](
    "CODEX_API_BASE", protocol.DEFAULT_API_BASE, _url, "The backend's base URL.", protocol.DEFAULT_API_BASE
)
CODEX_REFRESH_TOKEN_URL_OVERRIDE: Final = Setting[str](
    "CODEX_REFRESH_TOKEN_URL_OVERRIDE",
    protocol.TOKEN_URL,
    _text,
    "The token endpoint for refreshes (the Codex CLI's own variable).",
    protocol.TOKEN_URL,
)
CODEX_MODE: Final = Setting[bool](
    "CODEX_MODE",
    True,
    _flag,
    "Send the Codex instructions for the model (`0`: only your system prompt).",
    "1",
)
CODEX_CACHE_DIR: Final = Setting[Path](
    "CODEX_CACHE_DIR",
    _default_cache_dir,
    _path,
    "Catalog, instruction and plan-usage cache (never tokens).",
    "platformdirs user cache folder",
)
CODEX_CATALOG_TTL: Final = Setting[float](
    "CODEX_CATALOG_TTL", 300.0, _seconds, "Seconds a fetched catalog is used without asking again.", "300"
)
CODEX_CATALOG_TIMEOUT: Final = Setting[float](
    "CODEX_CATALOG_TIMEOUT",
    10.0,
    _seconds,
    "Seconds one catalog fetch may take before the cached catalog is used; the turn must not wait on it.",
    "10",
)
CODEX_CLIENT_VERSION: Final = Setting[str](
    "CODEX_CLIENT_VERSION",
    protocol.CODEX_CLIENT_VERSION,
    _text,
    "`client_version` sent with the catalog request.",
    protocol.CODEX_CLIENT_VERSION,
)
CODEX_INSTRUCTIONS_URL: Final = Setting[str | None](
    "CODEX_INSTRUCTIONS_URL",
    None,
    _text,
    "Where the Codex prompt files are fetched; `{file}` makes it a template, else the file name is appended.",
    "the Codex repository's latest release",
)
CODEX_REASONING_SUMMARY: Final = Setting[str | None](
    "CODEX_REASONING_SUMMARY",
    "auto",
    _summary,
    "`reasoning.summary`: `auto`, `concise`, `detailed`, or `off`/`none` to ask for none.",
    "auto",
)
CODEX_STREAM_IDLE_TIMEOUT: Final = Setting[float](
    "CODEX_STREAM_IDLE_TIMEOUT",
    300.0,
    _seconds,
    "Longest gap in seconds between two events of a stream.",
    "300",
)
CODEX_MAX_RETRIES: Final = Setting[int](
    "CODEX_MAX_RETRIES",
    4,  # the Codex CLI's: 4 retries from 200 ms doubling with jitter
    _count,
    "Retries one call may make in all when its caller names none.",
    "4",
)
CODEX_MAX_N: Final = Setting[int](
    "CODEX_MAX_N",
    8,
    _count,
    "Most answers (`n`) one call may ask for; each is a whole turn on the plan.",
    "8",
)
CODEX_TOKEN_STORE: Final = Setting[str | None](
    "CODEX_TOKEN_STORE",
    None,
    _text,
    "Where the tokens live: `file`, a `redis://` / `rediss://` URL, or `litellm`.",
    "file",
)
CODEX_TOKEN_STORE_KEY: Final = Setting[str | None](
    "CODEX_TOKEN_STORE_KEY", None, _text, "The secret the Redis token store encrypts tokens with.", _NONE
)
CODEX_DEBUG: Final = Setting[bool](
    "CODEX_DEBUG", False, _flag, "Log the package's debug lines to stderr (never a token).", "0"
)
LITELLM_MASTER_KEY: Final = Setting[str | None](
    "LITELLM_MASTER_KEY", None, _text, "The proxy's key; `codex-litellm serve` makes one when unset.", _NONE
)

#: Every environment variable the package reads.
SETTINGS: Final[tuple[Setting[Any], ...]] = (
    CODEX_HOME,
    CODEX_AUTH_FILE,
    CODEX_API_BASE,
    CODEX_REFRESH_TOKEN_URL_OVERRIDE,
    CODEX_MODE,
    CODEX_CACHE_DIR,
    CODEX_CATALOG_TTL,
    CODEX_CATALOG_TIMEOUT,
    CODEX_CLIENT_VERSION,
    CODEX_INSTRUCTIONS_URL,
    CODEX_REASONING_SUMMARY,
    CODEX_STREAM_IDLE_TIMEOUT,
    CODEX_MAX_RETRIES,
    CODEX_MAX_N,
    CODEX_TOKEN_STORE,
    CODEX_TOKEN_STORE_KEY,
    CODEX_DEBUG,
    LITELLM_MASTER_KEY,
)


def auth_file(
    override: str | os.PathLike[str] | None = None, codex_home_override: str | os.PathLike[str] | None = None
) -> Path:
    """`auth.json` to read: explicit file, else the explicit home's, else `CODEX_AUTH_FILE`, else `CODEX_HOME`'s."""
    if override:
        return _path(os.fspath(override))
    if not codex_home_override:
        explicit = CODEX_AUTH_FILE.get()
        if explicit is not None:
            return explicit
    return CODEX_HOME.get(codex_home_override) / "auth.json"


def litellm_redis_env() -> dict[str, str]:
    """LiteLLM's `REDIS_*` variables (REDIS_URL, REDIS_HOST, ...), which `CODEX_TOKEN_STORE=litellm` follows."""
    return {k: v for k, v in os.environ.items() if k.startswith("REDIS_")}


# -- numbers the package chooses (not settings) -----------------------------------------------------

DEFAULT_CONNECT_TIMEOUT_SECONDS: Final = 10.0
#: Most logins (Codex homes or auth files) whose clients one provider keeps open at once.
MAX_LOGIN_POOLS: Final = 16

# refreshing the login (docs/authentication.md)
#: Refresh this long before `exp`, or a quarter of a short token's life. The CLI refreshes at
#: 300 s and before it takes its lock, so while a CLI runs it always refreshes first.
REFRESH_MARGIN_SECONDS: Final = 60.0
#: Attempts at the token endpoint when it fails for a passing reason, and the first backoff (doubling).
REFRESH_ATTEMPTS: Final = 4
REFRESH_BACKOFF_SECONDS: Final = 0.5
#: After a refresh failed but the token still works: wait this long before trying again.
REFRESH_COOLDOWN_SECONDS: Final = 15.0
REFRESH_TIMEOUT_SECONDS: Final = 20.0
#: Longest wait for `auth.lock` (another program's refresh holds it for a moment only).
AUTH_LOCK_TIMEOUT_SECONDS: Final = 90.0
#: A token this close to `exp` no longer counts as usable while a refresh keeps failing.
EXPIRY_SKEW_SECONDS: Final = 1.0

# the token store (docs/authentication.md, "Many hosts: the Redis token store")
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

# the model catalog and instructions (docs/models.md)
#: After a failed fetch, the fallback is used without asking again for this long (at most the TTL).
CATALOG_FAILURE_BACKOFF_SECONDS: Final = 60.0
#: How long a fetched Codex prompt file is used without asking again.
INSTRUCTIONS_TTL_SECONDS: Final = 900.0
#: The longest a Codex prompt file fetch may take in all.
PROMPT_TIMEOUT_SECONDS: Final = 20.0

# size limits on what a file or a server hands us (docs/authentication.md, docs/models.md)
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
