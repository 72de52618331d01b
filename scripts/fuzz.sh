#!/usr/bin/env bash
# Builds the front-end + lowering + lint fuzzer with libFuzzer + AddressSanitizer and runs it.
#
#   scripts/fuzz.sh [SECONDS]        # default 60
#
# The fuzzer is one binary compiled from FUZZ_SOURCES below (no SwiftPM). When a later
# stage joins the fuzzer, add its source files to FUZZ_SOURCES (and its entry point to
# Fuzz/YAMLFuzz/FuzzEntry.swift). Extra swiftc/libFuzzer flags: FUZZ_SWIFTC_FLAGS,
# FUZZ_FLAGS (e.g. FUZZ_FLAGS="-jobs=2 -workers=2").
#
# New corpus entries go to .build/fuzz/corpus (seeded from Fuzz/corpus, which stays as
# committed); crashes are written to .build/fuzz/artifacts/.
set -euo pipefail

seconds="${1:-60}"
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

# The whole core library (front end, lowering, expressions, rules) plus the action
# declarations, compiled as one module named RunbookKit (so their `import RunbookKit` is a no-op).
FUZZ_SOURCES=(
    $(find Sources/RunbookKit -name '*.swift' | sort)
    Sources/RunbookActions/StandardParameters.swift
    Sources/RunbookActions/*/*Actions.swift
    Fuzz/YAMLFuzz/*.swift
)

out=".build/fuzz"
mkdir -p "$out/corpus" "$out/artifacts"

echo "building $out/yaml-fuzz from ${#FUZZ_SOURCES[@]} files"
# -suppress-warnings: the action declarations are compiled into this one module, so each of
# their `import RunbookKit` lines warns; the package build (scripts/test.sh) builds the same
# sources and is where warnings count.
# shellcheck disable=SC2086
swiftc -sanitize=fuzzer,address -parse-as-library ${FUZZ_OPT:--O} -g -suppress-warnings \
    -swift-version 6 -enable-upcoming-feature ExistentialAny \
    -module-name RunbookKit \
    -I Sources/CYAML $(pkg-config --cflags yaml-0.1) \
    "${FUZZ_SOURCES[@]}" \
    $(pkg-config --libs yaml-0.1) \
    ${FUZZ_SWIFTC_FLAGS:-} \
    -o "$out/yaml-fuzz"

# LeakSanitizer reports Swift's lazily initialised globals (the action catalog, built once)
# as leaks at exit, which would fail every run; crashes, traps and ASan errors still fail it.
echo "fuzzing for ${seconds}s"
# shellcheck disable=SC2086
ASAN_OPTIONS="detect_leaks=0:${ASAN_OPTIONS:-}" SWIFT_BACKTRACE=enable=no "$out/yaml-fuzz" \
    -max_total_time="$seconds" \
    -max_len=8192 \
    -timeout=10 \
    -rss_limit_mb=2048 \
    -dict=Fuzz/yaml.dict \
    -artifact_prefix="$out/artifacts/" \
    -print_final_stats=1 \
    -detect_leaks=0 \
    ${FUZZ_FLAGS:-} \
    "$out/corpus" Fuzz/corpus
