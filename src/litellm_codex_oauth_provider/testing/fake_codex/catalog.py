"""The model catalog `/models` serves: the Codex CLI 0.169.0 catalog as captured, with an ETag."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

CATALOG_FILE = Path(__file__).parent / "data" / "models.json"


def load_catalog() -> dict[str, Any]:
    """A fresh copy of the captured catalog (tests may change theirs)."""
    return json.loads(CATALOG_FILE.read_text(encoding="utf-8"))


def catalog_body(catalog: dict[str, Any]) -> tuple[bytes, str]:
    """The JSON body of `catalog` and its strong ETag (a hash of the body, so it changes with it)."""
    payload = json.dumps(catalog).encode()
    return payload, '"' + hashlib.sha256(payload).hexdigest()[:32] + '"'


def etag_matches(if_none_match: str | None, etag: str) -> bool:
    """Whether `if-none-match` names `etag` (weak tags compare equal, `*` matches any)."""
    if not if_none_match:
        return False
    candidates = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
    return "*" in candidates or etag in candidates
