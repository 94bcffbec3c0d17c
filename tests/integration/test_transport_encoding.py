"""`accept-encoding` as the Codex CLI 0.171.0 sends it (`zstd,gzip`), and compressed answers read back.

The fake backend answers in the coding the request accepts (zstd, else gzip), like a real server,
so these turns fail if a compressed answer is not decoded; the interop test shows the real CLI
reads the fake's zstd answers too.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import httpx
import litellm
import pytest

from litellm_codex_oauth_provider.protocol import accept_encoding
from litellm_codex_oauth_provider.testing.fake_codex import (
    DEFAULT_TEXT,
    HttpError,
    Turn,
    content_coding,
    parse_sse,
)
from litellm_codex_oauth_provider.testing.logins import make_access_token, make_auth_json, write_auth_json

CODEX_CLI_0_171 = "zstd,gzip"  # tests/interop runs that CLI; /work/shared/reference has its capture
MESSAGES = [{"role": "user", "content": "hi"}]


def test_the_fake_answers_in_the_coding_the_request_accepts():
    assert content_coding("zstd,gzip") == "zstd"
    assert content_coding("gzip, deflate") == "gzip"
    assert content_coding("br;q=1.0, gzip;q=0.5") == "gzip"
    assert content_coding("identity") is None
    assert content_coding(None) is None


def test_this_stack_accepts_what_the_codex_cli_accepts():
    assert accept_encoding() == CODEX_CLI_0_171  # zstandard comes with the test tools


def test_a_turn_asks_for_zstd_and_reads_the_compressed_stream(codex_home, fake, provider):
    fake.enqueue(Turn().text("compressed " * 2000, chunks=40).complete())
    chunks = list(litellm.completion(model="codex/gpt-5.5", messages=MESSAGES, stream=True))
    assert "".join(c.choices[0].delta.content or "" for c in chunks) == "compressed " * 2000
    request = fake.last_request
    assert request.headers["accept-encoding"] == CODEX_CLI_0_171
    assert request.content_coding == "zstd"


def test_the_catalog_the_refresh_and_an_error_are_read_compressed_too(codex_home, fake, provider):
    expired = make_auth_json(access_token=make_access_token(expires_in=-10), refresh_token="rt-1")
    fake.accept_refresh_token("rt-1")
    write_auth_json(codex_home, expired)
    fake.enqueue(HttpError(400, {"error": {"message": "Unsupported value.", "param": "tool_choice"}}))
    with pytest.raises(litellm.BadRequestError, match=r"Unsupported value\. \(parameter: tool_choice\)"):
        litellm.completion(model="codex/gpt-5.5", messages=MESSAGES)
    assert litellm.completion(model="codex/gpt-5.5", messages=MESSAGES).choices[0].message.content == (
        DEFAULT_TEXT
    )
    for log in (fake.token_log, fake.models_log, fake.requests):
        assert log, "each endpoint was called"
        assert {r.headers.get("accept-encoding") for r in log} == {CODEX_CLI_0_171}
        assert {r.content_coding for r in log if r.status != 304} == {"zstd"}


def test_the_drop_in_client_reads_compressed_answers(codex_home, fake):
    from litellm_codex_oauth_provider import CodexClient

    client = CodexClient()
    answer = client.chat.completions.create(model="gpt-5.5", messages=MESSAGES)
    assert answer.choices[0].message.content == DEFAULT_TEXT
    assert fake.last_request.content_coding == "zstd"


_WITHOUT_ZSTANDARD = """
import json, sys
sys.modules["zstandard"] = None  # as on an install without the optional zstd decoder
import litellm
from litellm_codex_oauth_provider import codex_auth_provider
from litellm_codex_oauth_provider.transport import accept_encoding

litellm.custom_provider_map = [{"provider": "codex", "custom_handler": codex_auth_provider}]
stream = litellm.completion(model="codex/gpt-5.5", messages=[{"role": "user", "content": "hi"}], stream=True)
text = "".join(c.choices[0].delta.content or "" for c in stream)
print(json.dumps({"accept_encoding": accept_encoding(), "text": text}))
"""


def test_without_zstandard_only_gzip_is_asked_for_and_read(codex_home, fake):
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(_WITHOUT_ZSTANDARD)],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "LITELLM_LOG": "ERROR"},
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert json.loads(done.stdout.splitlines()[-1]) == {"accept_encoding": "gzip", "text": DEFAULT_TEXT}
    assert fake.last_request.headers["accept-encoding"] == "gzip"
    assert fake.last_request.content_coding == "gzip"


def test_httpx_reads_the_fake_s_zstd_and_gzip_streams(fake):
    """The fake's codings are real ones: httpx decodes each, event by event."""
    for coding in ("zstd", "gzip"):
        with httpx.stream(
            "POST",
            fake.responses_url,
            json={"model": "gpt-5.5", "stream": True},
            headers={"accept-encoding": coding},
        ) as response:
            assert response.headers["content-encoding"] == coding
            events = parse_sse(b"".join(response.iter_bytes()))
        assert events[-1][0] == "response.completed"
        text = "".join(data["delta"] for name, data in events if name == "response.output_text.delta")
        assert text == DEFAULT_TEXT
