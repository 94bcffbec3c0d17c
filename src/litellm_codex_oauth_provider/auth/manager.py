"""The token manager: the one place that refreshes a Codex CLI login.

ChatGPT refresh tokens are single-use, so a refresh must never race another one on the same
login, in this process or any other:

* threads queue on one lock per auth file, and every waiter on one access token (sync callers
  and event-loop tasks alike) shares one refresh run in a worker thread, so a loop never waits
  on HTTP or a file lock;
* processes (other workers, the Codex CLI) take `flock(LOCK_EX)` on `<folder>/auth.lock`, as
  the CLI does (beside a symlinked `auth.json` and beside its target), and re-read `auth.json`
  under it: if another process already refreshed, its tokens are used and ours is never spent;
* we refresh 60 s before expiry (or a quarter of a short token's life), well after the CLI
  (300 s, and before it locks), so while a CLI runs it always refreshes first;
* the new tokens are written to a temporary file beside `auth.json` (where a link really
  points) and renamed over it.

Where the tokens live and how processes exclude each other is the token store's business
(`store.py`); the file's format is `record.py`, reading it `login_file.py`, the locks
`locks.py`, the token endpoint `token_endpoint.py`. See docs/authentication.md.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import logging
import os
import threading
import time
from pathlib import Path
from typing import Any

from .. import config, protocol
from ..bounded import time_left
from ..exceptions import (
    LOGIN_HINT,
    CodexAuthRefreshError,
    CodexAuthRefreshTimeoutError,
    CodexAuthTokenError,
)
from .login_state import LoginState, state_for
from .record import AuthRecord, Credentials, merge_tokens, parse_auth_data
from .store import TokenStore
from .stores import open_store
from .token_endpoint import RefreshPolicy, request_tokens

logger = logging.getLogger(__name__)


def _same_token(record: AuthRecord, credentials: Credentials) -> bool:
    return record.credentials.access_token == credentials.access_token


def _refresh_needed(record: AuthRecord, rejected: Credentials | None) -> bool | None:
    """None: use `record` as it is; else refresh it, forced when the backend refused this very token."""
    forced = rejected is not None and _same_token(record, rejected)
    return forced if forced or record.due() else None


def _superseded(current: AuthRecord, stale: AuthRecord, forced: bool) -> bool:
    """True when `current` can be used instead of refreshing `stale` (someone else refreshed)."""
    if _same_token(current, stale.credentials):
        return not forced and not current.due()
    return not current.due()


@functools.cache
def _refreshers() -> concurrent.futures.ThreadPoolExecutor:
    """Where refreshes run: a caller can stop waiting at its deadline while the refresh it started
    finishes and saves (cutting a refresh short could spend the token and lose its answer)."""
    if hasattr(os, "register_at_fork"):  # a forked child has none of the parent's worker threads
        os.register_at_fork(after_in_child=_refreshers.cache_clear)
    return concurrent.futures.ThreadPoolExecutor(max_workers=4, thread_name_prefix="codex-refresh")


def _land(
    flights: dict[tuple[int, str], concurrent.futures.Future[AuthRecord]],
    lock: threading.Lock,
    key: tuple[int, str],
    future: concurrent.futures.Future[AuthRecord],
) -> None:
    """Forget a finished flight and mark its error retrieved, whoever still waits on it."""
    with lock:
        if flights.get(key) is future:
            del flights[key]
    if not future.cancelled():
        future.exception()


def _retrieved(future: asyncio.Future[Any]) -> None:
    """An async waiter that stopped waiting must not leave "exception never retrieved" behind."""
    if not future.cancelled():
        future.exception()


def _refresh_timeout(record: AuthRecord) -> CodexAuthRefreshTimeoutError:
    return CodexAuthRefreshTimeoutError(
        f"Refreshing the ChatGPT login in {record.path} did not finish within the call's timeout. It "
        "goes on and saves the new tokens; retry the call, or give it a longer `timeout`.",
        path=record.path,
    )


class CodexTokenManager:
    """Hands out the current credentials of one login and refreshes it, never twice at once.

    Where the tokens live is the token store's business (`token_store`: a deployment's setting,
    else `CODEX_TOKEN_STORE`, else `auth.json`); a request that finds the token fresh costs the
    store's `load`, one `stat` for both stores.
    """

    def __init__(
        self,
        auth_file: str | os.PathLike[str] | None = None,
        *,
        codex_home: str | None = None,
        policy: RefreshPolicy | None = None,
        token_store: str | None = None,
    ) -> None:
        self._explicit_file = auth_file
        self._explicit_home = codex_home
        self._store_setting = token_store
        self.policy = policy or RefreshPolicy()
        self._state: LoginState | None = None
        self._flights_lock = threading.Lock()
        #: The refresh under way per access token, shared by every thread and event loop.
        self._flights: dict[tuple[int, str], concurrent.futures.Future[AuthRecord]] = {}

    def __repr__(self) -> str:
        return f"<CodexTokenManager {self.path}>"

    @property
    def path(self) -> Path:
        return config.auth_file(self._explicit_file, self._explicit_home)

    @property
    def store(self) -> TokenStore:
        """The token store in use (read per call, like every setting); shared by the process."""
        return open_store(self._store_setting)

    def _login_state(self, path: Path) -> LoginState:
        state = self._state
        if state is None or state.path != path:
            state = self._state = state_for(path)
        return state

    # -- reading -------------------------------------------------------------------------------

    def load(self) -> AuthRecord:
        """The parsed file, from memory unless it changed since the last read (blocking file I/O)."""
        return self._load(self.path)

    async def aload(self) -> AuthRecord:
        """`load` for an event loop: the `stat` and any read run in a worker thread, never on the loop."""
        return await asyncio.to_thread(self.load)

    def _load(self, path: Path) -> AuthRecord:
        return self.store.load(path)

    def _reload(self, path: Path) -> AuthRecord:
        """The store's current tokens whatever is cached (under its lock, where they must be current)."""
        return self.store.reload(path)

    # -- the public interface ------------------------------------------------------------------

    def credentials(self, rejected: Credentials | None = None) -> Credentials:
        """Credentials for a request: the current ones, refreshed first when about to expire.

        With `rejected` (refused by the backend with a 401): newer ones another program saved,
        else a refresh.
        """
        record = self.load()
        forced = _refresh_needed(record, rejected)
        return record.credentials if forced is None else self._obtain(record, forced=forced).credentials

    async def acredentials(self, rejected: Credentials | None = None) -> Credentials:
        """`credentials` for an event loop: file I/O and a refresh run in worker threads."""
        record = await self.aload()
        forced = _refresh_needed(record, rejected)
        return (
            record.credentials if forced is None else (await self._aobtain(record, forced=forced)).credentials
        )

    def get_credentials(self) -> Credentials:
        """Credentials for a request, refreshed first when the token is about to expire."""
        return self.credentials()

    async def aget_credentials(self) -> Credentials:
        return await self.acredentials()

    def refresh_after_unauthorized(self, rejected: Credentials) -> Credentials:
        """Credentials to retry with after the backend refused `rejected`: newer ones, or a refresh."""
        return self.credentials(rejected)

    async def arefresh_after_unauthorized(self, rejected: Credentials) -> Credentials:
        return await self.acredentials(rejected)

    # -- deciding ------------------------------------------------------------------------------

    def _obtain(self, record: AuthRecord, *, forced: bool) -> AuthRecord:
        state = self._login_state(record.path)
        kept = self._without_refresh(state, record, forced)
        if kept is not None:
            return kept
        try:
            try:
                return self._flight(record, forced).result(timeout=time_left(None))
            except TimeoutError:
                raise _refresh_timeout(record) from None
        except CodexAuthRefreshError as exc:
            return self._fallback(state, record, forced, exc)

    async def _aobtain(self, record: AuthRecord, *, forced: bool) -> AuthRecord:
        state = self._login_state(record.path)
        kept = self._without_refresh(state, record, forced)
        if kept is not None:
            return kept
        try:
            waiting = asyncio.wrap_future(self._flight(record, forced))
            waiting.add_done_callback(_retrieved)
            try:
                return await asyncio.wait_for(asyncio.shield(waiting), time_left(None))
            except TimeoutError:
                raise _refresh_timeout(record) from None
        except CodexAuthRefreshError as exc:
            return self._fallback(state, record, forced, exc)

    @staticmethod
    def _without_refresh(state: LoginState, record: AuthRecord, forced: bool) -> AuthRecord | None:
        """After a failed refresh of this very token: keep using it while it works.

        A refusal is final (raise at once, no second request with a spent token); a passing
        failure is retried, after a cooldown while the token still works.
        """
        failure = state.failure_for(record)
        if failure is None:
            return None
        if failure.final:
            if not forced and record.usable():
                return record
            raise failure.again()
        recent = time.monotonic() - failure.at < config.REFRESH_COOLDOWN_SECONDS
        return record if recent and not forced and record.usable() else None

    @staticmethod
    def _fallback(
        state: LoginState, record: AuthRecord, forced: bool, exc: CodexAuthRefreshError
    ) -> AuthRecord:
        """A failed proactive refresh leaves a still-valid token in use; anything else raises."""
        if forced or not record.usable():
            raise exc
        if state.should_warn():
            left = record.credentials.expires_at
            when = (
                f"for {left - time.time():.0f} s more" if left is not None else "until the backend refuses it"
            )
            logger.warning("codex auth: %s The current access token is used %s.", exc.message, when)
        return record

    # -- refreshing ----------------------------------------------------------------------------

    def _flight(self, record: AuthRecord, forced: bool) -> concurrent.futures.Future[AuthRecord]:
        """The refresh of `record`'s token, started once in a worker thread for every waiter.

        Sync and async callers wait on it for as long as their call allows; the refresh itself
        is bounded by its own policy and always completes (or fails) on its own.
        """
        # by process too: a forked child inherits the dict, never the thread finishing its futures
        key = (os.getpid(), record.credentials.access_token)
        with self._flights_lock:
            future = self._flights.get(key)
            started = future is None
            if future is None:
                future = self._flights[key] = _refreshers().submit(self._refresh_blocking, record, forced)
        if started:
            # outside the lock: a refresh that already finished runs `_land`, which takes it, right here
            future.add_done_callback(functools.partial(_land, self._flights, self._flights_lock, key))
        return future

    def _refresh_blocking(self, stale: AuthRecord, forced: bool) -> AuthRecord:
        """Refresh `stale` unless someone did already: threads queue here, processes on the store's lock."""
        path = stale.path
        state = self._login_state(path)
        waiting_since = time.monotonic()
        with state.refresh_lock:
            current = self._load(path)
            if _superseded(current, stale, forced):
                return current
            shared = state.failure_for(current)
            if shared is not None and shared.at >= waiting_since:
                raise shared.again()  # the refresh we queued behind failed; do not repeat it
            try:
                store = self.store
                with store.locked(current, self.policy.lock_timeout):
                    current = self._reload(path)
                    if _superseded(current, stale, forced):
                        logger.debug("codex auth: another program refreshed %s; using its tokens", path)
                        return current
                    return self._rotate(store, current, forced)
            except CodexAuthRefreshError as exc:
                state.note_failure(current.refresh_token, exc)
                raise

    def _rotate(self, store: TokenStore, current: AuthRecord, forced: bool) -> AuthRecord:
        """Spend the refresh token and save the new tokens in the store; called under its lock."""
        path = current.path
        if current.refresh_token is None:
            raise CodexAuthRefreshError(
                f"The ChatGPT login in {path} has no refresh token, so it cannot be renewed. {LOGIN_HINT}",
                path=path,
            )
        reason = protocol.REFRESH_REASON_UNAUTHORIZED if forced else protocol.REFRESH_REASON_PROACTIVE
        with store.saving(current) as save:
            answer = request_tokens(current.refresh_token, reason, path, self.policy)
            try:
                record = parse_auth_data(merge_tokens(current.raw, answer), path)
            except CodexAuthTokenError:
                raise CodexAuthRefreshError(
                    f"The token endpoint answered the refresh of {path} with an access token that is "
                    f"not a JWT; the old refresh token is spent. {LOGIN_HINT}",
                    path=path,
                ) from None
            save(record)
        expires_at = record.credentials.expires_at
        logger.info(
            "codex auth: refreshed %s (%s); the new access token expires in %s s",
            path,
            reason,
            f"{expires_at - time.time():.0f}" if expires_at is not None else "?",
        )
        return record
