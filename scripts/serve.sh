#!/usr/bin/env bash
# Set up (first run only) and start the LiteLLM proxy with litellm_config.yaml on 127.0.0.1:4000.
# Extra arguments go to `litellm`, e.g. scripts/serve.sh --port 8080 --num_workers 2
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
exec .venv/bin/litellm --config litellm_config.yaml --host "${HOST:-127.0.0.1}" --port "${PORT:-4000}" "$@"
