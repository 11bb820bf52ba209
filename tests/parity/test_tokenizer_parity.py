#!/usr/bin/env python3
"""Parity of zerfoo's tokenizers with llama.cpp's (PyPI llama-cpp-python) on
real GGUF models: Gemma 3 270M (SentencePiece-style) and SmolLM2-135M
(byte-level BPE, pre-tokenizer "smollm").

usage: test_tokenizer_parity.py PATH/TO/tokenize_tool CORPUS [MODEL ...]

For each model (default: gemma3-270m smollm2-135m, found or installed by
scripts/find_model.py), each counted as cases:
  * metadata: BOS/EOS ids and add_bos/add_eos agree with llama.cpp;
  * pieces: every token's piece, special tokens shown and hidden, equals
    llama_token_to_piece (so decoding any id sequence agrees byte for byte);
  * encode: every corpus line (plus the whole corpus as one text and a set of
    seeded random strings) gives identical ids, both with BOS/EOS and special
    tokens parsed (Llama.tokenize(add_bos=True, special=True)) and with
    neither;
  * round trip: for every valid-UTF-8 line on which llama.cpp's detokenize
    (ids without BOS/EOS, special tokens shown) gives the text back, zerfoo's
    decode does too.
Then the same encode checks on variants written with the `gguf` package (the
model's metadata with a few keys changed, no tensors), for what the two real
files do not exercise: SmolLM2's vocabulary under the "default", "gpt-2",
"llama-bpe" (Llama 3, with ignore_merges) and "qwen2" pre-tokenizers, and
Gemma 3's with add_space_prefix and add_eos_token on (round trip checked with
zerfoo's strip-prefix decode).
Prints a summary per model; exits 77 (skip) when llama_cpp cannot be
imported, nonzero when any case fails; the last line reads
"N passed, M failed".
"""
import ctypes
import os
import random
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "scripts"))

try:
    import llama_cpp
except ImportError:
    print("tokenizer_parity: llama_cpp (PyPI llama-cpp-python) is not installed; skipped")
    sys.exit(77)

from find_model import find_model  # noqa: E402

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
    return ok


def unescape(line):
    """Corpus escapes: \\n \\t \\r \\\\ and \\xNN (a raw byte)."""
    out = bytearray()
    i = 0
    while i < len(line):
        c = line[i]
        if c == "\\" and i + 1 < len(line):
            d = line[i + 1]
            if d in "ntr\\":
                out += {"n": b"\n", "t": b"\t", "r": b"\r", "\\": b"\\"}[d]
                i += 2
                continue
            if d == "x" and i + 3 < len(line) + 0:
                out.append(int(line[i + 2:i + 4], 16))
                i += 4
                continue
        out += c.encode("utf-8")
        i += 1
    return bytes(out)


def load_corpus(path):
    texts = []
    with open(path, encoding="utf-8") as f:
        for line in f.read().split("\n"):
            if line.startswith("##") or line == "":
                continue
            texts.append(unescape(line))
    return texts


def random_texts(n, seed=1234):
    """Seeded random strings mixing the classes the pre-tokenizers care about."""
    rng = random.Random(seed)
    pools = [
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ",
        "0123456789", " ", "  ", "\t", "\n", "\r\n", ".,;:!?'\"()[]{}<>-_=+*/\\|@#$%^&~`",
        "éèêàçñöüßøåæœ", "αβγδεζηθ", "абвгдежз", "日本語中文字", "한국어", "ひらがなカタカナ",
        "١٢٣٤٥٦", "०१२३४५", "²³¼½", "😀🚀🔥👍🏽", "‍", "️", "\u00a0\u2003\u3000",
        "'s", "'t", "'re", "'LL", "<start_of_turn>", "<end_of_turn>", "<|im_start|>", "<|im_end|>",
        "<|endoftext|>", "<bos>", "<eos>", "▁",
    ]
    out = []
    for _ in range(n):
        k = rng.randint(1, 40)
        s = "".join(rng.choice(rng.choice(pools)) if rng.random() < 0.7 else rng.choice(pools) for _ in range(k))
        b = s.encode("utf-8")
        if rng.random() < 0.1:  # sprinkle invalid bytes
            pos = rng.randint(0, len(b))
            b = b[:pos] + bytes([rng.choice([0x80, 0xbf, 0xc3, 0xe2, 0xf0, 0xff])]) + b[pos:]
        out.append(b)
    return out


def has_huge_codepoint(b):
    """True when llama.cpp's lenient UTF-8 reader (unicode_cpt_from_utf8) gets a
    value past U+10FFFF (lead byte F4..F7 with three continuation bytes): its
    byte-level BPE then throws std::invalid_argument from unicode_cpt_to_utf8
    and the process aborts, so such texts cannot be compared; zerfoo reads the
    lead byte as U+FFFD."""
    i = 0
    while i < len(b):
        c = b[i]
        n = 1 if c < 0x80 else 0 if c < 0xC0 else 2 if c < 0xE0 else 3 if c < 0xF0 else 4 if c < 0xF8 else 0
        if n == 0:
            i += 1
            continue
        if n > 1 and (i + n > len(b) or any(x & 0xC0 != 0x80 for x in b[i + 1:i + n])):
            i += 1
            continue
        if n == 4 and ((c & 7) << 18 | (b[i + 1] & 0x3F) << 12) >= 0x110000:
            return True
        i += n
    return False


def tool(*args):
    r = subprocess.run([TOOL, *args], capture_output=True)
    if r.returncode != 0:
        raise RuntimeError(f"tokenize_tool {' '.join(args)} failed: {r.stderr.decode(errors='replace')}")
    return r.stdout.decode()


def zf_encode(model, texts, flags):
    with tempfile.NamedTemporaryFile("w", suffix=".hex", delete=False) as f:
        for t in texts:
            f.write((t.hex() or "-") + "\n")
        path = f.name
    try:
        lines = tool("encode", model, path, flags).split("\n")
    finally:
        os.unlink(path)
    return [[int(x) for x in ln.split()] for ln in lines[:len(texts)]]


def zf_decode(model, id_lists, flags):
    with tempfile.NamedTemporaryFile("w", suffix=".ids", delete=False) as f:
        for ids in id_lists:
            f.write(" ".join(map(str, ids)) + "\n")
        path = f.name
    try:
        lines = tool("decode", model, path, flags).split("\n")
    finally:
        os.unlink(path)
    return [b"" if ln == "-" else bytes.fromhex(ln) for ln in lines[:len(id_lists)]]


def ref_piece(vocab, tid, special):
    buf = ctypes.create_string_buffer(256)
    n = llama_cpp.llama_token_to_piece(vocab, tid, buf, 256, 0, special)
    if n < 0:
        buf = ctypes.create_string_buffer(-n)
        n = llama_cpp.llama_token_to_piece(vocab, tid, buf, -n, 0, special)
    return buf.raw[:n]


def show(b):
    return repr(b[:120])


def make_variant(src, dst, overrides):
    """Copies src's metadata (no tensors) to dst with `overrides` {key: value}
    (strings or bools)."""
    import gguf
    vt = gguf.GGUFValueType
    r = gguf.GGUFReader(src)
    w = None
    kvs = []
    for k, f in r.fields.items():
        if k.startswith("GGUF.") or k in overrides:
            continue
        t = f.types[0]
        if k == "general.architecture":
            w = gguf.GGUFWriter(dst, bytes(f.parts[f.data[0]]).decode())
        elif t == vt.ARRAY:
            sub = f.types[1]
            if sub == vt.STRING:
                kvs.append((k, [bytes(f.parts[i]) for i in f.data], t, sub))
            elif sub != vt.ARRAY:
                kvs.append((k, [f.parts[i][0].item() for i in f.data], t, sub))
        elif t == vt.STRING:
            kvs.append((k, bytes(f.parts[f.data[0]]), t, None))
        else:
            kvs.append((k, f.parts[f.data[0]][0].item(), t, None))
    for k, v in overrides.items():
        kvs.append((k, v, vt.BOOL if isinstance(v, bool) else vt.STRING, None))
    for k, v, t, sub in kvs:
        w.add_key_value(k, v, t, sub)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def run_model(name, path, corpus, full=True, rt_lines=None):
    """Checks one GGUF file; returns the valid-UTF-8 lines llama.cpp round-trips."""
    print(f"== {name}: {path}")
    llm = llama_cpp.Llama(model_path=path, vocab_only=True, verbose=False)
    vocab = llm._model.vocab
    info = dict(ln.split("=", 1) for ln in tool("info", path).split("\n") if "=" in ln)
    print(f"   zerfoo: {info}")

    # metadata
    check(int(info["bos"]) == llm.token_bos(), f"{name}: bos {info['bos']} vs {llm.token_bos()}")
    check(int(info["eos"]) == llm.token_eos(), f"{name}: eos {info['eos']} vs {llm.token_eos()}")
    check(int(info["n_vocab"]) == llm.n_vocab(), f"{name}: n_vocab {info['n_vocab']} vs {llm.n_vocab()}")
    check(bool(int(info["add_bos"])) == bool(llama_cpp.llama_vocab_get_add_bos(vocab)), f"{name}: add_bos")
    check(bool(int(info["add_eos"])) == bool(llama_cpp.llama_vocab_get_add_eos(vocab)), f"{name}: add_eos")

    if full:
        check_pieces(name, path, llm, vocab)
    check_encode(name, path, llm, info, corpus)
    return check_round_trip(name, path, llm, info, corpus, rt_lines)


def check_pieces(name, path, llm, vocab):
    pieces = tool("pieces", path).split("\n")
    bad = 0
    for tid in range(llm.n_vocab()):
        z_sp, z_pl = (b"" if h == "-" else bytes.fromhex(h) for h in pieces[tid].split(" "))
        r_sp, r_pl = ref_piece(vocab, tid, True), ref_piece(vocab, tid, False)
        if (z_sp, z_pl) != (r_sp, r_pl):
            bad += 1
            if bad <= 5:
                print(f"   piece {tid}: zerfoo {show(z_sp)}/{show(z_pl)} llama.cpp {show(r_sp)}/{show(r_pl)}")
    check(bad == 0, f"{name}: {bad} token pieces differ")
    print(f"   pieces: {llm.n_vocab() - bad}/{llm.n_vocab()} identical")



def check_encode(name, path, llm, info, corpus):
    texts = corpus + [b"\n".join(t for t in corpus if not has_huge_codepoint(t))] + random_texts(1000)
    n_corpus = len(corpus)
    if info["kind"] == "bpe":
        skipped = [t for t in texts if has_huge_codepoint(t)]
        if skipped:
            print(f"   {len(skipped)} text(s) not compared: llama.cpp's byte-level BPE aborts on a code point "
                  f"past U+10FFFF: {[show(t) for t in skipped]}")
        keep = [not has_huge_codepoint(t) for t in texts]
        n_corpus = sum(keep[:n_corpus])
        texts = [t for t, k in zip(texts, keep) if k]
    for flags, add, special in (("as", True, True), ("-", False, False)):
        t1 = time.time()
        ours = zf_encode(path, texts, flags)
        t_ours = time.time() - t1
        t1 = time.time()
        refs = [llm.tokenize(t, add_bos=add, special=special) for t in texts]
        t_ref = time.time() - t1
        same_corpus = sum(o == r for o, r in zip(ours[:n_corpus], refs[:n_corpus]))
        same_all = sum(o == r for o, r in zip(ours, refs))
        for i, (o, r) in enumerate(zip(ours, refs)):
            if not check(o == r, f"{name} [{flags}] text {i} {show(texts[i])}"):
                print(f"   zerfoo   {o[:40]}\n   llama.cpp {r[:40]}")
        print(f"   encode add_special={add} parse_special={special}: corpus lines {same_corpus}/{n_corpus}, "
              f"all texts {same_all}/{len(texts)} identical (zerfoo {t_ours:.2f}s incl. load, "
              f"llama.cpp {t_ref:.2f}s)")



def check_round_trip(name, path, llm, info, corpus, rt_lines):
    """rt_lines None: compare with llama.cpp's detokenize; else check zerfoo's
    strip-prefix decode on those lines (llama-cpp-python's detokenize keeps the
    prefix space)."""
    valid = []
    for t in corpus:
        try:
            t.decode("utf-8")
            valid.append(t)
        except UnicodeDecodeError:
            pass
    bos, eos = llm.token_bos(), llm.token_eos()
    add_bos, add_eos = int(info["add_bos"]), int(info["add_eos"])
    core = []
    for t in valid:
        ids = llm.tokenize(t, add_bos=True, special=True)
        if add_bos and ids and ids[0] == bos:
            ids = ids[1:]
        if add_eos and ids and ids[-1] == eos:
            ids = ids[:-1]
        core.append(ids)
    ours = zf_decode(path, core, "sp")
    if rt_lines is not None:
        ok = 0
        for t, o in zip(valid, ours):
            if t in rt_lines:
                ok += o == t
                check(o == t, f"{name}: round trip of {show(t)} gives {show(o)}")
        print(f"   round trip (zerfoo, strip prefix): {ok}/{len(rt_lines)}")
        return rt_lines
    ref_ok = our_ok = both = 0
    rt = set()
    for t, ids, o in zip(valid, core, ours):
        r = llm.detokenize(ids, special=True)
        ref_ok += r == t
        our_ok += o == t
        if r == t:
            rt.add(t)
            both += o == t
            check(o == t, f"{name}: round trip of {show(t)} gives {show(o)}")
    print(f"   round trip: llama.cpp {ref_ok}/{len(valid)}, zerfoo {our_ok}/{len(valid)}, "
          f"zerfoo where llama.cpp round-trips {both}/{ref_ok}")
    return rt


def main(argv):
    global TOOL
    if len(argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    TOOL = argv[1]
    corpus = load_corpus(argv[2])
    models = argv[3:] or ["gemma3-270m", "smollm2-135m"]
    variants = {
        "smollm2-135m": [{"tokenizer.ggml.pre": p} for p in ("default", "gpt-2", "llama-bpe", "qwen2")],
        "gemma3-270m": [{"tokenizer.ggml.add_space_prefix": True, "tokenizer.ggml.add_eos_token": True}],
    }
    with tempfile.TemporaryDirectory() as tmp:
        for m in models:
            t0 = time.time()
            path = find_model(m)
            rt = run_model(m, path, corpus)
            for i, over in enumerate(variants.get(m, [])):
                dst = os.path.join(tmp, f"{m}-variant{i}.gguf")
                make_variant(path, dst, over)
                run_model(f"{m} with {over}", dst, corpus, full=False, rt_lines=rt)
            print(f"   ({time.time() - t0:.1f}s)")
    print(f"{PASSED} passed, {FAILED} failed")
    return 1 if FAILED else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
