/* Helper of tests/parity/test_tokenizer_parity.py: runs zerfoo's tokenizer
 * on texts from a file.
 *
 *   tokenize_tool info   MODEL               key=value lines (bos, eos, ...)
 *   tokenize_tool encode MODEL FILE FLAGS    FILE: one text per line, hex of
 *                                            its bytes; prints the ids of each
 *                                            on one line. FLAGS: 'a' add BOS/EOS,
 *                                            's' parse special tokens, '-' none
 *   tokenize_tool decode MODEL FILE FLAGS    FILE: ids per line; prints the hex
 *                                            of the decoded bytes. FLAGS: 's'
 *                                            show special tokens, 'p' strip the
 *                                            space prefix, '-' none
 *   tokenize_tool pieces MODEL               per id: hex of the piece with
 *                                            special tokens shown, then hidden
 *   tokenize_tool bench  MODEL FILE REPEAT   encodes FILE's raw bytes REPEAT
 *                                            times; prints tokens and MB/s
 * Empty hex fields are written as '-'. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "zerfoo/tokenizer.h"

static char *read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap + 1);
    for (size_t k; buf && (k = fread(buf + n, 1, cap - n, f)) > 0;) {
        n += k;
        if (n == cap) {
            char *b = realloc(buf, (cap *= 2) + 1);
            if (!b) free(buf);
            buf = b;
        }
    }
    fclose(f);
    if (buf) buf[n] = '\0';
    *len = n;
    return buf;
}

static void put_hex(const char *p, size_t n) {
    if (n == 0) fputs("-", stdout);
    for (size_t i = 0; i < n; i++) printf("%02x", (unsigned char)p[i]);
}

static int hexv(int c) { return c <= '9' ? c - '0' : (c | 32) - 'a' + 10; }

static int fail(const char *what) {
    fprintf(stderr, "tokenize_tool: %s: %s\n", what, zf_last_error());
    return 1;
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: tokenize_tool info|encode|decode|pieces|bench MODEL [FILE FLAGS]\n");
        return 2;
    }
    const char *mode = argv[1];
    zf_tokenizer *t = zf_tokenizer_load(argv[2]);
    if (!t) return fail(argv[2]);
    int rc = 0;
    if (strcmp(mode, "info") == 0) {
        printf("kind=%s\npre=%s\nn_vocab=%d\nbos=%d\neos=%d\neot=%d\nunk=%d\npad=%d\nadd_bos=%d\nadd_eos=%d\n"
               "add_space_prefix=%d\n",
               zf_tokenizer_get_kind(t) == ZF_TOKENIZER_SPM ? "spm" : "bpe", zf_tokenizer_pre_name(t),
               (int)zf_tokenizer_n_vocab(t), (int)zf_tokenizer_bos(t), (int)zf_tokenizer_eos(t),
               (int)zf_tokenizer_eot(t), (int)zf_tokenizer_unk(t), (int)zf_tokenizer_pad(t),
               zf_tokenizer_adds_bos(t), zf_tokenizer_adds_eos(t), zf_tokenizer_adds_space_prefix(t));
    } else if (strcmp(mode, "pieces") == 0) {
        for (int32_t id = 0; id < zf_tokenizer_n_vocab(t); id++) {
            size_t n;
            const char *p = zf_tokenizer_piece(t, id, true, &n);
            put_hex(p, n);
            putchar(' ');
            p = zf_tokenizer_piece(t, id, false, &n);
            put_hex(p, n);
            putchar('\n');
        }
    } else if ((strcmp(mode, "encode") == 0 || strcmp(mode, "decode") == 0 || strcmp(mode, "bench") == 0) &&
               argc == 5) {
        size_t len;
        char *data = read_file(argv[3], &len);
        if (!data) {
            fprintf(stderr, "tokenize_tool: cannot read %s\n", argv[3]);
            zf_tokenizer_free(t);
            return 1;
        }
        zf_tokens ids = {0};
        if (strcmp(mode, "bench") == 0) {
            int reps = atoi(argv[4]);
            struct timespec a, b;
            clock_gettime(CLOCK_MONOTONIC, &a);
            for (int r = 0; r < reps && !rc; r++) {
                ids.n = 0;
                if (zf_tokenizer_encode(t, data, len, ZF_TOK_PARSE_SPECIAL, &ids) != ZF_OK) rc = fail("encode");
            }
            clock_gettime(CLOCK_MONOTONIC, &b);
            double s = (double)(b.tv_sec - a.tv_sec) + 1e-9 * (double)(b.tv_nsec - a.tv_nsec);
            printf("bytes=%zu tokens=%lld seconds=%.4f MB/s=%.2f\n", len, (long long)ids.n, s / reps,
                   (double)len * reps / s / 1e6);
        }
        unsigned flags = 0;
        const char *fl = argv[4];
        bool encode = strcmp(mode, "encode") == 0, decode = strcmp(mode, "decode") == 0;
        if (encode) flags = (strchr(fl, 'a') ? ZF_TOK_ADD_SPECIAL : 0u) | (strchr(fl, 's') ? ZF_TOK_PARSE_SPECIAL : 0u);
        if (decode)
            flags = (strchr(fl, 's') ? ZF_TOK_DECODE_SPECIAL : 0u) | (strchr(fl, 'p') ? ZF_TOK_DECODE_STRIP_PREFIX : 0u);
        char *line = data, *buf = NULL;
        size_t buf_cap = 0;
        while ((encode || decode) && !rc && *line) {
            char *nl = strchr(line, '\n');
            if (nl) *nl = '\0';
            if (encode) {
                size_t n = strlen(line);
                if (n == 1 && line[0] == '-') n = 0;
                for (size_t i = 0; i < n / 2; i++) line[i] = (char)(hexv(line[2 * i]) * 16 + hexv(line[2 * i + 1]));
                ids.n = 0;
                if (zf_tokenizer_encode(t, line, n / 2, flags, &ids) != ZF_OK) {
                    rc = fail("encode");
                    break;
                }
                for (int64_t i = 0; i < ids.n; i++) printf(i ? " %d" : "%d", (int)ids.ids[i]);
                putchar('\n');
            } else {
                ids.n = 0;
                for (char *p = line; *p;) {
                    char *end;
                    long v = strtol(p, &end, 10);
                    if (end == p) break;
                    if (ids.n == ids.cap) {
                        ids.cap = ids.cap ? 2 * ids.cap : 64;
                        int32_t *q = realloc(ids.ids, (size_t)ids.cap * sizeof *ids.ids);
                        if (!q) {
                            fprintf(stderr, "tokenize_tool: out of memory\n");
                            return 1;
                        }
                        ids.ids = q;
                    }
                    ids.ids[ids.n++] = (int32_t)v;
                    p = end;
                }
                int64_t need = zf_tokenizer_decode(t, ids.ids, ids.n, flags, NULL, 0);
                if (need < 0) {
                    rc = fail("decode");
                    break;
                }
                if ((size_t)need > buf_cap) {
                    char *q = realloc(buf, (size_t)need);
                    if (!q) {
                        fprintf(stderr, "tokenize_tool: out of memory\n");
                        return 1;
                    }
                    buf = q, buf_cap = (size_t)need;
                }
                zf_tokenizer_decode(t, ids.ids, ids.n, flags, buf, buf_cap);
                put_hex(buf, (size_t)need);
                putchar('\n');
            }
            if (!nl) break;
            line = nl + 1;
        }
        free(buf);
        free(data);
        zf_tokens_free(&ids);
    } else {
        fprintf(stderr, "tokenize_tool: bad arguments for '%s'\n", mode);
        rc = 2;
    }
    zf_tokenizer_free(t);
    return rc;
}
