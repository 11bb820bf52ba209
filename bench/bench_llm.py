#!/usr/bin/env python3
"""LLM speed: zerfoo next to llama.cpp (llama-cpp-python) on the same GGUF
file, same thread count, in one run.

For each model: prefill of a fixed prompt (tokens/s) and greedy decode of N
tokens (tokens/s, end-of-turn tokens ignored), best of --reps runs each;
resident memory after load and after generation against the file size.

  python3 bench/bench_llm.py --zerfoo build/zerfoo [--threads 1 2] [--models gemma3-270m smollm2-135m]

Both engines run at each thread count. On a busy 2-vCPU machine ggml's
spinning thread pool (llama-cpp-python is built without OpenMP) can collapse
at 2 threads, so 1 thread is measured too.
"""
import argparse
import os
import re
import resource
import subprocess
import sys
import time

import numpy as np

PROMPT = (
    "The history of computing is a story of people and machines. Early mechanical calculators could add and "
    "subtract; later designs stored programs on punched cards. Electronic computers of the 1940s filled whole "
    "rooms, used thousands of vacuum tubes and consumed as much power as a small town. The transistor made "
    "them smaller, faster and more reliable, and the integrated circuit put entire processors on a single chip. "
    "Personal computers arrived in the 1970s, networks connected them in the 1980s, and the web reached homes "
    "in the 1990s. Today a phone holds more computing power than the machines that guided the first missions to "
    "the Moon. In this essay we look at the ideas that made each step possible, and at"
)
MODELS = {
    "gemma3-270m": "gemma-3-270m-q4_k_m.gguf",
    "smollm2-135m": "SmolLM2-135M-Instruct.Q4_1.gguf",
}


def model_path(zerfoo, name):
    d = os.environ.get("ZF_MODEL_DIR") or os.path.join(os.path.expanduser("~"), ".cache", "zerfoo", "models")
    p = os.path.join(d, MODELS[name])
    if not os.path.exists(p):
        subprocess.run([zerfoo, "info", name], stdout=subprocess.DEVNULL, check=True)
    return p


def rss_mib():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return float(line.split()[1]) / 1024
    return float("nan")


def bench_zerfoo(zerfoo, path, threads, n_gen, reps):
    best_p = best_d = 0.0
    mem = {}
    n_prompt = 0
    for _ in range(reps):
        out = subprocess.run([zerfoo, "run", path, PROMPT, "--raw", "--temp", "0", "-n", str(n_gen), "--ignore-eos",
                              "-t", str(threads), "-v"], capture_output=True, text=True, check=True)
        m = re.search(r"prompt (\d+) tokens in ([\d.]+) s \(([\d.]+) tok/s\), generated (\d+) tokens in ([\d.]+) s "
                      r"\(([\d.]+) tok/s\)", out.stderr)
        n_prompt = int(m.group(1))
        best_p = max(best_p, float(m.group(3)))
        best_d = max(best_d, float(m.group(6)))
        mem["load"] = float(re.search(r"after load ([\d.]+) MiB", out.stderr).group(1))
        mem["gen"] = float(re.search(r"after generation ([\d.]+) MiB", out.stderr).group(1))
    return n_prompt, best_p, best_d, mem


def bench_llama(path, threads, n_gen, reps):
    import llama_cpp
    from llama_cpp import Llama
    base = rss_mib()
    llm = Llama(model_path=path, n_ctx=1024, n_batch=512, n_threads=threads, n_threads_batch=threads,
                verbose=False)
    mem = {"load": rss_mib() - base}
    ids = llm.tokenize(PROMPT.encode(), add_bos=True, special=False)
    best_p = best_d = 0.0
    for _ in range(reps):
        llm.reset()
        t0 = time.perf_counter()
        llm.eval(ids)
        best_p = max(best_p, len(ids) / (time.perf_counter() - t0))
        t0 = time.perf_counter()
        for _ in range(n_gen):
            lg = np.ctypeslib.as_array(llama_cpp.llama_get_logits_ith(llm._ctx.ctx, -1), shape=(llm.n_vocab(),))
            llm.eval([int(lg.argmax())])
        best_d = max(best_d, n_gen / (time.perf_counter() - t0))
    mem["gen"] = rss_mib() - base
    del llm
    return len(ids), best_p, best_d, mem


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--zerfoo", default="build/zerfoo")
    ap.add_argument("--threads", type=int, nargs="*", default=[1, 2])
    ap.add_argument("--n-gen", type=int, default=64)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--models", nargs="*", default=list(MODELS))
    a = ap.parse_args()
    print(f"LLM benchmark: prefill of a ~150-token prompt, greedy decode of {a.n_gen} tokens, best of {a.reps}")
    print(f"{'model':14s} {'thr':>3s} {'engine':9s} {'prompt':>6s} {'prefill t/s':>12s} {'decode t/s':>11s} "
          f"{'RSS load MiB':>13s} {'RSS gen MiB':>12s} {'file MiB':>9s}")
    for name in a.models:
        path = model_path(a.zerfoo, name)
        size = os.path.getsize(path) / 1048576
        for th in a.threads:
            zf = bench_zerfoo(a.zerfoo, path, th, a.n_gen, a.reps)
            try:
                ll = bench_llama(path, th, a.n_gen, a.reps)
            except ImportError:
                ll = None
            for eng, r in (("zerfoo", zf), ("llama.cpp", ll)):
                if r is None:
                    print(f"{name:14s} {th:3d} {eng:9s} (llama_cpp not installed)")
                    continue
                n, p, d, mem = r
                print(f"{name:14s} {th:3d} {eng:9s} {n:6d} {p:12.1f} {d:11.1f} {mem['load']:13.1f} "
                      f"{mem['gen']:12.1f} {size:9.1f}")
            if ll:
                print(f"{name:14s} {th:3d} ratio     zerfoo/llama.cpp: prefill {zf[1] / ll[1]:.2f}x, "
                      f"decode {zf[2] / ll[2]:.2f}x")
            sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
