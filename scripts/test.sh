#!/usr/bin/env bash
# Set up (first run only) and run the whole test suite: unit, integration, end-to-end, interop.
# Extra arguments go to pytest, e.g. scripts/test.sh -k stream
set -uo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh || exit 1
export LITELLM_LOCAL_MODEL_COST_MAP=True
.venv/bin/ruff check src tests scripts bench || exit 1
.venv/bin/python -m pytest -q -p no:cacheprovider "$@"
status=$?
if [ "$status" -eq 5 ]; then
  echo "pytest collected no tests: that is a failure here" >&2
  exit 1
fi
exit "$status"
