#!/usr/bin/env python3
"""Compares zerfoo's intermediate tensors (ZF_LLM_DUMP=DIR) with llama.cpp's
(ggml_trace.py) for the same prompt and model, step by step, and names the
first tensor that is not bit-identical.

    trace_compare.py OURS_DIR GGML_DIR [--steps 0,1] [--all]

Each of zerfoo's tensors NAME (or NAME#k) is matched with llama.cpp's tensor
of the same base name and element count (ggml names a tensor again after a
reshape, norm or RoPE: "Qcur-0", "Qcur-0#2", ...); among several, the
closest one. Per tensor it prints: elements that differ in any bit, the
largest absolute difference, and that difference relative to the largest
|value| of llama.cpp's tensor. Without --all the lines after the first
difference (but three) are only counted.

Typical use:

    python3 tests/parity/ggml_trace.py MODEL.gguf /tmp/g --text "The capital of France is" --decode 2
    ids=$(head -1 /tmp/g/tokens.txt)
    echo "$ids" | ZF_LLM_DUMP=/tmp/z build/tests/llm_tool gen MODEL.gguf 3 512 >/dev/null
    python3 tests/parity/trace_compare.py /tmp/z /tmp/g
"""
import argparse
import os
import sys

import numpy as np


def read_index(d):
    rows = []
    with open(os.path.join(d, "index.tsv")) as f:
        for line in f:
            name, typ, ne = line.rstrip("\n").split("\t")
            rows.append((name, typ, [int(x) for x in ne.split(",")]))
    return rows


def load(d, name):
    return np.fromfile(os.path.join(d, name.replace("/", "_") + ".f32"), dtype=np.float32)


def base(name):
    return name.split("#")[0]


def aliases(name):
    """llama.cpp names for a zerfoo tensor that its graph leaves unnamed."""
    b = base(name)
    if b.startswith("attn_out-"):  # the attention output projection (unnamed in Gemma's graph)
        return [b, f"mm:blk.{b[len('attn_out-'):]}.attn_output.weight"]
    return [b]


def compare_step(ours, ref, show_all):
    ref_rows = read_index(ref)
    by_base = {}
    for name, _, ne in ref_rows:
        by_base.setdefault(base(name), []).append((name, ne))
    first = None
    lines = []
    for name, _, ne in read_index(ours):
        a = load(ours, name)
        best = None
        for rname, rne in [c for b in aliases(name) for c in by_base.get(b, [])]:
            if int(np.prod(rne)) != a.size:
                continue
            b = load(ref, rname)
            ndiff = int(np.count_nonzero(a.view(np.uint32) != b.view(np.uint32)))
            d = np.abs(a.astype(np.float64) - b.astype(np.float64))
            mad = float(np.nanmax(d)) if d.size else 0.0
            scale = float(np.nanmax(np.abs(b))) if b.size else 0.0
            cand = (ndiff, mad, mad / scale if scale > 0 else mad, rname)
            if best is None or (cand[0], cand[1]) < (best[0], best[1]):
                best = cand
        if best is None:
            lines.append((name, None, f"{name:28s} (no llama.cpp tensor of {a.size} elements)"))
            continue
        ndiff, mad, rel, rname = best
        tag = "exact" if ndiff == 0 else f"{ndiff}/{a.size} differ"
        lines.append((name, ndiff, f"{name:28s} {rname:28s} {tag:>18s}  max|d| {mad:.3e}  rel {rel:.3e}"))
        if ndiff and first is None:
            first = (name, rname, ndiff, a.size, mad, rel)
    stop = len(lines)
    if not show_all and first is not None:
        stop = next(i for i, l in enumerate(lines) if l[0] == first[0]) + 4
    for _, _, text in lines[:stop]:
        print("  " + text)
    if stop < len(lines):
        exact = sum(1 for l in lines[stop:] if l[1] == 0)
        print(f"  ... {len(lines) - stop} more ({exact} of them exact; --all prints them)")
    return first


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("ours")
    ap.add_argument("ggml")
    ap.add_argument("--steps", default=None, help="comma-separated step numbers (default: all present in both)")
    ap.add_argument("--all", action="store_true", help="print every tensor, not only up to the first difference")
    a = ap.parse_args()
    if a.steps:
        steps = [int(s) for s in a.steps.split(",")]
    else:
        steps = sorted(int(d[4:]) for d in os.listdir(a.ours)
                       if d.startswith("step") and os.path.isdir(os.path.join(a.ggml, d)))
    rc = 0
    for k in steps:
        print(f"step{k}:")
        first = compare_step(os.path.join(a.ours, f"step{k}"), os.path.join(a.ggml, f"step{k}"), a.all)
        if first:
            name, rname, ndiff, n, mad, rel = first
            print(f"step{k}: first difference at {name} (llama.cpp {rname}): {ndiff}/{n} elements, "
                  f"max|d| {mad:.3e}, rel {rel:.3e}")
            rc = 1
        else:
            print(f"step{k}: every compared tensor is bit-identical")
    return rc


if __name__ == "__main__":
    sys.exit(main())
