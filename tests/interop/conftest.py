"""The real Codex CLI for interoperability tests: `@openai/codex` from npm, installed once per machine."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

CODEX_CLI_VERSION = (
    os.environ.get("CODEX_INTEROP_CLI_VERSION") or "0.171.0"
)  # override to try another release
NPM_PACKAGE = f"@openai/codex@{CODEX_CLI_VERSION}"

# Features that would reach chatgpt.com (analytics, connectors, plugins, suggestions) stay off:
# the CLI may talk only to the local server a test points it at.
OFFLINE_SETTINGS = """\
[analytics]
enabled = false

[features]
apps = false
plugins = false
remote_plugin = false
plugin_sharing = false
tool_suggest = false
"""


def write_cli_config(codex_home: Path, config: str) -> Path:
    """Write `codex_home/config.toml`: `config` (model, provider) and the settings that keep the CLI offline."""
    path = codex_home / "config.toml"
    path.write_text(config.rstrip("\n") + "\n\n" + OFFLINE_SETTINGS, encoding="utf-8")
    return path


def _install_dir() -> Path:
    """`CODEX_INTEROP_DIR`, else a folder under the system temp dir that later runs reuse."""
    override = os.environ.get("CODEX_INTEROP_DIR")
    base = Path(override) if override else Path(tempfile.gettempdir()) / "litellm-codex-interop"
    return base / f"codex-{CODEX_CLI_VERSION}"


def _version(binary: Path) -> str | None:
    """`codex --version`, run with a scratch home: the CLI may set up files in its home even for that."""
    with tempfile.TemporaryDirectory() as scratch:
        env = {**os.environ, "HOME": scratch, "CODEX_HOME": scratch}
        try:
            done = subprocess.run([binary, "--version"], capture_output=True, text=True, timeout=60, env=env)
        except OSError:
            return None
    return done.stdout.strip() if done.returncode == 0 else None


@pytest.fixture(scope="session")
def codex_cli() -> Path:
    """Path of the real `codex` binary at the pinned version; skips when npm cannot provide it."""
    folder = _install_dir()
    binary = folder / "node_modules" / ".bin" / "codex"
    if _version(binary) != f"codex-cli {CODEX_CLI_VERSION}":
        npm = shutil.which("npm")
        if npm is None:
            pytest.skip(f"npm is not installed, so the Codex CLI ({NPM_PACKAGE}) cannot be installed")
        folder.mkdir(parents=True, exist_ok=True)
        command = [npm, "install", "--prefix", str(folder), "--no-audit", "--no-fund", NPM_PACKAGE]
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=600)
        except subprocess.TimeoutExpired:
            pytest.skip(f"`npm install {NPM_PACKAGE}` took over 10 minutes")
        if done.returncode != 0:
            pytest.skip(f"`npm install {NPM_PACKAGE}` failed: {done.stderr.strip()[-500:]}")
        version = _version(binary)
        if version != f"codex-cli {CODEX_CLI_VERSION}":
            pytest.skip(f"{NPM_PACKAGE} installed, but `codex --version` says {version!r}")
    return binary
