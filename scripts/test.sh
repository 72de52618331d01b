#!/usr/bin/env bash
# Sets up and runs the whole test suite: build, unit and integration tests, a short fuzz run.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --test
swift build 2>&1 | tail -n 3
swift test 2>&1 | tee /tmp/runbook-test.log | grep -vE '^\s*(\[[0-9]+/[0-9]+\]|Compiling|Emitting|Write|Build)' || true
status=${PIPESTATUS[0]}
[ "$status" -eq 0 ] || exit "$status"
if [ "${RUNBOOK_SKIP_FUZZ:-0}" != 1 ] && [ -x scripts/fuzz.sh ]; then
  bash scripts/fuzz.sh "${RUNBOOK_FUZZ_SECONDS:-60}"
fi
