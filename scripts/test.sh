#!/usr/bin/env bash
# Set up (first run only), lint and run the whole test suite: unit, integration, end-to-end, interop.
# Usage: scripts/test.sh [--all-stacks] [pytest arguments], e.g. scripts/test.sh -k stream
#   By default on the newest supported LiteLLM + openai (.venv). With --all-stacks, or CI=true,
#   also on the oldest (.venv-oldest): the two ends of the supported range (scripts/stacks/).
#   STACK=oldest runs only the oldest.
set -uo pipefail
cd "$(dirname "$0")/.."
export LITELLM_LOCAL_MODEL_COST_MAP=True

stacks=("${STACK:-newest}")
if [ "${1:-}" = "--all-stacks" ]; then
  shift
  stacks=(newest oldest)
elif [ "${CI:-}" = "true" ] && [ -z "${STACK:-}" ]; then
  stacks=(newest oldest)
fi

venv_of() { if [ "$1" = oldest ]; then echo .venv-oldest; else echo .venv; fi; }

for stack in "${stacks[@]}"; do
  scripts/setup.sh "$stack" || { echo "setup of the $stack stack failed" >&2; exit 1; }
done
"$(venv_of "${stacks[0]}")/bin/ruff" check src tests scripts bench || exit 1

# `N passed, N failed[, N skipped]` from pytest's closing line (pytest leaves out zero counts).
counts() {
  local line passed failed errors skipped
  line=$(grep -E "^=*\s*[0-9]+ (passed|failed|error|errors|skipped|deselected)|no tests ran" "$1" | tail -1)
  passed=$(grep -oE "[0-9]+ passed" <<<"$line" | grep -oE "[0-9]+" || true)
  failed=$(grep -oE "[0-9]+ failed" <<<"$line" | grep -oE "[0-9]+" || true)
  errors=$(grep -oE "[0-9]+ errors?" <<<"$line" | grep -oE "[0-9]+" || true)
  skipped=$(grep -oE "[0-9]+ skipped" <<<"$line" | grep -oE "[0-9]+" || true)
  echo "${passed:-0} ${failed:-0} ${errors:-0} ${skipped:-0}"
}

summary=()
overall=0
total_passed=0
total_failed=0
total_skipped=0
for stack in "${stacks[@]}"; do
  venv=$(venv_of "$stack")
  versions=$("$venv/bin/python" -c 'from importlib.metadata import version as v
print(", ".join(f"{n} {v(n)}" for n in ("litellm", "openai")))')
  echo "=== $stack stack: $versions ($venv)"
  log=$(mktemp)
  started=$(date +%s)
  "$venv/bin/python" -m pytest -q -p no:cacheprovider "$@" 2>&1 | tee "$log"
  status=${PIPESTATUS[0]}
  seconds=$(($(date +%s) - started))
  read -r passed failed errors skipped <<<"$(counts "$log")"
  rm -f "$log"
  failed=$((failed + errors))
  if [ "$status" -eq 5 ]; then
    echo "pytest collected no tests on the $stack stack: that is a failure here" >&2
    status=1
    failed=$((failed + 1))
  elif [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then
    failed=1 # pytest failed without a test failing (an internal or usage error)
  fi
  [ "$status" -ne 0 ] && overall=1
  total_passed=$((total_passed + passed))
  total_failed=$((total_failed + failed))
  total_skipped=$((total_skipped + skipped))
  summary+=("$stack: $passed passed, $failed failed, $skipped skipped ($versions; ${seconds} s; pytest exit $status)")
done

echo "=== results per stack"
for line in "${summary[@]}"; do echo "$line"; done
if [ "${#stacks[@]}" -gt 1 ]; then
  echo "total: $total_passed passed, $total_failed failed, $total_skipped skipped"
fi
exit "$overall"
