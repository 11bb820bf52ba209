/* Tokenizer loading from GGUF metadata, getters and the encode driver.
 *
 * Metadata keys and their meaning: GGUF spec (ggml docs/gguf.md, "Tokenizer"),
 * with defaults and quirks as llama.cpp applies them (src/llama-vocab.cpp,
 * llama_vocab::impl::load): SPM defaults bos=1 eos=2 unk=0, add_bos=true,
 * add_space_prefix=true; BPE defaults bos=eos=11, add_bos=false (true for the
 * llama3 family), no space prefix; an empty token text is replaced by
 * "[EMPTY_<id>]"; a merge "a b" is split at the first space after its first
 * byte, and the first of duplicate merges wins. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tokenizer/tokenizer_internal.h"
#include "tokenizer/unicode.h"

zf_status zf_tok_reserve(void **p, size_t *cap, size_t need, size_t elem) {
    if (need <= *cap) return ZF_OK;
    size_t c = *cap ? *cap : 16;
    while (c < need) {
        if (c > SIZE_MAX / 2 / elem) return zf_set_error(ZF_ERR_OOM, "tokenizer buffer too large");
        c *= 2;
    }
    void *q = realloc(*p, c * elem);
    if (!q) return zf_set_error(ZF_ERR_OOM, "out of memory (tokenizer buffer of %zu bytes)", c * elem);
    *p = q;
    *cap = c;
    return ZF_OK;
}

zf_status zf_tokens_push(zf_tokens *v, int32_t id) {
    if (v->n >= v->cap) {
        size_t cap = (size_t)v->cap;
        zf_status st = zf_tok_reserve((void **)&v->ids, &cap, (size_t)v->n + 1, sizeof *v->ids);
        if (st) return st;
        v->cap = (int64_t)cap;
    }
    v->ids[v->n++] = id;
    return ZF_OK;
}

void zf_tokens_free(zf_tokens *v) {
    if (!v) return;
    free(v->ids);
    v->ids = NULL;
    v->n = v->cap = 0;
}

void zf_tok_scratch_free(zf_tok_scratch *s) {
    free(s->matches.v);
    free(s->frags.v);
    free(s->claimed.v);
    free(s->text.v);
    free(s->syms.v);
    free(s->heap.v);
    free(s->cps.v);
    free(s->seg_a.v);
    free(s->seg_b.v);
    memset(s, 0, sizeof *s);
}

void zf_tokenizer_free(zf_tokenizer *t) {
    if (!t) return;
    free(t->text.v);
    free(t->off);
    free(t->len);
    free(t->score);
    free(t->type);
    free(t->attr);
    zf_strmap32_free(&t->vocab);
    free(t->piece);
    free(t->piece_off);
    free(t->piece_len);
    zf_u64map_free(&t->merges);
    zf_u64map_free(&t->trie);
    free(t->trie_tok);
    zf_tok_scratch_free(&t->scratch);
    free(t);
}

/* ---- loading helpers ---- */

#define K_MODEL "tokenizer.ggml.model"
#define K_PRE "tokenizer.ggml.pre"
#define K_TOKENS "tokenizer.ggml.tokens"
#define K_SCORES "tokenizer.ggml.scores"
#define K_TYPES "tokenizer.ggml.token_type"
#define K_MERGES "tokenizer.ggml.merges"

static zf_status fmt_err(const char *what) { return zf_set_error(ZF_ERR_FORMAT, "tokenizer metadata: %s", what); }

/* Optional string key; *present false when absent. */
static zf_status opt_str(const zf_gguf *g, const char *key, zf_gguf_str *out, bool *present) {
    *present = false;
    if (zf_gguf_find_key(g, key) < 0) return ZF_OK;
    const zf_gguf_val *v = zf_gguf_get(g, key);
    if (!v || zf_gguf_val_type(v) != ZF_GGUF_STRING)
        return zf_set_error(ZF_ERR_FORMAT, "tokenizer metadata: %s is not a string", key);
    zf_gguf_val_str(v, out);
    *present = true;
    return ZF_OK;
}

static zf_status opt_bool(const zf_gguf *g, const char *key, bool *out) {
    if (zf_gguf_find_key(g, key) < 0) return ZF_OK;
    const zf_gguf_val *v = zf_gguf_get(g, key);
    if (!v || zf_gguf_val_bool(v, out) != ZF_OK) {
        zf_clear_error();
        return zf_set_error(ZF_ERR_FORMAT, "tokenizer metadata: %s is not a bool", key);
    }
    return ZF_OK;
}

/* Optional token id: must be an integer in [0, n_vocab). */
static zf_status opt_id(const zf_gguf *g, const char *key, int32_t n_vocab, int32_t *out) {
    if (zf_gguf_find_key(g, key) < 0) return ZF_OK;
    const zf_gguf_val *v = zf_gguf_get(g, key);
    int64_t x;
    if (!v || zf_gguf_val_i64(v, &x) != ZF_OK) {
        zf_clear_error();
        return zf_set_error(ZF_ERR_FORMAT, "tokenizer metadata: %s is not an integer", key);
    }
    if (x < 0 || x >= n_vocab)
        return zf_set_error(ZF_ERR_FORMAT, "tokenizer metadata: %s = %lld is outside the vocabulary (%d tokens)", key,
                            (long long)x, (int)n_vocab);
    *out = (int32_t)x;
    return ZF_OK;
}

static bool str_eq(zf_gguf_str s, const char *c) { return s.len == strlen(c) && memcmp(s.ptr, c, s.len) == 0; }

/* Pre-tokenizer names per family, from llama.cpp's load() table. */
static bool pre_from_name(zf_gguf_str s, zf_pretok *pre, bool *ignore_merges, bool *llama3_bos) {
    static const char *const k_default[] = {"default", NULL};
    static const char *const k_llama3[] = {"llama3", "llama-v3", "llama-bpe", "falcon3", "falcon-h1", "pixtral",
                                           "midm-2.0", "lfm2", "jina-v5-nano", NULL};
    static const char *const k_gpt2[] = {"gpt-2",  "phi-2",   "jina-es", "jina-de", "gigachat", "jina-v2-es",
                                         "jina-v2-de", "a.x-4.0", "mellum", "modern-bert", "roberta-bpe",
                                         "exaone4", "mpt", "olmo", NULL};
    static const char *const k_qwen2[] = {"qwen2", "deepseek-r1-qwen", "kormo", "f2llmv2", "megrez", "stablelm2", NULL};
    static const char *const k_starcoder[] = {"starcoder", "refact",   "command-r", "smollm",
                                              "codeshell", "exaone",   "minerva-7b", NULL};
    static const struct {
        const char *const *names;
        zf_pretok pre;
    } k[] = {{k_default, ZF_PRE_DEFAULT}, {k_llama3, ZF_PRE_LLAMA3},       {k_gpt2, ZF_PRE_GPT2},
             {k_qwen2, ZF_PRE_QWEN2},     {k_starcoder, ZF_PRE_STARCODER}};
    for (size_t i = 0; i < sizeof k / sizeof k[0]; i++)
        for (const char *const *n = k[i].names; *n; n++)
            if (str_eq(s, *n)) {
                *pre = k[i].pre;
                *ignore_merges = k[i].pre == ZF_PRE_LLAMA3;
                *llama3_bos = k[i].pre == ZF_PRE_LLAMA3;
                return true;
            }
    return false;
}

/* Appends bytes to the text arena; returns the offset through *off. */
static zf_status arena_add(zf_tokenizer *t, const char *p, size_t n, uint32_t *off) {
    if (t->text.n + n > UINT32_MAX) return zf_set_error(ZF_ERR_OVERFLOW, "tokenizer: vocabulary text over 4 GiB");
    zf_status st = ZF_VEC_RESERVE(t->text, t->text.n + n);
    if (st) return st;
    if (n) memcpy(t->text.v + t->text.n, p, n);
    *off = (uint32_t)t->text.n;
    t->text.n += n;
    return ZF_OK;
}

/* Id of string p[0..n): the vocabulary's, else a new extra id (BPE merges). */
static zf_status intern(zf_tokenizer *t, const char *p, size_t n, int32_t *id) {
    int32_t found = zf_strmap32_get(&t->vocab, t->text.v, p, n);
    if (found >= 0) {
        *id = found;
        return ZF_OK;
    }
    if (t->n_ids == INT32_MAX) return zf_set_error(ZF_ERR_OVERFLOW, "tokenizer: too many merge strings");
    if ((size_t)t->n_ids >= t->ids_cap) {
        size_t cap = t->ids_cap, cap2 = t->ids_cap;
        zf_status st = zf_tok_reserve((void **)&t->off, &cap, (size_t)t->n_ids + 1, sizeof *t->off);
        if (!st) st = zf_tok_reserve((void **)&t->len, &cap2, (size_t)t->n_ids + 1, sizeof *t->len);
        if (st) return st;
        t->ids_cap = cap < cap2 ? cap : cap2;
    }
    uint32_t off;
    zf_status st = arena_add(t, p, n, &off);
    if (st) return st;
    int32_t old;
    st = zf_strmap32_put(&t->vocab, t->text.v, off, (uint32_t)n, t->n_ids, &old);
    if (st) return st;
    t->off[t->n_ids] = off;
    t->len[t->n_ids] = (uint32_t)n;
    *id = t->n_ids++;
    return ZF_OK;
}

static zf_status load_vocab(zf_tokenizer *t, const zf_gguf *g) {
    if (zf_gguf_find_key(g, K_TOKENS) < 0) return fmt_err(K_TOKENS " is missing");
    const zf_gguf_val *tokens = zf_gguf_get(g, K_TOKENS);
    if (!tokens || zf_gguf_val_type(tokens) != ZF_GGUF_ARRAY || zf_gguf_arr_type(tokens) != ZF_GGUF_STRING) {
        zf_clear_error();
        return fmt_err(K_TOKENS " is not an array of strings");
    }
    uint64_t n = zf_gguf_arr_len(tokens);
    if (n == 0) return fmt_err(K_TOKENS " is empty");
    if (n >= INT32_MAX) return fmt_err(K_TOKENS " has more than 2^31 entries");
    t->n_vocab = t->n_ids = (int32_t)n;

    /* scores: f32 (or i32) per token, at least n of them */
    const float *scores_f = NULL;
    const int32_t *scores_i = NULL;
    if (zf_gguf_find_key(g, K_SCORES) >= 0) {
        const zf_gguf_val *v = zf_gguf_get(g, K_SCORES);
        zf_gguf_type et = v && zf_gguf_val_type(v) == ZF_GGUF_ARRAY ? zf_gguf_arr_type(v) : ZF_GGUF_TYPE_COUNT;
        zf_clear_error();
        if (et != ZF_GGUF_FLOAT32 && et != ZF_GGUF_INT32) return fmt_err(K_SCORES " is not an array of f32 or i32");
        if (zf_gguf_arr_len(v) < n)
            return zf_set_error(ZF_ERR_FORMAT, "tokenizer metadata: %s has %llu entries for %llu tokens", K_SCORES,
                                (unsigned long long)zf_gguf_arr_len(v), (unsigned long long)n);
        if (et == ZF_GGUF_FLOAT32)
            scores_f = zf_gguf_arr_data(v);
        else
            scores_i = zf_gguf_arr_data(v);
    }
    const int32_t *types = NULL;
    if (zf_gguf_find_key(g, K_TYPES) >= 0) {
        const zf_gguf_val *v = zf_gguf_get(g, K_TYPES);
        zf_gguf_type et = v && zf_gguf_val_type(v) == ZF_GGUF_ARRAY ? zf_gguf_arr_type(v) : ZF_GGUF_TYPE_COUNT;
        zf_clear_error();
        if (et != ZF_GGUF_INT32) return fmt_err(K_TYPES " is not an array of i32");
        if (zf_gguf_arr_len(v) < n)
            return zf_set_error(ZF_ERR_FORMAT, "tokenizer metadata: %s has %llu entries for %llu tokens", K_TYPES,
                                (unsigned long long)zf_gguf_arr_len(v), (unsigned long long)n);
        types = zf_gguf_arr_data(v);
    }

    t->ids_cap = (size_t)n;
    t->off = malloc(n * sizeof *t->off);
    t->len = malloc(n * sizeof *t->len);
    t->score = malloc(n * sizeof *t->score);
    t->type = malloc(n);
    t->attr = malloc(n);
    if (!t->off || !t->len || !t->score || !t->type || !t->attr)
        return zf_set_error(ZF_ERR_OOM, "out of memory loading %llu tokens", (unsigned long long)n);
    zf_status st = zf_strmap32_reserve(&t->vocab, (size_t)n);
    if (st) return st;

    for (uint64_t i = 0; i < n; i++) {
        zf_gguf_str s;
        if (zf_gguf_arr_str(tokens, i, &s) != ZF_OK) return ZF_ERR_FORMAT;
        char empty[32];
        const char *p = s.ptr;
        size_t len = (size_t)s.len;
        if (len == 0) { /* llama.cpp: an empty token becomes "[EMPTY_<id>]" */
            len = (size_t)snprintf(empty, sizeof empty, "[EMPTY_%llu]", (unsigned long long)i);
            p = empty;
        }
        if (len > UINT32_MAX) return fmt_err("a token is longer than 4 GiB");
        st = arena_add(t, p, len, &t->off[i]);
        if (st) return st;
        t->len[i] = (uint32_t)len;
        int32_t old;
        st = zf_strmap32_put(&t->vocab, t->text.v, t->off[i], (uint32_t)len, (int32_t)i, &old);
        if (st) return st;
        if (old >= 0)
            return zf_set_error(ZF_ERR_FORMAT, "tokenizer metadata: tokens %d and %llu have the same text '%.*s'",
                                (int)old, (unsigned long long)i, (int)(len > 64 ? 64 : len), p);
        float sc = 0.0f;
        if (scores_f)
            memcpy(&sc, (const char *)scores_f + 4 * i, 4);
        else if (scores_i) {
            int32_t si;
            memcpy(&si, (const char *)scores_i + 4 * i, 4);
            sc = (float)si;
        }
        t->score[i] = sc;
        int32_t ty = ZF_TOKEN_NORMAL;
        if (types) memcpy(&ty, (const char *)types + 4 * i, 4);
        uint8_t a = 0;
        switch (ty) {
        case ZF_TOKEN_NORMAL: a = ZF_TA_NORMAL; break;
        case ZF_TOKEN_UNKNOWN: a = ZF_TA_UNKNOWN; break;
        case ZF_TOKEN_CONTROL: a = ZF_TA_CONTROL; break;
        case ZF_TOKEN_USER_DEFINED: a = ZF_TA_USER_DEFINED; break;
        case ZF_TOKEN_UNUSED: a = ZF_TA_UNUSED; break;
        case ZF_TOKEN_BYTE: a = ZF_TA_BYTE; break;
        default: a = 0; ty = ZF_TOKEN_UNDEFINED; break;
        }
        t->type[i] = (uint8_t)ty;
        t->attr[i] = a;
        if (a == ZF_TA_BYTE) { /* byte tokens are "<0xNN>" (SentencePiece byte fallback) */
            const char *q = t->text.v + t->off[i];
            if (len != 6 || memcmp(q, "<0x", 3) != 0 || q[5] != '>' || !strchr("0123456789ABCDEFabcdef", q[3]) ||
                !strchr("0123456789ABCDEFabcdef", q[4]) || !q[3] || !q[4])
                return zf_set_error(ZF_ERR_FORMAT, "tokenizer metadata: byte token %llu is '%.*s', not <0xNN>",
                                    (unsigned long long)i, (int)(len > 64 ? 64 : len), q);
        }
    }
    return ZF_OK;
}

static zf_status load_merges(zf_tokenizer *t, const zf_gguf *g) {
    if (zf_gguf_find_key(g, K_MERGES) < 0) return fmt_err(K_MERGES " is missing (needed by a gpt2 tokenizer)");
    const zf_gguf_val *m = zf_gguf_get(g, K_MERGES);
    if (!m || zf_gguf_val_type(m) != ZF_GGUF_ARRAY || zf_gguf_arr_type(m) != ZF_GGUF_STRING) {
        zf_clear_error();
        return fmt_err(K_MERGES " is not an array of strings");
    }
    uint64_t n = zf_gguf_arr_len(m);
    if (n >= INT32_MAX) return fmt_err(K_MERGES " has more than 2^31 entries");
    zf_status st = zf_u64map_reserve(&t->merges, (size_t)n);
    if (st) return st;
    for (uint64_t r = 0; r < n; r++) {
        zf_gguf_str s;
        if (zf_gguf_arr_str(m, r, &s) != ZF_OK) return ZF_ERR_FORMAT;
        /* "left right": split at the first space after the first byte (llama.cpp: word.find(' ', 1)) */
        const char *sp = s.len > 1 ? memchr(s.ptr + 1, ' ', (size_t)s.len - 1) : NULL;
        if (!sp) continue; /* llama.cpp records ("", ""), which never matches a symbol */
        size_t nl = (size_t)(sp - s.ptr), nr = (size_t)s.len - nl - 1;
        if (nr == 0) continue; /* an empty right side never matches a symbol either */
        int32_t a, b, c;
        if ((st = intern(t, s.ptr, nl, &a)) || (st = intern(t, sp + 1, nr, &b))) return st;
        /* the merged string, built in the scratch text buffer */
        st = ZF_VEC_RESERVE(t->scratch.text, nl + nr);
        if (st) return st;
        memcpy(t->scratch.text.v, s.ptr, nl);
        memcpy(t->scratch.text.v + nl, sp + 1, nr);
        if ((st = intern(t, t->scratch.text.v, nl + nr, &c))) return st;
        bool inserted;
        st = zf_u64map_put(&t->merges, (uint64_t)(uint32_t)a << 32 | (uint32_t)b, (uint64_t)r << 32 | (uint32_t)c,
                           &inserted);
        if (st) return st;
    }
    /* the initial symbol of each byte: its GPT-2 code point as a string */
    for (int b = 0; b < 256; b++) {
        char u[4];
        size_t k = zf_utf8_encode(zf_gpt2_byte_to_cp((unsigned char)b), u);
        t->byte_sym[b] = zf_strmap32_get(&t->vocab, t->text.v, u, k);
    }
    return ZF_OK;
}

/* Tokens llama.cpp recognizes by their text (llama_vocab::impl::load) and
 * makes control tokens when the file did not: end-of-generation tokens, and
 * fill-in-the-middle tokens. llama.cpp marks only the first FIM token of each
 * kind it meets in hash order; real vocabularies have one of each, and we mark
 * every one present. */
static const char *const k_eog_names[] = {
    "<|eot_id|>", "<|im_end|>", "<|end|>", "<|return|>", "<|call|>", "<|flush|>", "<|calls|>", "<end_of_turn>",
    "<|endoftext|>", "</s>", "<|eom_id|>", "<EOT>", "_<EOT>", "[EOT]", "[EOS]", "<|end_of_text|>",
    "<end_of_utterance>", "<eos>", "<turn|>", "<\xef\xbd\x9c" "end\xe2\x96\x81of\xe2\x96\x81sentence\xef\xbd\x9c>",
    /* FIM pad / repo / file separator also end generation */
    "<|fim_pad|>", "<fim-pad>", "<fim_pad>", "<PAD>", "[PAD]", "<|fim_repo|>", "<|repo_name|>", "<fim-repo>",
    "<REPO>", "<reponame>", "<|file_sep|>",
};
static const char *const k_fim_names[] = {
    "<|fim_prefix|>", "<fim-prefix>", "<fim_prefix>", "<\xef\xbd\x9c" "fim\xe2\x96\x81" "begin\xef\xbd\x9c>", "<PRE>",
    "\xe2\x96\x81<PRE>", "<|code_prefix|>", "<|prefix|>", "<|fim_suffix|>", "<fim-suffix>", "<fim_suffix>",
    "<\xef\xbd\x9c" "fim\xe2\x96\x81" "hole\xef\xbd\x9c>", "<SUF>", "\xe2\x96\x81<SUF>", "<|code_suffix|>", "<|suffix|>",
    "<|fim_middle|>", "<fim-middle>", "<fim_middle>", "<\xef\xbd\x9c" "fim\xe2\x96\x81" "end\xef\xbd\x9c>", "<MID>",
    "\xe2\x96\x81<MID>", "<|code_middle|>", "<|middle|>",
};
/* The names llama.cpp takes as EOT when the file names none, in its order. */
static const char *const k_eot_names[] = {"<|eot_id|>",    "<|im_end|>",      "<|end|>", "<end_of_turn>",
                                          "<|endoftext|>", "<|end_of_text|>", "<EOT>",   "_<EOT>",
                                          "[EOT]",         "<end_of_utterance>"};

static void mark_named_controls(zf_tokenizer *t) {
    for (size_t i = 0; i < sizeof k_eog_names / sizeof k_eog_names[0]; i++) {
        int32_t id = zf_tokenizer_find(t, k_eog_names[i], strlen(k_eog_names[i]));
        if (id >= 0) t->attr[id] |= ZF_TA_CONTROL;
    }
    for (size_t i = 0; i < sizeof k_fim_names / sizeof k_fim_names[0]; i++) {
        int32_t id = zf_tokenizer_find(t, k_fim_names[i], strlen(k_fim_names[i]));
        if (id >= 0) t->attr[id] |= ZF_TA_CONTROL;
    }
    if (t->eot < 0)
        for (size_t i = 0; i < sizeof k_eot_names / sizeof k_eot_names[0] && t->eot < 0; i++)
            t->eot = zf_tokenizer_find(t, k_eot_names[i], strlen(k_eot_names[i]));
}

static zf_status load(zf_tokenizer *t, const zf_gguf *g) {
    zf_gguf_str model, pre;
    bool has_model, has_pre;
    zf_status st = opt_str(g, K_MODEL, &model, &has_model);
    if (st) return st;
    if (!has_model) return fmt_err("the file has no tokenizer (" K_MODEL " is missing)");
    if ((st = opt_str(g, K_PRE, &pre, &has_pre))) return st;

    bool llama3_bos = false;
    if (str_eq(model, "llama")) {
        t->kind = ZF_TOKENIZER_SPM;
        t->pre = ZF_PRE_NONE;
        t->bos = 1, t->eos = 2, t->unk = 0, t->pad = -1;
        t->add_bos = true, t->add_eos = false, t->add_space_prefix = true;
    } else if (str_eq(model, "gpt2")) {
        t->kind = ZF_TOKENIZER_BPE;
        t->bos = 11, t->eos = 11, t->unk = -1, t->pad = -1;
        t->add_bos = false, t->add_eos = false, t->add_space_prefix = false;
        if (!has_pre) {
            t->pre = ZF_PRE_DEFAULT;
            snprintf(t->pre_name, sizeof t->pre_name, "default");
        } else if (!pre_from_name(pre, &t->pre, &t->ignore_merges, &llama3_bos)) {
            return zf_set_error(ZF_ERR_UNSUPPORTED, "tokenizer: unknown pre-tokenizer '%.*s' (%s)",
                                (int)(pre.len > 64 ? 64 : pre.len), pre.ptr, K_PRE);
        } else {
            snprintf(t->pre_name, sizeof t->pre_name, "%.*s", (int)(pre.len > 63 ? 63 : pre.len), pre.ptr);
        }
        if (llama3_bos) t->add_bos = true;
    } else {
        return zf_set_error(ZF_ERR_UNSUPPORTED,
                            "tokenizer: model '%.*s' is not supported (zerfoo reads 'llama' and 'gpt2' tokenizers)",
                            (int)(model.len > 64 ? 64 : model.len), model.ptr);
    }
    t->eot = -1;
    if ((st = opt_bool(g, "tokenizer.ggml.add_space_prefix", &t->add_space_prefix))) return st;
    if ((st = load_vocab(t, g))) return st;
    /* defaults outside the vocabulary are dropped (llama.cpp does the same) */
    int32_t *defaults[] = {&t->bos, &t->eos, &t->unk};
    for (size_t i = 0; i < 3; i++)
        if (*defaults[i] >= t->n_vocab) *defaults[i] = -1;
    if ((st = opt_id(g, "tokenizer.ggml.bos_token_id", t->n_vocab, &t->bos)) ||
        (st = opt_id(g, "tokenizer.ggml.eos_token_id", t->n_vocab, &t->eos)) ||
        (st = opt_id(g, "tokenizer.ggml.unknown_token_id", t->n_vocab, &t->unk)) ||
        (st = opt_id(g, "tokenizer.ggml.padding_token_id", t->n_vocab, &t->pad)) ||
        (st = opt_id(g, "tokenizer.ggml.eot_token_id", t->n_vocab, &t->eot)))
        return st;
    if ((st = opt_bool(g, "tokenizer.ggml.add_bos_token", &t->add_bos)) ||
        (st = opt_bool(g, "tokenizer.ggml.add_eos_token", &t->add_eos)))
        return st;
    if (t->add_bos && t->bos < 0) return fmt_err("the model asks for a BOS token but has no bos_token_id");
    if (t->add_eos && t->eos < 0) return fmt_err("the model asks for an EOS token but has no eos_token_id");

    if (t->kind == ZF_TOKENIZER_BPE) {
        if ((st = load_merges(t, g))) return st;
    } else {
        /* byte fallback tokens: "<0xNN>", else the byte itself (llama_vocab::byte_to_token) */
        for (int b = 0; b < 256; b++) {
            char hex[7];
            snprintf(hex, sizeof hex, "<0x%02X>", b);
            int32_t id = zf_tokenizer_find(t, hex, 6);
            if (id < 0) {
                char c = (char)b;
                id = zf_tokenizer_find(t, &c, 1);
            }
            t->byte_tok[b] = id;
        }
    }
    mark_named_controls(t);
    if ((st = zf_tok_build_specials(t))) return st;
    return zf_tok_build_pieces(t);
}

zf_tokenizer *zf_tokenizer_from_gguf(const zf_gguf *g) {
    if (!g) {
        zf_set_error(ZF_ERR_INVALID_ARG, "zf_tokenizer_from_gguf: NULL file");
        return NULL;
    }
    zf_tokenizer *t = calloc(1, sizeof *t);
    if (!t) {
        zf_set_error(ZF_ERR_OOM, "out of memory");
        return NULL;
    }
    atomic_flag_clear(&t->scratch_busy);
    if (load(t, g) != ZF_OK) {
        zf_tokenizer_free(t);
        return NULL;
    }
    return t;
}

zf_tokenizer *zf_tokenizer_load(const char *gguf_path) {
    zf_gguf *g = zf_gguf_open(gguf_path);
    if (!g) return NULL;
    zf_tokenizer *t = zf_tokenizer_from_gguf(g);
    zf_gguf_close(g);
    return t;
}

/* ---- getters ---- */

zf_tokenizer_kind zf_tokenizer_get_kind(const zf_tokenizer *t) { return t->kind; }
const char *zf_tokenizer_pre_name(const zf_tokenizer *t) { return t->pre_name; }
int32_t zf_tokenizer_n_vocab(const zf_tokenizer *t) { return t->n_vocab; }
int32_t zf_tokenizer_bos(const zf_tokenizer *t) { return t->bos; }
int32_t zf_tokenizer_eos(const zf_tokenizer *t) { return t->eos; }
int32_t zf_tokenizer_eot(const zf_tokenizer *t) { return t->eot; }
int32_t zf_tokenizer_unk(const zf_tokenizer *t) { return t->unk; }
int32_t zf_tokenizer_pad(const zf_tokenizer *t) { return t->pad; }
bool zf_tokenizer_adds_bos(const zf_tokenizer *t) { return t->add_bos; }
bool zf_tokenizer_adds_eos(const zf_tokenizer *t) { return t->add_eos; }
bool zf_tokenizer_adds_space_prefix(const zf_tokenizer *t) { return t->add_space_prefix; }

bool zf_tokenizer_is_eog(const zf_tokenizer *t, int32_t id) {
    if (id < 0 || id >= t->n_vocab) return false;
    if (id == t->eos || id == t->eot) return true;
    for (size_t i = 0; i < sizeof k_eog_names / sizeof k_eog_names[0]; i++)
        if (t->len[id] == strlen(k_eog_names[i]) && memcmp(t->text.v + t->off[id], k_eog_names[i], t->len[id]) == 0)
            return true;
    return false;
}

const char *zf_tokenizer_token_text(const zf_tokenizer *t, int32_t id, size_t *len) {
    if (id < 0 || id >= t->n_vocab) {
        if (len) *len = 0;
        return NULL;
    }
    if (len) *len = t->len[id];
    return t->text.v + t->off[id];
}

zf_token_type zf_tokenizer_token_type(const zf_tokenizer *t, int32_t id) {
    return id < 0 || id >= t->n_vocab ? ZF_TOKEN_UNDEFINED : (zf_token_type)t->type[id];
}

int32_t zf_tokenizer_find(const zf_tokenizer *t, const char *text, size_t len) {
    int32_t id = zf_strmap32_get(&t->vocab, t->text.v, text, len);
    return id < t->n_vocab ? id : -1;
}

/* ---- encode ---- */

static zf_status encode_with(const zf_tokenizer *t, const char *text, size_t len, unsigned flags, zf_tok_scratch *s,
                             zf_tokens *out) {
    bool add_special = (flags & ZF_TOK_ADD_SPECIAL) != 0;
    zf_status st = ZF_OK;
    if (add_special && t->add_bos && (st = zf_tokens_push(out, t->bos))) return st;
    if ((st = zf_tok_partition(t, text, len, (flags & ZF_TOK_PARSE_SPECIAL) != 0, s))) return st;
    /* SPM: a space goes in front of every raw fragment at the start or after a
     * special token, when add_space_prefix (llama_vocab::impl::tokenize). */
    bool prev_special = true;
    for (size_t i = 0; i < s->frags.n; i++) {
        zf_tok_frag f = s->frags.v[i];
        if (f.id >= 0) {
            if ((st = zf_tokens_push(out, f.id))) return st;
            prev_special = true;
            continue;
        }
        if (t->kind == ZF_TOKENIZER_BPE) {
            st = zf_tok_bpe_encode(t, text + f.off, f.len, s, out);
        } else {
            /* escape: ' ' -> U+2581 */
            size_t n_sp = 0;
            for (size_t k = 0; k < f.len; k++) n_sp += text[f.off + k] == ' ';
            bool prefix = t->add_space_prefix && prev_special;
            size_t n = f.len + 2 * n_sp + (prefix ? 3 : 0);
            if ((st = ZF_VEC_RESERVE(s->text, n))) return st;
            char *w = s->text.v;
            if (prefix) {
                memcpy(w, "\xe2\x96\x81", 3);
                w += 3;
            }
            for (size_t k = 0; k < f.len; k++) {
                char c = text[f.off + k];
                if (c == ' ') {
                    memcpy(w, "\xe2\x96\x81", 3);
                    w += 3;
                } else {
                    *w++ = c;
                }
            }
            s->text.n = n;
            st = zf_tok_spm_encode(t, s, out);
        }
        if (st) return st;
        prev_special = false;
    }
    if (add_special && t->add_eos && (st = zf_tokens_push(out, t->eos))) return st;
    return ZF_OK;
}

zf_status zf_tokenizer_encode(const zf_tokenizer *t, const char *text, size_t len, unsigned flags, zf_tokens *out) {
    if (!t || !out || (!text && len)) return zf_set_error(ZF_ERR_INVALID_ARG, "zf_tokenizer_encode: NULL argument");
    if (!text) text = "";
    zf_tokenizer *mt = (zf_tokenizer *)t; /* only the scratch flag and buffers change */
    int64_t n0 = out->n;
    zf_status st;
    if (!atomic_flag_test_and_set(&mt->scratch_busy)) {
        st = encode_with(t, text, len, flags, &mt->scratch, out);
        atomic_flag_clear(&mt->scratch_busy);
    } else { /* another thread holds the shared scratch: use a private one */
        zf_tok_scratch s;
        memset(&s, 0, sizeof s);
        st = encode_with(t, text, len, flags, &s, out);
        zf_tok_scratch_free(&s);
    }
    if (st) out->n = n0;
    return st;
}
