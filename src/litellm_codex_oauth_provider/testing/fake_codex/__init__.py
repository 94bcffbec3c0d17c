"""A fake ChatGPT Codex backend (`/backend-api/codex/*`) and OAuth token endpoint, for tests and benchmarks.

Tests, the end-to-end tests (which run the LiteLLM proxy as a subprocess) and the benchmarks all
talk to it over real HTTP/1.1: it is a real aiohttp server on 127.0.0.1 running its own event
loop in a background thread, or a process of its own
(`python -m litellm_codex_oauth_provider.testing.fake_codex`). Its answers follow the backend:
SSE turns in the Responses event format, single-use rotating refresh tokens, rate-limit headers,
the model catalog with an ETag.

    with FakeCodexBackend() as fake:
        fake.enqueue(Turn().reasoning("hmm", encrypted_content="enc").function_call("f", "{}"))
        ...  # point the client at fake.base_url / fake.token_url
        assert fake.requests[-1].body["model"] == "gpt-5.5"

Modules: `events` (SSE framing, item events), `scenarios` (`Turn` and the faults), `tokens`
(single-use refresh tokens), `catalog`, `compression`, `server` (the app, its settings and
records); `__main__` runs it as a process.
Needs aiohttp (the `testing` extra); the provider itself never imports this package.
"""

from .catalog import CATALOG_FILE, load_catalog
from .compression import content_coding
from .events import TERMINAL_EVENTS, LazyText, SseEvent, parse_sse, usage_block
from .scenarios import (
    DEFAULT_MODEL,
    DEFAULT_TEXT,
    Abuse,
    AbuseRecord,
    Answer,
    Disconnect,
    HttpError,
    Turn,
    default_rate_limit_headers,
)
from .server import (
    BASE_PATH,
    FILES_PATH,
    REJECTED_PARAMS,
    STATS_PATH,
    TOKEN_PATH,
    FakeCodexBackend,
    Handler,
    RecordedRequest,
)

__all__ = [
    "BASE_PATH",
    "CATALOG_FILE",
    "DEFAULT_MODEL",
    "DEFAULT_TEXT",
    "FILES_PATH",
    "REJECTED_PARAMS",
    "STATS_PATH",
    "TERMINAL_EVENTS",
    "TOKEN_PATH",
    "Abuse",
    "AbuseRecord",
    "Answer",
    "Disconnect",
    "FakeCodexBackend",
    "Handler",
    "HttpError",
    "LazyText",
    "RecordedRequest",
    "SseEvent",
    "Turn",
    "content_coding",
    "default_rate_limit_headers",
    "load_catalog",
    "parse_sse",
    "usage_block",
]
