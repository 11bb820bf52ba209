#!/usr/bin/env bash
# Builds the GGUF reader fuzzer (tests/fuzz/fuzz_gguf.c) with clang's
# libFuzzer + ASan + UBSan straight from the library sources and runs it.
#
#   tests/fuzz/run_fuzz.sh [SECONDS] [BUILD_DIR]     (default 20 s, build-fuzz)
#
# The corpus starts from the committed seeds in tests/fuzz/corpus_gguf/ and
# grows in BUILD_DIR/corpus (the seeds are never modified); crashes land in
# BUILD_DIR/artifacts. Exits nonzero when the fuzzer finds a crash or leak.
set -euo pipefail
SECONDS_TO_RUN=${1:-20}
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
OUT=${2:-$ROOT/build-fuzz}
CC=${CLANG:-clang}
mkdir -p "$OUT/corpus" "$OUT/artifacts"

# the reader's dependencies only: errors, dtype traits and conversions,
# and the GGUF/quant files of src/formats
SRCS=("$ROOT"/src/core/error.c "$ROOT"/src/core/dtype.c "$ROOT"/src/formats/gguf_*.c "$ROOT"/src/formats/strmap.c "$ROOT"/src/formats/quant*.c)
for f in "$ROOT"/src/core/dtype_convert*.c; do SRCS+=("$f"); done
"$CC" -std=gnu11 -g -O1 -Wall -Wextra -Wno-unused-parameter \
  -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
  -I"$ROOT/include" -I"$ROOT/src" \
  "$HERE/fuzz_gguf.c" "${SRCS[@]}" -lm -o "$OUT/fuzz_gguf"

export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
"$OUT/fuzz_gguf" -max_total_time="$SECONDS_TO_RUN" -max_len=65536 -rss_limit_mb=2048 \
  -malloc_limit_mb=64 -timeout=10 -print_final_stats=1 \
  -artifact_prefix="$OUT/artifacts/" "$OUT/corpus" "$HERE/corpus_gguf"
