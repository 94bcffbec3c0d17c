"""A login's contents: the tokens in `auth.json`, their claims, and when to refresh them.

Pure data, no file or network I/O: the parsed record every store hands out, the check of an
`auth.json` document's shape, and the merge of a token endpoint answer back into it.
"""

from __future__ import annotations

import copy
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jwt

from .. import config, protocol
from ..exceptions import LOGIN_HINT, CodexAuthTokenError
from ..protocol import HEADER_ACCOUNT_ID, JWT_AUTH_CLAIM


@dataclass(frozen=True)
class Credentials:
    """What a request needs; the token is kept out of `repr` so it never lands in a log."""

    access_token: str = field(repr=False)
    account_id: str
    expires_at: float | None = None

    def headers(self) -> dict[str, str]:
        """The two headers every backend request carries."""
        return {"Authorization": f"Bearer {self.access_token}", HEADER_ACCOUNT_ID: self.account_id}


def decode_jwt_claims(token: str) -> dict[str, Any]:
    """Claims of a JWT without verifying it: we only read `exp` and the account claim."""
    claims = jwt.decode(token, options={"verify_signature": False, "verify_exp": False, "verify_aud": False})
    if not isinstance(claims, dict):
        raise jwt.DecodeError("claims are not an object")
    return claims


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def parse_rfc3339(text: Any) -> float | None:
    """Epoch seconds of an RFC 3339 time such as `last_refresh` (the CLI writes nanoseconds)."""
    if not isinstance(text, str) or not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


def rfc3339_now() -> str:
    """`last_refresh` as the CLI writes it: RFC 3339 in UTC with a `Z`."""
    return datetime.now(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def refresh_due_at(claims: dict[str, Any], last_refresh: Any) -> float | None:
    """When to refresh: a margin before `exp`, else 8 days after `last_refresh`, else never.

    The margin is 60 s, or a quarter of the token's life when that is shorter, so a short-lived
    token is not refreshed the moment it arrives; both are far inside the CLI's 300 s.
    """
    exp = _number(claims.get("exp"))
    if exp is not None:
        iat = _number(claims.get("iat"))
        margin = config.REFRESH_MARGIN_SECONDS
        if iat is not None and exp > iat:
            margin = min(margin, (exp - iat) / 4)
        return exp - margin
    refreshed = parse_rfc3339(last_refresh)
    return None if refreshed is None else refreshed + protocol.REFRESH_MAX_AGE_SECONDS


@dataclass(frozen=True)
class AuthRecord:
    """A parsed `auth.json`; `raw` keeps every field so a write-back loses none."""

    path: Path
    raw: dict[str, Any] = field(repr=False)
    credentials: Credentials
    refresh_token: str | None = field(default=None, repr=False)
    last_refresh: str | None = None
    #: Epoch seconds after which a request should refresh first (computed once, not per request).
    refresh_at: float | None = None

    @property
    def access_claims(self) -> dict[str, Any]:
        return decode_jwt_claims(self.credentials.access_token)

    def due(self, now: float | None = None) -> bool:
        """True when the token should be refreshed before it is used."""
        return self.refresh_at is not None and (time.time() if now is None else now) >= self.refresh_at

    def usable(self, now: float | None = None) -> bool:
        """True while the access token has not expired (unknown expiry counts as usable)."""
        expires_at = self.credentials.expires_at
        now = time.time() if now is None else now
        return expires_at is None or now < expires_at - config.EXPIRY_SKEW_SECONDS


def _account_from_claims(claims: dict[str, Any]) -> str | None:
    auth_claim = claims.get(JWT_AUTH_CLAIM)
    account = auth_claim.get("chatgpt_account_id") if isinstance(auth_claim, dict) else None
    return account if isinstance(account, str) and account else None


#: `auth_mode` values the Codex CLI writes; errors name these and no other value.
_KNOWN_AUTH_MODES = frozenset({"chatgpt", "apikey", "api_key", "agent_identity", "personal_access_token"})


def parse_auth_data(data: Any, path: Path) -> AuthRecord:
    """Validate the shape of an `auth.json` document; errors name the file, never a token."""
    if not isinstance(data, dict):
        raise CodexAuthTokenError(f"{path} does not hold a JSON object. {LOGIN_HINT}", path=path)
    tokens = data.get("tokens")
    if not isinstance(tokens, dict):
        mode = data.get("auth_mode")
        # only modes the Codex CLI writes are named: an error must not echo a file's contents
        shown = f"{mode!r}" if mode in _KNOWN_AUTH_MODES else "not a ChatGPT login"
        detail = f" (auth_mode is {shown}; this provider needs a ChatGPT login)" if mode else ""
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
        account_id = _account_from_claims(claims)
    if not account_id:
        raise CodexAuthTokenError(
            f"{path} names no ChatGPT account (no `tokens.account_id`, no account claim in the token). {LOGIN_HINT}",
            path=path,
        )
    exp = _number(claims.get("exp"))
    refresh_token = tokens.get("refresh_token")
    last_refresh = data.get("last_refresh")
    return AuthRecord(
        path=path,
        raw=data,
        credentials=Credentials(access_token=access_token, account_id=account_id, expires_at=exp),
        refresh_token=refresh_token if isinstance(refresh_token, str) and refresh_token else None,
        last_refresh=last_refresh if isinstance(last_refresh, str) else None,
        refresh_at=refresh_due_at(claims, last_refresh),
    )


def merge_tokens(raw: dict[str, Any], answer: dict[str, Any]) -> dict[str, Any]:
    """The file with the token endpoint's answer in it; every other field, unknown ones too, kept."""
    data = copy.deepcopy(raw)
    tokens = dict(data.get("tokens") or {})
    tokens["access_token"] = answer["access_token"]
    for key in ("id_token", "refresh_token"):
        value = answer.get(key)
        if isinstance(value, str) and value:
            tokens[key] = value
    account = _account_from_token(tokens.get("id_token")) or _account_from_token(tokens["access_token"])
    if account:
        tokens["account_id"] = account
    data["tokens"] = tokens
    data["last_refresh"] = rfc3339_now()
    return data


def _account_from_token(token: Any) -> str | None:
    if not isinstance(token, str):
        return None
    try:
        return _account_from_claims(decode_jwt_claims(token))
    except jwt.PyJWTError:
        return None
