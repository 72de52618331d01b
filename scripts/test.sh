#!/usr/bin/env bash
# Sets up and runs the whole test suite: build, unit and integration tests, a short fuzz run.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --test
swift build 2>&1 | tail -n 3
swift test 2>&1 | tee /tmp/runbook-test.log | grep -vE '^\s*(\[[0-9]+/[0-9]+\]|Compiling|Emitting|Write|Build)' || true
status=${PIPESTATUS[0]}
[ "$status" -eq 0 ] || exit "$status"
# Root reads every directory, so the tests of permission errors skip themselves under root (as
# in CI): run those again as the unprivileged user nobody.
if [ "$(id -u)" -eq 0 ] && command -v setpriv >/dev/null; then
  unprivileged=$(setpriv --reuid=65534 --regid=65534 --clear-groups env HOME=/tmp \
    "$(swift build --show-bin-path)/runbookPackageTests.xctest" --testing-library swift-testing \
    --filter 'unreadableDirectory' 2>&1) || { echo "$unprivileged"; exit 1; }
  echo "$unprivileged" | tail -n 1
  # A renamed test would match nothing and pass: require that it ran.
  echo "$unprivileged" | grep -q 'Test run with [1-9][0-9]* test.* passed' || { echo "$unprivileged"; exit 1; }
fi
if [ "${RUNBOOK_SKIP_FUZZ:-0}" != 1 ] && [ -x scripts/fuzz.sh ]; then
  bash scripts/fuzz.sh "${RUNBOOK_FUZZ_SECONDS:-60}"
fi
