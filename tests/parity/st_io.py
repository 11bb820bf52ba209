"""A minimal safetensors reader (numpy) for the parity scripts.

Format: 8-byte little-endian header length N, N bytes of JSON mapping names
to {"dtype", "shape", "data_offsets": [begin, end]} (offsets into the data
that follows), plus an optional "__metadata__" object. Written here so the
tests need neither the safetensors package nor a recent PyTorch."""
import json
import struct

import numpy as np

_DTYPES = {
    "F64": np.float64, "F32": np.float32, "F16": np.float16, "I64": np.int64, "I32": np.int32,
    "I16": np.int16, "I8": np.int8, "U8": np.uint8, "BOOL": np.bool_,
}


def load(path):
    """Returns (dict name -> numpy array in file order, metadata dict)."""
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n])
    base = 8 + n
    meta = header.pop("__metadata__", {}) or {}
    out = {}
    for name, info in header.items():
        begin, end = info["data_offsets"]
        arr = np.frombuffer(raw[base + begin:base + end], dtype=_DTYPES[info["dtype"]])
        out[name] = arr.reshape(info["shape"]).copy()
    return out, meta
