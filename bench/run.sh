#!/usr/bin/env bash
# Runs every benchmark (printed, never asserted). usage: bench/run.sh BUILD_DIR
set -euo pipefail
build=${1:-build}
threads=${ZF_BENCH_THREADS:-2}
echo "== zerfoo benchmarks ($(date -u +%Y-%m-%d), $(nproc) CPUs, $threads threads) =="
for b in "$build"/bench/bench_*; do
  [ -x "$b" ] || continue
  echo
  echo "## $(basename "$b") $threads"
  "$b" "$threads"
done
