#!/usr/bin/env bash
# Set up (first run only) and start the LiteLLM proxy with litellm_config.yaml on 127.0.0.1:4000.
# Extra arguments go to `litellm`, e.g. scripts/serve.sh --port 8080 --num_workers 2
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
# LiteLLM's price list as shipped with it: offline, fetching it costs seconds of retries at every start.
export LITELLM_LOCAL_MODEL_COST_MAP="${LITELLM_LOCAL_MODEL_COST_MAP:-True}"
if [ -z "${LITELLM_MASTER_KEY:-}" ]; then
  # The proxy must not be open to anyone on the network: make a key once, keep it private.
  if [ ! -s .litellm-master-key ]; then
    (umask 077 && .venv/bin/python -c 'import secrets; print("sk-" + secrets.token_hex(32))' > .litellm-master-key)
  fi
  LITELLM_MASTER_KEY=$(cat .litellm-master-key)
  export LITELLM_MASTER_KEY
  echo "proxy key (use it as the OpenAI api_key): in $(pwd)/.litellm-master-key" >&2
fi
exec .venv/bin/litellm --config litellm_config.yaml --host "${HOST:-127.0.0.1}" --port "${PORT:-4000}" "$@"
