#!/usr/bin/env bash
# Sets up, builds and runs the main job on the embedded runbooks: lint them all, list them, show one.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
swift build -c release 2>&1 | tail -n 1
bin=.build/release/runbook
echo "\$ runbook lint --strict runbooks.d"; $bin lint --strict runbooks.d
echo; echo "\$ runbook list"; $bin list
echo; echo "\$ runbook show qwen_failure_downshift"; $bin show qwen_failure_downshift
