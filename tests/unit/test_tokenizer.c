/* Tokenizer unit tests on small vocabularies written here as GGUF files:
 * SentencePiece-style and byte-level BPE basics, byte fallback, special
 * tokens, pre-tokenizer splits, decode round trips, invalid UTF-8, bad
 * metadata, the hash maps and the Unicode table. Parity with llama.cpp on
 * real models is in tests/parity/test_tokenizer_parity.py. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tokenizer/tok_hash.h"
#include "tokenizer/tokenizer_internal.h"
#include "tokenizer/unicode.h"
#include "zerfoo/gguf.h"
#include "zerfoo/tokenizer.h"
#include "zf_test.h"

static char g_dir[64];

/* ---- building vocabularies ---- */

#define MAXV 1024

typedef struct vocab {
    const char *tok[MAXV];
    char own[MAXV][16]; /* storage for generated texts */
    float score[MAXV];
    int32_t type[MAXV];
    int n;
    const char *merges[64];
    int n_merges;
} vocab;

static int add(vocab *v, const char *text, float score, int32_t type) {
    v->tok[v->n] = text;
    v->score[v->n] = score;
    v->type[v->n] = type;
    return v->n++;
}

static int add_own(vocab *v, const char *text, float score, int32_t type) {
    snprintf(v->own[v->n], sizeof v->own[v->n], "%s", text);
    return add(v, v->own[v->n], score, type);
}

/* Extra metadata: NULL-terminated list of key, kind ('s' string, 'b' bool,
 * 'u' u32), value (string; bool and u32 as "1"/"0"/number). */
static zf_tokenizer *build(const char *model, const vocab *v, const char *const *extra, bool with_scores,
                           bool with_types) {
    static int k;
    char path[128];
    snprintf(path, sizeof path, "%s/v%d.gguf", g_dir, k++);
    zf_gguf_writer *w = zf_gguf_writer_new();
    zf_gguf_writer_set_str(w, "general.architecture", "llama");
    if (model) zf_gguf_writer_set_str(w, "tokenizer.ggml.model", model);
    if (v) {
        zf_gguf_writer_set_arr_str(w, "tokenizer.ggml.tokens", v->tok, (uint64_t)v->n);
        if (with_scores) zf_gguf_writer_set_arr(w, "tokenizer.ggml.scores", ZF_GGUF_FLOAT32, v->score, (uint64_t)v->n);
        if (with_types)
            zf_gguf_writer_set_arr(w, "tokenizer.ggml.token_type", ZF_GGUF_INT32, v->type, (uint64_t)v->n);
        if (v->n_merges) zf_gguf_writer_set_arr_str(w, "tokenizer.ggml.merges", v->merges, (uint64_t)v->n_merges);
    }
    for (const char *const *e = extra; e && *e; e += 3) {
        if (e[1][0] == 's') zf_gguf_writer_set_str(w, e[0], e[2]);
        if (e[1][0] == 'b') zf_gguf_writer_set_bool(w, e[0], e[2][0] == '1');
        if (e[1][0] == 'u') zf_gguf_writer_set_u32(w, e[0], (uint32_t)strtoul(e[2], NULL, 10));
    }
    zf_status st = zf_gguf_writer_write(w, path);
    zf_gguf_writer_free(w);
    if (st) return NULL;
    return zf_tokenizer_load(path);
}

static int enc(const zf_tokenizer *t, const char *text, unsigned flags, int32_t *out, int cap) {
    zf_tokens v = {0};
    if (zf_tokenizer_encode(t, text, strlen(text), flags, &v) != ZF_OK) return -1;
    int n = (int)v.n;
    for (int i = 0; i < n && i < cap; i++) out[i] = v.ids[i];
    zf_tokens_free(&v);
    return n;
}

static bool ids_eq(const int32_t *a, int na, const int32_t *b, int nb) {
    if (na != nb) {
        fprintf(stderr, "  got %d ids:", na);
        for (int i = 0; i < na && i < 32; i++) fprintf(stderr, " %d", a[i]);
        fprintf(stderr, "\n  want %d ids:", nb);
        for (int i = 0; i < nb; i++) fprintf(stderr, " %d", b[i]);
        fprintf(stderr, "\n");
        return false;
    }
    for (int i = 0; i < na; i++)
        if (a[i] != b[i]) return ids_eq(a, na, b, nb + 1000000) && false;
    return true;
}

#define EXPECT_IDS(t, text, flags, ...)                                              \
    do {                                                                             \
        int32_t got_[64], want_[] = {__VA_ARGS__};                                   \
        int n_ = enc((t), (text), (flags), got_, 64);                                \
        CHECK(ids_eq(got_, n_, want_, (int)(sizeof want_ / sizeof want_[0])));       \
    } while (0)

/* decode to a static buffer; returns its length or -1 */
static const char *dec(const zf_tokenizer *t, const int32_t *ids, int n, unsigned flags, int64_t *len) {
    static char buf[4096];
    *len = zf_tokenizer_decode(t, ids, n, flags, buf, sizeof buf);
    return buf;
}

static bool round_trips(const zf_tokenizer *t, const char *text, unsigned enc_flags, unsigned dec_flags) {
    zf_tokens v = {0};
    if (zf_tokenizer_encode(t, text, strlen(text), enc_flags, &v) != ZF_OK) return false;
    int64_t len;
    const char *s = dec(t, v.ids, (int)v.n, dec_flags, &len);
    bool ok = len == (int64_t)strlen(text) && memcmp(s, text, (size_t)len) == 0;
    if (!ok) fprintf(stderr, "  round trip of '%s' gave '%.*s'\n", text, (int)(len < 0 ? 0 : len), s);
    zf_tokens_free(&v);
    return ok;
}

/* ---- SentencePiece-style ---- */

enum { T_NORMAL = 1, T_UNKNOWN = 2, T_CONTROL = 3, T_USER = 4, T_UNUSED = 5, T_BYTE = 6 };

static int g_byte0; /* id of <0x00> in the SPM vocabulary */

static void spm_vocab(vocab *v) {
    memset(v, 0, sizeof *v);
    add(v, "<unk>", 0, T_UNKNOWN);  /* 0 */
    add(v, "<s>", 0, T_CONTROL);    /* 1 */
    add(v, "</s>", 0, T_CONTROL);   /* 2 */
    g_byte0 = v->n;
    for (int b = 0; b < 256; b++) {
        char hex[8];
        snprintf(hex, sizeof hex, "<0x%02X>", b);
        add_own(v, hex, 0, T_BYTE);
    }
    static const char *const chars[] = {"\xe2\x96\x81", "h", "e", "l", "o", "w", "r", "d", "a", "b", "c", "x", "y"};
    for (size_t i = 0; i < sizeof chars / sizeof chars[0]; i++) add(v, chars[i], -10.0f - (float)i, T_NORMAL);
    /* prefixes of the two words, better scores for longer pieces */
    static const char *const w1[] = {"\xe2\x96\x81h", "\xe2\x96\x81he", "\xe2\x96\x81hel", "\xe2\x96\x81hell",
                                     "\xe2\x96\x81hello"};
    static const char *const w2[] = {"\xe2\x96\x81w", "\xe2\x96\x81wo", "\xe2\x96\x81wor", "\xe2\x96\x81worl",
                                     "\xe2\x96\x81world"};
    for (int i = 0; i < 5; i++) add(v, w1[i], -5.0f + (float)i, T_NORMAL);
    for (int i = 0; i < 5; i++) add(v, w2[i], -5.0f + (float)i, T_NORMAL);
}

static int find(const zf_tokenizer *t, const char *s) { return zf_tokenizer_find(t, s, strlen(s)); }

static void test_spm(void) {
    vocab v;
    spm_vocab(&v);
    zf_tokenizer *t = build("llama", &v, NULL, true, true);
    CHECK(t != NULL);
    if (!t) return;
    CHECK(zf_tokenizer_get_kind(t) == ZF_TOKENIZER_SPM);
    /* defaults: bos 1, eos 2, unk 0, add_bos, space prefix */
    CHECK(zf_tokenizer_bos(t) == 1 && zf_tokenizer_eos(t) == 2 && zf_tokenizer_unk(t) == 0);
    CHECK(zf_tokenizer_adds_bos(t) && !zf_tokenizer_adds_eos(t) && zf_tokenizer_adds_space_prefix(t));
    int hello = find(t, "\xe2\x96\x81hello"), world = find(t, "\xe2\x96\x81world"), sp = find(t, "\xe2\x96\x81");
    int h = find(t, "\xe2\x96\x81h");
    CHECK(hello > 0 && world > 0 && sp > 0);
    unsigned all = ZF_TOK_ADD_SPECIAL | ZF_TOK_PARSE_SPECIAL;
    EXPECT_IDS(t, "hello world", all, 1, hello, world);
    EXPECT_IDS(t, "hello world", 0, hello, world);
    /* spaces: each one is U+2581; two spaces before a word */
    EXPECT_IDS(t, "hello  world", 0, hello, sp, world);
    EXPECT_IDS(t, "", all, 1);
    int32_t none[4];
    CHECK(enc(t, "", 0, none, 4) == 0);
    /* byte fallback: 'é' (C3 A9) and 'z' have no piece */
    EXPECT_IDS(t, "h\xc3\xa9z", 0, h, g_byte0 + 0xC3, g_byte0 + 0xA9, g_byte0 + 'z');
    /* invalid UTF-8 falls back to bytes as well, and decodes back */
    EXPECT_IDS(t, "\xff\x80", 0, sp, g_byte0 + 0xFF, g_byte0 + 0x80);
    CHECK(round_trips(t, "\x80\xbf x\xe2\x82", 0, ZF_TOK_DECODE_STRIP_PREFIX));
    /* a lead byte announcing more bytes than follow in its sequence swallows
     * them whole, part of the next U+2581 included (llama.cpp splits by lead
     * byte the same way), so that space comes back as the raw bytes of U+2581 */
    EXPECT_IDS(t, "\xff x", 0, find(t, "\xe2\x96\x81"), g_byte0 + 0xFF, g_byte0 + 0xE2, g_byte0 + 0x96,
               g_byte0 + 0x81, find(t, "x"));
    /* decode */
    int32_t ids[] = {1, hello, world, 2};
    int64_t len;
    const char *s = dec(t, ids, 4, 0, &len);
    CHECK(len == 12 && memcmp(s, " hello world", 12) == 0);
    s = dec(t, ids, 4, ZF_TOK_DECODE_STRIP_PREFIX, &len);
    CHECK(len == 11 && memcmp(s, "hello world", 11) == 0);
    s = dec(t, ids, 4, ZF_TOK_DECODE_SPECIAL, &len);
    CHECK(len == 19 && memcmp(s, "<s> hello world</s>", 19) == 0);
    CHECK(zf_tokenizer_decode(t, ids, 4, 0, NULL, 0) == 12); /* measuring */
    char small[5];
    CHECK(zf_tokenizer_decode(t, ids, 4, 0, small, sizeof small) == 12 && memcmp(small, " hell", 5) == 0);
    int32_t bad[] = {hello, 999999};
    CHECK(zf_tokenizer_decode(t, bad, 2, 0, NULL, 0) == -1 && zf_last_status() == ZF_ERR_INDEX);
    CHECK(round_trips(t, "hello world", 0, ZF_TOK_DECODE_STRIP_PREFIX));
    CHECK(round_trips(t, "  hello \t world\n\xc3\xa9\xe6\x97\xa5 ", all, ZF_TOK_DECODE_STRIP_PREFIX));
    size_t n;
    const char *p = zf_tokenizer_piece(t, g_byte0 + 0x41, false, &n);
    CHECK(n == 1 && p[0] == 'A');
    p = zf_tokenizer_piece(t, 1, false, &n);
    CHECK(n == 0);
    p = zf_tokenizer_piece(t, 1, true, &n);
    CHECK(n == 3 && memcmp(p, "<s>", 3) == 0);
    CHECK(zf_tokenizer_piece(t, -1, true, &n) == NULL);
    CHECK(zf_tokenizer_token_type(t, 0) == ZF_TOKEN_UNKNOWN && zf_tokenizer_token_type(t, g_byte0) == ZF_TOKEN_BYTE);
    zf_tokenizer_free(t);
}

/* Merge order: the best score first, ties to the leftmost pair. */
static void test_spm_scores(void) {
    vocab v;
    memset(&v, 0, sizeof v);
    add(&v, "<unk>", 0, T_UNKNOWN);
    add(&v, "a", -10, T_NORMAL);
    add(&v, "b", -10, T_NORMAL);
    add(&v, "c", -10, T_NORMAL);
    int ab = add(&v, "ab", -2, T_NORMAL), bc = add(&v, "bc", -1, T_NORMAL);
    const char *const ex[] = {"tokenizer.ggml.add_space_prefix", "b", "0", "tokenizer.ggml.add_bos_token", "b", "0",
                              NULL};
    zf_tokenizer *t = build("llama", &v, ex, true, true);
    CHECK(t != NULL);
    if (!t) return;
    EXPECT_IDS(t, "abc", ZF_TOK_ADD_SPECIAL, 1, bc);
    zf_tokenizer_free(t);
    v.score[bc] = -2; /* tie: leftmost */
    t = build("llama", &v, ex, true, true);
    EXPECT_IDS(t, "abc", ZF_TOK_ADD_SPECIAL, ab, 3);
    zf_tokenizer_free(t);
    /* without scores (all 0) merges go left to right as well */
    t = build("llama", &v, ex, false, true);
    EXPECT_IDS(t, "abc", 0, ab, 3);
    zf_tokenizer_free(t);
}

static void test_spm_special(void) {
    vocab v;
    spm_vocab(&v);
    int start = add(&v, "<start>", 0, T_CONTROL);
    int ud = add(&v, "<ud>", 0, T_USER);
    int xy = add(&v, "xy", 0, T_USER);    /* shorter, starts earlier */
    int yab = add(&v, "yab", 0, T_USER);  /* longer: wins where they overlap */
    const char *const ex[] = {"tokenizer.ggml.add_eos_token", "b", "1", NULL};
    zf_tokenizer *t = build("llama", &v, ex, true, true);
    CHECK(t != NULL);
    if (!t) return;
    int hello = find(t, "\xe2\x96\x81hello"), world = find(t, "\xe2\x96\x81world");
    unsigned all = ZF_TOK_ADD_SPECIAL | ZF_TOK_PARSE_SPECIAL;
    /* a space prefix goes in front of each fragment that follows a special token */
    EXPECT_IDS(t, "hello<start>world", all, 1, hello, start, world, 2);
    EXPECT_IDS(t, "<start><start>", ZF_TOK_PARSE_SPECIAL, start, start);
    /* without PARSE_SPECIAL, control text is text; user-defined tokens still match */
    int32_t got[64];
    int n = enc(t, "<start>", 0, got, 64);
    CHECK(n > 1);
    for (int i = 0; i < n; i++) CHECK(got[i] != start);
    EXPECT_IDS(t, "<ud>", 0, ud);
    /* longest first: "yab" takes "y", so "xy" cannot match: x | yab */
    int32_t want_x[] = {find(t, "\xe2\x96\x81"), find(t, "x")};
    n = enc(t, "xyab", 0, got, 64);
    CHECK(n == 3 && got[0] == want_x[0] && got[1] == want_x[1] && got[2] == yab);
    EXPECT_IDS(t, "xyxy", 0, xy, xy);
    /* round trip with specials kept and the encoder's spaces stripped */
    CHECK(round_trips(t, "hello<start>world<ud> hello", ZF_TOK_PARSE_SPECIAL,
                      ZF_TOK_DECODE_SPECIAL | ZF_TOK_DECODE_STRIP_PREFIX));
    zf_tokenizer_free(t);
}

/* ---- byte-level BPE ---- */

/* GPT-2 bytes_to_unicode, written out independently for the test. */
static void gpt2_char(int b, char out[4]) {
    int cp;
    if ((b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || b >= 0xAE) {
        cp = b;
    } else {
        int k = 0;
        for (int x = 0; x < b; x++)
            if (!((x >= '!' && x <= '~') || (x >= 0xA1 && x <= 0xAC) || x >= 0xAE)) k++;
        cp = 256 + k;
    }
    memset(out, 0, 4);
    if (cp < 0x80) {
        out[0] = (char)cp;
    } else {
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
    }
}

static void bpe_vocab(vocab *v) {
    memset(v, 0, sizeof *v);
    for (int b = 0; b < 256; b++) {
        char c[4];
        gpt2_char(b, c);
        add_own(v, c, 0, T_NORMAL);
    }
    static const char *const merges[] = {"h e", "l l", "he ll", "hell o", "\xc4\xa0 w", "o r", "\xc4\xa0w or",
                                         "l d", "\xc4\xa0wor ld", "a b", "b c"};
    static const char *const results[] = {"he", "ll", "hell", "hello", "\xc4\xa0w", "or", "\xc4\xa0wor",
                                          "ld", "\xc4\xa0world", "ab", "bc"};
    for (int i = 0; i < 11; i++) {
        v->merges[v->n_merges++] = merges[i];
        add(v, results[i], 0, T_NORMAL);
    }
    add(v, "<|im_start|>", 0, T_CONTROL);
    add(v, "<|endoftext|>", 0, T_CONTROL);
}

static void test_bpe(void) {
    vocab v;
    bpe_vocab(&v);
    const char *const ex[] = {"tokenizer.ggml.pre", "s", "gpt-2", "tokenizer.ggml.bos_token_id", "u", "268", NULL};
    zf_tokenizer *t = build("gpt2", &v, ex, false, true);
    CHECK(t != NULL);
    if (!t) return;
    CHECK(zf_tokenizer_get_kind(t) == ZF_TOKENIZER_BPE && strcmp(zf_tokenizer_pre_name(t), "gpt-2") == 0);
    CHECK(!zf_tokenizer_adds_bos(t) && zf_tokenizer_bos(t) == 268);
    int hello = find(t, "hello"), world = find(t, "\xc4\xa0world"), im = find(t, "<|im_start|>");
    int eot = find(t, "<|endoftext|>");
    CHECK(hello >= 256 && world >= 256);
    CHECK(zf_tokenizer_eot(t) == eot && zf_tokenizer_is_eog(t, eot) && !zf_tokenizer_is_eog(t, hello));
    unsigned all = ZF_TOK_ADD_SPECIAL | ZF_TOK_PARSE_SPECIAL;
    EXPECT_IDS(t, "hello world", all, hello, world);
    /* merges across a word boundary never happen: "hello" + " world" are words */
    EXPECT_IDS(t, "<|im_start|>hello", all, im, hello);
    EXPECT_IDS(t, "abc", 0, find(t, "ab"), 'c'); /* rank 9 "a b" before rank 10 "b c" */
    /* bytes: 'é' = C3 A9 -> GPT-2 chars U+00C3, U+00A9 (themselves) */
    EXPECT_IDS(t, "\xc3\xa9", 0, 0xC3, 0xA9);
    /* invalid UTF-8: the byte reads as U+FFFD (EF BF BD) */
    EXPECT_IDS(t, "\xff", 0, 0xEF, 0xBF, 0xBD);
    size_t n;
    const char *p = zf_tokenizer_piece(t, world, false, &n);
    CHECK(n == 6 && memcmp(p, " world", 6) == 0);
    p = zf_tokenizer_piece(t, 0x0A, false, &n); /* '\n' is U+010A in the vocabulary */
    CHECK(n == 1 && p[0] == '\n');
    CHECK(round_trips(t, "hello world, \xc3\xa9t\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x98\x80\n\t  x", 0, 0));
    CHECK(round_trips(t, "<|im_start|>hello<|endoftext|>", ZF_TOK_PARSE_SPECIAL, ZF_TOK_DECODE_SPECIAL));
    zf_tokenizer_free(t);

    /* reversed ranks: "b c" first */
    const char *tmp = v.merges[9];
    v.merges[9] = v.merges[10];
    v.merges[10] = tmp;
    t = build("gpt2", &v, ex, false, true);
    EXPECT_IDS(t, "abc", 0, 'a', find(t, "bc"));
    zf_tokenizer_free(t);
}

/* Pre-tokenizer splits, checked directly on code points. */
static void expect_split(zf_pretok pre, const char *text, const char *const *want, int n_want) {
    zf_tok_scratch s;
    memset(&s, 0, sizeof s);
    uint32_t cps[256];
    size_t n = 0, off[257];
    for (size_t i = 0; text[i];) {
        size_t adv;
        off[n] = i;
        cps[n++] = zf_utf8_decode((const unsigned char *)text + i, strlen(text) - i, &adv);
        i += adv;
    }
    off[n] = strlen(text);
    const size_t *w;
    size_t nw;
    bool ok = zf_pretok_split(pre, cps, n, &s, &w, &nw) == ZF_OK && nw == (size_t)n_want;
    size_t a = 0;
    for (size_t k = 0; ok && k < nw; k++) {
        size_t b0 = off[a], b1 = off[a + w[k]];
        ok = strlen(want[k]) == b1 - b0 && memcmp(text + b0, want[k], b1 - b0) == 0;
        a += w[k];
    }
    if (!ok) {
        fprintf(stderr, "  split of '%s' (pre %d):", text, (int)pre);
        a = 0;
        for (size_t k = 0; k < nw; k++) {
            fprintf(stderr, " [%.*s]", (int)(off[a + w[k]] - off[a]), text + off[a]);
            a += w[k];
        }
        fprintf(stderr, "\n");
    }
    CHECK(ok);
    zf_tok_scratch_free(&s);
}

#define SPLIT(pre, text, ...)                                                        \
    do {                                                                             \
        static const char *const want_[] = {__VA_ARGS__};                            \
        expect_split((pre), (text), want_, (int)(sizeof want_ / sizeof want_[0]));   \
    } while (0)

static void test_pretok(void) {
    /* GPT-2: contractions, optional space before letters/numbers/others, the
     * last space of a run goes to the next word */
    SPLIT(ZF_PRE_GPT2, "Hello world's 123  x!!", "Hello", " world", "'s", " 123", " ", " x", "!!");
    SPLIT(ZF_PRE_GPT2, "I'M  \n", "I", "'", "M", "  \n"); /* case-sensitive contractions; trailing run whole */
    SPLIT(ZF_PRE_GPT2, "caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e", "caf\xc3\xa9", " \xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e");
    /* Llama 3: case-insensitive contractions, numbers in threes, a non-letter
     * prefix glued to letters, newlines kept with the whitespace before them */
    SPLIT(ZF_PRE_LLAMA3, "I'M 1234567", "I", "'M", " ", "123", "456", "7");
    SPLIT(ZF_PRE_LLAMA3, "$hello  \n\nworld", "$hello", "  \n\n", "world");
    SPLIT(ZF_PRE_LLAMA3, "a...\n\nb", "a", "...\n\n", "b");
    /* Qwen 2: digits one by one */
    SPLIT(ZF_PRE_QWEN2, "x 123", "x", " ", "1", "2", "3");
    /* StarCoder/SmolLM: digits alone first, then GPT-2 */
    SPLIT(ZF_PRE_STARCODER, "ab 12c", "ab", " ", "1", "2", "c");
    /* default: punctuation runs apart, then GPT-2, number runs, digit triples */
    SPLIT(ZF_PRE_DEFAULT, "a+b=12345", "a", "+", "b", "=", "123", "45");
    SPLIT(ZF_PRE_DEFAULT, "hi, you`", "hi", ",", " you", "`");
}

/* ---- bad metadata and arguments ---- */

static void expect_fail(const char *model, const vocab *v, const char *const *extra, bool scores, bool types,
                        zf_status want) {
    zf_tokenizer *t = build(model, v, extra, scores, types);
    CHECK(t == NULL && zf_last_status() == want);
    if (t) zf_tokenizer_free(t);
    else printf("  expected error: %s\n", zf_last_error());
}

static void test_bad_metadata(void) {
    vocab v;
    spm_vocab(&v);
    expect_fail(NULL, &v, NULL, true, true, ZF_ERR_FORMAT);           /* no tokenizer.ggml.model */
    expect_fail("bert", &v, NULL, true, true, ZF_ERR_UNSUPPORTED);    /* unknown model */
    expect_fail("llama", NULL, NULL, true, true, ZF_ERR_FORMAT);      /* no tokens */
    const char *const bos_far[] = {"tokenizer.ggml.bos_token_id", "u", "100000", NULL};
    expect_fail("llama", &v, bos_far, true, true, ZF_ERR_FORMAT);     /* id outside the vocabulary */
    const char *const bos_str[] = {"tokenizer.ggml.eos_token_id", "s", "2", NULL};
    expect_fail("llama", &v, bos_str, true, true, ZF_ERR_FORMAT);     /* id of the wrong type */
    const char *const add_str[] = {"tokenizer.ggml.add_bos_token", "s", "yes", NULL};
    expect_fail("llama", &v, add_str, true, true, ZF_ERR_FORMAT);
    vocab d = v;
    d.tok[5] = d.tok[6]; /* duplicate text */
    expect_fail("llama", &d, NULL, true, true, ZF_ERR_FORMAT);
    d = v;
    d.tok[g_byte0] = "<0xZZ>"; /* malformed byte token */
    expect_fail("llama", &d, NULL, true, true, ZF_ERR_FORMAT);

    /* scores / types shorter than tokens, or of the wrong element type */
    char path[128];
    snprintf(path, sizeof path, "%s/short.gguf", g_dir);
    zf_gguf_writer *w = zf_gguf_writer_new();
    zf_gguf_writer_set_str(w, "tokenizer.ggml.model", "llama");
    zf_gguf_writer_set_arr_str(w, "tokenizer.ggml.tokens", v.tok, (uint64_t)v.n);
    zf_gguf_writer_set_arr(w, "tokenizer.ggml.scores", ZF_GGUF_FLOAT32, v.score, (uint64_t)v.n - 1);
    zf_gguf_writer_write(w, path);
    zf_gguf_writer_free(w);
    CHECK(zf_tokenizer_load(path) == NULL && zf_last_status() == ZF_ERR_FORMAT);
    w = zf_gguf_writer_new();
    zf_gguf_writer_set_str(w, "tokenizer.ggml.model", "llama");
    zf_gguf_writer_set_arr_str(w, "tokenizer.ggml.tokens", v.tok, (uint64_t)v.n);
    zf_gguf_writer_set_arr(w, "tokenizer.ggml.token_type", ZF_GGUF_FLOAT32, v.score, (uint64_t)v.n);
    zf_gguf_writer_write(w, path);
    zf_gguf_writer_free(w);
    CHECK(zf_tokenizer_load(path) == NULL && zf_last_status() == ZF_ERR_FORMAT);
    w = zf_gguf_writer_new();
    zf_gguf_writer_set_str(w, "tokenizer.ggml.model", "llama");
    zf_gguf_writer_set_arr(w, "tokenizer.ggml.tokens", ZF_GGUF_INT32, v.type, (uint64_t)v.n);
    zf_gguf_writer_write(w, path);
    zf_gguf_writer_free(w);
    CHECK(zf_tokenizer_load(path) == NULL && zf_last_status() == ZF_ERR_FORMAT);
    CHECK(zf_tokenizer_load("/nonexistent/model.gguf") == NULL);
    CHECK(zf_tokenizer_from_gguf(NULL) == NULL && zf_last_status() == ZF_ERR_INVALID_ARG);

    /* byte-level BPE: merges are required; the pre-tokenizer must be known;
     * add_bos with no BOS id (the default 11 is outside a 10-token vocabulary) */
    bpe_vocab(&v);
    vocab nm = v;
    nm.n_merges = 0;
    expect_fail("gpt2", &nm, NULL, false, true, ZF_ERR_FORMAT);
    const char *const pre_bad[] = {"tokenizer.ggml.pre", "s", "no-such-pre", NULL};
    expect_fail("gpt2", &v, pre_bad, false, true, ZF_ERR_UNSUPPORTED);
    vocab tiny;
    memset(&tiny, 0, sizeof tiny);
    for (int i = 0; i < 10; i++) add_own(&tiny, (char[]){(char)('a' + i), 0}, 0, T_NORMAL);
    tiny.merges[tiny.n_merges++] = "a b";
    const char *const need_bos[] = {"tokenizer.ggml.add_bos_token", "b", "1", NULL};
    expect_fail("gpt2", &tiny, need_bos, false, true, ZF_ERR_FORMAT);
    zf_tokenizer *t = build("gpt2", &tiny, NULL, false, false); /* no types: all normal; no pre: default */
    CHECK(t != NULL && zf_tokenizer_bos(t) == -1 && strcmp(zf_tokenizer_pre_name(t), "default") == 0);
    if (t) {
        zf_tokens out = {0};
        CHECK(zf_tokenizer_encode(t, NULL, 1, 0, &out) == ZF_ERR_INVALID_ARG);
        CHECK(zf_tokenizer_encode(t, NULL, 0, 0, &out) == ZF_OK && out.n == 0);
        /* "a b" merges into "ab", which is no token: written byte by byte;
         * 'z' has no token at all: dropped (both as llama.cpp does) */
        CHECK(zf_tokenizer_encode(t, "abz", 3, 0, &out) == ZF_OK && out.n == 2 && out.ids[0] == 0 && out.ids[1] == 1);
        zf_tokens_free(&out);
    }
    zf_tokenizer_free(t);
    zf_tokenizer_free(NULL);
}

/* ---- random input: never fails; bytes survive where they must ---- */

static uint64_t g_rng = 0x9E3779B97F4A7C15ull;
static uint32_t rnd(void) { /* xorshift64* */
    g_rng ^= g_rng >> 12;
    g_rng ^= g_rng << 25;
    g_rng ^= g_rng >> 27;
    return (uint32_t)((g_rng * 0x2545F4914F6CDD1Dull) >> 32);
}

static void test_random_input(void) {
    vocab v;
    spm_vocab(&v);
    add(&v, "<start>", 0, T_CONTROL);
    const char *const no_prefix[] = {"tokenizer.ggml.add_space_prefix", "b", "0", NULL};
    zf_tokenizer *spm = build("llama", &v, no_prefix, true, true);
    bpe_vocab(&v);
    zf_tokenizer *bpe = build("gpt2", &v, NULL, false, true);
    CHECK(spm && bpe);
    if (!spm || !bpe) return;
    int spm_ok = 0, bpe_ok = 0, n_valid = 0;
    char text[96];
    for (int it = 0; it < 3000; it++) {
        size_t n = rnd() % 64;
        bool valid = it % 2 == 0;
        size_t k = 0;
        while (k < n) {
            if (!valid) {
                char c = (char)(rnd() & 0xFF);
                text[k++] = c == ' ' ? 'x' : c; /* no spaces: see the lead-byte note in test_spm */
                continue;
            }
            uint32_t cp = rnd() % 4 == 0 ? rnd() % 0x110000 : 0x20 + rnd() % 0x300;
            if (cp >= 0xD800 && cp < 0xE000) cp = 'a';
            char u[4];
            size_t m = zf_utf8_encode(cp, u);
            if (k + m > n) break;
            memcpy(text + k, u, m);
            k += m;
        }
        text[k] = '\0';
        zf_tokens ids = {0};
        int64_t len;
        const char *d;
        /* SentencePiece with byte fallback gives every byte back */
        if (zf_tokenizer_encode(spm, text, k, ZF_TOK_PARSE_SPECIAL | ZF_TOK_ADD_SPECIAL, &ids) == ZF_OK) {
            d = dec(spm, ids.ids, (int)ids.n, ZF_TOK_DECODE_SPECIAL, &len);
            /* decode shows the added BOS ("<s>") first */
            spm_ok += len == (int64_t)k + 3 && memcmp(d, "<s>", 3) == 0 && memcmp(d + 3, text, k) == 0;
        }
        /* byte-level BPE gives valid UTF-8 back */
        ids.n = 0;
        if (zf_tokenizer_encode(bpe, text, k, 0, &ids) == ZF_OK && valid) {
            n_valid++;
            d = dec(bpe, ids.ids, (int)ids.n, 0, &len);
            bpe_ok += len == (int64_t)k && memcmp(d, text, k) == 0;
        }
        zf_tokens_free(&ids);
    }
    CHECK(spm_ok == 3000);
    CHECK(bpe_ok == n_valid);
    zf_tokenizer_free(spm);
    zf_tokenizer_free(bpe);
}

/* ---- concurrency: the shared scratch and the private fallback agree ---- */

static zf_tokenizer *g_tok;
static const char *g_text = "hello world hello  world \xc3\xa9\xc3\xa9 hello<|im_start|>world 12 34";

static void *worker(void *arg) {
    zf_tokens *out = arg;
    for (int i = 0; i < 200; i++) {
        out->n = 0;
        if (zf_tokenizer_encode(g_tok, g_text, strlen(g_text), ZF_TOK_PARSE_SPECIAL, out) != ZF_OK) break;
    }
    return NULL;
}

static void test_threads(void) {
    vocab v;
    bpe_vocab(&v);
    g_tok = build("gpt2", &v, NULL, false, true);
    CHECK(g_tok != NULL);
    if (!g_tok) return;
    zf_tokens res[4] = {{0}};
    pthread_t th[4];
    for (int i = 0; i < 4; i++) pthread_create(&th[i], NULL, worker, &res[i]);
    for (int i = 0; i < 4; i++) pthread_join(th[i], NULL);
    for (int i = 1; i < 4; i++)
        CHECK(res[i].n == res[0].n && res[0].n > 0 &&
              memcmp(res[i].ids, res[0].ids, (size_t)res[0].n * sizeof(int32_t)) == 0);
    for (int i = 0; i < 4; i++) zf_tokens_free(&res[i]);
    zf_tokenizer_free(g_tok);
}

/* ---- internals: hash maps, Unicode ---- */

static void test_hash(void) {
    char arena[8 * 4096];
    size_t used = 0;
    zf_strmap32 m = {0};
    int32_t old;
    for (int i = 0; i < 4096; i++) {
        int k = snprintf(arena + used, 16, "k%d", i);
        CHECK(zf_strmap32_put(&m, arena, (uint32_t)used, (uint32_t)k, i, &old) == ZF_OK && old == -1);
        used += (size_t)k;
    }
    CHECK(m.count == 4096);
    CHECK(zf_strmap32_get(&m, arena, "k4095", 5) == 4095 && zf_strmap32_get(&m, arena, "k0", 2) == 0);
    CHECK(zf_strmap32_get(&m, arena, "k4096", 5) == -1 && zf_strmap32_get(&m, arena, "", 0) == -1);
    CHECK(zf_strmap32_put(&m, arena, 0, 2, 7, &old) == ZF_OK && old == 0); /* "k0" present: kept */
    zf_strmap32_free(&m);
    zf_u64map u = {0};
    bool ins;
    for (uint64_t i = 0; i < 5000; i++) CHECK(zf_u64map_put(&u, i * 0x100000001ull, i, &ins) == ZF_OK && ins);
    uint64_t val;
    CHECK(zf_u64map_get(&u, 77 * 0x100000001ull, &val) && val == 77);
    CHECK(!zf_u64map_get(&u, 5, &val));
    CHECK(zf_u64map_put(&u, 0, 9, &ins) == ZF_OK && !ins && zf_u64map_get(&u, 0, &val) && val == 0);
    CHECK(zf_u64map_put(&u, ZF_U64MAP_EMPTY, 1, &ins) != ZF_OK);
    zf_u64map_free(&u);
}

static void test_unicode(void) {
    CHECK(zf_ucat('a') == ZF_UCAT_LETTER && zf_ucat('5') == ZF_UCAT_NUMBER && zf_ucat(' ') == ZF_UCAT_SEPARATOR);
    CHECK(zf_ucat('!') == ZF_UCAT_PUNCT && zf_ucat('+') == ZF_UCAT_SYMBOL && zf_ucat('\n') == ZF_UCAT_CONTROL);
    CHECK(zf_ucat(0xE9) == ZF_UCAT_LETTER && zf_ucat(0x4E00) == ZF_UCAT_LETTER && zf_ucat(0x0660) == ZF_UCAT_NUMBER);
    CHECK(zf_ucat(0x0301) == ZF_UCAT_MARK && zf_ucat(0x1F600) == ZF_UCAT_SYMBOL && zf_ucat(0x0378) == ZF_UCAT_UNDEFINED);
    CHECK(zf_ucat(0xE000) == ZF_UCAT_CONTROL && zf_ucat(0x10FFFF) == ZF_UCAT_UNDEFINED);
    CHECK(zf_ucat(0x110000) == ZF_UCAT_UNDEFINED && zf_ucat(0x2160) == ZF_UCAT_NUMBER);
    CHECK(zf_uspace(0x3000) && zf_uspace(0x85) && zf_uspace('\t') && !zf_uspace(0x200B) && !zf_uspace('a'));
    CHECK(!zf_uspace(0x1C)); /* U+001C..U+001F are not White_Space */
    size_t adv;
    const unsigned char *s;
    s = (const unsigned char *)"\xe6\x97\xa5";
    CHECK(zf_utf8_decode(s, 3, &adv) == 0x65E5 && adv == 3);
    CHECK(zf_utf8_decode(s, 2, &adv) == 0xFFFD && adv == 1); /* truncated */
    s = (const unsigned char *)"\xc0\xaf";
    CHECK(zf_utf8_decode(s, 2, &adv) == 0x2F && adv == 2); /* overlong, accepted as llama.cpp does */
    s = (const unsigned char *)"\xed\xa0\x80";
    CHECK(zf_utf8_decode(s, 3, &adv) == 0xD800 && adv == 3); /* surrogate, accepted */
    s = (const unsigned char *)"\xf4\x90\x80\x80";
    CHECK(zf_utf8_decode(s, 4, &adv) == 0xFFFD && adv == 1); /* past U+10FFFF */
    s = (const unsigned char *)"\xf8\x88\x80\x80\x80";
    CHECK(zf_utf8_decode(s, 5, &adv) == 0xFFFD && adv == 1);
    s = (const unsigned char *)"\x80";
    CHECK(zf_utf8_decode(s, 1, &adv) == 0xFFFD && adv == 1);
    char u[4];
    CHECK(zf_utf8_encode(0x1F600, u) == 4 && memcmp(u, "\xf0\x9f\x98\x80", 4) == 0);
    CHECK(zf_utf8_encode(0xE9, u) == 2 && zf_utf8_encode('a', u) == 1 && zf_utf8_encode(0x20AC, u) == 3);
    for (int b = 0; b < 256; b++) CHECK(zf_gpt2_cp_to_byte(zf_gpt2_byte_to_cp((unsigned char)b)) == b);
    CHECK(zf_gpt2_byte_to_cp(' ') == 0x120 && zf_gpt2_byte_to_cp('\n') == 0x10A && zf_gpt2_cp_to_byte(0x200) == -1);
}

int main(void) {
    snprintf(g_dir, sizeof g_dir, "/tmp/zf_tok_XXXXXX");
    if (!mkdtemp(g_dir)) {
        perror("mkdtemp");
        return 1;
    }
    test_spm();
    test_spm_scores();
    test_spm_special();
    test_bpe();
    test_pretok();
    test_bad_metadata();
    test_random_input();
    test_threads();
    test_hash();
    test_unicode();
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", g_dir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", g_dir);
    ZF_TEST_MAIN_END();
}
