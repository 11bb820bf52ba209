#!/usr/bin/env python3
"""Regenerates the fuzzer seeds in tests/fuzz/corpus_gguf/ with gguf-py:
small valid GGUF files (each well under 10 KB) covering every metadata value
type, nested arrays, a custom alignment and tiny tensors of each supported
ggml type. usage: make_corpus.py [OUTDIR]"""
import os
import sys

import numpy as np

import gguf
from gguf import GGMLQuantizationType as QT
from gguf import GGUFValueType as VT

out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "corpus_gguf")
os.makedirs(out, exist_ok=True)
rng = np.random.default_rng(7)


def write(name, fill, alignment=None):
    w = gguf.GGUFWriter(os.path.join(out, name), arch="seed")
    if alignment:
        w.add_custom_alignment(alignment)
    fill(w)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def meta(w):
    for vt, v in [(VT.UINT8, 1), (VT.INT8, -1), (VT.UINT16, 2), (VT.INT16, -2), (VT.UINT32, 3),
                  (VT.INT32, -3), (VT.FLOAT32, 0.5), (VT.BOOL, True), (VT.STRING, "s"),
                  (VT.UINT64, 4), (VT.INT64, -4), (VT.FLOAT64, 0.25)]:
        w.add_key_value(f"k.{vt.name.lower()}", v, vt)
    w.add_key_value("a.u8", [1, 2, 3], VT.ARRAY, VT.UINT8)
    w.add_key_value("a.str", ["a", "bc", ""], VT.ARRAY, VT.STRING)
    w.add_key_value("a.nested", [[1, 2], [3]], VT.ARRAY)
    w.add_key_value("a.nested.str", [["x"], ["y", "z"]], VT.ARRAY)


def legacy(w):
    x = rng.standard_normal((1, 32)).astype(np.float32)
    w.add_tensor("f32", x[:, :8])
    w.add_tensor("f16", x[:, :8].astype(np.float16))
    for qt in (QT.Q4_0, QT.Q4_1, QT.Q5_0, QT.Q5_1, QT.Q8_0, QT.BF16):
        w.add_tensor(qt.name.lower(), gguf.quants.quantize(x, qt), raw_dtype=qt)
    w.add_tensor("i32", np.arange(6, dtype=np.int32).reshape(2, 3))


def kquants(w):
    for qt in (QT.Q2_K, QT.Q3_K, QT.Q4_K, QT.Q5_K, QT.Q6_K):
        bs = gguf.GGML_QUANT_SIZES[qt][1]
        raw = rng.integers(0, 256, size=(1, bs), dtype=np.uint8)
        w.add_tensor(qt.name.lower(), raw, raw_dtype=qt)


write("meta.gguf", meta)
write("legacy.gguf", legacy)
write("kquants.gguf", kquants)
write("align64.gguf", lambda w: (w.add_uint32("n", 1), w.add_tensor("v", np.ones(3, np.float32))), 64)
for f in sorted(os.listdir(out)):
    print(f, os.path.getsize(os.path.join(out, f)))
