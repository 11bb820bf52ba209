#!/usr/bin/env python3
"""llama.cpp's intermediate tensors for one prompt, for trace_compare.py.

Runs llama.cpp (llama-cpp-python's low-level API, the settings of
test_llm_parity.py: no flash attention, n_batch 512, one thread) on token ids
with its eval callback on, and writes every tensor the graph computes:

    OUT/step0/   the prompt in one batch (logits of the last position only);
                 a prompt longer than n_batch (512) in batches of 512, as
                 llama-cpp-python's Llama.eval and zerfoo do: step0, step1, ...
                 (each with the logits of its last position)
    OUT/stepK/   then each greedy token decoded alone (with --decode N)

Each step directory holds NAME.f32 (raw little-endian float32, ggml's element
order: ne[0] fastest) and index.tsv, one line per tensor in evaluation order:
NAME, ggml type, ne0,ne1,ne2,ne3. llama.cpp's names are kept ("attn_norm-3",
"kq_soft_max-0", "result_output"); a name the graph uses again gets "#2", "#3"
(e.g. "Qcur-0", "Qcur-0#2", "Qcur-0#3" before and after the norm and RoPE).
Only f32, f16 and i32 tensors are written (f16 and i32 as float32). Each
product with a weight (MUL_MAT with src[0] a GGUF tensor "....weight") is
also written as "mm:<weight name>" (e.g. "mm:blk.3.ffn_up.weight"): zerfoo's
ZF_LLM_INJECT=OUT/.. reads those in place of its own matmuls, so that a
trace comparison isolates every other op.

    ggml_trace.py MODEL.gguf OUT (--ids "1 2 3" | --text "Hello") [--decode N] [--ctx 512] [--all-logits]

--all-logits asks for the logits of every prompt position (as the perplexity
test does: llama.cpp then computes the last layer for every row).

zerfoo writes the same layout with ZF_LLM_DUMP=DIR (see docs/LLM.md).
"""
import argparse
import ctypes
import os
import sys

import numpy as np

GGML_MAX_DIMS, GGML_MAX_SRC, GGML_MAX_OP_PARAMS, GGML_MAX_NAME = 4, 10, 64, 64
F32, F16, I32 = 0, 1, 26


class GgmlTensor(ctypes.Structure):
    """struct ggml_tensor of ggml.h (the version llama-cpp-python vendors)."""
    _fields_ = [
        ("type", ctypes.c_int),
        ("buffer", ctypes.c_void_p),
        ("ne", ctypes.c_int64 * GGML_MAX_DIMS),
        ("nb", ctypes.c_size_t * GGML_MAX_DIMS),
        ("op", ctypes.c_int),
        ("op_params", ctypes.c_int32 * (GGML_MAX_OP_PARAMS // 4)),
        ("flags", ctypes.c_int32),
        ("src", ctypes.c_void_p * GGML_MAX_SRC),
        ("view_src", ctypes.c_void_p),
        ("view_offs", ctypes.c_size_t),
        ("data", ctypes.c_void_p),
        ("name", ctypes.c_char * GGML_MAX_NAME),
        ("extra", ctypes.c_void_p),
        ("padding", ctypes.c_char * 8),
    ]


def tensor_array(t):
    """The tensor's elements as float32, shape (ne3, ne2, ne1, ne0), following its strides."""
    dt = {F32: np.float32, F16: np.float16, I32: np.int32}[t.type]
    ne = [t.ne[i] for i in range(4)]
    nb = [t.nb[i] for i in range(4)]
    if not t.data or min(ne) <= 0:
        return np.zeros([ne[3], ne[2], ne[1], ne[0]], np.float32)
    extent = sum((ne[i] - 1) * nb[i] for i in range(4)) + np.dtype(dt).itemsize
    buf = (ctypes.c_char * extent).from_address(t.data)  # strides are whole elements for these types
    a = np.lib.stride_tricks.as_strided(np.frombuffer(buf, dtype=dt), shape=(ne[3], ne[2], ne[1], ne[0]),
                                        strides=(nb[3], nb[2], nb[1], nb[0]))
    return np.array(a, dtype=np.float32)


class Tracer:
    def __init__(self, op_desc):
        self.op_desc = op_desc  # ggml_op_desc of libggml-base
        self.dir = None
        self.seen = {}
        self.index = []

    def start(self, d):
        os.makedirs(d, exist_ok=True)
        self.dir, self.seen, self.index = d, {}, []

    def finish(self):
        with open(os.path.join(self.dir, "index.tsv"), "w") as f:
            for row in self.index:
                f.write("\t".join(row) + "\n")

    def __call__(self, tp, ask, _user):
        t = ctypes.cast(tp, ctypes.POINTER(GgmlTensor)).contents
        if ask:
            return True
        if self.dir is None or t.type not in (F32, F16, I32):
            return True
        name = t.name.decode(errors="replace") or f"node{len(self.index)}"
        k = self.seen.get(name, 0) + 1
        self.seen[name] = k
        fname = name if k == 1 else f"{name}#{k}"
        arr = tensor_array(t)
        ne = ",".join(str(t.ne[i]) for i in range(4))
        arr.tofile(os.path.join(self.dir, fname.replace("/", "_") + ".f32"))
        self.index.append((fname, {F32: "f32", F16: "f16", I32: "i32"}[t.type], ne))
        if t.src[0] and self.op_desc(tp) == b"MUL_MAT":
            w = ctypes.cast(t.src[0], ctypes.POINTER(GgmlTensor)).contents.name.decode(errors="replace")
            if w.endswith(".weight"):
                arr.tofile(os.path.join(self.dir, "mm:" + w + ".f32"))
                self.index.append(("mm:" + w, "f32", ne))
        return True


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("out")
    ap.add_argument("--ids")
    ap.add_argument("--text")
    ap.add_argument("--decode", type=int, default=0)
    ap.add_argument("--ctx", type=int, default=512)
    ap.add_argument("--all-logits", action="store_true")
    a = ap.parse_args()
    import llama_cpp as L

    L.llama_backend_init()
    quiet = L.llama_log_callback(lambda *args: None)  # kept alive: llama.cpp calls it later
    L.llama_log_set(quiet, ctypes.c_void_p(0))
    mp = L.llama_model_default_params()
    model = L.llama_model_load_from_file(a.model.encode(), mp)
    if not model:
        sys.exit(f"ggml_trace: cannot load {a.model}")
    vocab = L.llama_model_get_vocab(model)
    if a.ids is not None:
        ids = [int(x) for x in a.ids.split()]
    else:
        text = (a.text or "").encode()
        buf = (L.llama_token * (len(text) + 16))()
        n = L.llama_tokenize(vocab, text, len(text), buf, len(buf), True, True)
        ids = list(buf[:n])
    base = ctypes.CDLL(os.path.join(os.path.dirname(L.__file__), "lib", "libggml-base.so"))
    base.ggml_op_desc.restype = ctypes.c_char_p
    base.ggml_op_desc.argtypes = [ctypes.c_void_p]
    tracer = Tracer(base.ggml_op_desc)
    cb = L.ggml_backend_sched_eval_callback(tracer)
    cp = L.llama_context_default_params()
    cp.n_ctx = a.ctx
    cp.n_batch = cp.n_ubatch = 512
    cp.n_threads = cp.n_threads_batch = 1
    cp.flash_attn_type = L.LLAMA_FLASH_ATTN_TYPE_DISABLED
    cp.cb_eval = cb
    cp.cb_eval_user_data = None
    ctx = L.llama_init_from_model(model, cp)
    n_vocab = L.llama_vocab_n_tokens(vocab)

    n_past = 0

    def decode(toks, step):
        nonlocal n_past
        tracer.start(os.path.join(a.out, f"step{step}"))
        batch = L.llama_batch_init(len(toks), 0, 1)
        batch.n_tokens = len(toks)
        for i, tk in enumerate(toks):
            batch.token[i], batch.pos[i], batch.n_seq_id[i], batch.seq_id[i][0] = tk, n_past + i, 1, 0
            batch.logits[i] = a.all_logits or i == len(toks) - 1
        rc = L.llama_decode(ctx, batch)
        L.llama_batch_free(batch)
        if rc != 0:
            sys.exit("ggml_trace: llama_decode failed")
        n_past += len(toks)
        tracer.finish()
        lg = np.ctypeslib.as_array(L.llama_get_logits_ith(ctx, -1), shape=(n_vocab,))
        return int(np.argmax(lg))

    nb = 512
    for step, i in enumerate(range(0, len(ids), nb)):
        tok = decode(ids[i:i + nb], step)
    gen = [tok]
    for k in range(1, a.decode + 1):
        tok = decode([tok], step + k)
        gen.append(tok)
    with open(os.path.join(a.out, "tokens.txt"), "w") as f:
        f.write(" ".join(map(str, ids)) + "\n" + " ".join(map(str, gen)) + "\n")
    print(f"prompt {len(ids)} tokens, greedy: {' '.join(map(str, gen))}")
    L.llama_free(ctx)
    L.llama_model_free(model)


if __name__ == "__main__":
    main()
