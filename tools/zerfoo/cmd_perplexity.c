/* zerfoo perplexity MODEL TEXTFILE: perplexity of a text file, computed as
 * llama.cpp's perplexity tool does (the file tokenized with BOS, windows of
 * --ctx-size tokens each starting with BOS, the second half of each window
 * scored). Prints the perplexity on stdout, details on stderr. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tools/zerfoo/commands.h"
#include "zerfoo/llm.h"

static char *read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 1 << 16, n = 0, r;
    char *buf = malloc(cap);
    while (buf && (r = fread(buf + n, 1, cap - n - 1, f)) > 0) {
        n += r;
        if (cap - n < 2) {
            char *b = realloc(buf, cap * 2);
            if (!b) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = b;
            cap *= 2;
        }
    }
    fclose(f);
    if (buf) buf[n] = '\0';
    *len = n;
    return buf;
}

int zf_cmd_perplexity(int argc, char **argv) {
    const char *model = NULL, *file = NULL;
    int64_t n_ctx = 512, chunks = -1, threads = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            printf("usage: zerfoo perplexity MODEL TEXTFILE [-c N] [--chunks N] [-t N]\n\n"
                   "Perplexity of TEXTFILE as llama.cpp's perplexity tool computes it: windows of N tokens\n"
                   "(default 512), the second half of each scored. --chunks limits the windows.\n");
            return 0;
        } else if ((strcmp(a, "-c") == 0 || strcmp(a, "--ctx-size") == 0) && v) {
            if (!zf_parse_i64(v, &n_ctx) || n_ctx < 4) goto bad;
            i++;
        } else if (strcmp(a, "--chunks") == 0 && v) {
            if (!zf_parse_i64(v, &chunks) || chunks < 1) goto bad;
            i++;
        } else if ((strcmp(a, "-t") == 0 || strcmp(a, "--threads") == 0) && v) {
            if (!zf_parse_i64(v, &threads) || threads < 1 || threads > 1024) goto bad;
            i++;
        } else if (a[0] == '-') {
            goto bad;
        } else if (!model) {
            model = a;
        } else if (!file) {
            file = a;
        } else {
            goto bad;
        }
    }
    if (!model || !file) goto bad;
    char path[4096];
    if (!zf_resolve_model(model, path, sizeof path)) return 1;
    size_t len;
    char *text = read_file(file, &len);
    if (!text) {
        fprintf(stderr, "zerfoo perplexity: cannot read %s\n", file);
        return 1;
    }
    zf_llm_load_params lp = {.n_threads = (int)threads};
    zf_llm_model *m = zf_llm_load(path, &lp);
    zf_llm_session *s = NULL;
    int32_t *ids = NULL;
    int rc = 1;
    if (!m) goto fail;
    zf_llm_session_params sp = zf_llm_session_defaults();
    sp.n_ctx = n_ctx;
    s = zf_llm_session_new(m, &sp);
    if (!s) goto fail;
    int64_t n = zf_llm_tokenize(m, text, len, true, NULL, 0);
    ids = n >= 0 ? malloc((size_t)(n + 1) * sizeof *ids) : NULL;
    if (!ids || zf_llm_tokenize(m, text, len, true, ids, n) != n) goto fail;
    if (chunks > 0 && chunks * n_ctx < n) n = chunks * n_ctx;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int64_t scored;
    double ppl = zf_llm_perplexity(s, ids, n, n_ctx, &scored);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    if (isnan(ppl)) goto fail;
    double dt = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
    fprintf(stderr, "zerfoo perplexity: %lld tokens, %lld windows of %lld, %lld scored, %.2f s (%.1f tok/s)\n",
            (long long)n, (long long)(n / n_ctx), (long long)n_ctx, (long long)scored, dt,
            (double)(n / n_ctx * n_ctx) / dt);
    printf("%.6f\n", ppl);
    rc = 0;
    goto done;
fail:
    fprintf(stderr, "zerfoo perplexity: %s\n", zf_last_error());
done:
    free(ids);
    free(text);
    zf_llm_session_free(s);
    zf_llm_free(m);
    return rc;
bad:
    fprintf(stderr, "usage: zerfoo perplexity MODEL TEXTFILE [-c N] [--chunks N] [-t N]\n");
    return 2;
}
