"""The Redis token store: one ChatGPT login shared by processes on many hosts (`CODEX_TOKEN_STORE=redis://…`).

Refresh tokens are single-use, and `flock` on `auth.lock` does not reach across hosts, so with
this store the login lives in Redis, keyed by ChatGPT account:

* the first process that finds nothing there seeds it from its `auth.json`; a newer login in a
  process's `auth.json` (a fresh `codex login`: a different refresh token with a later `iat`)
  replaces an older one there, and an older one (a stale copy of a spent login) is ignored;
* a refresh holds a Redis lock (`SET NX PX`, a random value, renewed while its holder lives,
  released by compare-and-delete) and re-reads Redis under it, so a token another host
  already refreshed is used and never spent twice;
* the save is a compare-and-set on a version counter (the fencing token): a holder whose lock
  expired while it waited on the token endpoint cannot overwrite a newer login;
* `auth.json` gets the current tokens where it can be written, and is left alone where it
  cannot (a read-only Secret mount);
* tokens are encrypted at rest (AES-256-GCM, key derived from `CODEX_TOKEN_STORE_KEY`, bound
  to the Redis key), so reading Redis does not give the login away.

Only the refresh path waits on Redis; a request whose cached token is fresh makes no Redis call,
so calls keep working while Redis is down until the token is due. See docs/authentication.md.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import secrets
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import redis
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from .. import config
from ..exceptions import (
    CodexAuthError,
    CodexTokenStoreError,
    CodexTokenStoreUnavailableError,
)
from .file_store import FileTokenStore
from .login_file import Stamp, file_stamp, read_auth_file
from .record import AuthRecord, parse_auth_data, parse_rfc3339
from .store import LITELLM, Save, StoreStatus, TokenStore, redact

logger = logging.getLogger(__name__)

KEY_PREFIX = "codex-litellm"

# Compare-and-set on the version: the save, the seed (expected "0": nothing there) and the
# replacement by a newer login are all this one script.
_CAS = """
local v = redis.call('HGET', KEYS[1], 'v')
if (v or '0') ~= ARGV[1] then return -1 end
local nv = tonumber(ARGV[1]) + 1
redis.call('HSET', KEYS[1], 'v', nv, 'blob', ARGV[2], 'kid', ARGV[3], 'issued', ARGV[4], 'saved_at', ARGV[5])
return nv
"""
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""
_RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
"""


@dataclass(frozen=True)
class _Keys:
    """The Redis keys of one account; the hash tag keeps them in one cluster slot."""

    tokens: str
    lock: str

    @classmethod
    def of(cls, account_id: str) -> _Keys:
        tag = "{" + account_id + "}"
        return cls(f"{KEY_PREFIX}:{tag}:tokens", f"{KEY_PREFIX}:{tag}:lock")


class TokenCipher:
    """AES-256-GCM with a key derived from `CODEX_TOKEN_STORE_KEY`; each blob is bound to its Redis key."""

    def __init__(self, secret: str) -> None:
        if len(secret) < config.TOKEN_STORE_KEY_MIN_LENGTH:
            raise CodexTokenStoreError(
                f"CODEX_TOKEN_STORE_KEY is {len(secret)} characters long; use a random secret of at least "
                f"{config.TOKEN_STORE_KEY_MIN_LENGTH} (e.g. `openssl rand -base64 32`), the same on every process."
            )
        key = HKDF(
            algorithm=hashes.SHA256(),
            length=32,
            salt=None,
            info=b"litellm-codex-oauth-provider token store v1",
        ).derive(secret.encode("utf-8"))
        self._aead = AESGCM(key)
        #: Names the key without revealing it, so a wrong key is told apart from damaged data.
        self.key_id = hashlib.sha256(b"key id\0" + key).hexdigest()[:16]

    def seal(self, data: dict[str, Any], bound_to: str) -> bytes:
        nonce = os.urandom(12)
        return nonce + self._aead.encrypt(nonce, json.dumps(data).encode("utf-8"), bound_to.encode("utf-8"))

    def open(self, blob: bytes, bound_to: str) -> dict[str, Any]:
        """The sealed document; `ValueError` when it is not one sealed for `bound_to` with this key."""
        try:
            data = json.loads(self._aead.decrypt(blob[:12], blob[12:], bound_to.encode("utf-8")))
        except (InvalidTag, ValueError) as exc:
            raise ValueError("not sealed with this key for this account") from exc
        if not isinstance(data, dict):
            raise ValueError("not a JSON object")
        return data


def issued_at(record: AuthRecord) -> float:
    """When a login's tokens were issued: the access token's `iat` (the token server's clock)."""
    try:
        iat = record.access_claims.get("iat")
    except Exception:  # an opaque token: fall back on `last_refresh`
        iat = None
    if isinstance(iat, int | float) and not isinstance(iat, bool):
        return float(iat)
    return parse_rfc3339(record.last_refresh) or 0.0


def newer(candidate: AuthRecord, than: AuthRecord) -> bool:
    """True when `candidate` is another, later login than `than` (e.g. a fresh `codex login`)."""
    return candidate.refresh_token != than.refresh_token and issued_at(candidate) > issued_at(than)


@dataclass(frozen=True)
class _Held:
    """What this process uses for one auth file: the store's tokens and the version they came with."""

    stamp: Stamp  # the file's stamp when it was last compared with the store
    record: AuthRecord
    version: int | None  # None: not known to be in the store (re-read under the lock before use)
    #: New tokens the store could not take (it was unreachable): offered to it again on the next read.
    unsaved: bool = False


class _Renewer:
    """Keeps a held lock alive while its holder lives, so only a dead holder's lock expires."""

    def __init__(self, renew: Any, key: str, token: str, ttl_ms: int) -> None:
        self._renew, self._key, self._token, self._ttl_ms = renew, key, token, ttl_ms
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="codex-token-store-lock", daemon=True)

    def __enter__(self) -> _Renewer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(5)

    def _run(self) -> None:
        while not self._stop.wait(self._ttl_ms / 3000):
            try:
                if not self._renew(keys=[self._key], args=[self._token, self._ttl_ms]):
                    logger.warning("codex auth: the refresh lock in the token store expired while held")
                    return
            except redis.RedisError as exc:
                logger.warning("codex auth: could not renew the refresh lock in the token store: %s", exc)


class RedisTokenStore(TokenStore):
    """The login in Redis, shared by every process that points at the same server and key."""

    kind = "redis"

    def __init__(self, client: redis.Redis, where: str, cipher: TokenCipher) -> None:
        self._client = client
        self.where = where
        self._cipher = cipher
        self._cas = client.register_script(_CAS)
        self._release = client.register_script(_RELEASE)
        self._renew = client.register_script(_RENEW)
        self._files = FileTokenStore()
        self._lock = threading.Lock()
        self._held: dict[Path, _Held] = {}
        #: After Redis failed to answer: until when requests do not wait for it again, and why.
        self._down: tuple[float, CodexTokenStoreUnavailableError] | None = None

    def __repr__(self) -> str:
        return f"<RedisTokenStore {self.where}>"

    @classmethod
    def from_setting(cls, spec: str, key: str | None) -> RedisTokenStore:
        """A store for `CODEX_TOKEN_STORE`; refuses without `CODEX_TOKEN_STORE_KEY` (tokens are never stored in clear)."""
        where = "LiteLLM's Redis (REDIS_URL / REDIS_HOST)" if spec.lower() == LITELLM else redact(spec)
        if not key:
            raise CodexTokenStoreError(
                f"CODEX_TOKEN_STORE is {where}, but CODEX_TOKEN_STORE_KEY is not set. The store keeps the "
                "ChatGPT tokens encrypted with it, so that reading Redis does not give the login away. Set "
                "CODEX_TOKEN_STORE_KEY to a random secret of at least 32 characters (e.g. `openssl rand "
                "-base64 32`), the same on every process that shares the login."
            )
        cipher = TokenCipher(key)
        client = _litellm_client() if spec.lower() == LITELLM else _url_client(spec, where)
        return cls(client, where, cipher)

    # -- reading -------------------------------------------------------------------------------

    def load(self, path: Path) -> AuthRecord:
        """The tokens in use, from memory while `auth.json` is unchanged: no Redis call per request."""
        stamp = file_stamp(path)
        with self._lock:
            held, down = self._held.get(path), self._down
        if held is not None and held.stamp == stamp:
            return held.record
        # auth.json changed, or nothing is held yet: compare with Redis. While Redis does not answer,
        # the tokens held stay in use (compared once it answers again), and requests do not each wait
        # for a connection timeout (this may run on an event loop).
        if down is not None and time.monotonic() < down[0]:
            if held is not None:
                return held.record
            raise CodexTokenStoreUnavailableError(down[1].message, path=down[1].path)
        try:
            return self.reload(path)
        except CodexTokenStoreUnavailableError:
            if held is None:
                raise
            return held.record

    def reload(self, path: Path) -> AuthRecord:
        """Compare `auth.json` (and what this process holds) with Redis; the newest login wins everywhere."""
        stamp = file_stamp(path)
        on_file = local = read_auth_file(path)
        with self._lock:
            held = self._held.get(path)
        if held is not None and held.unsaved and newer(held.record, local):
            local = held.record  # tokens this process got while the store was down: offer them again
        record, version = self._reconcile(local)
        if record.refresh_token != on_file.refresh_token:
            stamp = self._write_back(record, stamp)
        self._remember(path, stamp, record, version)
        return record

    def _reconcile(self, local: AuthRecord) -> tuple[AuthRecord, int]:
        """The store's login, seeded with or replaced by `local` when the store has none or an older one."""
        keys = _Keys.of(local.credentials.account_id)
        for _ in range(5):
            stored = self._fetch(keys, local.path)
            if stored is not None and not newer(local, stored[0]):
                return stored
            version = self._put(keys, 0 if stored is None else stored[1], local)
            if version > 0:
                if stored is None:
                    logger.info("codex auth: seeded %s with the login in %s", self.where, local.path)
                else:
                    logger.info(
                        "codex auth: the login in %s is newer than the one in %s (a new `codex login`) and "
                        "replaces it",
                        local.path,
                        self.where,
                    )
                return local, version
        raise CodexTokenStoreUnavailableError(
            f"The login in {self.where} kept changing while it was compared with {local.path}; try again.",
            path=local.path,
        )

    def _fetch(self, keys: _Keys, path: Path) -> tuple[AuthRecord, int] | None:
        try:
            fields = self._client.hgetall(keys.tokens)
        except redis.RedisError as exc:
            raise self._unreachable(exc, path) from None
        with self._lock:
            self._down = None
        if not fields or b"blob" not in fields:
            return None
        if fields.get(b"kid", b"").decode() != self._cipher.key_id:
            raise CodexTokenStoreError(
                f"The login in {self.where} (key {keys.tokens}) was saved with another CODEX_TOKEN_STORE_KEY. "
                "Give every process the same key; to start over with the login in auth.json, delete that "
                f"key (`redis-cli DEL '{keys.tokens}'`).",
                path=path,
            )
        try:
            raw = self._cipher.open(fields[b"blob"], keys.tokens)
            return parse_auth_data(raw, path), int(fields[b"v"])
        except (ValueError, KeyError, CodexAuthError):
            raise CodexTokenStoreError(
                f"The login in {self.where} (key {keys.tokens}) cannot be read. Delete that key "
                f"(`redis-cli DEL '{keys.tokens}'`) so the next process seeds it from its auth.json.",
                path=path,
            ) from None

    def _put(self, keys: _Keys, expected: int, record: AuthRecord) -> int:
        """Compare-and-set: the new version, or -1 when the stored version is no longer `expected`."""
        blob = self._cipher.seal(record.raw, keys.tokens)
        args = [str(expected), blob, self._cipher.key_id, f"{issued_at(record):.0f}", f"{time.time():.3f}"]
        try:
            return int(self._cas(keys=[keys.tokens], args=args))
        except redis.RedisError as exc:
            raise self._unreachable(exc, record.path) from None

    # -- refreshing ----------------------------------------------------------------------------

    @contextlib.contextmanager
    def locked(self, current: AuthRecord, timeout: float) -> Iterator[None]:
        """The login's refresh lock in Redis: `SET NX PX` with a random value, renewed while held."""
        key = _Keys.of(current.credentials.account_id).lock
        token = secrets.token_hex(16)
        ttl_ms = int(config.TOKEN_STORE_LOCK_TTL_SECONDS * 1000)
        deadline = time.monotonic() + timeout
        pause = 0.005
        while True:
            try:
                if self._client.set(key, token, nx=True, px=ttl_ms):
                    break
            except redis.RedisError as exc:
                raise self._unreachable(exc, current.path) from None
            if time.monotonic() >= deadline:
                raise CodexTokenStoreUnavailableError(
                    f"Waited {timeout:g} s for the refresh lock of this login in {self.where}, which another "
                    "process holds; the stored login is unchanged and the refresh is tried again later.",
                    path=current.path,
                )
            time.sleep(pause)
            pause = min(pause * 2, 0.05)
        try:
            with _Renewer(self._renew, key, token, ttl_ms):
                yield
        finally:
            try:
                self._release(keys=[key], args=[token])
            except redis.RedisError as exc:
                logger.warning(
                    "codex auth: could not release the refresh lock in %s (%s); it expires within %g s",
                    self.where,
                    exc,
                    config.TOKEN_STORE_LOCK_TTL_SECONDS,
                )

    @contextlib.contextmanager
    def saving(self, current: AuthRecord) -> Iterator[Save]:
        """Saves as a compare-and-set on the version `reload` read under the lock."""
        path = current.path
        with self._lock:
            held = self._held.get(path)
        if held is None or held.record.refresh_token != current.refresh_token or held.version is None:
            raise CodexTokenStoreUnavailableError(
                f"The login in {self.where} changed before it could be refreshed; nothing was spent, "
                "the refresh is tried again.",
                path=path,
            )
        expected = held.version
        yield lambda record: self._save(_Keys.of(current.credentials.account_id), expected, record)

    def _save(self, keys: _Keys, expected: int, record: AuthRecord) -> None:
        path = record.path
        version: int | None = None
        problem = None
        for attempt in range(4):  # the refresh token is spent: try hard to keep its successor
            if attempt:
                time.sleep(0.1 * 2**attempt)
            try:
                version = self._put(keys, expected, record)
                break
            except CodexTokenStoreUnavailableError as exc:
                problem = exc
        if version is None:
            logger.error(
                "codex auth: refreshed the ChatGPT login but could not save it to %s (%s). The refresh token "
                "stored there is now spent: other processes sharing this login fail with "
                "refresh_token_reused when they refresh and need a new `codex login`. This process keeps the "
                "new tokens (and writes them to %s where it can) and offers them to the store again.",
                self.where,
                problem,
                path,
            )
        elif version < 0:
            logger.warning(
                "codex auth: while this process refreshed, another login was saved to %s (a new `codex "
                "login`, or this process's lock expired); the store keeps it, this process uses its own new "
                "tokens until they are due.",
                self.where,
            )
        if version is not None and version < 0:  # fenced off: the store's newer login must win everywhere
            self._remember(path, file_stamp(path), record, None)
            return
        stamp = self._write_back(record, file_stamp(path))  # where the store missed them, the file keeps them
        self._remember(path, stamp, record, version, unsaved=version is None)

    # -- helpers -------------------------------------------------------------------------------

    def _write_back(self, record: AuthRecord, stamp: Stamp) -> Stamp:
        """`auth.json` gets the store's tokens where it can be written (not on a read-only mount)."""
        return file_stamp(record.path) if self._files.write_back(record) else stamp

    def _remember(
        self, path: Path, stamp: Stamp, record: AuthRecord, version: int | None, *, unsaved: bool = False
    ) -> None:
        with self._lock:
            self._held[path] = _Held(stamp, record, version, unsaved)

    def _unreachable(self, exc: redis.RedisError, path: Path | None) -> CodexTokenStoreUnavailableError:
        error = CodexTokenStoreUnavailableError(
            f"Cannot reach the token store {self.where} ({type(exc).__name__}: {redact(str(exc))}). The "
            "ChatGPT login is kept there (CODEX_TOKEN_STORE), so it is not refreshed without it: start Redis, "
            "or fix CODEX_TOKEN_STORE (host, port, password). A still-valid access token stays in use meanwhile.",
            path=path,
        )
        with self._lock:
            self._down = (time.monotonic() + config.TOKEN_STORE_RETRY_SECONDS, error)
        return error

    def status(self, path: Path) -> StoreStatus:
        """Reachability and the stored login's age; needs `auth.json` only to know the account."""
        try:
            keys = _Keys.of(read_auth_file(path).credentials.account_id)
            self._client.ping()
            fields = self._client.hgetall(keys.tokens)
        except redis.RedisError as exc:
            return StoreStatus(self.kind, self.where, False, f"{type(exc).__name__}: {redact(str(exc))}")
        except CodexAuthError as exc:
            return StoreStatus(self.kind, self.where, None, exc.message)
        if not fields:
            return StoreStatus(
                self.kind, self.where, True, "no login stored yet (the first request seeds it from auth.json)"
            )
        kid = fields.get(b"kid", b"").decode()
        detail = None if kid == self._cipher.key_id else "saved with another CODEX_TOKEN_STORE_KEY"
        return StoreStatus(
            self.kind,
            self.where,
            True,
            detail,
            issued_at=_float(fields.get(b"issued")),
            saved_at=_float(fields.get(b"saved_at")),
            version=int(fields[b"v"]) if b"v" in fields else None,
        )


def _float(value: bytes | None) -> float | None:
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def _url_client(url: str, where: str) -> redis.Redis:
    try:
        return redis.Redis.from_url(
            url,
            socket_connect_timeout=config.TOKEN_STORE_CONNECT_TIMEOUT_SECONDS,
            socket_timeout=config.TOKEN_STORE_SOCKET_TIMEOUT_SECONDS,
        )
    except ValueError as exc:
        raise CodexTokenStoreError(
            f"CODEX_TOKEN_STORE is {where}, which is not a Redis URL ({exc}); use "
            "redis://[user:password@]host:port/db or rediss://..."
        ) from None


def _litellm_client() -> redis.Redis:
    """The Redis client LiteLLM would build from its environment (REDIS_URL, or REDIS_HOST/REDIS_PORT/...)."""
    try:
        from litellm._redis import get_redis_client
    except ImportError:
        raise CodexTokenStoreError(
            "CODEX_TOKEN_STORE=litellm needs LiteLLM's Redis helper (litellm._redis.get_redis_client), which "
            "this LiteLLM does not have; set CODEX_TOKEN_STORE to a redis:// URL instead."
        ) from None
    try:
        return get_redis_client()
    except (ValueError, redis.RedisError) as exc:
        raise CodexTokenStoreError(
            f"CODEX_TOKEN_STORE=litellm uses the Redis LiteLLM is configured with, but {exc} Set REDIS_URL, "
            "or REDIS_HOST and REDIS_PORT (and REDIS_PASSWORD), as for LiteLLM's own Redis."
        ) from None
