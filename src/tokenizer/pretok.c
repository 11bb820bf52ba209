/* Pre-tokenizers of byte-level BPE: cut a run of code points into words.
 *
 * The rules are the regular expressions of the models' tokenizer.json files
 * (GPT-2's encoder.py, Llama 3's tiktoken pattern, Qwen 2's, StarCoder's digit
 * split) as llama.cpp applies them (src/llama-vocab.cpp llm_tokenizer_bpe,
 * src/unicode.cpp unicode_regex_split): several expressions in sequence, each
 * cutting the pieces left by the previous one, matched and unmatched stretches
 * both kept. The GPT-2 and Llama 3 rules are written out by hand here the way
 * llama.cpp's hand-written matchers read them (including their "no match ->
 * one code point" fallback and the Llama 3 rule's test of the first code
 * point's class); the simple class expressions follow std::regex on
 * llama.cpp's one-byte-per-code-point "collapsed" text, where a code point
 * above U+007F is in \p{X} when its category is X and it is not white space.
 *
 * Classes: \p{L} letter, \p{N} number, \s White_Space (unicode.h). */
#include "tokenizer/tokenizer_internal.h"
#include "tokenizer/unicode.h"

#define F_WS 0x100u /* white space, on top of the ZF_UCAT_* category bit */

typedef zf_tok_segs seg_vec;

/* Category bit plus F_WS of cps[i], or 0 outside [a, e) (the matchers treat
 * the end of a piece like a code point of no class). */
static inline unsigned flags_at(const uint32_t *cps, size_t a, size_t e, size_t i) {
    if (i < a || i >= e) return 0;
    uint32_t cp = cps[i];
    return zf_ucat(cp) | (zf_uspace(cp) ? F_WS : 0u);
}

static inline uint32_t cp_at(const uint32_t *cps, size_t e, size_t i) { return i < e ? cps[i] : UINT32_MAX; }

static zf_status emit(seg_vec *out, size_t *prev, size_t end) {
    if (end > *prev) {
        zf_status st = ZF_VEC_RESERVE(*out, out->n + 1);
        if (st) return st;
        out->v[out->n++] = end - *prev;
    }
    *prev = end;
    return ZF_OK;
}

static inline uint32_t ascii_lower(uint32_t c) { return c >= 'A' && c <= 'Z' ? c + 32 : c; }

/* 's 't 're 've 'm 'll 'd at pos: the length of the match or 0. */
static size_t contraction(const uint32_t *cps, size_t pos, size_t e, bool fold_case) {
    if (cps[pos] != '\'' || pos + 1 >= e) return 0;
    uint32_t c1 = cps[pos + 1];
    if (fold_case) c1 = ascii_lower(c1);
    if (c1 == 's' || c1 == 't' || c1 == 'm' || c1 == 'd') return 2;
    if (pos + 2 >= e) return 0;
    uint32_t c2 = cps[pos + 2];
    if (fold_case) c2 = ascii_lower(c2);
    if ((c1 == 'r' && c2 == 'e') || (c1 == 'v' && c2 == 'e') || (c1 == 'l' && c2 == 'l')) return 3;
    return 0;
}

/* GPT-2: 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+ */
static zf_status split_gpt2(const uint32_t *cps, size_t a, size_t e, seg_vec *out) {
    size_t prev = a;
    zf_status st;
    for (size_t pos = a; pos < e;) {
        uint32_t cp = cps[pos];
        size_t c = contraction(cps, pos, e, false);
        if (c) {
            pos += c;
            if ((st = emit(out, &prev, pos))) return st;
            continue;
        }
        unsigned f2 = flags_at(cps, a, e, cp == ' ' ? pos + 1 : pos);
        unsigned cls = f2 & (ZF_UCAT_LETTER | ZF_UCAT_NUMBER);
        if (cls && !(f2 & F_WS)) { /* ' '?\p{L}+ or ' '?\p{N}+ */
            pos += cp == ' ';
            while (flags_at(cps, a, e, pos) & cls) pos++;
            if ((st = emit(out, &prev, pos))) return st;
            continue;
        }
        if (f2 && !(f2 & (F_WS | ZF_UCAT_LETTER | ZF_UCAT_NUMBER))) { /* ' '?[^\s\p{L}\p{N}]+ */
            pos += cp == ' ';
            for (unsigned f; (f = flags_at(cps, a, e, pos)) && !(f & (F_WS | ZF_UCAT_LETTER | ZF_UCAT_NUMBER));) pos++;
            if ((st = emit(out, &prev, pos))) return st;
            continue;
        }
        size_t nws = 0;
        while (flags_at(cps, a, e, pos + nws) & F_WS) nws++;
        if (nws > 1 && pos + nws < e) /* \s+(?!\S): leave the last space to the next word */
            pos += nws - 1;
        else if (nws > 0)
            pos += nws;
        else
            pos++; /* no rule matches: the code point alone */
        if ((st = emit(out, &prev, pos))) return st;
    }
    return ZF_OK;
}

/* Llama 3 (max_digits 3) and Qwen 2 (max_digits 1):
 * (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,max}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+ */
static zf_status split_llama3(const uint32_t *cps, size_t a, size_t e, size_t max_digits, seg_vec *out) {
    size_t prev = a;
    zf_status st;
    for (size_t pos = a; pos < e;) {
        uint32_t cp = cps[pos];
        unsigned f = flags_at(cps, a, e, pos);
        size_t c = contraction(cps, pos, e, true);
        if (c) {
            pos += c;
            if ((st = emit(out, &prev, pos))) return st;
            continue;
        }
        if (cp != '\r' && cp != '\n' && !(f & ZF_UCAT_NUMBER) &&
            ((f & ZF_UCAT_LETTER) || (flags_at(cps, a, e, pos + 1) & ZF_UCAT_LETTER))) {
            pos++; /* the optional lead code point, or the first letter */
            while (flags_at(cps, a, e, pos) & ZF_UCAT_LETTER) pos++;
            if ((st = emit(out, &prev, pos))) return st;
            continue;
        }
        if (f & ZF_UCAT_NUMBER) { /* groups of max_digits from the left */
            size_t start = pos;
            while (flags_at(cps, a, e, pos) & ZF_UCAT_NUMBER) {
                pos++;
                if (pos - start >= max_digits) {
                    if ((st = emit(out, &prev, pos))) return st;
                    start = pos;
                }
            }
            if ((st = emit(out, &prev, pos))) return st;
            continue;
        }
        unsigned f2 = cp == ' ' ? flags_at(cps, a, e, pos + 1) : f;
        /* llama.cpp tests the first code point (f), not f2, for "has a class" here */
        if (f && !(f2 & (F_WS | ZF_UCAT_LETTER | ZF_UCAT_NUMBER))) {
            pos += cp == ' ';
            for (unsigned g; (g = flags_at(cps, a, e, pos)) && !(g & (F_WS | ZF_UCAT_LETTER | ZF_UCAT_NUMBER));) pos++;
            while (cp_at(cps, e, pos) == '\r' || cp_at(cps, e, pos) == '\n') pos++;
            if ((st = emit(out, &prev, pos))) return st;
            continue;
        }
        size_t nws = 0, last_rn = 0;
        while (flags_at(cps, a, e, pos + nws) & F_WS) {
            uint32_t w = cps[pos + nws];
            if (w == '\r' || w == '\n') last_rn = pos + nws + 1;
            nws++;
        }
        if (last_rn) /* \s*[\r\n]+ */
            pos = last_rn;
        else if (nws > 1 && pos + nws < e)
            pos += nws - 1;
        else if (nws > 0)
            pos += nws;
        else
            pos++;
        if ((st = emit(out, &prev, pos))) return st;
    }
    return ZF_OK;
}

/* Membership in the collapsed std::regex classes. */
static bool is_number_class(uint32_t cp) { /* \p{N} */
    return cp < 0x80 ? (cp >= '0' && cp <= '9') : zf_ucat(cp) == ZF_UCAT_NUMBER && !zf_uspace(cp);
}
static bool is_default_punct(uint32_t cp) { /* [\p{P}\$\+<=>\^~\|] */
    if (cp < 0x80)
        return zf_ucat(cp) == ZF_UCAT_PUNCT || cp == '$' || cp == '+' || cp == '<' || cp == '=' || cp == '>' ||
               cp == '^' || cp == '~' || cp == '|';
    return zf_ucat(cp) == ZF_UCAT_PUNCT && !zf_uspace(cp);
}

/* [class]+ (runs == true) or [class] (runs == false): each match is a piece,
 * and so is each stretch between matches. */
static zf_status split_class(const uint32_t *cps, size_t a, size_t e, bool (*in)(uint32_t), bool runs,
                             seg_vec *out) {
    size_t prev = a;
    zf_status st;
    for (size_t pos = a; pos < e;) {
        if (in(cps[pos])) {
            if ((st = emit(out, &prev, pos))) return st;
            pos++;
            while (runs && pos < e && in(cps[pos])) pos++;
            if ((st = emit(out, &prev, pos))) return st;
        } else {
            pos++;
        }
    }
    return emit(out, &prev, e);
}

/* [0-9][0-9][0-9]: non-overlapping triples of ASCII digits, leftmost first. */
static zf_status split_digit3(const uint32_t *cps, size_t a, size_t e, seg_vec *out) {
    size_t prev = a;
    zf_status st;
    for (size_t pos = a; pos + 3 <= e;) {
        bool d = true;
        for (size_t k = 0; k < 3 && d; k++) d = cps[pos + k] >= '0' && cps[pos + k] <= '9';
        if (!d) {
            pos++;
            continue;
        }
        if ((st = emit(out, &prev, pos)) || (st = emit(out, &prev, pos + 3))) return st;
        pos += 3;
    }
    return emit(out, &prev, e);
}

typedef enum { ST_GPT2, ST_LLAMA3, ST_QWEN2, ST_PUNCT_RUNS, ST_NUMBER_RUNS, ST_NUMBER_EACH, ST_DIGIT3 } stage;

static zf_status run_stage(stage sg, const uint32_t *cps, const seg_vec *in, seg_vec *out) {
    out->n = 0;
    size_t a = 0;
    zf_status st = ZF_OK;
    for (size_t i = 0; i < in->n && !st; i++) {
        size_t e = a + in->v[i];
        switch (sg) {
        case ST_GPT2: st = split_gpt2(cps, a, e, out); break;
        case ST_LLAMA3: st = split_llama3(cps, a, e, 3, out); break;
        case ST_QWEN2: st = split_llama3(cps, a, e, 1, out); break;
        case ST_PUNCT_RUNS: st = split_class(cps, a, e, is_default_punct, true, out); break;
        case ST_NUMBER_RUNS: st = split_class(cps, a, e, is_number_class, true, out); break;
        case ST_NUMBER_EACH: st = split_class(cps, a, e, is_number_class, false, out); break;
        case ST_DIGIT3: st = split_digit3(cps, a, e, out); break;
        }
        a = e;
    }
    return st;
}

zf_status zf_pretok_split(zf_pretok pre, const uint32_t *cps, size_t n, zf_tok_scratch *s, const size_t **words,
                          size_t *n_words) {
    /* the expressions of each pre-tokenizer, in order (llm_tokenizer_bpe) */
    static const stage k_default[] = {ST_PUNCT_RUNS, ST_GPT2, ST_NUMBER_RUNS, ST_DIGIT3};
    static const stage k_gpt2[] = {ST_GPT2};
    static const stage k_llama3[] = {ST_LLAMA3};
    static const stage k_qwen2[] = {ST_QWEN2};
    static const stage k_starcoder[] = {ST_NUMBER_EACH, ST_GPT2};
    const stage *stages;
    size_t n_stages;
    switch (pre) {
    case ZF_PRE_DEFAULT: stages = k_default, n_stages = 4; break;
    case ZF_PRE_GPT2: stages = k_gpt2, n_stages = 1; break;
    case ZF_PRE_LLAMA3: stages = k_llama3, n_stages = 1; break;
    case ZF_PRE_QWEN2: stages = k_qwen2, n_stages = 1; break;
    case ZF_PRE_STARCODER: stages = k_starcoder, n_stages = 2; break;
    default: return zf_set_error(ZF_ERR_INTERNAL, "pre-tokenizer %d has no rules", (int)pre);
    }
    seg_vec *cur = &s->seg_a, *nxt = &s->seg_b;
    zf_status st = ZF_VEC_RESERVE(*cur, 1);
    if (st) return st;
    cur->n = 0;
    if (n) cur->v[cur->n++] = n;
    for (size_t k = 0; k < n_stages; k++) {
        if ((st = run_stage(stages[k], cps, cur, nxt))) return st;
        seg_vec *tmp = cur;
        cur = nxt;
        nxt = tmp;
    }
    *words = cur->v;
    *n_words = cur->n;
    return ZF_OK;
}
