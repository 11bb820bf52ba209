/* Small f32 matrix products for the convolution kernels (conv_gemm.h).
 *
 * Convolutions multiply a small matrix (the weights of one group: a few
 * output channels) by a wide one (the im2col matrix of one sample). The
 * general blocked gemm packs both operands first, which costs as much as the
 * product at these sizes; these kernels read the operands in place:
 *   nn: C[M, N] = A B with A small (any strides, read as broadcast scalars)
 *       and B row-major; register tile of 6 rows x 16 columns;
 *   nt: C[M, N] = A B^T with A and B row-major along k (dot products);
 *       register tile of 4 x 3 dot products, 8 lanes wide.
 * Written with GCC vector extensions (8 floats) and cloned for AVX-512 and
 * AVX2. Every element is summed in a fixed order that depends only on the
 * shapes, so results are the same whatever the threading around them. */
#include "engine/cpu/conv_gemm.h"

#include <string.h>

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(__SANITIZE_ADDRESS__)
#define ZF_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define ZF_CLONES
#endif

typedef float v8 __attribute__((vector_size(32)));

/* The helpers below are inlined into the cloned kernels; their 32-byte vector
 * arguments never cross a real call, so GCC's ABI note does not apply. */
#pragma GCC diagnostic ignored "-Wpsabi"

static inline v8 ld8(const float *p) {
    v8 v;
    memcpy(&v, p, sizeof v);
    return v;
}
static inline void st8(float *p, v8 v) { memcpy(p, &v, sizeof v); }

#define MR 6
#define NR 16

/* Accumulators of the nn tile live in named variables (an array would be
 * kept in memory): row r uses c<r>0 (columns 0-7) and c<r>1 (8-15). */
#define NN_ROWS(X) X(0) X(1) X(2) X(3) X(4) X(5)
#define NN_DECL(r) v8 c##r##0 = {0}, c##r##1 = {0};
#define NN_FMA(r)                                                                                    \
    {                                                                                                \
        float s = ar[r][k * acs];                                                                    \
        c##r##0 += s * b0;                                                                           \
        c##r##1 += s * b1;                                                                           \
    }
#define NN_STORE(r)                                                                                  \
    if (r < mr) {                                                                                    \
        float *cr = c + (m0 + r) * ldc + n0;                                                         \
        if (accumulate) {                                                                            \
            c##r##0 += ld8(cr);                                                                      \
            c##r##1 += ld8(cr + 8);                                                                  \
        }                                                                                            \
        st8(cr, c##r##0);                                                                            \
        st8(cr + 8, c##r##1);                                                                        \
    }

ZF_CLONES void zf_conv_sgemm_nn(int64_t M, int64_t N, int64_t K, const float *a, int64_t ars, int64_t acs,
                                const float *b, int64_t ldb, float *c, int64_t ldc, bool accumulate) {
    for (int64_t m0 = 0; m0 < M; m0 += MR) {
        int mr = M - m0 < MR ? (int)(M - m0) : MR;
        const float *ar[MR];
        for (int r = 0; r < MR; r++) ar[r] = a + (m0 + (r < mr ? r : mr - 1)) * ars;
        int64_t n0 = 0;
        for (; n0 + NR <= N; n0 += NR) {
            NN_ROWS(NN_DECL)
            const float *bk = b + n0;
            for (int64_t k = 0; k < K; k++, bk += ldb) {
                v8 b0 = ld8(bk), b1 = ld8(bk + 8);
                NN_ROWS(NN_FMA)
            }
            NN_ROWS(NN_STORE)
        }
        for (; n0 < N; n0++) { /* last columns */
            for (int r = 0; r < mr; r++) {
                float s = 0;
                for (int64_t k = 0; k < K; k++) s += ar[r][k * acs] * b[k * ldb + n0];
                float *cr = c + (m0 + r) * ldc + n0;
                *cr = accumulate ? *cr + s : s;
            }
        }
    }
}

static inline float hsum8(v8 v) {
    float s = 0;
    for (int i = 0; i < 8; i++) s += v[i];
    return s;
}

#define TM 4
#define TN 3

/* nt tile: 4 rows of A x 3 rows of B, accumulator d<r><q>. */
#define NT_ROWS(X) X(0) X(1) X(2) X(3)
#define NT_DECL(r) v8 d##r##0 = {0}, d##r##1 = {0}, d##r##2 = {0};
#define NT_FMA(r)                                                                                    \
    {                                                                                                \
        v8 av = ld8(ar[r] + k);                                                                      \
        d##r##0 += av * b0;                                                                          \
        d##r##1 += av * b1;                                                                          \
        d##r##2 += av * b2;                                                                          \
    }
#define NT_STORE(r)                                                                                  \
    if (r < mr) {                                                                                    \
        v8 dd[TN] = {d##r##0, d##r##1, d##r##2};                                                     \
        for (int q = 0; q < nr; q++) {                                                               \
            float s = hsum8(dd[q]);                                                                  \
            for (int64_t k = K8; k < K; k++) s += ar[r][k] * br[q][k];                               \
            float *cr = c + (m0 + r) * ldc + n0 + q;                                                 \
            *cr = accumulate ? *cr + s : s;                                                          \
        }                                                                                            \
    }

ZF_CLONES void zf_conv_sgemm_nt(int64_t M, int64_t N, int64_t K, const float *a, int64_t lda, const float *b,
                                int64_t ldb, float *c, int64_t ldc, bool accumulate) {
    int64_t K8 = K & ~(int64_t)7;
    for (int64_t m0 = 0; m0 < M; m0 += TM) {
        int mr = M - m0 < TM ? (int)(M - m0) : TM;
        const float *ar[TM];
        for (int r = 0; r < TM; r++) ar[r] = a + (m0 + (r < mr ? r : mr - 1)) * lda;
        for (int64_t n0 = 0; n0 < N; n0 += TN) {
            int nr = N - n0 < TN ? (int)(N - n0) : TN;
            const float *br[TN];
            for (int q = 0; q < TN; q++) br[q] = b + (n0 + (q < nr ? q : nr - 1)) * ldb;
            NT_ROWS(NT_DECL)
            for (int64_t k = 0; k < K8; k += 8) {
                v8 b0 = ld8(br[0] + k), b1 = ld8(br[1] + k), b2 = ld8(br[2] + k);
                NT_ROWS(NT_FMA)
            }
            NT_ROWS(NT_STORE)
        }
    }
}
