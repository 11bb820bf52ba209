#!/usr/bin/env python3
"""Regenerates the fuzzer seeds in tests/fuzz/corpus_TARGET/ (each file well
under 10 KB):
  gguf         GGUF files (gguf-py) covering every metadata value type, nested
               arrays, a custom alignment and tiny tensors of each ggml type
  safetensors  files of every dtype, 0-dim and empty tensors, __metadata__
  idx          IDX files of every element type, each after the fuzzer's mode
               byte (0: as is, 1: gzip-compressed by the fuzzer), and one
               gzip file as is
  llm          tiny random-weight models of each architecture family with
               SentencePiece and byte-level BPE vocabularies (also the models
               of the tokenize target; *_bytes ones cover every byte)
  tokenize     texts after the fuzzer's mode byte (encode/decode flags)
The checkpoint seeds are written by the checkpoint fuzzer itself
(ZF_FUZZ_WRITE_SEEDS, see fuzz_checkpoint.c).
usage: make_corpus.py [TARGET...]   (default: all of the above)"""
import gzip
import json
import math
import os
import struct
import sys

import numpy as np

import gguf
from gguf import GGMLQuantizationType as QT
from gguf import GGUFValueType as VT

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "parity"))
import test_llm_parity  # noqa: E402  (random_tensors: the layout of each family)

HERE = os.path.dirname(os.path.abspath(__file__))
out = None  # the corpus folder being written
rng = None


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



def make_gguf():
    write("meta.gguf", meta)
    write("legacy.gguf", legacy)
    write("kquants.gguf", kquants)
    write("align64.gguf", lambda w: (w.add_uint32("n", 1), w.add_tensor("v", np.ones(3, np.float32))), 64)


# ---- safetensors ----

def st_write(name, tensors, meta=None):
    """tensors: list of (name, dtype name, shape, raw bytes)."""
    hdr, off, blobs = {}, 0, []
    if meta is not None:
        hdr["__metadata__"] = meta
    for n, dt, shape, raw in tensors:
        hdr[n] = {"dtype": dt, "shape": list(shape), "data_offsets": [off, off + len(raw)]}
        off += len(raw)
        blobs.append(raw)
    h = json.dumps(hdr, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    with open(os.path.join(out, name), "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))


def make_safetensors():
    x = rng.standard_normal(6)
    dts = [("F64", "<f8"), ("F32", "<f4"), ("F16", "<f2"), ("I64", "<i8"), ("I32", "<i4"), ("I16", "<i2"),
           ("I8", "i1"), ("U8", "u1"), ("BOOL", "u1"), ("U16", "<u2"), ("U32", "<u4"), ("U64", "<u8")]
    st_write("dtypes.safetensors", [(d.lower(), d, (2, 3), (np.abs(x) * 3).astype(np.dtype(t)).tobytes())
                                    for d, t in dts]
             + [("bf16", "BF16", (3,), b"\x80\x3f\x00\x40\xc0\xff"),
                ("f8a", "F8_E4M3", (2,), b"\x38\xc0"), ("f8b", "F8_E5M2", (2,), b"\x3c\x7c"),
                ("e8m0", "F8_E8M0", (1,), b"\x7f")])
    st_write("shapes.safetensors", [("scalar", "F32", (), np.float32(2).tobytes()), ("empty", "F32", (0,), b""),
                                    ("zero_dim", "I32", (3, 0, 2), b""),
                                    ("dims8", "U8", (1, 2, 1, 1, 1, 1, 2, 1), bytes(range(4)))])
    st_write("meta.safetensors", [("w", "F32", (2, 2), np.arange(4, dtype=np.float32).tobytes())],
             {"format": "pt", "k\u00e9y": "v\"al\\ue", "empty": ""})
    st_write("empty.safetensors", [], {})


# ---- IDX ----

def make_idx():
    types = [(0x08, ">u1"), (0x09, ">i1"), (0x0B, ">i2"), (0x0C, ">i4"), (0x0D, ">f4"), (0x0E, ">f8")]
    shapes = [(3, 2, 2), (4,), (2, 3), (1, 1, 2), (2, 1), (2,)]
    for i, ((code, dt), shape) in enumerate(zip(types, shapes)):
        a = (rng.standard_normal(shape) * 50).astype(np.dtype(dt))
        body = bytes([0, 0, code, len(shape)]) + b"".join(struct.pack(">I", d) for d in shape) + a.tobytes()
        mode = i % 2  # 1: the fuzzer gzips the rest
        with open(os.path.join(out, f"{dt[1:]}_{'gz' if mode else 'plain'}.idx"), "wb") as f:
            f.write(bytes([mode]) + body)
        if code == 0x08:  # also a gzip file as is (mode 0)
            with open(os.path.join(out, "u1_rawgzip.idx"), "wb") as f:
                f.write(b"\x00" + gzip.compress(body, mtime=0))


# ---- LLM models ----

def gpt2_byte_chars():
    """GPT-2's bytes_to_unicode: the printable code point of each byte."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(0xA1, 0xAD)) + list(range(0xAE, 0x100))
    cs, n = bs[:], 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return {b: chr(c) for b, c in zip(bs, cs)}


CONTROL, NORMAL, UNKNOWN, BYTE = 3, 1, 2, 6


def spm_vocab(full):
    """SentencePiece vocabulary: specials, byte tokens (all 256 when full,
    else a few), pieces with scores, chat control tokens."""
    toks = [("<unk>", 0.0, UNKNOWN), ("<s>", 0.0, CONTROL), ("</s>", 0.0, CONTROL)]
    for b in (range(256) if full else (0x0A, 0x20, 0xC3, 0xFF)):
        toks.append((f"<0x{b:02X}>", 0.0, BYTE))
    pieces = ["\u2581", "\u2581H", "e", "l", "o", "ll", "llo", "\u2581Hello", "\u2581w", "or", "ld", "!", "a", "\u2581a",
              "\u00e9", "1", "23"]
    toks += [(p, -float(i + 1), NORMAL) for i, p in enumerate(pieces)]
    toks += [("<start_of_turn>", 0.0, CONTROL), ("<end_of_turn>", 0.0, CONTROL)]
    return dict(model="llama", tokens=toks, merges=None, bos=1, eos=2)


def bpe_vocab(full, pre):
    """Byte-level BPE vocabulary: byte symbols (all 256 when full, else the
    letters), merged tokens and their merges, chat control tokens."""
    ch = gpt2_byte_chars()
    syms = [ch[b] for b in range(256)] if full else [ch[b] for b in b"Helo wrd!"]
    merges = [("\u0120", "w"), ("H", "e"), ("l", "l"), ("He", "ll"), ("Hell", "o"), ("o", "r"), ("\u0120w", "or"),
              ("l", "d")]
    toks = [(s, 0.0, NORMAL) for s in syms]
    for a, b in merges:
        if a + b not in syms:
            toks.append((a + b, 0.0, NORMAL))
    toks += [("<|endoftext|>", 0.0, CONTROL), ("<|im_start|>", 0.0, CONTROL), ("<|im_end|>", 0.0, CONTROL)]
    return dict(model="gpt2", tokens=toks, merges=[a + " " + b for a, b in merges], bos=len(toks) - 3,
                eos=len(toks) - 1, pre=pre)


def llm_write(name, arch, voc, E, H, Hkv, D, F, L, wtype=np.float16, q8=(), tied=True, window=0):
    w = gguf.GGUFWriter(os.path.join(out, name), arch)
    cfg = dict(E=E, H=H, Hkv=Hkv, D=D, F=F, L=L, window=window)
    test_llm_parity.write_hparams(w, cfg, 64)
    w.add_tokenizer_model(voc["model"])
    if voc.get("pre"):
        w.add_tokenizer_pre(voc["pre"])
    w.add_token_list([t for t, _, _ in voc["tokens"]])
    w.add_token_scores([s for _, s, _ in voc["tokens"]])
    w.add_token_types([ty for _, _, ty in voc["tokens"]])
    if voc["merges"] is not None:
        w.add_token_merges(voc["merges"])
    w.add_bos_token_id(voc["bos"])
    w.add_eos_token_id(voc["eos"])

    for tname, a in test_llm_parity.random_tensors(arch, cfg, len(voc["tokens"]), rng, tied):
        if a.ndim == 1:  # norms and biases stay f32
            w.add_tensor(tname, a)
        elif tname.split(".")[-2] in q8:
            w.add_tensor(tname, gguf.quants.quantize(a, QT.Q8_0), raw_dtype=QT.Q8_0)
        else:
            w.add_tensor(tname, a.astype(wtype))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def make_llm():
    tiny = dict(E=4, H=2, Hkv=1, D=2, F=4, L=1)
    llm_write("llama_spm_bytes.gguf", "llama", spm_vocab(True), **tiny)
    llm_write("qwen2_bpe_bytes.gguf", "qwen2", bpe_vocab(True, "qwen2"), **tiny, tied=False)
    llm_write("gemma3_spm.gguf", "gemma3", spm_vocab(False), E=8, H=2, Hkv=1, D=4, F=8, L=2, window=4)
    llm_write("phi3_bpe.gguf", "phi3", bpe_vocab(False, "llama-bpe"), E=8, H=2, Hkv=2, D=4, F=8, L=1,
              wtype=np.float32, tied=False)
    llm_write("qwen3_q8.gguf", "qwen3", bpe_vocab(False, "gpt-2"), E=32, H=2, Hkv=1, D=4, F=8, L=1,
              q8=("attn_q", "attn_k", "attn_v", "ffn_gate", "ffn_up"))
    llm_write("mistral_spm.gguf", "mistral", spm_vocab(False), E=8, H=2, Hkv=2, D=4, F=8, L=1,
              wtype=np.float32, window=2)


# ---- text for the tokenize target (mode byte, then the text) ----

def make_tokenize():
    texts = [(8, "Hello world!"), (8, " Hello  world\n\t caf\u00e9 \u2581 123"), (3, "<s>a<|im_start|>user\n"
             "hi<|im_end|><end_of_turn></s>"), (15, "\u4f60\u597d\U0001F600 don't 12345 ..."),
             (0, "\u00ff\u0100 \u2581\u2581a")]
    for i, (mode, text) in enumerate(texts):
        with open(os.path.join(out, f"text{i}.txt"), "wb") as f:
            f.write(bytes([mode]) + text.encode())
    with open(os.path.join(out, "bytes.bin"), "wb") as f:
        f.write(bytes([8]) + bytes(range(1, 256)))


MAKERS = {"gguf": make_gguf, "safetensors": make_safetensors, "idx": make_idx, "llm": make_llm,
          "tokenize": make_tokenize}

if __name__ == "__main__":
    for target in sys.argv[1:] or list(MAKERS):
        if target not in MAKERS:
            sys.exit(f"make_corpus.py: unknown target {target!r} ({', '.join(MAKERS)})")
        out = os.path.join(HERE, "corpus_" + target)
        os.makedirs(out, exist_ok=True)
        rng = np.random.default_rng(7)
        MAKERS[target]()
        for f in sorted(os.listdir(out)):
            print(target, f, os.path.getsize(os.path.join(out, f)))
