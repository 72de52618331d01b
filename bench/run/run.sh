#!/usr/bin/env bash
# Run-overhead benchmark: `runbook run` of generated runbooks (1 / 100 / 1,000 log+assert steps,
# 1 / 100 http.check steps against a loopback server) beside the same work in Ansible and pypyr,
# measured with hyperfine. Prints a Markdown table and the per-step overheads.
#
#   bash bench/run/run.sh
#
# Environment:
#   RUNS=5 WARMUP=1     hyperfine runs / warmups per case (the Ansible http100 case uses
#                       ANSIBLE_HTTP_RUNS, default RUNS: one run takes about a minute)
#   PORT=18080          loopback port of the health server
#   SKIP_BUILD=1        use the existing .build/release/runbook
#   SKIP_PEERS=1        measure runbook only (no Ansible, no pypyr)
#   SKIP_SHM=1          skip the extra runs with the state dir on /dev/shm (fsync share)
#   SKIP_PYSERVER=1     skip the comparison against python's http.server
# Everything it makes goes under bench/out/ (git-ignored): the venv, the generated inputs,
# hyperfine's JSON exports and results.md.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
HERE="$ROOT/bench/run"
OUT="$ROOT/bench/out"
WORK="$OUT/run"
RUNS=${RUNS:-5}
WARMUP=${WARMUP:-1}
ANSIBLE_HTTP_RUNS=${ANSIBLE_HTTP_RUNS:-$RUNS}
PORT=${PORT:-18080}
PYPORT=$((PORT + 1))
RUNBOOK="$ROOT/.build/release/runbook"
VENV="$OUT/venv"

log() { printf '\n== %s\n' "$*" >&2; }

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

# --- tools ---------------------------------------------------------------------------------
if ! command -v hyperfine >/dev/null; then
    log "installing hyperfine"
    as_root apt-get update -qq && as_root apt-get install -y -qq hyperfine >/dev/null
fi
if ! command -v cc >/dev/null; then
    log "installing a C compiler"
    as_root apt-get update -qq && as_root apt-get install -y -qq gcc libc6-dev >/dev/null
fi
if [ "${SKIP_BUILD:-0}" != 1 ]; then
    if ! pkg-config --exists yaml-0.1 2>/dev/null || ! dpkg -s libmimalloc-dev >/dev/null 2>&1; then
        as_root apt-get update -qq && as_root apt-get install -y -qq libyaml-dev libmimalloc-dev pkg-config >/dev/null
    fi
    # The build we ship (README "Install"): the Swift runtime and Foundation linked in, which
    # saves a few ms of dynamic linking at every start.
    log "swift build -c release --static-swift-stdlib"
    (cd "$ROOT" && swift build -c release --static-swift-stdlib --product runbook)
fi
[ -x "$RUNBOOK" ] || { echo "no $RUNBOOK: build it (swift build -c release --static-swift-stdlib)" >&2; exit 1; }
if [ "${SKIP_PEERS:-0}" != 1 ]; then
    if [ ! -x "$VENV/bin/ansible-playbook" ] || [ ! -x "$VENV/bin/pypyr" ]; then
        log "installing ansible-core and pypyr into $VENV"
        python3 -m venv "$VENV"
        "$VENV/bin/pip" install -q ansible-core pypyr
    fi
fi

mkdir -p "$WORK"
rm -rf "$WORK/inputs" "$WORK/json"
mkdir -p "$WORK/json"
cc -O2 -Wall -pthread -o "$OUT/healthd" "$HERE/healthd.c"
python3 "$HERE/gen.py" "$WORK/inputs" "$PORT"

# --- loopback servers (stopped on exit; each also exits by itself after 2 h) -----------------
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$STATE_ROOT" "$SHM_ROOT"; }
STATE_ROOT=$(mktemp -d "${TMPDIR:-/tmp}/runbook-bench.XXXXXX")
SHM_ROOT=$(mktemp -d /dev/shm/runbook-bench.XXXXXX)
trap cleanup EXIT
"$OUT/healthd" "$PORT" 7200 &
PIDS+=($!)
if [ "${SKIP_PYSERVER:-0}" != 1 ]; then
    mkdir -p "$WORK/pyroot" && printf '{"status":"ok"}' >"$WORK/pyroot/health"
    python3 -m http.server --bind 127.0.0.1 --directory "$WORK/pyroot" "$PYPORT" >/dev/null 2>&1 &
    PIDS+=($!)
fi
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$PORT/health" >/dev/null && break; sleep 0.1; done
curl -sf "http://127.0.0.1:$PORT/health" >/dev/null || { echo "health server did not start" >&2; exit 1; }

# --- measurements ----------------------------------------------------------------------------
# bench NAME RUNS PREPARE COMMAND: one hyperfine case, exported as json/NAME.json.
bench() {
    local name=$1 runs=$2 prepare=$3 cmd=$4
    log "$name: $cmd"
    local args=(--warmup "$WARMUP" --runs "$runs" --export-json "$WORK/json/$name.json" --style basic)
    if [ -n "$prepare" ]; then args+=(--prepare "$prepare"); fi
    hyperfine "${args[@]}" --command-name "$name" "$cmd" >&2
}

IN="$WORK/inputs"
# A fresh, empty state dir before every timed run: each run pays for creating its run
# directory, lock, runbook copy and journal (every record written at once and fsync'd by the
# group commit; the run waits for the disk at its end).
for case in steps1 steps100 steps1000 http1 http100; do
    bench "runbook_$case" "$RUNS" "rm -rf $STATE_ROOT/s && mkdir -p $STATE_ROOT/s" \
        "$RUNBOOK run $IN/runbook/$case.yaml --state-dir $STATE_ROOT/s"
done
# The same on disk with an fsync before every record returns (--journal-sync record), the
# strictest durability, for comparison with the default group commit.
for case in steps1 steps100 steps1000 http1 http100; do
    bench "runbook_record_$case" "$RUNS" "rm -rf $STATE_ROOT/s && mkdir -p $STATE_ROOT/s" \
        "$RUNBOOK run $IN/runbook/$case.yaml --state-dir $STATE_ROOT/s --journal-sync record"
done
# `runbook run` lints the runbook first: time the lint alone to split the per-step cost.
for case in steps1 steps100 steps1000; do
    bench "lint_$case" "$RUNS" "" "$RUNBOOK lint $IN/runbook/$case.yaml"
done
# Sanity: the runs succeeded and journaled every step.
"$RUNBOOK" run "$IN/runbook/steps1000.yaml" --state-dir "$STATE_ROOT/check" >/dev/null
"$RUNBOOK" run "$IN/runbook/http100.yaml" --state-dir "$STATE_ROOT/check" >/dev/null
if [ "${SKIP_SHM:-0}" != 1 ]; then
    # The same runs with the state dir on tmpfs, where fsync is free: the difference is the
    # journal's durability cost on this machine's disk.
    for case in steps1 steps100 steps1000 http1 http100; do
        bench "runbook_shm_$case" "$RUNS" "rm -rf $SHM_ROOT/s && mkdir -p $SHM_ROOT/s" \
            "$RUNBOOK run $IN/runbook/$case.yaml --state-dir $SHM_ROOT/s"
    done
fi
if [ "${SKIP_PYSERVER:-0}" != 1 ]; then
    # Is the server the bottleneck? The same 100 checks against python's http.server.
    sed "s/:$PORT\//:$PYPORT\//" "$IN/runbook/http100.yaml" >"$IN/runbook/http100_pyserver.yaml"
    sed "s/:$PORT\//:$PYPORT\//" "$IN/pypyr/http100.yaml" >"$IN/pypyr/http100_pyserver.yaml"
    bench "runbook_http100_pyserver" "$RUNS" "rm -rf $STATE_ROOT/s && mkdir -p $STATE_ROOT/s" \
        "$RUNBOOK run $IN/runbook/http100_pyserver.yaml --state-dir $STATE_ROOT/s"
    if [ "${SKIP_PEERS:-0}" != 1 ]; then
        bench "pypyr_http100_pyserver" "$RUNS" "" "cd $IN/pypyr && $VENV/bin/pypyr http100_pyserver"
    fi
fi
if [ "${SKIP_PEERS:-0}" != 1 ]; then
    export ANSIBLE_LOCALHOST_WARNING=false ANSIBLE_INVENTORY_UNPARSED_WARNING=false
    export ANSIBLE_HOME="$WORK/ansible-home" ANSIBLE_NOCOLOR=1 ANSIBLE_RETRY_FILES_ENABLED=false
    for case in steps1 steps100 steps1000 http1 http100; do
        bench "pypyr_$case" "$RUNS" "" "cd $IN/pypyr && $VENV/bin/pypyr $case"
    done
    for case in steps1 steps100 steps1000 http1; do
        bench "ansible_$case" "$RUNS" "" "$VENV/bin/ansible-playbook $IN/ansible/$case.yml"
    done
    bench "ansible_http100" "$ANSIBLE_HTTP_RUNS" "" "$VENV/bin/ansible-playbook $IN/ansible/http100.yml"
fi

# --- report ----------------------------------------------------------------------------------
{
    echo "Machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(free -g | awk '/Mem:/ {print $2}') GiB;"
    echo "$(uname -sr); state dir on $(df -T "${TMPDIR:-/tmp}" | awk 'NR==2 {print $2}') (${TMPDIR:-/tmp}) and tmpfs (/dev/shm);"
    echo "runbook $(cd "$ROOT" && git describe --always --dirty), $(swift --version 2>&1 | head -1);"
    echo "$("$VENV/bin/ansible-playbook" --version 2>/dev/null | head -1), $("$VENV/bin/pypyr" --version 2>/dev/null), hyperfine $(hyperfine --version | cut -d' ' -f2);"
    # What one journal record's durability costs here: append ~300 bytes + fsync, like Journal.append.
    python3 - "$STATE_ROOT" <<'PY'
import os, sys, time
for where in (sys.argv[1], "/dev/shm"):
    path = os.path.join(where, "fsync-probe.jsonl")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    line = b"x" * 299 + b"\n"
    n = 300
    t = time.perf_counter()
    for _ in range(n):
        os.write(fd, line)
        os.fsync(fd)
    dt = (time.perf_counter() - t) / n * 1000
    os.close(fd)
    os.unlink(path)
    print(f"append + fsync of one 300-byte record on {where}: {dt:.3f} ms (mean of {n});")
PY
    echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg). RUNS=$RUNS WARMUP=$WARMUP."
    echo
} | sed 's/;$//; s/^\(.\)/- \1/' >"$WORK/machine.md"
{ cat "$WORK/machine.md"; python3 "$HERE/report.py" "$WORK/json"; } | tee "$WORK/results.md"
