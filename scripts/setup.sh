#!/usr/bin/env bash
# Create a virtualenv (Python >= 3.11) with the package, the LiteLLM proxy and the test tools.
# Usage: scripts/setup.sh [newest|oldest]
#   newest (default): .venv         current LiteLLM and openai (scripts/stacks/newest.txt)
#   oldest:           .venv-oldest  the oldest supported LiteLLM and openai (scripts/stacks/oldest.txt)
# Runs again only when pyproject.toml, the stack files or this script change.
set -euo pipefail
cd "$(dirname "$0")/.."
STACK="${1:-${STACK:-newest}}"
case "$STACK" in
  newest) VENV=.venv ;;
  oldest) VENV=.venv-oldest ;;
  *) echo "setup.sh: unknown stack '$STACK' (newest or oldest)" >&2; exit 2 ;;
esac
PY="${PYTHON:-python3}"

say() { echo "setup [$STACK]: $*" >&2; }

# System packages the tests need, as "command=debian-package" words: each package is installed
# only when its command is missing, with one `apt-get update` before the first install.
SYSTEM_PACKAGES="npm=npm redis-server=redis-server"
install_system_packages() {
  local missing=() entry
  for entry in $SYSTEM_PACKAGES; do
    command -v "${entry%%=*}" >/dev/null 2>&1 || missing+=("${entry#*=}")
  done
  [ "${#missing[@]}" -eq 0 ] && return 0
  if ! command -v apt-get >/dev/null 2>&1 || [ "$(id -u)" -ne 0 ]; then
    say "missing system packages: ${missing[*]} (install them; the tests that need them are skipped)"
    return 0
  fi
  say "installing system packages: ${missing[*]}"
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
}

# pip's lines without the noise of this machine's index configuration.
pip_quiet() {
  local status=0
  "$VENV/bin/python" -m pip "$@" --quiet --disable-pip-version-check 2>&1 |
    grep -v "^WARNING: Location" >&2 || true
  status=${PIPESTATUS[0]}
  return "$status"
}

install_system_packages
stamp="$VENV/.installed-$(cat pyproject.toml scripts/stacks/*.txt scripts/setup.sh | sha256sum | cut -c1-16)"
[ -f "$stamp" ] && exit 0

if [ ! -x "$VENV/bin/python" ]; then
  "$PY" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed")'
  say "1/4 creating $VENV with $("$PY" --version)"
  "$PY" -m venv "$VENV"
else
  say "1/4 $VENV exists; bringing it up to date"
fi
say "2/4 updating pip"
pip_quiet install --upgrade pip
say "3/4 installing the package, LiteLLM, its proxy and the test tools (1-3 minutes on a first run)"
if [ "$STACK" = newest ]; then
  # litellm[proxy] cannot be resolved for this release here: the proxy's own dependencies instead.
  pip_quiet install -c scripts/stacks/newest.txt -e '.[dev,zstd,redis,testing]' -r scripts/stacks/newest-proxy.txt
else
  pip_quiet install -c scripts/stacks/oldest.txt -e '.[test]'
fi
say "4/4 checking that it imports"
LITELLM_LOCAL_MODEL_COST_MAP=True "$VENV/bin/python" -c 'import litellm_codex_oauth_provider, litellm, pytest' >/dev/null
rm -f "$VENV"/.installed-* && touch "$stamp"
say "ready in $VENV: $("$VENV/bin/python" -c 'from importlib.metadata import version as v
print(", ".join(f"{n} {v(n)}" for n in ("litellm", "openai", "httpx")))')"
