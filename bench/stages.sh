#!/usr/bin/env bash
# Times lint stage by stage (libyaml floor, events, tree, lowering, rules) on one thread, over the
# benchmark corpus and the big file, and prints Markdown tables (see BENCHMARKS.md).
#
#   bash bench/stages.sh              # after bench/run.sh generated bench/out/
#   bash bench/stages.sh PATH...      # any files or directories; STAGES_RUNS=N rounds (default 5),
#                                     # STAGES_ONLY=tree (one stage and the floor, e.g. for perf),
#                                     # STAGES_SWIFTFLAGS="..." (extra swiftc flags for an experiment)
#
# The harness is one binary compiled from RunbookKit's sources plus bench/stages/Stages.swift
# (no SwiftPM, like scripts/fuzz.sh), so it can time the front end's internal stages.
set -euo pipefail
cd "$(dirname "$0")/.."
out=.build/stages
mkdir -p "$out"
sources=(
    $(find Sources/RunbookKit -name '*.swift' | sort)
    Sources/RunbookActions/StandardParameters.swift
    Sources/RunbookActions/*/*Actions.swift
    bench/stages/Stages.swift
)
root=$(pwd)
sources=("${sources[@]/#/$root/}")
# Compiled from inside $out: swiftc leaves module files in the working directory.
(cd "$out" && swiftc -O -wmo -g ${STAGES_SWIFTFLAGS:-} -suppress-warnings -parse-as-library -swift-version 6 \
    -enable-upcoming-feature ExistentialAny -module-name RunbookKit -I "$root/Sources/CYAML" \
    $(pkg-config --cflags yaml-0.1) "${sources[@]}" $(pkg-config --libs yaml-0.1) -lmimalloc -o stages)
if [ "$#" -eq 0 ]; then
    set -- bench/out/corpus "$(ls bench/out/big/*.yaml)"
fi
for path in "$@"; do
    echo "### $path"
    "$out/stages" --runs "${STAGES_RUNS:-5}" ${STAGES_ONLY:+--only "$STAGES_ONLY"} "$path"
    echo
done
