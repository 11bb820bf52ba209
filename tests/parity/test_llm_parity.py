#!/usr/bin/env python3
"""LLM parity with llama.cpp (llama-cpp-python, built from source).

1. Greedy continuations on real models (Gemma 3 270M, SmolLM2-135M), same
   GGUF file and the same prompt token ids on both sides: the first token
   equal on every prompt, 32-token continuations equal on at least 90% of
   them (ZF_PARITY_STRICT=1: on all of them). zerfoo computes what llama.cpp
   computes, bit for bit (docs/LLM.md), so any difference is a bug; where a
   continuation differs, llama.cpp's logit gap between the two tokens is
   printed.
2. Traces (ggml_trace.py, trace_compare.py): every intermediate tensor of
   the forward pass on a short and a ~330-token prompt, prefill and two
   decode steps, compared bit for bit with llama.cpp's, each matmul replaced
   by llama.cpp's own product (ZF_LLM_INJECT): every other op must be
   bit-identical. With ZF_PARITY_STRICT=1 also without the replacement.
   Models with a sliding window (Gemma 3: 512 tokens, kept as a ring) also
   on a 783-token prompt (two prefill batches, the second wrapping the
   ring, then decode steps on the wrapped ring).
3. Perplexity of an English text (the first 16 KB of the GPL-3 text Debian
   ships in /usr/share/common-licenses, or --ppl-file): within 1% of llama.cpp's, computed
   the way llama.cpp's perplexity tool does (windows of N tokens starting with
   BOS, second half of each window scored). Models with a sliding window
   also with one 1024-token window, and greedy continuations of long prompts
   (past the window during prefill and during decode) must equal
   llama.cpp's.
4. Families without a registry model (qwen2, qwen3, phi3 (whose window
   llama.cpp ignores, as zerfoo does), llama, gemma3 with a tiny window): small random-weight GGUF files
   written with the `gguf` package; the logits of the last position after a
   batched prefill and a few single-token decode steps must agree.

Prints 'N passed, M failed'. Exits 0 when everything passes (or when
llama_cpp is not installed: then it says so and skips).
"""
import argparse
import math
import os
import subprocess
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
PROMPTS = [
    "The capital of France is",
    "Once upon a time, in a small village by the sea,",
    "def fibonacci(n):\n    \"\"\"Return the n-th Fibonacci number.\"\"\"\n",
    "The three primary colors are",
    "To make a cup of tea, first",
    "Water boils at 100 degrees Celsius, which is",
    "The quick brown fox",
    "In 1969, Neil Armstrong",
    "Photosynthesis is the process by which",
    "SELECT name, age FROM users WHERE",
    "The best way to learn a new language is",
    "Q: What is 12 times 12?\nA:",
    "My favourite fruits are apples, bananas and",
    "The mitochondria is",
    "import numpy as np\nx = np.arange(10)\n",
    "Dear Sir or Madam,\n\nI am writing to",
    "The theory of relativity was developed by",
    "Rain is falling on the",
    "List of planets in the solar system: Mercury, Venus,",
    "A haiku about autumn:\n",
    "The stock market fell sharply today after",
    "Bonjour, je m'appelle",
    "Here is a recipe for pancakes. Ingredients:",
    "The most important thing about software testing is",
]
MODELS = {
    "gemma3-270m": "gemma-3-270m-q4_k_m.gguf",
    "smollm2-135m": "SmolLM2-135M-Instruct.Q4_1.gguf",
}
WINDOWED = {"gemma3-270m"}  # sliding-window layers (512 tokens): long-context checks too

passed = failed = 0


def check(ok, what):
    global passed, failed
    if ok:
        passed += 1
    else:
        failed += 1
    print(("ok   " if ok else "FAIL ") + what, flush=True)


def model_path(zerfoo, name):
    d = os.environ.get("ZF_MODEL_DIR") or os.path.join(os.path.expanduser("~"), ".cache", "zerfoo", "models")
    p = os.path.join(d, MODELS[name])
    if not os.path.exists(p):  # installs it into the cache
        subprocess.run([zerfoo, "info", name], stdout=subprocess.DEVNULL, check=True)
    return p


def tool_lines(tool, args, lines):
    out = subprocess.run([tool] + args, input="".join(l + "\n" for l in lines), capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(out.stderr)
    return out.stdout.splitlines()


def llama(path, n_ctx, logits_all=False):
    from llama_cpp import Llama
    # one thread: the results do not depend on it, and ggml's spinning threads crawl on a busy machine
    return Llama(model_path=path, n_ctx=n_ctx, n_batch=512, n_threads=1, logits_all=logits_all, verbose=False)


def last_logits(llm):
    """Logits of the last evaluated token (llm.scores is only filled with logits_all)."""
    import llama_cpp
    p = llama_cpp.llama_get_logits_ith(llm._ctx.ctx, -1)
    return np.ctypeslib.as_array(p, shape=(llm.n_vocab(),)).astype(np.float64)


def greedy_ref(llm, ids, n):
    llm.reset()
    llm.eval(ids)
    out = []
    for _ in range(n):
        tok = int(np.argmax(last_logits(llm)))
        out.append(tok)
        llm.eval([tok])
    return out


def cached(key, compute):
    """llama.cpp's answers, kept in $ZF_PARITY_CACHE (a JSON file) when set: reruns skip the slow reference."""
    import json
    path = os.environ.get("ZF_PARITY_CACHE")
    data = {}
    if path and os.path.exists(path):
        with open(path) as f:
            data = json.load(f)
    if key not in data:
        data[key] = compute()
        if path:
            with open(path, "w") as f:
                json.dump(data, f)
    return data[key]


def test_generation(tool, name, path, n_gen):
    llm = llama(path, 512)
    prompts = [llm.tokenize(p.encode(), add_bos=True, special=True) for p in PROMPTS]
    key = f"gen:{os.path.basename(path)}:{os.path.getsize(path)}:{n_gen}:{hash(tuple(map(tuple, prompts)))}"
    ref = cached(key, lambda: [greedy_ref(llm, ids, n_gen) for ids in prompts])
    ours = [list(map(int, l.split())) for l in tool_lines(tool, ["gen", path, str(n_gen), "512"],
                                                          [" ".join(map(str, ids)) for ids in prompts])]
    first = sum(r[0] == o[0] for r, o in zip(ref, ours))
    full = sum(r == o for r, o in zip(ref, ours))
    worst = 0.0
    for p, ids, r, o in zip(PROMPTS, prompts, ref, ours):
        if r == o:
            continue
        k = next(i for i in range(n_gen) if i >= len(o) or r[i] != o[i])
        if k >= len(o):
            worst = float("inf")
            continue
        llm.reset()
        llm.eval(ids + r[:k])
        lg = last_logits(llm)
        gap = lg[r[k]] - lg[o[k]]  # how much llama.cpp prefers its token over zerfoo's
        worst = max(worst, gap)
        print(f"     {name}: {p[:40]!r} parts at token {k}: llama.cpp {r[k]}, zerfoo {o[k]}, "
              f"llama.cpp's logit gap {gap:+.3f}")
    strict = os.environ.get("ZF_PARITY_STRICT") == "1"
    print(f"     {name}: first token equal for {first}/{len(prompts)}, {n_gen}-token continuations equal for "
          f"{full}/{len(prompts)}")
    need = len(prompts) if strict else math.ceil(0.9 * len(prompts))
    check(first == len(prompts), f"{name}: first greedy token matches llama.cpp for {first}/{len(prompts)} prompts")
    check(full >= need, f"{name}: {n_gen}-token continuations match exactly for {full}/{len(prompts)} prompts "
                        f"(need {need}; largest llama.cpp logit gap where they differ {worst:.3f})")
    del llm


def gpl_text():
    with open("/usr/share/common-licenses/GPL-3", encoding="utf-8") as f:
        return f.read()


def test_trace(tool, name, path, inject):
    """Bit-identical intermediates (see the top), for two prompts (three with a window)."""
    text = gpl_text()
    cases = [("short prompt", "The capital of France is", 512), ("330-token prompt", text[:1500], 512)]
    if name in WINDOWED:
        cases.append(("783-token prompt (ring wrapped)", text[:3600], 1024))
    for label, text, n_ctx in cases:
        with tempfile.TemporaryDirectory() as d:
            ref, ours = os.path.join(d, "ggml"), os.path.join(d, "zerfoo")
            subprocess.run([sys.executable, os.path.join(HERE, "ggml_trace.py"), path, ref, "--text", text,
                            "--decode", "2", "--ctx", str(n_ctx)], check=True, stdout=subprocess.DEVNULL)
            with open(os.path.join(ref, "tokens.txt")) as f:
                ids = f.readline()
            env = dict(os.environ, ZF_LLM_DUMP=ours)
            if inject:
                env["ZF_LLM_INJECT"] = ref
            subprocess.run([tool, "gen", path, "3", str(n_ctx)], input=ids, text=True, env=env, check=True,
                           stdout=subprocess.DEVNULL)
            out = subprocess.run([sys.executable, os.path.join(HERE, "trace_compare.py"), ours, ref],
                                 capture_output=True, text=True)
            summary = [l for l in out.stdout.splitlines() if l.startswith("step") and ":" in l and " " in l]
            what = "every op but the matmuls (llama.cpp's products injected)" if inject else "the whole forward pass"
            check(out.returncode == 0, f"{name}: {label}, prefill and 2 decode steps: {what} bit-identical with "
                                       f"llama.cpp" + ("" if out.returncode == 0 else ": " + "; ".join(summary)))


def test_long_generation(tool, name, path):
    """Greedy continuations of long prompts, across the window during prefill and during decode."""
    text = gpl_text()
    n_ctx = 1024
    llm = llama(path, n_ctx)
    cases = [(llm.tokenize(text[a:b].encode(), add_bos=True, special=True), n)
             for a, b, n in ((0, 1800, 120), (5000, 8600, 24))]
    key = f"longgen:{os.path.basename(path)}:{os.path.getsize(path)}:{hash(tuple(tuple(c) for c, _ in cases))}"
    ref = cached(key, lambda: [greedy_ref(llm, ids, n) for ids, n in cases])
    del llm
    for (ids, n), r in zip(cases, ref):
        o = list(map(int, tool_lines(tool, ["gen", path, str(n), str(n_ctx)], [" ".join(map(str, ids))])[0].split()))
        k = next((i for i in range(n) if i >= len(o) or r[i] != o[i]), None)
        check(k is None, f"{name}: {len(ids)}-token prompt, {n} greedy tokens (to position {len(ids) + n}, "
                         f"window 512) equal to llama.cpp's" + ("" if k is None else f": first differs at {k}"))


def ref_perplexity(path, text, n_ctx):
    llm = llama(path, n_ctx, logits_all=True)
    toks = llm.tokenize(text.encode(), add_bos=True, special=False)
    add_bos = llm._model.add_bos_token() if hasattr(llm._model, "add_bos_token") else True
    bos = llm.token_bos()
    nll, count = 0.0, 0
    for c in range(len(toks) // n_ctx):
        win = toks[c * n_ctx:(c + 1) * n_ctx]
        if add_bos:
            win = [bos] + win[1:]
        llm.reset()
        llm.eval(win)
        lg = np.array(llm.scores[:n_ctx], dtype=np.float64)
        for j in range(n_ctx // 2, n_ctx - 1):
            row = lg[j]
            m = row.max()
            nll -= row[toks[c * n_ctx + j + 1]] - m - math.log(np.exp(row - m).sum())
            count += 1
    del llm
    return math.exp(nll / count), count


def test_perplexity(zerfoo, name, path, n_ctx, src, chars=16384):
    with open(src, encoding="utf-8") as f:
        text = f.read()[:chars]
    txt = os.path.join(tempfile.mkdtemp(), "ppl.txt")
    with open(txt, "w", encoding="utf-8") as f:
        f.write(text)
    ref, count = cached(f"ppl:{os.path.basename(path)}:{os.path.getsize(path)}:{n_ctx}:{len(text)}",
                        lambda: ref_perplexity(path, text, n_ctx))
    out = subprocess.run([zerfoo, "perplexity", path, txt, "-c", str(n_ctx)], capture_output=True, text=True)
    ours = float(out.stdout.strip()) if out.returncode == 0 else float("nan")
    rel = abs(ours - ref) / ref
    check(rel < 0.01, f"{name}: perplexity {ours:.4f} vs llama.cpp {ref:.4f} ({count} tokens, {100 * rel:.3f}% apart)")


# ---- random-weight files for the families without a registry model ----

def tokenizer_fields(src):
    """tokenizer.* metadata of a real file, to give the random models a vocabulary."""
    import gguf
    r = gguf.GGUFReader(src)
    out = []
    for k, f in r.fields.items():
        if not k.startswith("tokenizer.") or k == "tokenizer.chat_template":
            continue
        out.append((k, f.types, f.contents()))
    return out


def random_tensors(arch, cfg, n_vocab, rng, tied=True):
    """Yields (name, f32 array) for every weight of a random-weight model of
    `arch` (cfg: E, H, Hkv, D, F, L), in llama.cpp's naming; norms near 1.
    Also used by tests/fuzz/make_corpus.py for the fuzzer's seed models."""
    E, H, Hkv, D, F, L = cfg["E"], cfg["H"], cfg["Hkv"], cfg["D"], cfg["F"], cfg["L"]

    def t(name, *shape, scale=None, norm=False):
        if norm:
            a = 1.0 + 0.1 * rng.standard_normal(shape)
        else:
            a = rng.standard_normal(shape) * (scale if scale else 1.0 / math.sqrt(shape[-1]))
        return name, a.astype(np.float32)

    yield t("token_embd.weight", n_vocab, E, scale=1.0)
    yield t("output_norm.weight", E, norm=True)
    if not tied:
        yield t("output.weight", n_vocab, E)
    for i in range(L):
        p = f"blk.{i}."
        yield t(p + "attn_norm.weight", E, norm=True)
        if arch == "phi3":
            yield t(p + "attn_qkv.weight", H * D + 2 * Hkv * D, E)
        else:
            yield t(p + "attn_q.weight", H * D, E)
            yield t(p + "attn_k.weight", Hkv * D, E)
            yield t(p + "attn_v.weight", Hkv * D, E)
        if arch == "qwen2":
            for n, o in (("q", H * D), ("k", Hkv * D), ("v", Hkv * D)):
                yield t(p + f"attn_{n}.bias", o, scale=0.5)
        if arch in ("qwen3", "gemma3"):
            yield t(p + "attn_q_norm.weight", D, norm=True)
            yield t(p + "attn_k_norm.weight", D, norm=True)
        yield t(p + "attn_output.weight", E, H * D)
        if arch == "gemma3":
            yield t(p + "post_attention_norm.weight", E, norm=True)
            yield t(p + "post_ffw_norm.weight", E, norm=True)
        yield t(p + "ffn_norm.weight", E, norm=True)
        if arch == "phi3":
            yield t(p + "ffn_up.weight", 2 * F, E)
        else:
            yield t(p + "ffn_gate.weight", F, E)
            yield t(p + "ffn_up.weight", F, E)
        yield t(p + "ffn_down.weight", E, F)


def write_hparams(w, cfg, n_ctx):
    """The <arch>.* hyperparameters of cfg (E, H, Hkv, D, F, L, optional rot
    and window) to GGUFWriter w. Also used by tests/fuzz/make_corpus.py."""
    w.add_context_length(n_ctx)
    w.add_embedding_length(cfg["E"])
    w.add_block_count(cfg["L"])
    w.add_feed_forward_length(cfg["F"])
    w.add_head_count(cfg["H"])
    w.add_head_count_kv(cfg["Hkv"])
    w.add_key_length(cfg["D"])
    w.add_value_length(cfg["D"])
    w.add_rope_dimension_count(cfg.get("rot", cfg["D"]))
    w.add_layer_norm_rms_eps(1e-6)
    w.add_rope_freq_base(10000.0)
    if cfg.get("window"):
        w.add_sliding_window(cfg["window"])


def write_random(path, arch, tok_fields, n_vocab, cfg, seed):
    import gguf
    rng = np.random.default_rng(seed)
    w = gguf.GGUFWriter(path, arch)
    write_hparams(w, cfg, 1024)
    for k, types, v in tok_fields:
        if types[0] == gguf.GGUFValueType.ARRAY:
            w.add_array(k, v)
        elif types[0] == gguf.GGUFValueType.STRING:
            w.add_string(k, v)
        elif types[0] == gguf.GGUFValueType.BOOL:
            w.add_bool(k, v)
        else:
            w.add_uint32(k, int(v))

    for name, a in random_tensors(arch, cfg, n_vocab, rng):
        w.add_tensor(name, a)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def test_random_families(tool, tok_src):
    import gguf  # noqa: F401
    tok = tokenizer_fields(tok_src)
    n_vocab = next(len(v) for k, _, v in tok if k == "tokenizer.ggml.tokens")
    base = dict(E=64, H=4, Hkv=2, D=16, F=128, L=3)
    cases = [
        ("llama", dict(base)),
        ("qwen2", dict(base)),
        ("qwen3", dict(base)),
        ("phi3", dict(base, Hkv=4, window=8)),
        ("gemma3", dict(base, L=6, window=8)),
    ]
    rng = np.random.default_rng(7)
    prompts = [rng.integers(3, n_vocab, size=n).tolist() for n in (5, 19, 40)]
    with tempfile.TemporaryDirectory() as d:
        for arch, cfg in cases:
            path = os.path.join(d, arch + ".gguf")
            write_random(path, arch, tok, n_vocab, cfg, seed=sum(map(ord, arch)))
            try:
                llm = llama(path, 256)
            except Exception as e:  # noqa: BLE001
                check(False, f"{arch}: llama.cpp cannot load the random file: {e}")
                continue
            for ids in prompts:
                split = 4  # the last 4 tokens are decoded one at a time
                llm.reset()
                llm.eval(ids[:-split])
                for tk in ids[-split:]:
                    llm.eval([tk])
                ref = last_logits(llm)
                line = tool_lines(tool, ["logits", path, "256", str(split)], [" ".join(map(str, ids))])[0]
                ours = np.array(line.split(), dtype=np.float64)
                err = np.abs(ours - ref).max() / (np.abs(ref).max() + 1e-9)
                check(err < 2e-2 and ours.argmax() == ref.argmax(),
                      f"{arch}: random weights, {len(ids)}-token prompt: max logit error {err:.2e} of the largest, "
                      f"argmax {ours.argmax()} vs {ref.argmax()}")
            del llm


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tool", required=True)
    ap.add_argument("--zerfoo", required=True)
    ap.add_argument("--models", nargs="*", default=list(MODELS))
    ap.add_argument("--n-gen", type=int, default=32)
    ap.add_argument("--ppl-ctx", type=int, default=256)
    ap.add_argument("--skip-random", action="store_true")
    ap.add_argument("--only-random", action="store_true")
    ap.add_argument("--skip-ppl", action="store_true")
    ap.add_argument("--ppl-file", default="/usr/share/common-licenses/GPL-3")
    a = ap.parse_args()
    try:
        import llama_cpp  # noqa: F401
    except ImportError:
        print("llama_cpp (llama-cpp-python) is not installed: LLM parity skipped")
        print("0 passed, 0 failed")
        return 0
    paths = {n: model_path(a.zerfoo, n) for n in a.models}
    strict = os.environ.get("ZF_PARITY_STRICT") == "1"
    for n in ([] if a.only_random else a.models):
        test_trace(a.tool, n, paths[n], inject=True)
        if strict:
            test_trace(a.tool, n, paths[n], inject=False)
        test_generation(a.tool, n, paths[n], a.n_gen)
        if n in WINDOWED:
            test_long_generation(a.tool, n, paths[n])
        if not a.skip_ppl:
            test_perplexity(a.zerfoo, n, paths[n], a.ppl_ctx, a.ppl_file)
            if n in WINDOWED:  # one window (~1070 tokens of text): its scored half lies past the window
                test_perplexity(a.zerfoo, n, paths[n], 1024, a.ppl_file, chars=5000)
    if not a.skip_random:
        test_random_families(a.tool, paths.get("smollm2-135m") or model_path(a.zerfoo, "smollm2-135m"))
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
