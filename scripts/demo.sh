#!/usr/bin/env bash
# The main job, live: builds runbook, lints, drills and scenario-tests the Artisan runbooks, then runs
# qwen_failure_downshift for real against a local sandbox of the Artisan API (127.0.0.1 only):
# it opens the breaker, downshifts, notifies, opens an incident, pauses for the on-call's
# confirmation, and is resumed once "Qwen is restarted". No external service is touched.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
echo "building (debug)…"
swift build 2>&1 | grep -E "error|Compiling|Build complete" | tail -n 1
bin="$PWD/.build/debug/runbook"

work=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
python3 examples/sandbox/artisan_sandbox.py "$port" --qwen-down >"$work/sandbox.log" 2>&1 &
sandbox=$!
trap 'kill $sandbox 2>/dev/null; rm -rf "$work"' EXIT
base="http://127.0.0.1:$port"
for _ in $(seq 50); do python3 -c "import urllib.request; urllib.request.urlopen('$base/requests')" 2>/dev/null && break; sleep 0.1; done

export RUNBOOK_STATE_DIR="$work/state"
export RUNBOOK_SECRET_SLACK_WEBHOOK="$base/slack"
export RUNBOOK_SECRET_PAGERDUTY_ROUTING_KEY="demo-routing-key-0123456789"
params=(--param "api_url=$base" --param "prometheus_url=$base" --param "pagerduty_url=$base/pagerduty")
step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }

step runbook lint --strict runbooks.d
"$bin" lint --strict runbooks.d
step runbook drill runbooks.d
"$bin" drill runbooks.d
step runbook test runbooks.d
"$bin" test runbooks.d

step runbook run qwen_failure_downshift "${params[@]}"
set +e
"$bin" run qwen_failure_downshift "${params[@]}"
status=$?
set -e
echo "(exit $status: 3 means paused, waiting for the on-call's confirmation)"
run=$("$bin" history --format json | python3 -c 'import json,sys; print(json.load(sys.stdin)[-1]["run_id"])')

step "# the on-call restarts Qwen (the sandbox marks it healthy)"
python3 -c "import urllib.request; urllib.request.urlopen(urllib.request.Request('$base/admin/recover/qwen', method='POST'))"

step runbook resume "$run" --approve confirm_qwen_recovered
"$bin" resume "$run" --approve confirm_qwen_recovered

step runbook state
"$bin" state
step runbook incident list
"$bin" incident list
step runbook incident show INC-0001
"$bin" incident show INC-0001
step runbook history "$run"
"$bin" history "$run"
echo
echo "The sandbox received $(python3 -c "import urllib.request; print(len(urllib.request.urlopen('$base/requests').read().splitlines()))") requests; nothing left this machine."
