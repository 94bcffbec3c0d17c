"""The backend facts every module shares: the request headers and the `x-codex-*` filter."""

from __future__ import annotations

import ast
from pathlib import Path

import httpx

from litellm_codex_oauth_provider import protocol

PACKAGE = Path(protocol.__file__).parent


def test_only_codex_headers_are_kept_lower_cased_and_bounded():
    values = protocol.rate_limit_headers(
        httpx.Headers({"X-Codex-Primary-Used-Percent": "5", "authorization": "Bearer x", "set-cookie": "a=b"})
    )
    assert values == {"x-codex-primary-used-percent": "5"}
    flood = protocol.rate_limit_headers([(f"x-codex-h{i}", "v" * 1000) for i in range(100)])
    assert len(flood) == 64
    assert {len(v) for v in flood.values()} == {256}


def test_every_request_carries_the_codex_cli_headers():
    headers = protocol.codex_headers(protocol.ACCEPT_JSON)
    assert headers["originator"] == protocol.ORIGINATOR
    assert headers["Accept"] == "application/json"
    assert headers["User-Agent"].startswith(f"{protocol.ORIGINATOR}/{protocol.CODEX_CLIENT_VERSION} (")
    assert headers["User-Agent"].endswith(f" litellm-codex-oauth-provider/{protocol.PACKAGE_VERSION}")
    assert headers["Accept-Encoding"] in ("zstd,gzip", "gzip")
    assert protocol.codex_headers()["Accept"] == "text/event-stream"


def test_the_package_version_is_the_protocol_modules():
    import litellm_codex_oauth_provider

    assert litellm_codex_oauth_provider.__version__ == protocol.PACKAGE_VERSION


def test_protocol_and_config_import_nothing_above_them():
    """The bottom of the package: `protocol` imports none of it, `config` only `protocol`."""
    allowed = {"protocol.py": set(), "config.py": {"protocol"}}
    for name, may_import in allowed.items():
        tree = ast.parse((PACKAGE / name).read_text(encoding="utf-8"))
        imported: set[str] = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.level > 0:
                if node.module:
                    imported.add(node.module.split(".")[0])
                else:
                    imported.update(alias.name for alias in node.names)
        assert imported <= may_import, name
