#!/usr/bin/env bash
# Installs the build into a temporary prefix and builds examples/hello_tensor.c
# the way a user would, with pkg-config, against the shared and the static
# library; runs both and checks the gradient they print.
set -euo pipefail
build=$1; src=$2
prefix=$(mktemp -d)
trap 'rm -rf "$prefix"' EXIT
cmake --install "$build" --prefix "$prefix" >/dev/null
libdir=$(ls -d "$prefix"/lib*/pkgconfig | head -1)
export PKG_CONFIG_PATH="$libdir"
cc -std=c11 "$src/examples/hello_tensor.c" $(pkg-config --cflags --libs zerfoo) \
   -Wl,-rpath,"$(dirname "$libdir")" -o "$prefix/hello_shared"
cc -std=c11 "$src/examples/hello_tensor.c" $(pkg-config --cflags zerfoo) \
   "$(dirname "$libdir")/libzerfoo.a" $(pkg-config --static --libs-only-l zerfoo | sed -e 's/-lzerfoo//') \
   -o "$prefix/hello_static"
for exe in hello_shared hello_static; do
  out=$("$prefix/$exe")
  echo "$out"
  # d/dw of sum(x*w @ x^T): for column j, sum_i x[i,j] * sum_k x[k,j] = (0+3)*(0+3), (1+4)^2, (2+5)^2
  echo "$out" | tr -d ' \n' | grep -q '\[9,25,49\]' || { echo "FAIL: $exe printed an unexpected gradient"; exit 1; }
done
echo "1 passed, 0 failed"
