"""The fake's OAuth side: single-use rotating refresh tokens, and the access tokens it issued.

A refresh token works once: spending it mints a new access/id/refresh set and marks it spent, so
presenting it again answers `refresh_token_reused`, the error that signs a real user out.
"""

from __future__ import annotations

import threading
import time
import uuid
from dataclasses import asdict, dataclass
from typing import Any

from ..logins import decode_jwt, make_access_token, make_id_token
from .scenarios import token_error

REUSED = "refresh_token_reused"


@dataclass(frozen=True)
class Identity:
    """The login a refresh token belongs to: the claims of every token minted from it."""

    account_id: str = "acct-123"
    plan: str = "plus"
    user_id: str = "user-123"
    email: str = "user@example.com"


class TokenIssuer:
    """Which refresh tokens are live, spent or expired, and which access tokens were issued; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._live: dict[str, Identity] = {}
        self._spent: set[str] = set()
        self._expired: set[str] = set()
        self._access: set[str] = set()

    def accept_refresh(self, refresh_token: str, identity: Identity) -> None:
        with self._lock:
            self._live[refresh_token] = identity
            self._spent.discard(refresh_token)

    def accept_access(self, access_token: str) -> None:
        with self._lock:
            self._access.add(access_token)

    def expire_refresh(self, refresh_token: str) -> None:
        with self._lock:
            self._live.pop(refresh_token, None)
            self._expired.add(refresh_token)

    def forget(self, refresh_token: str) -> None:
        with self._lock:
            self._live.pop(refresh_token, None)

    def is_live(self, refresh_token: str) -> bool:
        with self._lock:
            return refresh_token in self._live

    def rotate(self, refresh_token: str, lifetime: int) -> tuple[int, dict[str, Any]]:
        """Spend a refresh token: new tokens once, an error code (`REUSED` for a spent one) every other time."""
        with self._lock:
            identity = self._live.pop(refresh_token, None)
            if identity is not None:
                self._spent.add(refresh_token)
                return 200, self._mint(identity, lifetime)
            if refresh_token in self._spent:
                message = "Your refresh token has already been used to generate a new access token. Please try signing in again."
                return 401, token_error(REUSED, message)
            if refresh_token in self._expired:
                return 401, token_error("refresh_token_expired", "Your refresh token has expired.")
            return 401, token_error("refresh_token_invalidated", "Your refresh token has been invalidated.")

    def issued(self, access_token: str | None) -> bool:
        """Whether this issuer handed out (or was told to accept) `access_token`, and it has not expired."""
        with self._lock:
            if access_token is None or access_token not in self._access:
                return False
        try:
            expires = decode_jwt(access_token).get("exp")
        except Exception:  # an opaque token registered with accept_access
            return True
        return expires is None or expires > time.time()

    def _mint(self, identity: Identity, lifetime: int) -> dict[str, Any]:
        """New tokens for a login, as the token endpoint answers; the caller holds the lock."""
        claims = asdict(identity)
        access = make_access_token(expires_in=lifetime, **claims)
        refresh = f"rt-{uuid.uuid4().hex}"
        self._access.add(access)
        self._live[refresh] = identity
        return {
            "access_token": access,
            "id_token": make_id_token(expires_in=lifetime, **claims),
            "refresh_token": refresh,
            "expires_in": lifetime,
            "token_type": "Bearer",
            "scope": "openid profile email offline_access",
        }
