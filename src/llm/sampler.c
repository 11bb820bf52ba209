/* Token sampling, in llama.cpp's default chain order: penalties, top-k,
 * top-p, min-p, temperature, then a draw from the softmax (or argmax when
 * the temperature is <= 0). Draw i uses Philox counter i of the seed, so a
 * seed fixes the whole sequence. Works on host float rows (logits are the
 * model's output, already copied out of tensors). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/philox.h"
#include "zerfoo/llm.h"

#define RNG_STREAM 0x73616d706c6572ull /* "sampler" */

typedef struct cand {
    int32_t id;
    float logit;
} cand;

struct zf_sampler {
    zf_sampler_params p;
    int64_t n_vocab;
    cand *c;          /* [n_vocab] candidates */
    float *work;      /* [n_vocab] penalized logits */
    int32_t *hist;    /* ring of the last penalty_last_n accepted tokens (or all, growing) */
    int64_t hist_n, hist_cap, hist_head;
    int32_t *count;   /* [n_vocab] occurrences in the penalty window */
    uint64_t draws;
};

zf_sampler_params zf_sampler_defaults(void) {
    return (zf_sampler_params){.temperature = 0.8f,
                               .top_k = 40,
                               .top_p = 0.95f,
                               .min_p = 0.05f,
                               .repeat_penalty = 1.0f,
                               .penalty_last_n = 64,
                               .presence_penalty = 0.0f,
                               .frequency_penalty = 0.0f,
                               .seed = 0};
}

zf_sampler *zf_sampler_new(const zf_sampler_params *p, int64_t n_vocab) {
    if (!p || n_vocab < 1 || n_vocab > INT32_MAX) {
        zf_set_error(ZF_ERR_INVALID_ARG, "zf_sampler_new: bad arguments");
        return NULL;
    }
    if (!(p->top_p > 0.0f) || p->top_p > 1.0f || p->min_p < 0.0f || p->min_p > 1.0f || p->top_k < 0 ||
        !(p->repeat_penalty > 0.0f) || !isfinite(p->temperature) || !isfinite(p->presence_penalty) ||
        !isfinite(p->frequency_penalty) || p->penalty_last_n < -1) {
        zf_set_error(ZF_ERR_INVALID_ARG,
                     "sampler: need top_p in (0, 1], min_p in [0, 1], top_k >= 0, repeat_penalty > 0, finite "
                     "temperature and penalties, penalty_last_n >= -1");
        return NULL;
    }
    zf_sampler *s = calloc(1, sizeof *s);
    if (!s) goto oom;
    s->p = *p;
    s->n_vocab = n_vocab;
    s->c = malloc((size_t)n_vocab * sizeof *s->c);
    s->work = malloc((size_t)n_vocab * sizeof *s->work);
    s->count = calloc((size_t)n_vocab, sizeof *s->count);
    s->hist_cap = p->penalty_last_n > 0 ? p->penalty_last_n : 64;
    s->hist = malloc((size_t)s->hist_cap * sizeof *s->hist);
    if (!s->c || !s->work || !s->count || !s->hist) goto oom;
    return s;
oom:
    zf_sampler_free(s);
    zf_set_error(ZF_ERR_OOM, "zf_sampler_new: out of memory");
    return NULL;
}

void zf_sampler_free(zf_sampler *s) {
    if (!s) return;
    free(s->c);
    free(s->work);
    free(s->count);
    free(s->hist);
    free(s);
}

void zf_sampler_reset(zf_sampler *s) {
    if (!s) return;
    memset(s->count, 0, (size_t)s->n_vocab * sizeof *s->count);
    s->hist_n = s->hist_head = 0;
    s->draws = 0;
}

uint64_t zf_sampler_draws(const zf_sampler *s) { return s ? s->draws : 0; }

void zf_sampler_set_draws(zf_sampler *s, uint64_t next_draw) {
    if (s) s->draws = next_draw;
}

void zf_sampler_accept(zf_sampler *s, int32_t tok) {
    if (!s || tok < 0 || tok >= s->n_vocab || s->p.penalty_last_n == 0) return;
    if (s->p.penalty_last_n > 0) {
        if (s->hist_n == s->hist_cap) { /* window full: forget the oldest */
            s->count[s->hist[s->hist_head]]--;
            s->hist[s->hist_head] = tok;
            s->hist_head = (s->hist_head + 1) % s->hist_cap;
        } else {
            s->hist[(s->hist_head + s->hist_n++) % s->hist_cap] = tok;
        }
    }
    s->count[tok]++; /* -1: every accepted token counts, no window */
}

static int cmp_desc(const void *a, const void *b) {
    float x = ((const cand *)a)->logit, y = ((const cand *)b)->logit;
    if (x != y) return x > y ? -1 : 1;
    int32_t i = ((const cand *)a)->id, j = ((const cand *)b)->id;
    return (i > j) - (i < j);
}

/* Moves the k largest of c[0..n) to the front, sorted (quickselect + sort). */
static void select_top(cand *c, int64_t n, int64_t k) {
    if (k < n) {
        int64_t lo = 0, hi = n - 1;
        while (lo < hi) {
            cand piv = c[lo + (hi - lo) / 2];
            int64_t i = lo, j = hi;
            while (i <= j) {
                while (cmp_desc(&c[i], &piv) < 0) i++;
                while (cmp_desc(&c[j], &piv) > 0) j--;
                if (i <= j) {
                    cand t = c[i];
                    c[i++] = c[j];
                    c[j--] = t;
                }
            }
            if (k - 1 <= j) hi = j;
            else if (k - 1 >= i) lo = i;
            else break;
        }
    }
    qsort(c, (size_t)(k < n ? k : n), sizeof *c, cmp_desc);
}

int32_t zf_sampler_sample(zf_sampler *s, const float *logits) {
    if (!s || !logits) {
        zf_set_error(ZF_ERR_INVALID_ARG, "zf_sampler_sample: NULL argument");
        return -1;
    }
    const zf_sampler_params *p = &s->p;
    int64_t V = s->n_vocab, n = 0;
    bool pen = p->repeat_penalty != 1.0f || p->presence_penalty != 0.0f || p->frequency_penalty != 0.0f;
    if (p->temperature <= 0.0f && !pen) { /* greedy: the first largest logit, NaN and -inf skipped (as below) */
        int64_t best = -1;
        for (int64_t i = 0; i < V; i++) {
            const float l = logits[i];
            if (isnan(l) || l == -INFINITY) continue;
            if (best < 0 || l > logits[best]) best = i;
        }
        if (best >= 0) {
            s->draws++;
            return (int32_t)best;
        }
    }
    for (int64_t i = 0; i < V; i++) {
        float l = logits[i];
        if (pen && s->count[i] > 0) {
            l = l <= 0 ? l * p->repeat_penalty : l / p->repeat_penalty;
            l -= (float)s->count[i] * p->frequency_penalty + p->presence_penalty;
        }
        if (isnan(l) || l == -INFINITY) continue;
        s->c[n++] = (cand){(int32_t)i, l};
    }
    if (n == 0) {
        zf_set_error(ZF_ERR_INVALID_ARG, "sampler: every logit is NaN or -inf");
        return -1;
    }
    uint64_t draw = s->draws++;
    if (p->temperature <= 0.0f) {
        int64_t best = 0;
        for (int64_t i = 1; i < n; i++)
            if (s->c[i].logit > s->c[best].logit) best = i;
        return s->c[best].id;
    }
    /* top-k (or a full sort when top-p / min-p need the order) */
    int64_t k = p->top_k > 0 && p->top_k < n ? p->top_k : n;
    select_top(s->c, n, k);
    n = k;
    /* top-p on the softmax of the kept logits */
    if (p->top_p < 1.0f) {
        double mx = s->c[0].logit, z = 0, cum = 0;
        for (int64_t i = 0; i < n; i++) z += exp((double)s->c[i].logit - mx);
        for (int64_t i = 0; i < n; i++) {
            cum += exp((double)s->c[i].logit - mx) / z;
            if (cum >= p->top_p) {
                n = i + 1;
                break;
            }
        }
    }
    /* min-p: keep p_i >= min_p * p_max, i.e. logit_i >= max + log(min_p) */
    if (p->min_p > 0.0f) {
        float thr = s->c[0].logit + logf(p->min_p);
        int64_t m = 1;
        while (m < n && s->c[m].logit >= thr) m++;
        n = m;
    }
    /* temperature, then a draw */
    double mx = s->c[0].logit / p->temperature, z = 0;
    for (int64_t i = 0; i < n; i++) z += exp((double)s->c[i].logit / p->temperature - mx);
    double u = zf_rng_uniform(p->seed, RNG_STREAM, draw) * z, acc = 0;
    for (int64_t i = 0; i < n; i++) {
        acc += exp((double)s->c[i].logit / p->temperature - mx);
        if (u < acc) return s->c[i].id;
    }
    return s->c[n - 1].id;
}
