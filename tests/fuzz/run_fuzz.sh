#!/usr/bin/env bash
# Builds a libFuzzer target (tests/fuzz/fuzz_TARGET.c) with clang's libFuzzer
# + ASan + UBSan straight from the library sources and runs it.
#
#   tests/fuzz/run_fuzz.sh [TARGET] [SECONDS] [BUILD_DIR]
#
# TARGET (default gguf) is one of
#   gguf         the GGUF reader (zf_gguf_open_memory and every getter)
#   safetensors  the safetensors reader (zf_safetensors_open_memory, load_all)
#   checkpoint   zf_checkpoint_load / load_ema into a small model + Adam
#   idx          zf_idx_load, plain and gzip
#   llm          zf_llm_load of a GGUF model file, then tokenize / decode / eval
#   tokenize     encode + decode of arbitrary text with the llm seed models
# or "all" (builds every target, runs each for SECONDS). The old form
# run_fuzz.sh [SECONDS] [BUILD_DIR] (first argument a number) fuzzes gguf.
# SECONDS (default 20) 0 builds only. BUILD_DIR defaults to build-fuzz.
#
# The corpus starts from the committed seeds in tests/fuzz/corpus_TARGET/ and
# grows in BUILD_DIR/corpus_TARGET (the seeds are never modified); crashes land
# in BUILD_DIR/artifacts. Exits nonzero when the fuzzer finds a crash, leak,
# UB, timeout or out-of-memory. The gguf target is built from the reader's own
# sources; the others link the whole library, compiled once into
# BUILD_DIR/obj (in parallel, ZF_FUZZ_JOBS, default 2; rebuilt when a source
# or header is newer; a lock lets several runs share it).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
TARGET=gguf
if [[ $# -gt 0 && ! $1 =~ ^[0-9]+$ ]]; then
  TARGET=$1
  shift
fi
SECONDS_TO_RUN=${1:-20}
OUT=${2:-$ROOT/build-fuzz}
CC=${CLANG:-clang}
JOBS=${ZF_FUZZ_JOBS:-2}
ALL=(gguf safetensors checkpoint idx llm tokenize)
mkdir -p "$OUT/artifacts"

if [[ $TARGET == all ]]; then
  for t in "${ALL[@]}"; do "$0" "$t" "$SECONDS_TO_RUN" "$OUT"; done
  exit 0
fi
case " ${ALL[*]} " in
  *" $TARGET "*) ;;
  *) echo "run_fuzz.sh: unknown target '$TARGET' (${ALL[*]} or all)" >&2; exit 2 ;;
esac

CFLAGS=(-std=gnu11 -g -O1 -fopenmp-simd -Wall -Wextra -Wno-unused-parameter -Wno-pass-failed
  -fsanitize=address,undefined -fno-sanitize-recover=undefined -I"$ROOT/include" -I"$ROOT/src")

# The library objects (instrumented for coverage, not linked with libFuzzer's
# main), rebuilt when a source or any header is newer than its object.
build_lib() {
  mkdir -p "$OUT/obj"
  local newest_h stale=()
  newest_h=$(find "$ROOT/include" "$ROOT/src" -name '*.h' -printf '%T@ %p\n' | sort -n | tail -1 | cut -d' ' -f2-)
  while IFS= read -r src; do
    local obj="$OUT/obj/$(echo "${src#"$ROOT"/}" | tr / _).o"
    if [[ ! -f $obj || $src -nt $obj || $newest_h -nt $obj ]]; then stale+=("$src"); fi
  done < <(find "$ROOT/src" -name '*.c' | sort)
  if ((${#stale[@]})); then
    echo "run_fuzz.sh: compiling ${#stale[@]} library sources" >&2
    # UBSan makes clang take many minutes on the hand-vectorized quantized
    # dot kernels (hundreds of always_inline intrinsics): those get ASan only.
    printf '%s\n' "${stale[@]}" | xargs -P "$JOBS" -I{} sh -c '
      o="$1/obj/$(echo "${2#"$3"/}" | tr / _).o"; shift 3
      case "$0" in */engine/cpu/qdot_*.c) set -- "$@" -fno-sanitize=undefined ;; esac
      exec "$@" -c "$0" -o "$o"' {} "$OUT" {} "$ROOT" "$CC" "${CFLAGS[@]}" -fsanitize=fuzzer-no-link
  fi
}

BIN="$OUT/fuzz_$TARGET"
if [[ $TARGET == gguf ]]; then
  # the reader's dependencies only: errors, dtype traits and conversions,
  # and the GGUF/quant files of src/formats
  SRCS=("$ROOT"/src/core/error.c "$ROOT"/src/core/dtype.c "$ROOT"/src/formats/gguf_*.c "$ROOT"/src/formats/strmap.c "$ROOT"/src/formats/quant*.c)
  for f in "$ROOT"/src/core/dtype_convert*.c; do SRCS+=("$f"); done
  "$CC" "${CFLAGS[@]}" -fsanitize=fuzzer "$HERE/fuzz_gguf.c" "${SRCS[@]}" -lm -o "$BIN"
else
  exec 9>"$OUT/obj.lock"
  flock 9
  build_lib
  "$CC" "${CFLAGS[@]}" -fsanitize=fuzzer -DZF_FUZZ_SEEDS="\"$HERE\"" "$HERE/fuzz_$TARGET.c" "$OUT"/obj/*.o \
    -lz -lm -lpthread -ldl -o "$BIN.tmp"
  mv "$BIN.tmp" "$BIN"
  flock -u 9
fi
((SECONDS_TO_RUN > 0)) || exit 0

# Per target: the largest input, and the corpus directories (the tokenize
# target fuzzes text; its models come from corpus_llm).
MAX_LEN=65536 MALLOC_MB=256
case $TARGET in
  gguf) MALLOC_MB=64 ;;
  idx) MAX_LEN=16384 ;;
  llm) MAX_LEN=32768 ;;
  tokenize) MAX_LEN=4096 ;;
esac
# A dictionary of the format's tokens, where there is one.
DICT=()
case $TARGET in
  safetensors | checkpoint) DICT=(-dict="$HERE/safetensors.dict") ;;
  llm) DICT=(-dict="$HERE/llm.dict") ;;
esac
mkdir -p "$OUT/corpus_$TARGET"
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
"$BIN" -max_total_time="$SECONDS_TO_RUN" -max_len="$MAX_LEN" -rss_limit_mb=2048 \
  -malloc_limit_mb="$MALLOC_MB" -timeout=10 -print_final_stats=1 "${DICT[@]}" \
  -artifact_prefix="$OUT/artifacts/${TARGET}-" "$OUT/corpus_$TARGET" "$HERE/corpus_$TARGET"
