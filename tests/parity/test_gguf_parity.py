#!/usr/bin/env python3
"""Parity of zerfoo's GGUF reader/writer and block quantizers with the `gguf`
Python package (gguf-py, the reference writer/reader of llama.cpp).

usage: test_gguf_parity.py PATH/TO/gguf_tool

Checks, each counted as one case:
  * metadata: a file written by gguf.GGUFWriter with every value type (scalars,
    strings, arrays of each type, nested arrays, edge floats) dumps back from
    zerfoo with the same keys, order, types and values (floats bitwise);
  * tensor infos: name, ggml type, ne (reversed numpy shape), offset and size
    agree with gguf.GGUFReader for tensors of every supported type plus one
    type zerfoo only carries (iq4_nl);
  * dequantization: every tensor dequantized by zerfoo equals
    gguf.quants.dequantize bit for bit, on blocks made by gguf.quants.quantize
    and on random blocks (all bit patterns, finite f16 scales);
  * quantization: zerfoo's quantizer produces the same bytes as
    gguf.quants.quantize for every type that package can quantize; for the
    K types (gguf-py cannot quantize them) the blocks dequantize identically in
    both and the round-trip error is within the expected bound;
  * round trip: read -> write by zerfoo reproduces each file byte for byte.
Exits nonzero when any case fails; the last line reads "N passed, M failed".
"""
import json
import os
import subprocess
import sys
import tempfile

import numpy as np

import gguf
from gguf import GGMLQuantizationType as QT
from gguf import GGUFValueType as VT

TOOL = None
PASSED = 0
FAILED = 0


def check(ok, what):
    global PASSED, FAILED
    if ok:
        PASSED += 1
    else:
        FAILED += 1
        print("FAIL:", what)


def run(*args):
    r = subprocess.run([TOOL, *args], capture_output=True)
    if r.returncode != 0:
        raise RuntimeError(f"gguf_tool {' '.join(args)} failed: {r.stderr.decode(errors='replace')}")
    return r.stdout


# ---- types ----

# zf_dtype name -> ggml type, and which ones gguf.quants can quantize
ZF_NAME = {
    QT.F32: "f32", QT.F16: "f16", QT.BF16: "bf16",
    QT.Q4_0: "q4_0", QT.Q4_1: "q4_1", QT.Q5_0: "q5_0", QT.Q5_1: "q5_1", QT.Q8_0: "q8_0",
    QT.Q2_K: "q2_k", QT.Q3_K: "q3_k", QT.Q4_K: "q4_k", QT.Q5_K: "q5_k", QT.Q6_K: "q6_k",
}
QUANT_TYPES = [QT.Q4_0, QT.Q4_1, QT.Q5_0, QT.Q5_1, QT.Q8_0, QT.Q2_K, QT.Q3_K, QT.Q4_K, QT.Q5_K, QT.Q6_K]
K_TYPES = [QT.Q2_K, QT.Q3_K, QT.Q4_K, QT.Q5_K, QT.Q6_K]
# byte offsets of the f16 scale fields in one block (ggml-common.h)
F16_FIELDS = {
    QT.Q4_0: [0], QT.Q4_1: [0, 2], QT.Q5_0: [0], QT.Q5_1: [0, 2], QT.Q8_0: [0],
    QT.Q2_K: [80, 82], QT.Q3_K: [108], QT.Q4_K: [0, 2], QT.Q5_K: [0, 2], QT.Q6_K: [208],
}
# relative RMSE bound of dequantize(quantize(x)) for x ~ N(0, 1), per K type
K_RMSE_BOUND = {QT.Q2_K: 0.40, QT.Q3_K: 0.20, QT.Q4_K: 0.10, QT.Q5_K: 0.05, QT.Q6_K: 0.025}


def gguf_can_quantize(qt):
    try:
        gguf.quants.quantize(np.zeros((1, 256), np.float32), qt)
        return True
    except NotImplementedError:
        return False


def same_bits(a, b):
    """Bitwise equality of two float32 arrays; returns (mismatches, max ulp)."""
    a = np.ascontiguousarray(a, np.float32).ravel()
    b = np.ascontiguousarray(b, np.float32).ravel()
    if a.shape != b.shape:
        return max(a.size, b.size), -1
    ua, ub = a.view(np.int32).astype(np.int64), b.view(np.int32).astype(np.int64)
    bad = ua != ub
    if not bad.any():
        return 0, 0
    return int(bad.sum()), int(np.abs(ua - ub)[bad].max())


def random_blocks(qt, n_blocks, rng):
    """Random bytes for n_blocks of qt with every f16 field finite."""
    bs = gguf.GGML_QUANT_SIZES[qt][1]
    raw = rng.integers(0, 256, size=(n_blocks, bs), dtype=np.uint8)
    for off in F16_FIELDS[qt]:
        h = raw[:, off:off + 2].copy().view(np.uint16)
        h = np.where((h & 0x7C00) == 0x7C00, h & np.uint16(0xBFFF), h).astype(np.uint16)
        raw[:, off:off + 2] = h.view(np.uint8).reshape(n_blocks, 2)
    return raw


def test_data(rng, n_rows, n_cols):
    """Rows with different shapes of trouble: normal, uniform, heavy tails,
    constant rows, zero blocks, exact ties, tiny and large magnitudes."""
    x = rng.standard_normal((n_rows, n_cols)).astype(np.float32)
    if n_rows > 1:
        x[1] = rng.uniform(-1, 1, n_cols)
    if n_rows > 2:
        x[2] = rng.standard_cauchy(n_cols).clip(-1e4, 1e4)
    if n_rows > 3:
        x[3] = 0.25
    if n_rows > 4:
        x[4] = 0
        x[4, 40:70] = rng.standard_normal(30)
    if n_rows > 5:
        x[5] = np.round(rng.uniform(-8, 8, n_cols))  # many exact ties
    if n_rows > 6:
        x[6] = rng.standard_normal(n_cols) * 1e-6
    if n_rows > 7:
        x[7] = rng.standard_normal(n_cols) * 1e4
    if n_rows > 8:
        x[8] = -np.abs(x[8])
    if n_rows > 9:
        x[9] = np.abs(x[9]) + 3
    return x.astype(np.float32)


# ---- files made by gguf-py ----

def write_metadata_file(path, alignment=None):
    """Every metadata value type; returns the expected list of (key, type, value)."""
    w = gguf.GGUFWriter(path, arch="zerfoo-test")
    exp = [("general.architecture", VT.STRING, "zerfoo-test")]

    def kv(key, val, vt, sub=None):
        w.add_key_value(key, val, vt, sub_type=sub)
        exp.append((key, vt, (val, sub) if vt == VT.ARRAY else val))

    if alignment:
        w.add_custom_alignment(alignment)
        exp.append(("general.alignment", VT.UINT32, alignment))
    kv("t.u8", 255, VT.UINT8)
    kv("t.i8", -128, VT.INT8)
    kv("t.u16", 65535, VT.UINT16)
    kv("t.i16", -32768, VT.INT16)
    kv("t.u32", 4294967295, VT.UINT32)
    kv("t.i32", -2147483648, VT.INT32)
    kv("t.u64", 18446744073709551615, VT.UINT64)
    kv("t.i64", -9223372036854775808, VT.INT64)
    kv("t.f32", 3.14159, VT.FLOAT32)
    kv("t.f32.tiny", 1e-45, VT.FLOAT32)  # subnormal
    kv("t.f32.negzero", -0.0, VT.FLOAT32)
    kv("t.f32.inf", float("inf"), VT.FLOAT32)
    kv("t.f32.nan", float("nan"), VT.FLOAT32)
    kv("t.f64", 2.718281828459045, VT.FLOAT64)
    kv("t.f64.min", 5e-324, VT.FLOAT64)
    kv("t.f64.ninf", float("-inf"), VT.FLOAT64)
    kv("t.bool.true", True, VT.BOOL)
    kv("t.bool.false", False, VT.BOOL)
    kv("t.str", "hello, GGUF", VT.STRING)
    kv("t.str.empty", "", VT.STRING)
    kv("t.str.utf8", "zérø \u2603 \U0001F600 \"q\" \\ \n\t", VT.STRING)
    kv("t.str.nul", "a\x00b", VT.STRING)
    for vt, vals in [
        (VT.UINT8, [0, 1, 255]), (VT.INT8, [-128, 0, 127]), (VT.UINT16, [0, 65535]),
        (VT.INT16, [-32768, 32767]), (VT.UINT32, [0, 4294967295]), (VT.INT32, [-2147483648, 7]),
        (VT.UINT64, [0, 18446744073709551615]), (VT.INT64, [-9223372036854775808, 9223372036854775807]),
        (VT.FLOAT32, [0.5, -1.25, float("inf"), 1e-40]), (VT.FLOAT64, [0.1, -2.5e300]),
        (VT.BOOL, [True, False, True]), (VT.STRING, ["a", "", "bc\u00e9", "x" * 300]),
    ]:
        kv(f"t.arr.{vt.name.lower()}", vals, VT.ARRAY, vt)
    kv("t.arr.nested", [[1, 2, 3], [4], [5, 6]], VT.ARRAY)
    kv("t.arr.nested.str", [["a", "b"], ["c"]], VT.ARRAY)
    kv("t.arr.nested3", [[[1.5], [2.5, 3.5]], [[4.5]]], VT.ARRAY)
    kv("tokenizer.ggml.tokens", [f"tok{i}" for i in range(1000)], VT.ARRAY, VT.STRING)
    return w, exp


def add_tensors(w, rng):
    """One tensor per supported type (+ iq4_nl, which zerfoo only carries);
    returns {name: (ggml type, numpy shape, raw bytes)}."""
    tensors = {}
    shape = (3, 512)
    x = test_data(rng, *shape)
    for qt in [QT.F32, QT.F16, QT.BF16] + QUANT_TYPES:
        if qt == QT.F32:
            raw = x
        elif qt == QT.F16:
            raw = x.astype(np.float16)
        elif gguf_can_quantize(qt):
            raw = gguf.quants.quantize(x, qt)
        else:
            raw = random_blocks(qt, 3 * 512 // 256, rng).reshape(3, -1)
        name = f"blk.0.{ZF_NAME[qt]}.weight"
        if raw.dtype == np.uint8:
            w.add_tensor(name, raw, raw_dtype=qt)
        else:
            w.add_tensor(name, raw)
        tensors[name] = (qt, shape, raw)
    for dt, qt in [(np.float64, QT.F64), (np.int8, QT.I8), (np.int16, QT.I16), (np.int32, QT.I32),
                   (np.int64, QT.I64)]:
        a = (rng.standard_normal((2, 3, 5)) * 100).astype(dt)
        name = f"ints.{np.dtype(dt).name}"
        w.add_tensor(name, a)
        tensors[name] = (qt, a.shape, a)
    a = rng.integers(0, 256, size=(2, 4 * 18), dtype=np.uint8)  # 4 iq4_nl blocks per row
    w.add_tensor("carried.iq4_nl", a, raw_dtype=QT.IQ4_NL)
    tensors["carried.iq4_nl"] = (QT.IQ4_NL, (2, 128), a)
    vec = rng.standard_normal(7).astype(np.float32)  # 1-D, odd size: padding
    w.add_tensor("vec.odd", vec)
    tensors["vec.odd"] = (QT.F32, vec.shape, vec)
    return tensors


def finish(w):
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


# ---- comparisons ----

def val_equal(vt, expected, got):
    if vt == VT.STRING:
        return expected.encode("utf-8") == got.encode("latin-1")
    if vt == VT.FLOAT32:
        return same_bits(np.float32(expected), np.float32(got))[0] == 0 or (
            np.isnan(expected) and np.isnan(got))
    if vt == VT.FLOAT64:
        return np.float64(expected).tobytes() == np.float64(got).tobytes() or (
            np.isnan(expected) and np.isnan(got))
    if vt == VT.BOOL:
        return bool(expected) == got
    return int(expected) == got


def arr_equal(items, sub, got):
    if sub is None:
        sub = VT.get_type(items[0])
    if got["type"] != type_name(sub) or len(got["items"]) != len(items):
        return False
    for e, g in zip(items, got["items"]):
        if sub == VT.ARRAY:
            if not arr_equal(e, None, g):
                return False
        elif not val_equal(sub, e, g):
            return False
    return True


TYPE_NAMES = {VT.UINT8: "u8", VT.INT8: "i8", VT.UINT16: "u16", VT.INT16: "i16", VT.UINT32: "u32",
              VT.INT32: "i32", VT.FLOAT32: "f32", VT.BOOL: "bool", VT.STRING: "string", VT.ARRAY: "array",
              VT.UINT64: "u64", VT.INT64: "i64", VT.FLOAT64: "f64"}


def type_name(vt):
    return TYPE_NAMES[vt]


def check_metadata(path, expected):
    d = json.loads(run("dump", path))
    got = d["kv"]
    check([k["key"] for k in got] == [e[0] for e in expected], f"{path}: key order")
    by_key = {k["key"]: k["val"] for k in got}
    for key, vt, val in expected:
        g = by_key.get(key)
        if g is None or g["type"] != type_name(vt):
            check(False, f"{path}: key {key}: type {g and g['type']} != {type_name(vt)}")
            continue
        if vt == VT.ARRAY:
            items, sub = val
            check(arr_equal(items, sub, g["value"]), f"{path}: key {key}: array values differ")
        else:
            check(val_equal(vt, val, g["value"]), f"{path}: key {key}: {g['value']!r} != {val!r}")
    return d


def check_tensor_infos(path, dump):
    r = gguf.GGUFReader(path)
    check(dump["data_offset"] == r.data_offset, f"{path}: data offset {dump['data_offset']} != {r.data_offset}")
    check(len(dump["tensors"]) == len(r.tensors), f"{path}: tensor count")
    for t, rt in zip(dump["tensors"], r.tensors):
        ok = (t["name"] == rt.name and t["ggml_type"] == int(rt.tensor_type)
              and t["ne"] == [int(v) for v in rt.shape] and t["size"] == int(rt.n_bytes)
              and dump["data_offset"] + t["offset"] == int(rt.data_offset))
        check(ok, f"{path}: tensor {rt.name}: info differs: {t} vs shape {list(rt.shape)} "
                  f"type {int(rt.tensor_type)} bytes {rt.n_bytes} at {rt.data_offset}")


def check_dequant(path, tensors, tmp):
    outdir = os.path.join(tmp, "deq")
    os.makedirs(outdir, exist_ok=True)
    for f in os.listdir(outdir):
        os.unlink(os.path.join(outdir, f))
    run("dequant", path, outdir)
    counts = {}
    for i, (name, (qt, shape, raw)) in enumerate(tensors.items()):
        out = os.path.join(outdir, f"{i}.f32")
        if qt not in ZF_NAME:
            check(not os.path.exists(out), f"{name}: {qt.name} should not be dequantized")
            continue
        got = np.fromfile(out, dtype=np.float32)
        if qt == QT.F32:
            ref = raw
        elif qt == QT.F16:
            ref = raw.astype(np.float32)
        else:
            ref = gguf.quants.dequantize(raw, qt)
        bad, ulp = same_bits(ref, got)
        counts[qt.name] = got.size
        check(bad == 0, f"{name}: dequantize differs from gguf.quants in {bad} values (max {ulp} ulp)")
    return counts


def check_roundtrip(path, tmp):
    out = os.path.join(tmp, "rt.gguf")
    run("roundtrip", path, out)
    with open(path, "rb") as a, open(out, "rb") as b:
        check(a.read() == b.read(), f"{path}: read -> write is not byte-identical")


def check_quantizers(tmp, rng):
    """Quantize with zerfoo; compare with gguf.quants where it can quantize."""
    x = test_data(rng, 16, 1024)
    x[10] = rng.standard_normal(1024) * 65000  # f16 overflow of the scale side
    x[11, ::2] = 0
    fin = os.path.join(tmp, "x.f32")
    fq = os.path.join(tmp, "x.q")
    fd = os.path.join(tmp, "x.deq")
    x.tofile(fin)
    can = []
    for qt in [QT.F32, QT.F16, QT.BF16] + QUANT_TYPES:
        run("quant", ZF_NAME[qt], fin, fq)
        got = np.fromfile(fq, dtype=np.uint8)
        if qt == QT.F32:
            ref = x.view(np.uint8).ravel()
        elif qt == QT.F16:
            with np.errstate(over="ignore"):
                ref = x.astype(np.float16).view(np.uint8).ravel()
        elif gguf_can_quantize(qt):
            with np.errstate(over="ignore"):
                ref = gguf.quants.quantize(x, qt).ravel()
        else:
            ref = None
        if ref is not None:
            can.append(qt.name)
            bs = gguf.GGML_QUANT_SIZES[qt][1]
            nbad = int((got.reshape(-1, bs) != ref.reshape(-1, bs)).any(axis=1).sum()) \
                if got.size == ref.size else -1
            check(nbad == 0, f"quantize {qt.name}: {nbad} blocks differ from gguf.quants.quantize")
        if qt in K_TYPES:
            # zerfoo's blocks dequantize the same in gguf-py and zerfoo ...
            run("dequantraw", ZF_NAME[qt], fq, fd)
            deq = np.fromfile(fd, dtype=np.float32).reshape(x.shape)
            ref_deq = gguf.quants.dequantize(got.reshape(x.shape[0], -1), qt)
            bad, ulp = same_bits(ref_deq, deq)
            check(bad == 0, f"{qt.name}: dequantize of zerfoo's blocks differs in {bad} values")
            # ... and are close to the data (normal rows 0 and 8..15 minus the special ones)
            rows = [0, 12, 13, 14, 15]
            err = deq[rows] - x[rows]
            rel = float(np.sqrt((err ** 2).mean() / (x[rows] ** 2).mean()))
            check(rel < K_RMSE_BOUND[qt], f"{qt.name}: relative RMSE {rel:.4f} >= {K_RMSE_BOUND[qt]}")
            print(f"  {qt.name}: relative RMSE of quantize->dequantize on N(0,1) rows: {rel:.4f}")
            # an all-zero sub-block (row 4, elements 0..31) comes back exactly
            check(np.all(deq[4][:32] == 0), f"{qt.name}: an all-zero sub-block does not come back exactly 0")
    return can


def check_random_blocks(tmp, rng):
    fq = os.path.join(tmp, "r.q")
    fd = os.path.join(tmp, "r.deq")
    total = 0
    for qt in QUANT_TYPES:
        n_blocks = 4096 if gguf.GGML_QUANT_SIZES[qt][0] == 32 else 512
        raw = random_blocks(qt, n_blocks, rng)
        raw.tofile(fq)
        run("dequantraw", ZF_NAME[qt], fq, fd)
        got = np.fromfile(fd, dtype=np.float32)
        ref = gguf.quants.dequantize(raw.reshape(1, -1), qt)
        bad, ulp = same_bits(ref, got)
        total += got.size
        check(bad == 0, f"{qt.name}: dequantize of random blocks differs in {bad} values (max {ulp} ulp)")
    # f16 / bf16: every bit pattern
    allh = np.arange(65536, dtype=np.uint16)
    for qt, ref in [(QT.F16, allh.view(np.float16).astype(np.float32)),
                    (QT.BF16, gguf.quants.dequantize(allh.view(np.uint8).reshape(1, -1), QT.BF16).ravel())]:
        allh.tofile(fq)
        run("dequantraw", ZF_NAME[qt], fq, fd)
        got = np.fromfile(fd, dtype=np.float32)
        bad, _ = same_bits(ref, got)
        total += got.size
        check(bad == 0, f"{qt.name}: {bad} of 65536 bit patterns convert differently")
    return total


def main():
    global TOOL
    if len(sys.argv) != 2:
        print(__doc__)
        return 2
    TOOL = sys.argv[1]
    rng = np.random.default_rng(1234)
    with tempfile.TemporaryDirectory() as tmp:
        n_values = 0
        for align in (None, 64, 1):
            path = os.path.join(tmp, f"model-{align}.gguf")
            w, exp = write_metadata_file(path, align)
            tensors = add_tensors(w, rng)
            finish(w)
            dump = check_metadata(path, exp)
            check(dump["alignment"] == (align or 32), f"{path}: alignment {dump['alignment']}")
            check_tensor_infos(path, dump)
            counts = check_dequant(path, tensors, tmp)
            n_values += sum(counts.values())
            check_roundtrip(path, tmp)
        # a metadata-only file (no tensors)
        path = os.path.join(tmp, "meta-only.gguf")
        w, exp = write_metadata_file(path)
        finish(w)
        check_metadata(path, exp)
        check_roundtrip(path, tmp)

        can = check_quantizers(tmp, rng)
        n_rand = check_random_blocks(tmp, rng)
    print(f"gguf.quants can quantize: {', '.join(can)}")
    print(f"dequantized values compared bitwise: {n_values} from gguf-py files, {n_rand} from random blocks")
    print(f"{PASSED} passed, {FAILED} failed")
    return 1 if FAILED else 0


if __name__ == "__main__":
    sys.exit(main())
