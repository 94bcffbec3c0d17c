"""Fake Codex CLI logins: JWTs and `$CODEX_HOME/auth.json` files in the CLI's exact shape.

The tokens are HS256-signed with a dummy key; the real clients read the claims without
verifying the signature, so only the claims matter.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jwt

CLIENT_ID = "app_EMoamEEZ73f0CkXaXp7hrann"
AUTH_CLAIM = "https://api.openai.com/auth"
PROFILE_CLAIM = "https://api.openai.com/profile"
ISSUER = "https://auth.openai.com"

# Long enough that pyjwt does not warn about a short HMAC key; it protects nothing.
_DUMMY_KEY = "fake-codex-dummy-signing-key-not-a-secret"


def make_jwt(claims: dict[str, Any]) -> str:
    """Encode `claims` as an HS256 JWT signed with a dummy key."""
    return jwt.encode(claims, _DUMMY_KEY, algorithm="HS256")


def decode_jwt(token: str) -> dict[str, Any]:
    """Read a JWT's claims without checking the signature, as the Codex clients do."""
    return jwt.decode(token, options={"verify_signature": False})


def _auth_claim(account_id: str, plan: str, user_id: str) -> dict[str, Any]:
    return {
        "chatgpt_account_id": account_id,
        "chatgpt_plan_type": plan,
        "chatgpt_user_id": user_id,
        "user_id": user_id,
    }


def _base_claims(expires_in: float | None, now: float | None, audience: str) -> dict[str, Any]:
    issued = int(time.time() if now is None else now)
    claims: dict[str, Any] = {"iss": ISSUER, "aud": audience, "iat": issued, "jti": uuid.uuid4().hex}
    if expires_in is not None:
        claims["exp"] = int(issued + expires_in)
    return claims


def make_access_token(
    *,
    account_id: str = "acct-123",
    plan: str = "plus",
    user_id: str = "user-123",
    email: str = "user@example.com",
    expires_in: float | None = 3600,
    now: float | None = None,
) -> str:
    """An access token as ChatGPT issues it; `expires_in=None` leaves out `exp`."""
    claims = _base_claims(expires_in, now, "https://api.openai.com/v1")
    claims["sub"] = user_id
    claims[AUTH_CLAIM] = _auth_claim(account_id, plan, user_id)
    claims[PROFILE_CLAIM] = {"email": email, "email_verified": True}
    return make_jwt(claims)


def make_id_token(
    *,
    account_id: str = "acct-123",
    plan: str = "plus",
    user_id: str = "user-123",
    email: str = "user@example.com",
    expires_in: float | None = 3600,
    now: float | None = None,
) -> str:
    """An OpenID id token: like the access token, plus the top-level `email`."""
    claims = _base_claims(expires_in, now, CLIENT_ID)
    claims["sub"] = user_id
    claims["email"] = email
    claims["email_verified"] = True
    claims[AUTH_CLAIM] = _auth_claim(account_id, plan, user_id)
    return make_jwt(claims)


def rfc3339_utc(moment: datetime | None = None) -> str:
    """`last_refresh` format: RFC 3339 in UTC with a `Z` suffix."""
    moment = moment or datetime.now(UTC)
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def make_auth_json(
    account_id: str = "acct-123",
    expires_in: float | None = 3600,
    refresh_token: str = "rt-1",
    plan: str = "plus",
    email: str = "user@example.com",
    last_refresh: datetime | str | None = None,
    extra: dict[str, Any] | None = None,
    *,
    user_id: str = "user-123",
    access_token: str | None = None,
) -> dict[str, Any]:
    """The content of `auth.json` for a ChatGPT login; `extra` adds top-level fields."""
    identity = {"account_id": account_id, "plan": plan, "user_id": user_id, "email": email}
    if access_token is None:
        access_token = make_access_token(expires_in=expires_in, **identity)
    if not isinstance(last_refresh, str):
        last_refresh = rfc3339_utc(last_refresh)
    data: dict[str, Any] = {
        "auth_mode": "chatgpt",
        "OPENAI_API_KEY": None,
        "tokens": {
            "id_token": make_id_token(expires_in=expires_in, **identity),
            "access_token": access_token,
            "refresh_token": refresh_token,
            "account_id": account_id,
        },
        "last_refresh": last_refresh,
    }
    data.update(extra or {})
    return data


def write_auth_json(codex_home: Path, data: dict[str, Any]) -> Path:
    """Write `data` as `codex_home/auth.json` with mode 0600 (the CLI's mode)."""
    codex_home = Path(codex_home)
    codex_home.mkdir(parents=True, exist_ok=True)
    path = codex_home / "auth.json"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(data, handle, indent=2)
    os.chmod(path, 0o600)  # O_CREAT's mode does not apply to an existing file
    return path


def write_auth_file(codex_home: Path, **kw: Any) -> Path:
    """`make_auth_json(**kw)` written to `codex_home/auth.json`."""
    return write_auth_json(codex_home, make_auth_json(**kw))


def read_auth_file(codex_home: Path) -> dict[str, Any]:
    """The parsed `codex_home/auth.json`."""
    return json.loads((Path(codex_home) / "auth.json").read_text(encoding="utf-8"))
