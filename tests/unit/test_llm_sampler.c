/* Sampler: greedy, temperature draws against the softmax, top-k / top-p /
 * min-p cut-offs, penalties, seeds, and bad input. */
#include <stdlib.h>
#include <string.h>

#include "zerfoo/llm.h"
#include "zf_test.h"

static zf_sampler_params plain(float temp) {
    zf_sampler_params p = zf_sampler_defaults();
    p.temperature = temp;
    p.top_k = 0;
    p.top_p = 1.0f;
    p.min_p = 0.0f;
    return p;
}

/* Frequencies of n draws. */
static void histogram(zf_sampler_params p, const float *lg, int V, int n, double *freq) {
    zf_sampler *s = zf_sampler_new(&p, V);
    for (int i = 0; i < V; i++) freq[i] = 0;
    for (int i = 0; i < n; i++) {
        int32_t t = zf_sampler_sample(s, lg);
        if (t >= 0 && t < V) freq[t] += 1.0 / n;
    }
    zf_sampler_free(s);
}

int main(void) {
    const int V = 5;
    /* probabilities 0.5, 0.25, 0.15, 0.07, 0.03 */
    float lg[5] = {logf(0.5f), logf(0.25f), logf(0.15f), logf(0.07f), logf(0.03f)};
    double f[5];

    /* greedy: argmax, ties to the lowest id */
    zf_sampler_params g = plain(0.0f);
    zf_sampler *s = zf_sampler_new(&g, V);
    CHECK(s && zf_sampler_sample(s, lg) == 0);
    float tie[5] = {1, 3, 3, 2, -1};
    CHECK(zf_sampler_sample(s, tie) == 1);
    zf_sampler_free(s);

    /* temperature 1: frequencies follow the softmax */
    histogram(plain(1.0f), lg, V, 40000, f);
    CHECK(fabs(f[0] - 0.5) < 0.015 && fabs(f[1] - 0.25) < 0.015 && fabs(f[2] - 0.15) < 0.015 &&
          fabs(f[4] - 0.03) < 0.01);
    /* temperature 0.5 sharpens: p ~ p^2 */
    histogram(plain(0.5f), lg, V, 40000, f);
    double z = 0.25 + 0.0625 + 0.0225 + 0.0049 + 0.0009;
    CHECK(fabs(f[0] - 0.25 / z) < 0.015 && fabs(f[1] - 0.0625 / z) < 0.015);

    /* top-k 2 */
    zf_sampler_params p = plain(1.0f);
    p.top_k = 2;
    histogram(p, lg, V, 20000, f);
    CHECK(f[2] == 0 && f[3] == 0 && f[4] == 0 && fabs(f[0] - 2.0 / 3) < 0.02);
    /* top-k 1 is greedy at any temperature */
    p.top_k = 1;
    p.temperature = 5.0f;
    histogram(p, lg, V, 1000, f);
    CHECK(f[0] > 0.999);

    /* top-p 0.7: the smallest prefix reaching 0.7 is {0, 1} */
    p = plain(1.0f);
    p.top_p = 0.7f;
    histogram(p, lg, V, 20000, f);
    CHECK(f[0] > 0 && f[1] > 0 && f[2] == 0 && f[3] == 0);
    /* min-p 0.2: keep p >= 0.1, that is {0, 1, 2} */
    p = plain(1.0f);
    p.min_p = 0.2f;
    histogram(p, lg, V, 20000, f);
    CHECK(f[2] > 0 && f[3] == 0 && f[4] == 0);

    /* repetition penalty (llama.cpp rule) turns greedy away from a used token */
    g = plain(0.0f);
    g.repeat_penalty = 3.0f;
    g.penalty_last_n = 4;
    float pos[3] = {2.0f, 1.0f, 0.5f};
    s = zf_sampler_new(&g, 3);
    CHECK(zf_sampler_sample(s, pos) == 0);
    zf_sampler_accept(s, 0); /* 2.0 / 3 < 1.0 */
    CHECK(zf_sampler_sample(s, pos) == 1);
    /* the window forgets: after 4 other tokens, 0 is free again */
    for (int i = 0; i < 4; i++) zf_sampler_accept(s, 2);
    CHECK(zf_sampler_sample(s, pos) == 0);
    zf_sampler_reset(s);
    CHECK(zf_sampler_sample(s, pos) == 0);
    zf_sampler_free(s);
    /* negative logits are multiplied */
    float neg[2] = {-1.0f, -1.5f};
    s = zf_sampler_new(&g, 2);
    zf_sampler_accept(s, 0); /* -3 < -1.5 */
    CHECK(zf_sampler_sample(s, neg) == 1);
    zf_sampler_free(s);
    /* presence and frequency penalties */
    g = plain(0.0f);
    g.presence_penalty = 0.6f;
    g.frequency_penalty = 0.3f;
    s = zf_sampler_new(&g, 3);
    zf_sampler_accept(s, 0);
    CHECK(zf_sampler_sample(s, pos) == 0); /* 2 - 0.9 = 1.1 > 1 */
    zf_sampler_accept(s, 0);
    CHECK(zf_sampler_sample(s, pos) == 1); /* 2 - 1.2 = 0.8 < 1 */
    zf_sampler_free(s);

    /* seeds: same seed, same sequence; another seed, another one */
    p = plain(1.0f);
    float flat[64];
    for (int i = 0; i < 64; i++) flat[i] = 0.0f;
    int32_t a[32], b[32], c[32];
    p.seed = 42;
    zf_sampler *s1 = zf_sampler_new(&p, 64), *s2 = zf_sampler_new(&p, 64);
    p.seed = 43;
    zf_sampler *s3 = zf_sampler_new(&p, 64);
    for (int i = 0; i < 32; i++) {
        a[i] = zf_sampler_sample(s1, flat);
        b[i] = zf_sampler_sample(s2, flat);
        c[i] = zf_sampler_sample(s3, flat);
    }
    CHECK(memcmp(a, b, sizeof a) == 0);
    CHECK(memcmp(a, c, sizeof a) != 0);
    zf_sampler_reset(s1);
    CHECK(zf_sampler_sample(s1, flat) == a[0]);
    /* a new sampler told where the stream stopped continues it */
    CHECK(zf_sampler_draws(s1) == 1);
    zf_sampler *s4 = zf_sampler_new(&p, 64);
    p.seed = 42;
    zf_sampler *s5 = zf_sampler_new(&p, 64);
    zf_sampler_set_draws(s5, 20);
    for (int i = 20; i < 32; i++) CHECK(zf_sampler_sample(s5, flat) == a[i]);
    CHECK(zf_sampler_draws(s5) == 32);
    zf_sampler_free(s4);
    zf_sampler_free(s5);
    zf_sampler_free(s1);
    zf_sampler_free(s2);
    zf_sampler_free(s3);

    /* NaN and -inf logits are skipped; all of them is an error */
    float bad[3] = {NAN, -INFINITY, 0.5f};
    s = zf_sampler_new(&p, 3);
    CHECK(zf_sampler_sample(s, bad) == 2);
    float none[2] = {NAN, -INFINITY};
    zf_sampler_free(s);
    s = zf_sampler_new(&p, 2);
    CHECK(zf_sampler_sample(s, none) == -1 && zf_last_status() == ZF_ERR_INVALID_ARG);
    CHECK(zf_sampler_sample(s, NULL) == -1);
    zf_sampler_free(s);

    /* invalid parameters */
    p = plain(1.0f);
    p.top_p = 0.0f;
    CHECK(zf_sampler_new(&p, 10) == NULL);
    p = plain(1.0f);
    p.min_p = 1.5f;
    CHECK(zf_sampler_new(&p, 10) == NULL);
    p = plain(1.0f);
    p.repeat_penalty = 0.0f;
    CHECK(zf_sampler_new(&p, 10) == NULL);
    p = plain(NAN);
    CHECK(zf_sampler_new(&p, 10) == NULL);
    CHECK(zf_sampler_new(NULL, 10) == NULL);
    p = plain(1.0f);
    CHECK(zf_sampler_new(&p, 0) == NULL);
    zf_sampler_free(NULL);
    ZF_TEST_MAIN_END();
}
