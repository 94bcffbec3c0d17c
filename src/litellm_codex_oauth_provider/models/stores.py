"""Remote resources: the backend's model catalog, and the Codex prompt files for old models.

The catalog (`GET {base}/models?client_version=…`, with the login) is kept in memory and on disk
per base URL with its ETag. Within the TTL it is used without a request; after it, it is
revalidated with `If-None-Match` (a 304 only renews it); a failed fetch falls back to the last
cached catalog, else to the one bundled in the package. At most one fetch per resource runs at a
time in the process; a caller that already holds a stale copy uses it rather than wait. On the
async path a fresh copy is returned with no I/O at all, and the disk work of a refresh runs in a
worker thread. Cache files hold the response body and ETag only, never a header or a token.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import math
import os
import tempfile
import threading
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import httpx

from .. import constants as C
from .. import settings
from ..bounded import (
    LimitExceeded,
    aread_capped,
    budget,
    buffered,
    private_folder,
    read_capped,
    read_regular_file,
    time_left,
)
from ..protocol import ACCEPT_JSON, codex_headers, user_agent
from ..transport import AsyncCodexOpenAIClient, CodexOpenAIClient
from .catalog import SOURCE_CACHE, SOURCE_LIVE, SOURCE_STALE, ModelCatalog, bundled_catalog
from .prompts import prompt_file_for

logger = logging.getLogger(__name__)

T = TypeVar("T")
CatalogListener = Callable[[ModelCatalog], None]


# -- small shared machinery ---------------------------------------------------------------------------


class _Flights:
    """One refresh per key at a time in the process, across threads and event loops.

    The first caller leads and resolves a `concurrent.futures.Future` that the others wait on
    (sync: `.result()`, async: `wrap_future`). The future is marked running at once so that a
    cancelled waiter cannot cancel it for everyone else.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._running: dict[str, Future[Any]] = {}

    def join(self, key: str) -> tuple[Future[Any], bool]:
        with self._lock:
            future = self._running.get(key)
            if future is not None:
                return future, False
            future = self._running[key] = Future()
            future.set_running_or_notify_cancel()
            return future, True

    def finish(self, key: str, future: Future[Any], result: Any) -> None:
        with self._lock:
            if self._running.get(key) is future:
                del self._running[key]
        if not future.done():
            future.set_result(result)


_FLIGHTS = _Flights()


def _atomic_write(path: Path, data: bytes) -> None:
    """Write `path` (mode 0600, in a 0700 folder) through a temporary file and a rename."""
    private_folder(path.parent)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=path.parent)  # mode 0600
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(read_regular_file(path, _MAX_META_BYTES)[0])
    except (OSError, ValueError, LimitExceeded):
        return None
    return data if isinstance(data, dict) else None


_MAX_META_BYTES = 64 << 10
_CATALOG = "the model catalog"


def _trusted_time(value: Any, now: float) -> float:
    """A cache's `fetched_at`, or minus infinity (stale) when it is not a time in the past.

    A time in the future would keep a copy fresh for ever: whoever wrote it is not trusted.
    """
    if isinstance(value, bool) or not isinstance(value, int | float):
        return float("-inf")
    moment = float(value)
    return moment if math.isfinite(moment) and moment <= now else float("-inf")


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:24]


def _describe(exc: BaseException) -> str:
    """An error for a log line: class and message, which never carry request headers."""
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


class _HTTPStatus(Exception):
    def __init__(self, status: int) -> None:
        super().__init__(f"HTTP {status}")
        self.status = status


async def _in_thread(func: Callable[..., T], *args: Any) -> T:
    return await asyncio.to_thread(func, *args)


# -- the model catalog --------------------------------------------------------------------------------


@dataclass
class _Entry:
    """A catalog the backend gave us; `checked_at` is when it last confirmed it (wall clock)."""

    catalog: ModelCatalog
    etag: str | None
    checked_at: float
    retry_at: float = 0.0  # after a failed fetch: use this copy without asking until then


@dataclass(frozen=True)
class _Answer:
    status: int
    body: bytes
    etag: str | None


def _checked(answer: _Answer) -> int:
    if answer.status not in (200, 304):
        raise _HTTPStatus(answer.status)
    return answer.status


class _CatalogFiles:
    """The disk cache of one catalog: `<key>.json` (the body as received) and `<key>.meta.json`."""

    def __init__(self, folder: Path, base_url: str, client_version: str) -> None:
        name = _digest(f"{base_url}|{client_version}")
        self.body = folder / "models" / f"{name}.json"
        self.meta = folder / "models" / f"{name}.meta.json"
        self.base_url = base_url
        self.client_version = client_version

    def read_meta(self) -> dict[str, Any] | None:
        meta = _read_json(self.meta)
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
        _atomic_write(self.meta, json.dumps(meta).encode("utf-8"))

    def write(self, body: bytes, etag: str | None, fetched_at: float) -> None:
        _atomic_write(self.body, body)
        self.write_meta(etag, fetched_at)


class CatalogStore:
    """Hands out the model catalog for a backend base URL (see the module docstring).

    `on_catalog` is called with every catalog newly read from the backend or the disk (the
    provider registers the models with LiteLLM there); `clock` is the wall clock, for tests.
    """

    def __init__(
        self, *, on_catalog: CatalogListener | None = None, clock: Callable[[], float] = time.time
    ) -> None:
        self._bundled = bundled_catalog()
        self._entries: dict[str, _Entry] = {}
        self._failed_until: dict[str, float] = {}
        self._failing: set[str] = set()
        self._on_catalog = on_catalog
        self._clock = clock

    @property
    def bundled(self) -> ModelCatalog:
        return self._bundled

    # -- keys and the in-memory copy (no I/O) --

    @staticmethod
    def _key(base_url: str) -> str:
        """Cheap on purpose (the hot path): the raw settings, not the resolved cache folder."""
        return (
            f"models|{os.environ.get(C.ENV_CACHE_DIR, '')}|{base_url.rstrip('/')}|{settings.client_version()}"
        )

    @staticmethod
    def _files(base_url: str) -> _CatalogFiles:
        return _CatalogFiles(settings.cache_dir(), base_url.rstrip("/"), settings.client_version())

    def _memo(self, key: str, now: float) -> ModelCatalog | None:
        entry = self._entries.get(key)
        if entry is not None:
            if now - entry.checked_at < settings.catalog_ttl() or now < entry.retry_at:
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

    # -- the public API --

    def catalog(self, client: CodexOpenAIClient) -> ModelCatalog:
        """The catalog for the client's base URL; blocks only when a fetch is due."""
        base_url = str(client.base_url)
        key = self._key(base_url)
        hit = self._memo(key, self._clock())
        if hit is not None:
            return hit
        files = self._files(base_url)
        future, leader = _FLIGHTS.join(key)
        if not leader:
            stale = self._stale(key)
            return stale if stale is not None else future.result()
        result: ModelCatalog | None = None
        try:
            result = self._refresh(key, files, lambda etag: self._fetch(client, etag))
            return result
        finally:
            _FLIGHTS.finish(key, future, result if result is not None else self._fallback(key))

    async def acatalog(self, client: AsyncCodexOpenAIClient) -> ModelCatalog:
        """`catalog` for the async path: no I/O when fresh, disk work in a thread, never blocks the loop."""
        base_url = str(client.base_url)
        key = self._key(base_url)
        hit = self._memo(key, self._clock())
        if hit is not None:
            return hit
        files = self._files(base_url)
        future, leader = _FLIGHTS.join(key)
        if not leader:
            stale = self._stale(key)
            return stale if stale is not None else await asyncio.wrap_future(future)
        result: ModelCatalog | None = None
        try:
            entry = await _in_thread(self._consult_disk, key, files)
            if entry is not None and self._is_fresh(entry):
                result = entry.catalog
                return result
            try:
                answer = await self._afetch(client, entry.etag if entry else None)
            except Exception as exc:
                result = self._failed(key, files, exc)
                return result
            result = await _in_thread(self._apply, key, files, entry, answer)
            return result
        finally:
            _FLIGHTS.finish(key, future, result if result is not None else self._fallback(key))

    def probe(self, client: CodexOpenAIClient) -> int:
        """Ask the backend for the catalog now (with `If-None-Match`): the cheap health check.

        Proves the login, the network path and the backend without a model turn; raises the
        client's error when any of them fails, and returns the HTTP status (200 or 304).
        """
        entry = self._entries.get(self._key(str(client.base_url)))
        return _checked(self._fetch(client, entry.etag if entry else None))

    async def aprobe(self, client: AsyncCodexOpenAIClient) -> int:
        entry = self._entries.get(self._key(str(client.base_url)))
        return _checked(await self._afetch(client, entry.etag if entry else None))

    def cached_catalog(self, base_url: str | None = None) -> ModelCatalog:
        """The catalog for `base_url` from memory or disk, else the bundled one; never a request."""
        base_url = base_url or settings.api_base()
        entry = self._consult_disk(self._key(base_url), self._files(base_url))
        return entry.catalog if entry is not None else self._bundled

    def instructions_fallback(self, slug: str) -> str | None:
        """The Codex prompt file for a model the catalog gives no instructions for."""
        return fetch_codex_instructions(slug)

    async def ainstructions_fallback(self, slug: str) -> str | None:
        return await afetch_codex_instructions(slug)

    # -- refreshing --

    def _is_fresh(self, entry: _Entry) -> bool:
        return self._clock() - entry.checked_at < settings.catalog_ttl()

    def _refresh(
        self, key: str, files: _CatalogFiles, fetch: Callable[[str | None], _Answer]
    ) -> ModelCatalog:
        entry = self._consult_disk(key, files)
        if entry is not None and self._is_fresh(entry):
            return entry.catalog
        try:
            answer = fetch(entry.etag if entry else None)
        except Exception as exc:
            return self._failed(key, files, exc)
        return self._apply(key, files, entry, answer)

    def _consult_disk(self, key: str, files: _CatalogFiles) -> _Entry | None:
        """The in-memory entry, renewed or replaced by what another process (or run) cached."""
        entry = self._entries.get(key)
        meta = files.read_meta()
        if meta is None:
            return entry
        fetched_at, etag = _trusted_time(meta["fetched_at"], self._clock()), meta.get("etag")
        if fetched_at == float("-inf"):
            etag = None  # a copy with an impossible time is fetched again in full, never revalidated
        if entry is not None and (fetched_at <= entry.checked_at or (etag and etag == entry.etag)):
            if fetched_at > entry.checked_at:  # another process revalidated it
                entry.checked_at, entry.retry_at = fetched_at, 0.0
                if self._is_fresh(entry) and not entry.catalog.authoritative:
                    entry.catalog = entry.catalog.with_source(SOURCE_CACHE)
            return entry
        try:
            payload = json.loads(read_regular_file(files.body, C.MAX_CATALOG_BYTES)[0])
            fresh = self._clock() - fetched_at < settings.catalog_ttl()
            catalog = ModelCatalog.from_payload(
                payload, source=SOURCE_CACHE if fresh else SOURCE_STALE, etag=etag
            )
        except (OSError, ValueError, LimitExceeded) as exc:
            logger.debug("codex: ignoring the unreadable catalog cache %s: %s", files.body, _describe(exc))
            return entry
        entry = self._entries[key] = _Entry(catalog, etag if isinstance(etag, str) else None, fetched_at)
        self._notify(catalog)
        return entry

    def _request(self, client: Any, etag: str | None) -> tuple[str, dict[str, str], dict[str, str]]:
        url = str(client.base_url).rstrip("/") + C.MODELS_PATH
        headers = codex_headers(ACCEPT_JSON)
        if etag:
            headers["If-None-Match"] = etag
        return url, {"client_version": settings.client_version()}, headers

    def _fetch(self, client: CodexOpenAIClient, etag: str | None) -> _Answer:
        """GET the catalog: at most `MAX_CATALOG_BYTES`, within `CODEX_CATALOG_TIMEOUT` in all.

        The deadline is checked per chunk (and no single read may outlast it); only a 200's body is read.
        """
        url, params, headers = self._request(client, etag)
        # at most half of what the call has left: the catalog has a fallback, the turn has none
        seconds = time_left(settings.catalog_timeout(), share=0.5)
        deadline = time.monotonic() + seconds
        # The pooled client's httpx client: its auth flow adds the bearer token and account header.
        with client._client.stream(
            "GET", url, params=params, headers=headers, timeout=budget(deadline)
        ) as response:
            body = b""
            if response.status_code == 200:
                body = read_capped(
                    response.iter_bytes(),
                    C.MAX_CATALOG_BYTES,
                    deadline=deadline,
                    seconds=seconds,
                    what=_CATALOG,
                )
            return _Answer(response.status_code, body, response.headers.get("etag"))

    async def _afetch(self, client: AsyncCodexOpenAIClient, etag: str | None) -> _Answer:
        """`_fetch` for an event loop, where `asyncio.wait_for` bounds the whole exchange."""
        url, params, headers = self._request(client, etag)
        # at most half of what the call has left: the catalog has a fallback, the turn has none
        seconds = time_left(settings.catalog_timeout(), share=0.5)

        async def fetch() -> _Answer:
            async with client._client.stream(
                "GET", url, params=params, headers=headers, timeout=seconds
            ) as response:
                body = b""
                if response.status_code == 200:
                    body = await aread_capped(response.aiter_bytes(), C.MAX_CATALOG_BYTES, what=_CATALOG)
                return _Answer(response.status_code, body, response.headers.get("etag"))

        try:
            return await asyncio.wait_for(fetch(), seconds)
        except TimeoutError:
            raise LimitExceeded(f"{_CATALOG} took longer than {seconds:g} s") from None

    def _apply(self, key: str, files: _CatalogFiles, entry: _Entry | None, answer: _Answer) -> ModelCatalog:
        """Take the backend's answer: a 304 renews `entry` without a parse; a 200 replaces it."""
        now = self._clock()
        if answer.status == 304 and entry is not None:
            entry.checked_at, entry.retry_at = now, 0.0
            entry.etag = answer.etag or entry.etag
            entry.catalog = entry.catalog.with_source(SOURCE_LIVE)
            self._recovered(key)
            self._save(lambda: files.write_meta(entry.etag, now))
            return entry.catalog
        if answer.status != 200:
            return self._failed(key, files, _HTTPStatus(answer.status))
        try:
            catalog = ModelCatalog.from_payload(json.loads(answer.body), source=SOURCE_LIVE, etag=answer.etag)
            if not len(catalog):
                raise ValueError("the catalog lists no models")
        except ValueError as exc:
            return self._failed(key, files, exc)
        self._entries[key] = _Entry(catalog, answer.etag, now)
        self._recovered(key)
        self._save(lambda: files.write(answer.body, answer.etag, now))
        self._notify(catalog)
        return catalog

    def _failed(self, key: str, files: _CatalogFiles, exc: BaseException) -> ModelCatalog:
        """Use the last cached catalog (else the bundled one) and do not ask again for a while."""
        retry_at = self._clock() + min(settings.catalog_ttl(), C.CATALOG_FAILURE_BACKOFF_SECONDS)
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
                _describe(exc),
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
            logger.warning("codex: cannot write the model catalog cache: %s", _describe(exc))

    def _notify(self, catalog: ModelCatalog) -> None:
        if self._on_catalog is None:
            return
        try:
            self._on_catalog(catalog)
        except Exception as exc:  # registering with LiteLLM must never fail a call
            logger.warning("codex: could not register the catalog's models with LiteLLM: %s", _describe(exc))


# -- the Codex prompt files (old models) --------------------------------------------------------------


@dataclass
class _Prompt:
    text: str | None
    etag: str | None
    url: str | None
    tag: str | None
    checked_at: float
    retry_at: float = 0.0


class PromptStore:
    """The Codex release's prompt file per model family, cached on disk with its ETag for 15 minutes.

    Fetched from `CODEX_INSTRUCTIONS_URL` when set (`{file}` in it is replaced, else the file
    name is appended), otherwise from the latest release on GitHub. The login never goes there.
    """

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._entries: dict[str, _Prompt] = {}
        self._clock = clock

    @staticmethod
    def _key(slug: str) -> tuple[str, str]:
        file = prompt_file_for(slug)
        source = settings.instructions_url() or "github"
        return f"prompt|{os.environ.get(C.ENV_CACHE_DIR, '')}|{source}|{file}", file

    def _memo(self, key: str, now: float) -> tuple[bool, str | None]:
        entry = self._entries.get(key)
        if entry is not None and (
            now - entry.checked_at < C.INSTRUCTIONS_TTL_SECONDS or now < entry.retry_at
        ):
            return True, entry.text
        return False, None

    def get(self, slug: str) -> str | None:
        key, file = self._key(slug)
        hit, text = self._memo(key, self._clock())
        if hit:
            return text
        folder = settings.cache_dir() / "instructions"
        future, leader = _FLIGHTS.join(key)
        if not leader:
            stale = self._entries.get(key)
            return stale.text if stale is not None and stale.text else future.result()
        result: str | None = None
        try:
            entry = self._consult_disk(key, file, folder)
            if entry is not None and self._clock() - entry.checked_at < C.INSTRUCTIONS_TTL_SECONDS:
                result = entry.text
                return result
            try:
                deadline = time.monotonic() + C.PROMPT_TIMEOUT_SECONDS
                with httpx.Client(
                    timeout=budget(deadline), follow_redirects=True, headers=_github_headers()
                ) as http:

                    def get(url: str, headers: dict[str, str] | None = None) -> httpx.Response:
                        return _get_capped(http, url, headers or {}, deadline)

                    url, tag = _prompt_url(file, lambda: _release_tag(get(C.CODEX_RELEASE_API_URL)))
                    response = get(url, _conditional(entry, url))
            except Exception as exc:
                result = self._failed(key, file, exc)
                return result
            result = self._apply(key, file, folder, entry, url, tag, response)
            return result
        finally:
            _FLIGHTS.finish(key, future, result)

    async def aget(self, slug: str) -> str | None:
        key, file = self._key(slug)
        hit, text = self._memo(key, self._clock())
        if hit:
            return text
        folder = settings.cache_dir() / "instructions"
        future, leader = _FLIGHTS.join(key)
        if not leader:
            stale = self._entries.get(key)
            return stale.text if stale is not None and stale.text else await asyncio.wrap_future(future)
        result: str | None = None
        try:
            entry = await _in_thread(self._consult_disk, key, file, folder)
            if entry is not None and self._clock() - entry.checked_at < C.INSTRUCTIONS_TTL_SECONDS:
                result = entry.text
                return result
            try:
                # Building a client loads CA certificates from disk: done off the loop.
                http = await _in_thread(_async_http_client)
                async with http:

                    async def tag() -> str:
                        return _release_tag(await _aget_capped(http, C.CODEX_RELEASE_API_URL, {}))

                    async def fetch() -> tuple[str, str | None, httpx.Response]:
                        url, release = await _aprompt_url(file, tag)
                        return url, release, await _aget_capped(http, url, _conditional(entry, url))

                    url, release, response = await asyncio.wait_for(fetch(), C.PROMPT_TIMEOUT_SECONDS)
            except Exception as exc:
                result = self._failed(key, file, exc)
                return result
            result = await _in_thread(self._apply, key, file, folder, entry, url, release, response)
            return result
        finally:
            _FLIGHTS.finish(key, future, result)

    def _consult_disk(self, key: str, file: str, folder: Path) -> _Prompt | None:
        entry = self._entries.get(key)
        if entry is not None and entry.text:
            return entry
        meta = _read_json(folder / f"{file}.meta.json")
        if meta is None or not isinstance(meta.get("fetched_at"), int | float):
            return entry
        try:
            text = read_regular_file(folder / file, C.MAX_PROMPT_BYTES)[0].decode("utf-8")
        except (OSError, ValueError, LimitExceeded):
            return entry
        fetched_at = _trusted_time(meta["fetched_at"], self._clock())
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
            return self._failed(key, file, _HTTPStatus(response.status_code))
        meta = {"etag": entry.etag, "url": entry.url, "tag": entry.tag, "fetched_at": now}
        with contextlib.suppress(OSError):
            _atomic_write(folder / f"{file}.meta.json", json.dumps(meta).encode("utf-8"))
        return entry.text

    def _failed(self, key: str, file: str, exc: BaseException) -> str | None:
        now = self._clock()
        entry = self._entries.get(key)
        if entry is None:
            entry = self._entries[key] = _Prompt(None, None, None, None, checked_at=float("-inf"))
        first = entry.retry_at == 0.0
        entry.retry_at = now + min(C.INSTRUCTIONS_TTL_SECONDS, C.CATALOG_FAILURE_BACKOFF_SECONDS)
        if first:
            logger.info("codex: cannot fetch the Codex prompt file %s (%s)", file, _describe(exc))
        return entry.text


def _github_headers() -> dict[str, str]:
    return {"User-Agent": user_agent(), "Accept": "application/vnd.github+json, text/plain;q=0.9"}


def _async_http_client() -> httpx.AsyncClient:
    return httpx.AsyncClient(
        timeout=C.PROMPT_TIMEOUT_SECONDS, follow_redirects=True, headers=_github_headers()
    )


def _get_capped(http: httpx.Client, url: str, headers: dict[str, str], deadline: float) -> httpx.Response:
    """GET a prompt file or the release API, read up to `MAX_PROMPT_BYTES` before `deadline`."""
    with http.stream("GET", url, headers=headers, timeout=budget(deadline)) as response:
        content = read_capped(
            response.iter_bytes(),
            C.MAX_PROMPT_BYTES,
            deadline=deadline,
            seconds=C.PROMPT_TIMEOUT_SECONDS,
            what=url,
        )
        return buffered(response, content)


async def _aget_capped(http: httpx.AsyncClient, url: str, headers: dict[str, str]) -> httpx.Response:
    """`_get_capped` for an event loop (the caller bounds the time with `asyncio.wait_for`)."""
    async with http.stream("GET", url, headers=headers) as response:
        content = await aread_capped(response.aiter_bytes(), C.MAX_PROMPT_BYTES, what=url)
        return buffered(response, content)


def _release_tag(response: httpx.Response) -> str:
    response.raise_for_status()
    tag = response.json().get("tag_name")
    if not isinstance(tag, str) or not tag:
        raise ValueError("the latest Codex release names no tag")
    return tag


def _override_url(file: str) -> str | None:
    override = settings.instructions_url()
    if override is None:
        return None
    return override.replace("{file}", file) if "{file}" in override else f"{override.rstrip('/')}/{file}"


def _prompt_url(file: str, latest_tag: Callable[[], str]) -> tuple[str, str | None]:
    override = _override_url(file)
    if override is not None:
        return override, None
    tag = latest_tag()
    return C.CODEX_PROMPT_URL_TEMPLATE.format(tag=tag, file=file), tag


async def _aprompt_url(file: str, latest_tag: Callable[[], Awaitable[str]]) -> tuple[str, str | None]:
    override = _override_url(file)
    if override is not None:
        return override, None
    tag = await latest_tag()
    return C.CODEX_PROMPT_URL_TEMPLATE.format(tag=tag, file=file), tag


def _conditional(entry: _Prompt | None, url: str) -> dict[str, str]:
    """`If-None-Match` only for the very URL the cached copy came from (same release tag)."""
    if entry is not None and entry.text and entry.etag and entry.url == url:
        return {"If-None-Match": entry.etag}
    return {}


def _save_prompt(folder: Path, file: str, entry: _Prompt) -> None:
    meta = {"etag": entry.etag, "url": entry.url, "tag": entry.tag, "fetched_at": entry.checked_at}
    try:
        _atomic_write(folder / file, (entry.text or "").encode("utf-8"))
        _atomic_write(folder / f"{file}.meta.json", json.dumps(meta).encode("utf-8"))
    except OSError as exc:
        logger.warning("codex: cannot write the prompt cache: %s", _describe(exc))


_PROMPTS = PromptStore()


def fetch_codex_instructions(normalized_model: str = "gpt-5.1-codex") -> str | None:
    """The Codex prompt file for the model's family (cached 15 min with its ETag); None if unavailable."""
    return _PROMPTS.get(normalized_model)


async def afetch_codex_instructions(normalized_model: str = "gpt-5.1-codex") -> str | None:
    """`fetch_codex_instructions` without blocking the event loop."""
    return await _PROMPTS.aget(normalized_model)
