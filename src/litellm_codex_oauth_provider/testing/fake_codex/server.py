"""The fake ChatGPT Codex backend: an aiohttp server on 127.0.0.1 in a background thread.

It serves `/backend-api/codex/responses` (SSE turns from `scenarios`), `/backend-api/codex/models`
(the catalog with an ETag), the OAuth token endpoint (single-use rotating refresh tokens), and
two helper routes of its own (`/_fake/stats`, `/_fake/files/<name>`). Every request is recorded
for the test to assert on; the answers are configured through attributes, from any thread.
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import httpx
from aiohttp import web

from ..logins import CLIENT_ID, make_access_token, make_auth_json, write_auth_json
from .catalog import catalog_body, etag_matches, load_catalog
from .compression import Encoder, content_coding
from .scenarios import (
    DEFAULT_TEXT,
    Abuse,
    AbuseRecord,
    Answer,
    Disconnect,
    HttpError,
    Turn,
    default_rate_limit_headers,
    token_error,
)
from .tokens import REUSED, Identity, TokenIssuer

BASE_PATH = "/backend-api/codex"
TOKEN_PATH = "/oauth/token"
STATS_PATH = "/_fake/stats"
FILES_PATH = "/_fake/files"

# Parameters the real backend answers with 400 (the CLI never sends them).
REJECTED_PARAMS = (
    "temperature",
    "top_p",
    "max_output_tokens",
    "max_tokens",
    "frequency_penalty",
    "presence_penalty",
    "stop",
    "n",
    "seed",
)


@dataclass
class RecordedRequest:
    """One request as the fake saw it; `status` is filled in once it is answered."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: Any
    received_at: float = field(default_factory=time.monotonic)
    status: int | None = None
    #: The `content-encoding` of the answer, chosen from the request's `accept-encoding`.
    content_coding: str | None = None

    @property
    def bearer(self) -> str | None:
        """The bearer token of the `authorization` header, if any."""
        value = self.headers.get("authorization", "")
        return value[7:] if value.lower().startswith("bearer ") else None


TokenCheck = str | Iterable[str] | Callable[[str], bool] | None
# Runs on the server's event loop for each /responses request: it must not block; None falls
# through to the queue and then the default.
Handler = Callable[[RecordedRequest], Answer | None]


class FakeCodexBackend:
    """The fake backend; configure it through its attributes, from any thread.

    Attributes tests set: `handler`, `expected_access_token`, `check_tokens`,
    `expected_account_id`, `validate_requests`, `rate_limit_headers`, `catalog`,
    `models_status`, `models_delay`, `token_status`, `token_delay`, `access_token_lifetime`,
    `token_abuse`, `models_abuse` (a hostile server's huge or dripping answers, see `Abuse`).
    Attributes tests read: `requests`, `models_log`, `token_log`, `responses_count`,
    `models_requests`, `refresh_requests`, `reuse_errors`, `abuse_log`.
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        catalog: dict[str, Any] | None = None,
        check_tokens: bool = False,
        record: bool = True,
    ) -> None:
        self.host, self.port = host, port
        self.record = record
        self._lock = threading.Lock()
        self._queue: deque[Answer] = deque()
        self.default: Answer = Turn().text(DEFAULT_TEXT, chunks=4)
        self.handler: Handler | None = None
        self.validate_requests = True
        # Add fields the openai SDK's models require but the real backend does not send
        # (today only usage.input_tokens_details.cache_write_tokens), for strict parsing.
        self.openai_compat = False
        self.rate_limit_headers = default_rate_limit_headers()
        # access-token checks on /responses and /models
        self.expected_access_token: TokenCheck = None
        self.check_tokens = check_tokens
        self.expected_account_id: str | None = None
        # model catalog
        self.catalog: dict[str, Any] = catalog or load_catalog()
        self.models_status: int | None = None
        self.models_delay = 0.0
        # token endpoint
        self.access_token_lifetime = 3600
        self.token_status: int | None = None
        self.token_delay = 0.0
        self._forced_token_failures: deque[int] = deque()
        self.tokens = TokenIssuer()
        # hostile behaviour: huge or dripping answers of the token endpoint and the catalog
        self.token_abuse: Abuse | None = None
        self.models_abuse: Abuse | None = None
        self.abuse_log: list[AbuseRecord] = []
        # plain files under /_fake/files/<name> (e.g. the Codex prompt files), optionally abusive
        self.files: dict[str, str] = {}
        self.files_abuse: Abuse | None = None
        # records and counters
        self.requests: list[RecordedRequest] = []
        self.models_log: list[RecordedRequest] = []
        self.token_log: list[RecordedRequest] = []
        self.responses_count = 0
        self.models_requests = 0
        self.refresh_requests = 0
        self.reuse_errors = 0
        self.errors: list[BaseException] = []  # exceptions raised by `handler`
        # server machinery
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None

    # ----------------------------------------------------------------- URLs
    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def base_url(self) -> str:
        """What a client uses as the Codex base, e.g. `http://127.0.0.1:PORT/backend-api/codex`."""
        return self.url + BASE_PATH

    @property
    def responses_url(self) -> str:
        return self.base_url + "/responses"

    @property
    def models_url(self) -> str:
        return self.base_url + "/models"

    @property
    def token_url(self) -> str:
        return self.url + TOKEN_PATH

    # ----------------------------------------------------------------- scripting
    def enqueue(self, *answers: Answer) -> None:
        """Answer the next /responses requests with these, in order."""
        with self._lock:
            self._queue.extend(answers)

    def set_default(self, answer: Answer) -> None:
        """What /responses answers when the queue is empty and no handler decides."""
        self.default = answer

    @property
    def pending(self) -> int:
        """How many queued answers are still unused."""
        with self._lock:
            return len(self._queue)

    @property
    def last_request(self) -> RecordedRequest:
        with self._lock:
            return self.requests[-1]

    def reset(self) -> None:
        """Forget queued answers, records and counters (logins stay valid)."""
        with self._lock:
            self._queue.clear()
            self.requests.clear()
            self.models_log.clear()
            self.token_log.clear()
            self.errors.clear()
            self.responses_count = self.models_requests = self.refresh_requests = self.reuse_errors = 0
        self.handler = None
        self.default = Turn().text(DEFAULT_TEXT, chunks=4)

    # ----------------------------------------------------------------- logins and tokens
    def accept_refresh_token(self, refresh_token: str, **identity: str) -> None:
        """Register a valid refresh token for a login (claims of the tokens it will mint)."""
        self.tokens.accept_refresh(refresh_token, Identity(**identity))

    def accept_access_token(self, access_token: str) -> None:
        """Register an access token that `check_tokens` mode accepts (until its `exp`)."""
        self.tokens.accept_access(access_token)

    def expire_refresh_token(self, refresh_token: str) -> None:
        """Make a refresh token answer `refresh_token_expired` from now on."""
        self.tokens.expire_refresh(refresh_token)

    def forget_refresh_token(self, refresh_token: str) -> None:
        """Drop a refresh token, as after a sign-out elsewhere: it answers `refresh_token_invalidated`."""
        self.tokens.forget(refresh_token)

    def fail_next_refreshes(self, count: int = 1, status: int = 503) -> None:
        """The next `count` token requests fail with `status` without spending the token."""
        with self._lock:
            self._forced_token_failures.extend([status] * count)

    def is_valid_refresh_token(self, refresh_token: str) -> bool:
        return self.tokens.is_live(refresh_token)

    def issue_login(
        self,
        codex_home: Path,
        *,
        expires_in: float | None = 3600,
        account_id: str = "acct-123",
        plan: str = "plus",
        email: str = "user@example.com",
        user_id: str = "user-123",
        last_refresh: datetime | str | None = None,
        extra: dict[str, Any] | None = None,
    ) -> Path:
        """Write `codex_home/auth.json` with a fresh login whose tokens this fake accepts."""
        refresh_token = f"rt-{uuid.uuid4().hex}"
        data = make_auth_json(
            account_id, expires_in, refresh_token, plan, email, last_refresh, extra, user_id=user_id
        )
        self.accept_refresh_token(
            refresh_token, account_id=account_id, plan=plan, user_id=user_id, email=email
        )
        self.accept_access_token(data["tokens"]["access_token"])
        return write_auth_json(Path(codex_home), data)

    def write_login(
        self,
        codex_home: Path,
        *,
        seconds_left: float | None = 3600,
        lifetime: float = 3600,
        refresh_token: str | None = None,
        **kw: Any,
    ) -> dict[str, Any]:
        """Write a login this fake accepts whose access token has `seconds_left` of `lifetime`.

        `seconds_left=None` leaves out `exp`; `kw` goes to `make_auth_json`. Returns the file's content.
        """
        if seconds_left is None:
            access = make_access_token(expires_in=None)
        else:
            access = make_access_token(expires_in=lifetime, now=time.time() - (lifetime - seconds_left))
        refresh = refresh_token or f"rt-{uuid.uuid4().hex}"
        self.accept_refresh_token(refresh)
        self.accept_access_token(access)
        data = make_auth_json(access_token=access, refresh_token=refresh, **kw)
        write_auth_json(Path(codex_home), data)
        return data

    def spend_refresh_token(self, refresh_token: str) -> None:
        """Use a refresh token as another program would, so presenting it again is a reuse."""
        body = {"client_id": CLIENT_ID, "grant_type": "refresh_token", "refresh_token": refresh_token}
        assert httpx.post(self.token_url, json=body).status_code == 200

    def _access_token_ok(self, token: str | None) -> bool:
        """True when no check is enabled, or when any enabled check accepts `token`."""
        verdicts = []
        expected = self.expected_access_token
        if expected is not None:
            if isinstance(expected, str):
                verdicts.append(token == expected)
            elif callable(expected):
                verdicts.append(token is not None and bool(expected(token)))
            else:
                verdicts.append(token in set(expected))
        if self.check_tokens:
            verdicts.append(self.tokens.issued(token))
        return not verdicts or any(verdicts)

    # ----------------------------------------------------------------- lifecycle
    def start(self) -> FakeCodexBackend:
        """Bind the port and serve from a background thread; returns self."""
        if self._thread is not None:
            raise RuntimeError("FakeCodexBackend is already running")
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, self.port))
        sock.setblocking(False)
        self.port = sock.getsockname()[1]
        self._loop = asyncio.new_event_loop()
        ready = threading.Event()
        failures: list[BaseException] = []
        self._thread = threading.Thread(
            target=self._serve, args=(sock, ready, failures), name=f"fake-codex-{self.port}", daemon=True
        )
        self._thread.start()
        ready.wait(10)
        if failures:
            self._thread = None
            raise RuntimeError("fake Codex backend failed to start") from failures[0]
        return self

    def stop(self) -> None:
        """Stop serving (open streams are cut) and join the thread."""
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        loop.call_soon_threadsafe(loop.stop)
        thread.join(15)
        self._loop = self._thread = None

    def __enter__(self) -> FakeCodexBackend:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _serve(self, sock: socket.socket, ready: threading.Event, failures: list[BaseException]) -> None:
        loop = self._loop
        assert loop is not None
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(self._start_site(sock))
        except BaseException as exc:
            failures.append(exc)
            sock.close()
            loop.close()
            ready.set()
            return
        ready.set()
        try:
            loop.run_forever()
        finally:
            loop.run_until_complete(self._shutdown())
            loop.close()

    async def _start_site(self, sock: socket.socket) -> None:
        app = web.Application(client_max_size=256 * 1024 * 1024)
        app.router.add_post(BASE_PATH + "/responses", self._handle_responses)
        app.router.add_get(BASE_PATH + "/models", self._handle_models)
        app.router.add_post(TOKEN_PATH, self._handle_token)
        app.router.add_get(STATS_PATH, self._handle_stats)
        app.router.add_get(FILES_PATH + "/{name}", self._handle_file)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.25, handle_signals=False)
        await self._runner.setup()
        await web.SockSite(self._runner, sock, backlog=2048).start()

    async def _shutdown(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
        tasks = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    # ----------------------------------------------------------------- request handling
    async def _record(self, request: web.Request, log: list[RecordedRequest]) -> RecordedRequest:
        raw = await request.read()
        body: Any = None
        if raw:
            try:
                body = json.loads(raw)
            except ValueError:
                body = raw.decode("utf-8", "replace")
        headers = {}
        for name, value in request.headers.items():
            key = name.lower()
            headers[key] = f"{headers[key]}, {value}" if key in headers else value
        record = RecordedRequest(request.method, request.path_qs, dict(request.query), headers, body)
        if self.record:
            with self._lock:
                log.append(record)
        return record

    def _auth_failure(self, record: RecordedRequest) -> HttpError | None:
        if not self._access_token_ok(record.bearer):
            return HttpError.unauthorized()
        account = self.expected_account_id
        if account is not None and record.headers.get("chatgpt-account-id") != account:
            return HttpError(403, {"detail": "chatgpt-account-id does not match the token"})
        return None

    def _validation_failure(self, body: Any) -> HttpError | None:
        """What the real backend rejects with 400 before streaming."""
        if not self.validate_requests:
            return None
        if not isinstance(body, dict):
            return HttpError.bad_request("Request body must be a JSON object")
        if not body.get("model"):
            return HttpError.bad_request("Missing required parameter: 'model'")
        for name in REJECTED_PARAMS:
            if name in body:
                return HttpError.bad_request(f"Unsupported parameter: {name}")
        if body.get("stream") is not True:
            return HttpError.bad_request("Stream must be set to true")
        if body.get("store", False) is not False:
            return HttpError.bad_request("Store must be set to false")
        return None

    def _next_answer(self, record: RecordedRequest) -> Answer:
        if self.handler is not None:
            try:
                answer = self.handler(record)
            except Exception as exc:  # keep serving; the test can assert on fake.errors
                self.errors.append(exc)
                return HttpError(500, {"detail": f"fake handler raised {exc!r}"})
            if answer is not None:
                return answer
        with self._lock:
            if self._queue:
                return self._queue.popleft()
        return self.default

    async def _handle_responses(self, request: web.Request) -> web.StreamResponse:
        record = await self._record(request, self.requests)
        with self._lock:
            self.responses_count += 1
        failure = self._auth_failure(record) or self._validation_failure(record.body)
        answer = failure or self._next_answer(record)
        if isinstance(answer, Disconnect):
            record.status = 0
            return await self._disconnect(request, answer.delay)
        if isinstance(answer, HttpError):
            record.status = answer.status
            if answer.abuse is not None:
                headers = {**self.rate_limit_headers, **answer.headers}
                return await self._abusive(request, answer.status, answer.json_body, headers, answer.abuse)
            return await self._json_error(answer, self.rate_limit_headers, record)
        record.status = 200
        body = record.body if isinstance(record.body, dict) else {}
        return await self._stream(request, answer, body, record)

    async def _disconnect(self, request: web.Request, delay: float) -> web.StreamResponse:
        if delay:
            await asyncio.sleep(delay)
        if request.transport is not None:
            request.transport.abort()
        # Nothing can be sent any more: a cancelled handler makes aiohttp drop the request quietly.
        raise asyncio.CancelledError

    async def _json_error(
        self, error: HttpError, extra_headers: dict[str, str], record: RecordedRequest | None = None
    ) -> web.Response:
        if error.delay:
            await asyncio.sleep(error.delay)
        headers = {**extra_headers, **error.headers}
        return self._json(record, error.json_body, status=error.status, headers=headers)

    def _json(
        self,
        record: RecordedRequest | None,
        payload: Any,
        *,
        status: int = 200,
        headers: dict[str, str] | None = None,
    ) -> web.Response:
        """A JSON answer, compressed as the request's `accept-encoding` allows."""
        return self._body(record, json.dumps(payload).encode(), status=status, headers=headers)

    def _body(
        self,
        record: RecordedRequest | None,
        body: bytes,
        *,
        status: int = 200,
        headers: dict[str, str] | None = None,
    ) -> web.Response:
        headers = {"content-type": "application/json", **(headers or {})}
        coding = content_coding(record.headers.get("accept-encoding")) if record is not None else None
        if coding is not None and record is not None:
            record.content_coding = coding
            headers["content-encoding"] = coding
            body = Encoder(coding).whole(body)
        return web.Response(body=body, status=status, headers=headers)

    async def _stream(
        self, request: web.Request, turn: Turn, body: dict[str, Any], record: RecordedRequest
    ) -> web.StreamResponse:
        """Send the turn as SSE, compressed as `accept-encoding` allows; tolerate the client going away."""
        if turn.latency_seconds:
            await asyncio.sleep(turn.latency_seconds)
        headers = {
            "content-type": "text/event-stream",
            "cache-control": "no-cache",
            "x-request-id": uuid.uuid4().hex,
            **self.rate_limit_headers,
        }
        encoder = Encoder(content_coding(record.headers.get("accept-encoding")))
        if encoder.coding is not None:
            headers["content-encoding"] = record.content_coding = encoder.coding
        response = web.StreamResponse(status=200, headers=headers)
        await response.prepare(request)
        try:
            await self._write_events(response, turn, body, encoder)
            if not turn.terminates_cleanly:
                response.force_close()
                if turn.ending.abort and request.transport is not None:
                    request.transport.abort()
                    return response
            await response.write_eof(encoder.end())
        except ConnectionError:
            pass
        return response

    async def _write_events(
        self, response: web.StreamResponse, turn: Turn, body: dict[str, Any], encoder: Encoder
    ) -> None:
        first_delta = True
        for event in turn.events(body, openai_compat=self.openai_compat):
            if event.type.endswith(".delta"):
                delay = turn.first_delta_delay_seconds if first_delta else turn.delta_delay_seconds
                first_delta = False
                if delay:
                    await asyncio.sleep(delay)
            for piece in event.encode():
                await response.write(encoder.piece(piece))

    async def _handle_models(self, request: web.Request) -> web.Response:
        record = await self._record(request, self.models_log)
        with self._lock:
            self.models_requests += 1
        if self.models_delay:
            await asyncio.sleep(self.models_delay)
        failure = self._auth_failure(record)
        if failure is not None:
            return await self._json_error(failure, {}, record)
        if self.models_status is not None:
            error = HttpError(self.models_status, {"error": {"message": "fake models failure", "code": None}})
            return await self._json_error(error, {}, record)
        payload, etag = catalog_body(self.catalog)
        if etag_matches(request.headers.get("if-none-match"), etag):
            return web.Response(status=304, headers={"etag": etag})
        if self.models_abuse is not None:
            return await self._abusive(request, 200, self.catalog, {"etag": etag}, self.models_abuse)
        return self._body(record, payload, headers={"etag": etag})

    async def _handle_token(self, request: web.Request) -> web.Response:
        record = await self._record(request, self.token_log)
        with self._lock:
            self.refresh_requests += 1
        if self.token_delay:
            await asyncio.sleep(self.token_delay)
        forced = self._forced_token_status()
        if forced is not None:
            error = {"error": {"message": "fake token endpoint failure", "code": "server_error"}}
            return self._json(record, error, status=forced)
        body = record.body if isinstance(record.body, dict) else _form(record.body)
        if body.get("client_id") != CLIENT_ID or body.get("grant_type") != "refresh_token":
            return self._json(
                record, token_error("invalid_request", "Bad client_id or grant_type"), status=400
            )
        status, payload = self.tokens.rotate(str(body.get("refresh_token", "")), self.access_token_lifetime)
        if status != 200 and payload["error"]["code"] == REUSED:
            with self._lock:
                self.reuse_errors += 1
        if self.token_abuse is not None:
            return await self._abusive(request, status, payload, {}, self.token_abuse)
        return self._json(record, payload, status=status)

    def _forced_token_status(self) -> int | None:
        with self._lock:
            if self._forced_token_failures:
                return self._forced_token_failures.popleft()
        return self.token_status

    async def _abusive(
        self, request: web.Request, status: int, body: Any, headers: dict[str, str], abuse: Abuse
    ) -> web.StreamResponse:
        """Send `body` (bytes as they are, else as JSON) the way `abuse` says; `abuse_log` records how much got out."""
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        record = AbuseRecord(request.path, len(data) + abuse.pad_bytes)
        with self._lock:
            self.abuse_log.append(record)
        response = web.StreamResponse(status=status, headers={"content-type": "application/json", **headers})
        response.content_length = record.total
        await response.prepare(request)
        try:
            for piece in abuse.pieces(data):
                await response.write(piece)
                record.sent += len(piece)
                if abuse.drip_seconds:
                    await asyncio.sleep(abuse.drip_seconds)
            await response.write_eof()
            record.finished = True
        except ConnectionError:
            pass
        return response

    async def _handle_file(self, request: web.Request) -> web.StreamResponse:
        """GET one of `files` (404 when unknown), abusively when `files_abuse` says so."""
        text = self.files.get(request.match_info["name"])
        if text is None:
            return web.Response(status=404, text="no such file")
        headers = {"content-type": "text/plain; charset=utf-8"}
        if self.files_abuse is not None:
            return await self._abusive(request, 200, text.encode(), headers, self.files_abuse)
        return web.Response(text=text, headers=headers)

    @property
    def files_url(self) -> str:
        """Where `files` are served: `{files_url}/<name>`."""
        return self.url + FILES_PATH

    async def _handle_stats(self, request: web.Request) -> web.Response:
        """Counters, for benchmarks that run the fake as a separate process."""
        with self._lock:
            stats = {
                "responses": self.responses_count,
                "models": self.models_requests,
                "refresh": self.refresh_requests,
                "reuse_errors": self.reuse_errors,
                "pending": len(self._queue),
            }
        return web.json_response(stats)


def _form(body: Any) -> dict[str, str]:
    """A urlencoded token request body (JSON is what the CLI sends; accept both)."""
    return dict(parse_qsl(body)) if isinstance(body, str) else {}
