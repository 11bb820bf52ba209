/* ZF_LLM_DUMP=DIR: the forward pass writes its intermediates, to find where
 * zerfoo and llama.cpp part ways (tests/parity/ggml_trace.py writes
 * llama.cpp's in the same layout, tests/parity/trace_compare.py compares).
 * ZF_LLM_INJECT=DIR (a ggml_trace.py directory of the same prompt) makes
 * every matmul return llama.cpp's product instead of its own, which isolates
 * the other ops.
 *
 * Forward call k since the session's last reset (call 0 is the prompt when it
 * fits one batch) writes DIR/step<k>/NAME.f32, raw float32 in row-major order,
 * and a line "NAME\tf32\tne0,ne1,ne2,ne3" in DIR/step<k>/index.tsv, with
 * ggml's dims (ne0 the innermost). Names follow llama.cpp's graph
 * ("attn_norm-3", "Qcur-3", "ffn_out-3", "result_output"); a name written
 * again in the same step gets "#2", "#3" as ggml_trace.py does. A debugging aid:
 * failures to write are reported once on stderr and otherwise ignored. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "llm/llm_internal.h"

static const char *dump_root(void) {
    const char *d = getenv("ZF_LLM_DUMP");
    return d && *d ? d : NULL;
}

bool llm_dump_on(void) { return dump_root() != NULL; }

/* Names written in the current step (process-wide: dumping is for one
 * session at a time). */
#define MAX_NAMES 8192
static char *g_names[MAX_NAMES];
static int g_n_names;

/* How many times nm was written before in this step; records it. */
static int seen_before(const char *nm) {
    int k = 0;
    for (int i = 0; i < g_n_names; i++) k += strcmp(g_names[i], nm) == 0;
    if (g_n_names < MAX_NAMES) g_names[g_n_names++] = strdup(nm);
    return k;
}

static void warn_once(const char *what, const char *path) {
    static int warned;
    if (!warned) fprintf(stderr, "zerfoo: ZF_LLM_DUMP: cannot %s %s: %s\n", what, path, strerror(errno));
    warned = 1;
}

static const char *inject_root(void) {
    const char *d = getenv("ZF_LLM_INJECT");
    return d && *d ? d : NULL;
}

bool llm_inject_on(void) { return inject_root() != NULL; }

zf_status llm_inject(zf_llm_session *s, zf_ctx *c, const char *wname, int64_t il, zf_tensor *y) {
    char path[4096];
    if (il >= 0)
        snprintf(path, sizeof path, "%s/step%lld/mm:blk.%lld.%s.weight.f32", inject_root(), (long long)s->dump_step,
                 (long long)il, wname);
    else
        snprintf(path, sizeof path, "%s/step%lld/mm:%s.weight.f32", inject_root(), (long long)s->dump_step, wname);
    FILE *f = fopen(path, "rb");
    if (!f) return zf_set_error(ZF_ERR_IO, "ZF_LLM_INJECT: cannot open %s", path);
    int64_t n = zf_numel(y);
    float *buf = zf_ctx_alloc(c, (size_t)(n > 0 ? n : 1) * sizeof *buf);
    size_t got = buf ? fread(buf, sizeof *buf, (size_t)n + 1, f) : 0;
    fclose(f);
    if (got != (size_t)n) return zf_set_error(ZF_ERR_SHAPE, "ZF_LLM_INJECT: %s has %zu floats, want %lld", path, got,
                                              (long long)n);
    return zf_copy_(y, zf_from_data(c, ZF_F32, y->ndim, y->shape, buf));
}

void llm_dump_step(zf_llm_session *s) {
    s->dump_step = s->n_past == 0 ? 0 : s->dump_step + 1;
    if (!dump_root()) return;
    char path[4096];
    snprintf(path, sizeof path, "%s", dump_root());
    if (mkdir(path, 0777) != 0 && errno != EEXIST) warn_once("create", path);
    snprintf(path, sizeof path, "%s/step%lld", dump_root(), (long long)s->dump_step);
    if (mkdir(path, 0777) != 0 && errno != EEXIST) warn_once("create", path);
    snprintf(path, sizeof path, "%s/step%lld/index.tsv", dump_root(), (long long)s->dump_step);
    FILE *f = fopen(path, "w"); /* truncate: a rerun replaces the step */
    if (f) fclose(f);
    for (int i = 0; i < g_n_names; i++) free(g_names[i]);
    g_n_names = 0;
}

void llm_dump(zf_llm_session *s, const char *name, int64_t il, const zf_tensor *t) {
    if (!dump_root() || !t) return;
    char nm[256], path[4096];
    if (il >= 0)
        snprintf(nm, sizeof nm, "%s-%lld", name, (long long)il);
    else
        snprintf(nm, sizeof nm, "%s", name);
    int k = seen_before(nm);
    if (k > 0) {
        size_t len = strlen(nm);
        snprintf(nm + len, sizeof nm - len, "#%d", k + 1);
    }
    int64_t n = zf_numel(t);
    float *buf = malloc((size_t)(n > 0 ? n : 1) * sizeof *buf);
    if (!buf || zf_to_f32_buffer(t, buf) != ZF_OK) {
        free(buf);
        return;
    }
    snprintf(path, sizeof path, "%s/step%lld/%s.f32", dump_root(), (long long)s->dump_step, nm);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(buf, sizeof *buf, (size_t)n, f) != (size_t)n) warn_once("write", path);
    if (f) fclose(f);
    free(buf);
    snprintf(path, sizeof path, "%s/step%lld/index.tsv", dump_root(), (long long)s->dump_step);
    if (!(f = fopen(path, "a"))) {
        warn_once("append to", path);
        return;
    }
    int64_t ne[4] = {1, 1, 1, 1};
    for (int i = 0; i < t->ndim && i < 4; i++) ne[i] = t->shape[t->ndim - 1 - i];
    for (int i = 4; i < t->ndim; i++) ne[3] *= t->shape[t->ndim - 1 - i];
    fprintf(f, "%s\tf32\t%lld,%lld,%lld,%lld\n", nm, (long long)ne[0], (long long)ne[1], (long long)ne[2],
            (long long)ne[3]);
    fclose(f);
}
