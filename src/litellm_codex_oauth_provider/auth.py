"""The Codex CLI login: reading `auth.json` and putting its credentials on each request.

`CodexAuth` is an `httpx.Auth` flow: it adds the bearer token and account header, and on a
401 asks the token manager for fresh credentials and sends the request once more.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import AsyncGenerator, Generator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import jwt

from . import settings
from .constants import HEADER_ACCOUNT_ID, JWT_AUTH_CLAIM
from .exceptions import LOGIN_HINT, CodexAuthFileNotFoundError, CodexAuthTokenError


@dataclass(frozen=True)
class Credentials:
    """What a request needs; the token is kept out of `repr` so it never lands in a log."""

    access_token: str = field(repr=False)
    account_id: str
    expires_at: float | None = None


def decode_jwt_claims(token: str) -> dict[str, Any]:
    """Claims of a JWT without verifying it: we only read `exp` and the account claim."""
    claims = jwt.decode(token, options={"verify_signature": False, "verify_exp": False, "verify_aud": False})
    if not isinstance(claims, dict):
        raise jwt.DecodeError("claims are not an object")
    return claims


@dataclass(frozen=True)
class AuthRecord:
    """A parsed `auth.json`; `raw` keeps every field so a write-back loses none."""

    path: Path
    raw: dict[str, Any] = field(repr=False)
    credentials: Credentials
    refresh_token: str | None = field(default=None, repr=False)
    last_refresh: str | None = None

    @property
    def access_claims(self) -> dict[str, Any]:
        return decode_jwt_claims(self.credentials.access_token)


def parse_auth_data(data: Any, path: Path) -> AuthRecord:
    """Validate the shape of an `auth.json` document; errors name the file, never a token."""
    if not isinstance(data, dict):
        raise CodexAuthTokenError(f"{path} does not hold a JSON object. {LOGIN_HINT}", path=path)
    tokens = data.get("tokens")
    if not isinstance(tokens, dict):
        mode = data.get("auth_mode")
        detail = f" (auth_mode is {mode!r}; this provider needs a ChatGPT login)" if mode else ""
        raise CodexAuthTokenError(f"{path} has no ChatGPT `tokens`{detail}. {LOGIN_HINT}", path=path)
    access_token = tokens.get("access_token")
    if not isinstance(access_token, str) or not access_token:
        raise CodexAuthTokenError(f"{path} has no `tokens.access_token`. {LOGIN_HINT}", path=path)
    try:
        claims = decode_jwt_claims(access_token)
    except jwt.PyJWTError:
        raise CodexAuthTokenError(
            f"The access token in {path} is not a valid JWT. {LOGIN_HINT}", path=path
        ) from None
    account_id = tokens.get("account_id")
    if not isinstance(account_id, str) or not account_id:
        auth_claim = claims.get(JWT_AUTH_CLAIM)
        account_id = auth_claim.get("chatgpt_account_id") if isinstance(auth_claim, dict) else None
    if not isinstance(account_id, str) or not account_id:
        raise CodexAuthTokenError(
            f"{path} names no ChatGPT account (no `tokens.account_id`, no account claim in the token). {LOGIN_HINT}",
            path=path,
        )
    exp = claims.get("exp")
    refresh_token = tokens.get("refresh_token")
    last_refresh = data.get("last_refresh")
    return AuthRecord(
        path=path,
        raw=data,
        credentials=Credentials(
            access_token=access_token,
            account_id=account_id,
            expires_at=float(exp) if isinstance(exp, int | float) else None,
        ),
        refresh_token=refresh_token if isinstance(refresh_token, str) and refresh_token else None,
        last_refresh=last_refresh if isinstance(last_refresh, str) else None,
    )


def read_auth_file(path: Path) -> AuthRecord:
    """Read and parse `auth.json`; a missing file says where we looked and how to log in."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CodexAuthFileNotFoundError(path) from None
    except OSError as exc:
        raise CodexAuthTokenError(f"Cannot read {path}: {exc.strerror}. {LOGIN_HINT}", path=path) from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CodexAuthTokenError(
            f"{path} is not valid JSON (line {exc.lineno}, column {exc.colno}). {LOGIN_HINT}", path=path
        ) from None
    return parse_auth_data(data, path)


class CodexTokenManager:
    """Hands out the current credentials of one login, re-reading the file only when it changed."""

    def __init__(
        self, auth_file: str | os.PathLike[str] | None = None, *, codex_home: str | None = None
    ) -> None:
        self._explicit_file = auth_file
        self._explicit_home = codex_home
        self._lock = threading.Lock()
        self._record: AuthRecord | None = None
        self._stamp: tuple[int, int] | None = None

    @property
    def path(self) -> Path:
        return settings.auth_file(self._explicit_file, self._explicit_home)

    def load(self) -> AuthRecord:
        """The parsed file, from memory unless its mtime or size changed since the last read."""
        path = self.path
        try:
            st = path.stat()
        except FileNotFoundError:
            raise CodexAuthFileNotFoundError(path) from None
        stamp = (st.st_mtime_ns, st.st_size)
        with self._lock:
            if self._record is not None and self._stamp == stamp and self._record.path == path:
                return self._record
        record = read_auth_file(path)
        with self._lock:
            self._record, self._stamp = record, stamp
        return record

    def get_credentials(self) -> Credentials:
        return self.load().credentials

    async def aget_credentials(self) -> Credentials:
        return self.get_credentials()

    def refresh_after_unauthorized(self, rejected: Credentials) -> Credentials:
        """Credentials to retry with after the backend refused `rejected`."""
        return self.get_credentials()

    async def arefresh_after_unauthorized(self, rejected: Credentials) -> Credentials:
        return self.refresh_after_unauthorized(rejected)


def _apply(request: httpx.Request, credentials: Credentials) -> None:
    request.headers["Authorization"] = f"Bearer {credentials.access_token}"
    request.headers[HEADER_ACCOUNT_ID] = credentials.account_id


class CodexAuth(httpx.Auth):
    """Adds the login to each request; on a 401, refreshes once and retries once."""

    def __init__(self, manager: CodexTokenManager) -> None:
        self.manager = manager

    def sync_auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        credentials = self.manager.get_credentials()
        _apply(request, credentials)
        response = yield request
        if response.status_code == 401:
            _apply(request, self.manager.refresh_after_unauthorized(credentials))
            yield request

    async def async_auth_flow(self, request: httpx.Request) -> AsyncGenerator[httpx.Request, httpx.Response]:
        credentials = await self.manager.aget_credentials()
        _apply(request, credentials)
        response = yield request
        if response.status_code == 401:
            _apply(request, await self.manager.arefresh_after_unauthorized(credentials))
            yield request
