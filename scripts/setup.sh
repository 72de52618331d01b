#!/usr/bin/env bash
# Installs what runbook needs on a fresh Debian machine (idempotent).
#   scripts/setup.sh          build needs: libyaml-dev, libmimalloc-dev, pkg-config
#   scripts/setup.sh --test   plus what the tests start or use: prometheus (with promtool),
#                             postgresql, strace, perl
set -euo pipefail
need=()
pkg-config --exists yaml-0.1 2>/dev/null || need+=(libyaml-dev)
command -v pkg-config >/dev/null || need+=(pkg-config)
# The binary links mimalloc as its allocator (Package.swift, BENCHMARKS.md).
dpkg -s libmimalloc-dev >/dev/null 2>&1 || need+=(libmimalloc-dev)
if [ "${1:-}" = "--test" ]; then
  command -v prometheus >/dev/null && command -v promtool >/dev/null || need+=(prometheus)
  ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
  command -v strace >/dev/null || need+=(strace)
  command -v perl >/dev/null || need+=(perl)
fi
if [ "${#need[@]}" -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi
