#!/usr/bin/env bash
# Installs what zerfoo's build and tests need; does nothing when all is present.
# Debian packages: compiler toolchain, OpenBLAS (optional BLAS path, benchmarks),
# python3-torch (PyTorch 1.13 in /usr/bin/python3: nn parity tests, training benchmarks).
# PyPI packages: reference libraries used only by tests and benchmarks.
set -euo pipefail

need_apt=()
have_pkg() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }
for p in build-essential cmake pkg-config libopenblas-dev zlib1g-dev python3-torch; do
  have_pkg "$p" || need_apt+=("$p")
done
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "bootstrap: installing Debian packages: ${need_apt[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

PY=${PYTHON:-python3}
need_pip=()
for spec in numpy:numpy ml_dtypes:ml_dtypes gguf:gguf; do
  mod=${spec%%:*}; pkg=${spec##*:}
  $PY -c "import $mod" 2>/dev/null || need_pip+=("$pkg")
done
if [ ${#need_pip[@]} -gt 0 ]; then
  echo "bootstrap: installing PyPI packages: ${need_pip[*]}"
  $PY -m pip install -q --disable-pip-version-check "${need_pip[@]}"
fi
exit 0
