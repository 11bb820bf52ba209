/* libFuzzer target for the tokenizers: the input is text, encoded by the
 * tokenizer of every seed model in tests/fuzz/corpus_llm/ (SentencePiece and
 * byte-level BPE vocabularies), then decoded again, token by token and in
 * one call. The first byte picks the flags (add/parse special, decode
 * special/strip prefix). For a tokenizer whose vocabulary covers every byte
 * (the *_bytes seeds) and valid UTF-8 text without special-token parsing
 * (and, for SentencePiece, without U+2581, its space), decode(encode(text))
 * must give the text back. Built and run by
 * tests/fuzz/run_fuzz.sh tokenize (clang, ASan + UBSan). */
#define _GNU_SOURCE /* memmem */
#include <dirent.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "zerfoo/tokenizer.h"

#ifndef ZF_FUZZ_SEEDS
#define ZF_FUZZ_SEEDS "tests/fuzz"
#endif

#define MAX_TOK 16
static zf_tokenizer *g_tok[MAX_TOK];
static bool g_full[MAX_TOK]; /* every byte has a token: round trips must hold */
static int g_n;
static uint64_t g_sink;

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    const char *dir = getenv("ZF_FUZZ_MODELS") ? getenv("ZF_FUZZ_MODELS") : ZF_FUZZ_SEEDS "/corpus_llm";
    DIR *d = opendir(dir);
    if (!d) {
        fprintf(stderr, "fuzz_tokenize: cannot open %s\n", dir);
        abort();
    }
    struct dirent *e;
    while ((e = readdir(d)) && g_n < MAX_TOK) {
        size_t l = strlen(e->d_name);
        if (l < 5 || strcmp(e->d_name + l - 5, ".gguf") != 0) continue;
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        zf_tokenizer *t = zf_tokenizer_load(path);
        if (!t) {
            fprintf(stderr, "fuzz_tokenize: %s\n", zf_last_error());
            abort();
        }
        g_full[g_n] = strstr(e->d_name, "_bytes") != NULL;
        g_tok[g_n++] = t;
    }
    closedir(d);
    if (!g_n) {
        fprintf(stderr, "fuzz_tokenize: no .gguf seeds in %s\n", dir);
        abort();
    }
    return 0;
}

static bool valid_utf8(const unsigned char *s, size_t n) {
    for (size_t i = 0; i < n;) {
        unsigned c = s[i];
        size_t k = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
        if (!k || i + k > n || c == 0xC0 || c == 0xC1 || c > 0xF4) return false;
        unsigned cp = k == 1 ? c : c & (0x7F >> k);
        for (size_t j = 1; j < k; j++) {
            if ((s[i + j] & 0xC0) != 0x80) return false;
            cp = cp << 6 | (s[i + j] & 0x3F);
        }
        if ((k == 3 && cp < 0x800) || (k == 4 && (cp < 0x10000 || cp > 0x10FFFF)) || (cp >= 0xD800 && cp < 0xE000))
            return false;
        i += k;
    }
    return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    unsigned mode = data[0];
    const char *text = (const char *)data + 1;
    size_t len = size - 1;
    unsigned eflags = (mode & 1 ? ZF_TOK_ADD_SPECIAL : 0) | (mode & 2 ? ZF_TOK_PARSE_SPECIAL : 0);
    unsigned dflags = (mode & 4 ? ZF_TOK_DECODE_SPECIAL : 0) | (mode & 8 ? ZF_TOK_DECODE_STRIP_PREFIX : 0);
    bool utf8 = valid_utf8(data + 1, len);
    /* SentencePiece writes spaces as U+2581 and decodes U+2581 as a space */
    bool has_2581 = memmem(text, len, "\xe2\x96\x81", 3) != NULL;
    for (int k = 0; k < g_n; k++) {
        zf_tokenizer *t = g_tok[k];
        zf_tokens v = {0};
        if (zf_tokenizer_encode(t, text, len, eflags, &v) != ZF_OK) __builtin_trap();
        size_t total = 0;
        for (int64_t i = 0; i < v.n; i++) {
            if (v.ids[i] < 0 || v.ids[i] >= zf_tokenizer_n_vocab(t)) __builtin_trap();
            size_t pl;
            const char *p = zf_tokenizer_piece(t, v.ids[i], dflags & ZF_TOK_DECODE_SPECIAL, &pl);
            if (!p) __builtin_trap();
            total += pl;
        }
        int64_t need = zf_tokenizer_decode(t, v.ids, v.n, dflags, NULL, 0);
        if (need < 0) __builtin_trap();
        char *out = malloc((size_t)need + 1);
        if (!out) abort();
        if (zf_tokenizer_decode(t, v.ids, v.n, dflags, out, (size_t)need) != need) __builtin_trap();
        g_sink += total + (need ? (unsigned char)out[need - 1] : 0);
        /* round trip: no specials added or parsed, the encoder's space prefix stripped */
        if (g_full[k] && utf8 && !(mode & 3) && (mode & 8) &&
            !(has_2581 && zf_tokenizer_get_kind(t) == ZF_TOKENIZER_SPM) &&
            ((size_t)need != len || memcmp(out, text, len) != 0)) {
            fprintf(stderr, "fuzz_tokenize: round trip of %zu bytes gave %lld bytes (tokenizer %d)\n", len,
                    (long long)need, k);
            __builtin_trap();
        }
        free(out);
        zf_tokens_free(&v);
    }
    return 0;
}
