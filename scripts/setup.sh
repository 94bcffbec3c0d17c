#!/usr/bin/env bash
# Create .venv (Python >= 3.11) and install the package with what the proxy and the tests need.
# Usage: scripts/setup.sh            (proxy + tests)
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-python3}"
# --- apt: redis-server for the Redis token store tests (tests/test_token_store_redis.py) -----------
# Idempotent: does nothing when redis-server is on PATH already; uses sudo when not root.
if ! command -v redis-server >/dev/null 2>&1; then
  if command -v apt-get >/dev/null 2>&1; then
    SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    $SUDO apt-get update -qq && $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null
  else
    echo "setup.sh: install redis-server (the Redis token store tests start one)" >&2
  fi
fi
# --- end apt ---------------------------------------------------------------------------------------
if [ ! -x .venv/bin/python ]; then
  "$PY" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed")'
  "$PY" -m venv .venv
fi
stamp=.venv/.installed-$(cat pyproject.toml | sha256sum | cut -c1-16)
if [ ! -f "$stamp" ]; then
  .venv/bin/python -m pip install --quiet --upgrade pip 2>&1 | grep -v "^WARNING: Location" || true
  .venv/bin/python -m pip install --quiet -e '.[test]' 2>&1 | grep -v "^WARNING: Location" || true
  LITELLM_LOCAL_MODEL_COST_MAP=True .venv/bin/python -c 'import litellm_codex_oauth_provider, litellm, pytest' >/dev/null
  rm -f .venv/.installed-* && touch "$stamp"
fi
