"""The Codex release's prompt file per model family: the instructions of old models the catalog lacks.

Fetched from `CODEX_INSTRUCTIONS_URL` when set (`{file}` in it is replaced, else the file name
is appended), otherwise from the latest Codex release on GitHub; cached on disk with its ETag
for 15 minutes. The login never goes there.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx

from .. import config, protocol
from ..bounded import LimitExceeded, read_regular_file
from ..protocol import user_agent
from .flow import (
    FLIGHTS,
    Blocking,
    Flow,
    Get,
    HTTPStatus,
    arun,
    describe,
    read_json,
    run,
    trusted_time,
    write_private,
)
from .prompts import prompt_file_for

logger = logging.getLogger(__name__)


@dataclass
class _Prompt:
    text: str | None
    etag: str | None
    url: str | None
    tag: str | None
    checked_at: float
    retry_at: float = 0.0


class PromptStore:
    """The prompt file per model family (see the module docstring); `clock` is the wall clock, for tests."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._entries: dict[str, _Prompt] = {}
        self._clock = clock

    def get(self, slug: str) -> str | None:
        """The prompt file for `slug`'s family, or None when it cannot be had."""
        return run(self._flow(slug), _client)

    async def aget(self, slug: str) -> str | None:
        """`get` without blocking the event loop."""
        return await arun(self._flow(slug), _aclient)

    @staticmethod
    def _key(slug: str) -> tuple[str, str]:
        file = prompt_file_for(slug)
        source = config.CODEX_INSTRUCTIONS_URL.get() or "github"
        return f"prompt|{os.environ.get(config.CODEX_CACHE_DIR.name, '')}|{source}|{file}", file

    def _memo(self, key: str, now: float) -> tuple[bool, str | None]:
        entry = self._entries.get(key)
        if entry is not None and (self._is_fresh(entry) or now < entry.retry_at):
            return True, entry.text
        return False, None

    def _is_fresh(self, entry: _Prompt) -> bool:
        return self._clock() - entry.checked_at < config.INSTRUCTIONS_TTL_SECONDS

    def _flow(self, slug: str) -> Flow[str | None]:
        """Every decision of handing out a prompt file: memory, then one shared refresh."""
        key, file = self._key(slug)
        hit, text = self._memo(key, self._clock())
        if hit:
            return text
        held = self._entries.get(key)
        stale = held.text if held is not None and held.text else None
        return (yield from FLIGHTS.share(key, self._refresh(key, file), stale=stale, fallback=lambda: None))

    def _refresh(self, key: str, file: str) -> Flow[str | None]:
        """The disk first, then the file: from the configured URL, else from the latest release."""
        folder = config.CODEX_CACHE_DIR.get() / "instructions"
        entry = yield Blocking(self._consult_disk, (key, file, folder))
        if entry is not None and self._is_fresh(entry):
            return entry.text
        try:
            deadline = time.monotonic() + config.PROMPT_TIMEOUT_SECONDS  # for both requests together
            url, tag = _override_url(file), None
            if url is None:
                tag = _release_tag((yield _get(protocol.CODEX_RELEASE_API_URL, deadline)))
                url = protocol.CODEX_PROMPT_URL_TEMPLATE.format(tag=tag, file=file)
            response = yield _get(url, deadline, _conditional(entry, url))
        except Exception as exc:
            return self._failed(key, file, exc)
        return (yield Blocking(self._apply, (key, file, folder, entry, url, tag, response)))

    def _consult_disk(self, key: str, file: str, folder: Path) -> _Prompt | None:
        entry = self._entries.get(key)
        if entry is not None and entry.text:
            return entry
        meta = read_json(folder / f"{file}.meta.json")
        if meta is None or not isinstance(meta.get("fetched_at"), int | float):
            return entry
        try:
            text = read_regular_file(folder / file, config.MAX_PROMPT_BYTES)[0].decode("utf-8")
        except (OSError, ValueError, LimitExceeded):
            return entry
        fetched_at = trusted_time(meta["fetched_at"], self._clock())
        etag = meta.get("etag") if fetched_at != float("-inf") else None
        entry = self._entries[key] = _Prompt(text, etag, meta.get("url"), meta.get("tag"), fetched_at)
        return entry

    def _apply(
        self,
        key: str,
        file: str,
        folder: Path,
        entry: _Prompt | None,
        url: str,
        tag: str | None,
        response: httpx.Response,
    ) -> str | None:
        now = self._clock()
        if response.status_code == 304 and entry is not None and entry.text:
            entry.checked_at, entry.retry_at = now, 0.0
        elif response.status_code == 200 and response.text.strip():
            entry = self._entries[key] = _Prompt(response.text, response.headers.get("etag"), url, tag, now)
            _save_prompt(folder, file, entry)
            return entry.text
        else:
            return self._failed(key, file, HTTPStatus(response.status_code))
        with contextlib.suppress(OSError):
            write_private(folder / f"{file}.meta.json", _meta(entry, now))
        return entry.text

    def _failed(self, key: str, file: str, exc: BaseException) -> str | None:
        now = self._clock()
        entry = self._entries.get(key)
        if entry is None:
            entry = self._entries[key] = _Prompt(None, None, None, None, checked_at=float("-inf"))
        first = entry.retry_at == 0.0
        entry.retry_at = now + min(config.INSTRUCTIONS_TTL_SECONDS, config.CATALOG_FAILURE_BACKOFF_SECONDS)
        if first:
            logger.info("codex: cannot fetch the Codex prompt file %s (%s)", file, describe(exc))
        return entry.text


# -- the requests (GitHub or the configured URL; never the login) -------------------------------------


def _headers() -> dict[str, str]:
    return {"User-Agent": user_agent(), "Accept": "application/vnd.github+json, text/plain;q=0.9"}


def _client() -> httpx.Client:
    return httpx.Client(timeout=config.PROMPT_TIMEOUT_SECONDS, follow_redirects=True, headers=_headers())


async def _aclient() -> httpx.AsyncClient:
    # Building a client loads CA certificates from disk: done off the loop.
    return await asyncio.to_thread(
        httpx.AsyncClient, timeout=config.PROMPT_TIMEOUT_SECONDS, follow_redirects=True, headers=_headers()
    )


def _get(url: str, deadline: float, headers: dict[str, str] | None = None) -> Get:
    """A prompt file or the release API: up to `MAX_PROMPT_BYTES`, before the prompt's deadline."""
    return Get(
        url,
        cap=config.MAX_PROMPT_BYTES,
        deadline=deadline,
        seconds=config.PROMPT_TIMEOUT_SECONDS,
        what=url,
        headers=headers or {},
    )


def _release_tag(response: httpx.Response) -> str:
    response.raise_for_status()
    tag = response.json().get("tag_name")
    if not isinstance(tag, str) or not tag:
        raise ValueError("the latest Codex release names no tag")
    return tag


def _override_url(file: str) -> str | None:
    override = config.CODEX_INSTRUCTIONS_URL.get()
    if override is None:
        return None
    return override.replace("{file}", file) if "{file}" in override else f"{override.rstrip('/')}/{file}"


def _conditional(entry: _Prompt | None, url: str) -> dict[str, str]:
    """`If-None-Match` only for the very URL the cached copy came from (same release tag)."""
    if entry is not None and entry.text and entry.etag and entry.url == url:
        return {"If-None-Match": entry.etag}
    return {}


# -- the disk cache -----------------------------------------------------------------------------------


def _meta(entry: _Prompt, fetched_at: float) -> bytes:
    meta = {"etag": entry.etag, "url": entry.url, "tag": entry.tag, "fetched_at": fetched_at}
    return json.dumps(meta).encode("utf-8")


def _save_prompt(folder: Path, file: str, entry: _Prompt) -> None:
    try:
        write_private(folder / file, (entry.text or "").encode("utf-8"))
        write_private(folder / f"{file}.meta.json", _meta(entry, entry.checked_at))
    except OSError as exc:
        logger.warning("codex: cannot write the prompt cache: %s", describe(exc))


_PROMPTS = PromptStore()


def fetch_codex_instructions(normalized_model: str = "gpt-5.1-codex") -> str | None:
    """The Codex prompt file for the model's family (cached 15 min with its ETag); None if unavailable."""
    return _PROMPTS.get(normalized_model)


async def afetch_codex_instructions(normalized_model: str = "gpt-5.1-codex") -> str | None:
    """`fetch_codex_instructions` without blocking the event loop."""
    return await _PROMPTS.aget(normalized_model)
