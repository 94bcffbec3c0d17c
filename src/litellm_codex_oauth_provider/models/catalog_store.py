"""The backend's model catalog, kept in memory and on disk per base URL with its ETag.

`GET {base}/models?client_version=…` goes with the login. Within the TTL the catalog is used
without a request; after it, it is revalidated with `If-None-Match` (a 304 only renews it); a
failed fetch falls back to the last cached catalog, else to the one bundled in the package. At
most one fetch per base URL runs at a time in the process; a caller that already holds a stale
copy uses it rather than wait. On the async path a fresh copy is returned with no I/O at all,
and the disk work of a refresh runs in a worker thread. Cache files hold the response body and
ETag only, never a header or a token.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from .. import config, protocol
from ..bounded import LimitExceeded, read_regular_file, time_left
from ..protocol import codex_headers
from ..transport import AsyncCodexOpenAIClient, CodexOpenAIClient
from .catalog import SOURCE_CACHE, SOURCE_LIVE, SOURCE_STALE, ModelCatalog, bundled_catalog
from .flow import (
    FLIGHTS,
    Blocking,
    Flow,
    Get,
    HTTPStatus,
    alend,
    arun,
    describe,
    digest,
    lend,
    limit,
    read_json,
    run,
    trusted_time,
    write_private,
)
from .prompt_store import afetch_codex_instructions, fetch_codex_instructions

logger = logging.getLogger(__name__)

CatalogListener = Callable[[ModelCatalog], None]

_CATALOG = "the model catalog"


def _catalog_get(base_url: str, *, seconds: float, etag: str | None = None) -> Get:
    """The catalog GET for `base_url`: at most `MAX_CATALOG_BYTES`, within `seconds` in all."""
    headers = {**codex_headers(), "Accept": "application/json"}
    if etag:
        headers["If-None-Match"] = etag
    deadline, seconds = limit(seconds)
    return Get(
        base_url.rstrip("/") + protocol.MODELS_PATH,
        cap=config.MAX_CATALOG_BYTES,
        deadline=deadline,
        seconds=seconds,
        what=_CATALOG,
        params={"client_version": config.CODEX_CLIENT_VERSION.get()},
        headers=headers,
    )


def _timeout() -> float:
    """`CODEX_CATALOG_TIMEOUT`, at most half of what the call has left: the catalog has a fallback, the turn none."""
    configured = config.CODEX_CATALOG_TIMEOUT.get()
    return time_left(configured, share=0.5) or configured


@dataclass
class _Entry:
    """A catalog the backend gave us; `checked_at` is when it last confirmed it (wall clock)."""

    catalog: ModelCatalog
    etag: str | None
    checked_at: float
    retry_at: float = 0.0  # after a failed fetch: use this copy without asking until then


def _checked(response: httpx.Response) -> int:
    if response.status_code not in (200, 304):
        raise HTTPStatus(response.status_code)
    return response.status_code


class _CatalogFiles:
    """The disk cache of one catalog: `<key>.json` (the body as received) and `<key>.meta.json`."""

    def __init__(self, folder: Path, base_url: str, client_version: str) -> None:
        name = digest(f"{base_url}|{client_version}")
        self.body = folder / "models" / f"{name}.json"
        self.meta = folder / "models" / f"{name}.meta.json"
        self.base_url = base_url
        self.client_version = client_version

    def read_meta(self) -> dict[str, Any] | None:
        meta = read_json(self.meta)
        if meta is None or meta.get("base_url") != self.base_url:
            return None
        if meta.get("client_version") != self.client_version:
            return None
        return meta if isinstance(meta.get("fetched_at"), int | float) else None

    def write_meta(self, etag: str | None, fetched_at: float) -> None:
        meta = {
            "base_url": self.base_url,
            "client_version": self.client_version,
            "etag": etag,
            "fetched_at": fetched_at,
        }
        write_private(self.meta, json.dumps(meta).encode("utf-8"))

    def write(self, body: bytes, etag: str | None, fetched_at: float) -> None:
        write_private(self.body, body)
        self.write_meta(etag, fetched_at)


class CatalogStore:
    """Hands out the model catalog for a backend base URL (see the module docstring).

    `on_catalog` is called with every catalog newly read from the backend or the disk (the
    provider registers the models with LiteLLM there); `clock` is the wall clock, for tests;
    `ttl` replaces the `CODEX_CATALOG_TTL` setting (0: ask the backend on every call).
    """

    def __init__(
        self,
        *,
        on_catalog: CatalogListener | None = None,
        clock: Callable[[], float] = time.time,
        ttl: float | None = None,
    ) -> None:
        self._bundled = bundled_catalog()
        self._entries: dict[str, _Entry] = {}
        self._failed_until: dict[str, float] = {}
        self._failing: set[str] = set()
        self._on_catalog = on_catalog
        self._clock = clock
        self._ttl_setting = ttl

    @property
    def bundled(self) -> ModelCatalog:
        return self._bundled

    # -- the public API: each is one flow, run by the sync or the async driver --

    def catalog(self, client: CodexOpenAIClient) -> ModelCatalog:
        """The catalog for the client's base URL; blocks only when a fetch is due."""
        return run(self._catalog(str(client.base_url)), lend(client.http_client))

    async def acatalog(self, client: AsyncCodexOpenAIClient) -> ModelCatalog:
        """`catalog` for the async path: no I/O when fresh, disk work in a thread, never blocks the loop."""
        return await arun(self._catalog(str(client.base_url)), alend(client.http_client))

    def probe(self, client: CodexOpenAIClient) -> int:
        """Ask the backend for the catalog now (with `If-None-Match`): the cheap health check.

        Proves the login, the network path and the backend without a model turn; raises the
        client's error when any of them fails, and returns the HTTP status (200 or 304).
        """
        return run(self._probe(str(client.base_url)), lend(client.http_client))

    async def aprobe(self, client: AsyncCodexOpenAIClient) -> int:
        return await arun(self._probe(str(client.base_url)), alend(client.http_client))

    def cached_catalog(self, base_url: str | None = None) -> ModelCatalog:
        """The catalog for `base_url` from memory or disk, else the bundled one; never a request."""
        base_url = base_url or config.CODEX_API_BASE.get()
        entry = self._consult_disk(self._key(base_url), self._files(base_url))
        return entry.catalog if entry is not None else self._bundled

    def instructions_fallback(self, slug: str) -> str | None:
        """The Codex prompt file for a model the catalog gives no instructions for."""
        return fetch_codex_instructions(slug)

    async def ainstructions_fallback(self, slug: str) -> str | None:
        return await afetch_codex_instructions(slug)

    # -- keys and the in-memory copy (no I/O) --

    @staticmethod
    def _key(base_url: str) -> str:
        """Cheap on purpose (the hot path): the raw settings, not the resolved cache folder."""
        return f"models|{os.environ.get(config.CODEX_CACHE_DIR.name, '')}|{base_url.rstrip('/')}|{config.CODEX_CLIENT_VERSION.get()}"

    @staticmethod
    def _files(base_url: str) -> _CatalogFiles:
        return _CatalogFiles(
            config.CODEX_CACHE_DIR.get(), base_url.rstrip("/"), config.CODEX_CLIENT_VERSION.get()
        )

    def _memo(self, key: str, now: float) -> ModelCatalog | None:
        entry = self._entries.get(key)
        if entry is not None:
            if self._is_fresh(entry.checked_at) or now < entry.retry_at:
                return entry.catalog
            return None
        if now < self._failed_until.get(key, 0.0):
            return self._bundled
        return None

    def _stale(self, key: str) -> ModelCatalog | None:
        entry = self._entries.get(key)
        return entry.catalog if entry is not None else None

    def _fallback(self, key: str) -> ModelCatalog:
        stale = self._stale(key)
        return stale if stale is not None else self._bundled

    def _ttl(self) -> float:
        return config.CODEX_CATALOG_TTL.get() if self._ttl_setting is None else self._ttl_setting

    def _is_fresh(self, checked_at: float) -> bool:
        """Whether a copy the backend confirmed at `checked_at` is within the TTL."""
        return self._clock() - checked_at < self._ttl()

    # -- the flows --

    def _catalog(self, base_url: str) -> Flow[ModelCatalog]:
        """Every decision of handing out a catalog: memory, then one shared refresh, else the fallback."""
        key = self._key(base_url)
        hit = self._memo(key, self._clock())
        if hit is not None:
            return hit
        refresh = self._refresh(key, base_url)
        return (
            yield from FLIGHTS.share(
                key, refresh, stale=self._stale(key), fallback=lambda: self._fallback(key)
            )
        )

    def _refresh(self, key: str, base_url: str) -> Flow[ModelCatalog]:
        """The disk first (another process may have fetched it), then the backend."""
        files = self._files(base_url)
        entry = yield Blocking(self._consult_disk, (key, files))
        if entry is not None and self._is_fresh(entry.checked_at):
            return entry.catalog
        try:
            response = yield _catalog_get(base_url, seconds=_timeout(), etag=entry.etag if entry else None)
        except Exception as exc:
            return self._failed(key, files, exc)
        return (yield Blocking(self._apply, (key, files, entry, response)))

    def _probe(self, base_url: str) -> Flow[int]:
        entry = self._entries.get(self._key(base_url))
        response = yield _catalog_get(base_url, seconds=_timeout(), etag=entry.etag if entry else None)
        return _checked(response)

    # -- the disk and the answer (run by the drivers as `Blocking` steps) --

    def _consult_disk(self, key: str, files: _CatalogFiles) -> _Entry | None:
        """The in-memory entry, renewed or replaced by what another process (or run) cached."""
        entry = self._entries.get(key)
        meta = files.read_meta()
        if meta is None:
            return entry
        fetched_at, etag = trusted_time(meta["fetched_at"], self._clock()), meta.get("etag")
        if fetched_at == float("-inf"):
            etag = None  # a copy with an impossible time is fetched again in full, never revalidated
        if entry is not None and (fetched_at <= entry.checked_at or (etag and etag == entry.etag)):
            if fetched_at > entry.checked_at:  # another process revalidated it
                entry.checked_at, entry.retry_at = fetched_at, 0.0
                if self._is_fresh(entry.checked_at) and not entry.catalog.authoritative:
                    entry.catalog = entry.catalog.with_source(SOURCE_CACHE)
            return entry
        try:
            payload = json.loads(read_regular_file(files.body, config.MAX_CATALOG_BYTES)[0])
            source = SOURCE_CACHE if self._is_fresh(fetched_at) else SOURCE_STALE
            catalog = ModelCatalog.from_payload(payload, source=source, etag=etag)
        except (OSError, ValueError, LimitExceeded) as exc:
            logger.debug("codex: ignoring the unreadable catalog cache %s: %s", files.body, describe(exc))
            return entry
        entry = self._entries[key] = _Entry(catalog, etag if isinstance(etag, str) else None, fetched_at)
        self._notify(catalog)
        return entry

    def _apply(
        self, key: str, files: _CatalogFiles, entry: _Entry | None, response: httpx.Response
    ) -> ModelCatalog:
        """Take the backend's answer: a 304 renews `entry` without a parse; a 200 replaces it."""
        now = self._clock()
        etag = response.headers.get("etag")
        if response.status_code == 304 and entry is not None:
            entry.checked_at, entry.retry_at = now, 0.0
            entry.etag = etag or entry.etag
            entry.catalog = entry.catalog.with_source(SOURCE_LIVE)
            self._recovered(key)
            self._save(lambda: files.write_meta(entry.etag, now))
            return entry.catalog
        if response.status_code != 200:
            return self._failed(key, files, HTTPStatus(response.status_code))
        try:
            catalog = ModelCatalog.from_payload(json.loads(response.content), source=SOURCE_LIVE, etag=etag)
            if not len(catalog):
                raise ValueError("the catalog lists no models")
        except ValueError as exc:
            return self._failed(key, files, exc)
        self._entries[key] = _Entry(catalog, etag, now)
        self._recovered(key)
        self._save(lambda: files.write(response.content, etag, now))
        self._notify(catalog)
        return catalog

    def _failed(self, key: str, files: _CatalogFiles, exc: BaseException) -> ModelCatalog:
        """Use the last cached catalog (else the bundled one) and do not ask again for a while."""
        retry_at = self._clock() + min(self._ttl(), config.CATALOG_FAILURE_BACKOFF_SECONDS)
        entry = self._entries.get(key)
        if entry is not None:
            entry.retry_at = retry_at
            entry.catalog = entry.catalog.with_source(SOURCE_STALE)
            fallback = entry.catalog
        else:
            self._failed_until[key] = retry_at
            fallback = self._bundled
        if key not in self._failing:
            self._failing.add(key)
            logger.warning(
                "codex: cannot fetch the model catalog from %s (%s); using the %s catalog",
                files.base_url,
                describe(exc),
                "last cached" if entry is not None else "bundled",
            )
        return fallback

    def _recovered(self, key: str) -> None:
        self._failing.discard(key)
        self._failed_until.pop(key, None)

    @staticmethod
    def _save(write: Callable[[], None]) -> None:
        try:
            write()
        except OSError as exc:
            logger.warning("codex: cannot write the model catalog cache: %s", describe(exc))

    def _notify(self, catalog: ModelCatalog) -> None:
        if self._on_catalog is None:
            return
        try:
            self._on_catalog(catalog)
        except Exception as exc:  # registering with LiteLLM must never fail a call
            logger.warning("codex: could not register the catalog's models with LiteLLM: %s", describe(exc))
