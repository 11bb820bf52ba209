/* The K-type TILED, GEMM and GEMV bodies and the kernel table shared by the
 * x86 kernel sets (qdot_avx2.c, qdot_avx512.c). The includer first includes
 * qdot_x86.h and defines: kdec (a decoded super-block with sb16, dA, dB),
 * kdecode, KVEC (its integer partial vector), kpart(D, g0, g1, xs) (the
 * sa-weighted partial sums of 32-element groups [g0, g1), g0 and g1 even,
 * against the x groups at xs), kred8 (lane k = the total of v[k]) (or its
 * own k8rows_body, defining QDOT_OWN_K8ROWS), and the
 * R (the most rows per call) and the bodies vec32_body, veck_body,
 * dotf_row, q40_totals. */
#ifndef ZF_ENGINE_CPU_QDOT_X86_RECIPES_H
#define ZF_ENGINE_CPU_QDOT_X86_RECIPES_H

#ifndef QDOT_OWN_K8ROWS /* the includer may bring its own */
/* TILED and GEMM of repacked q4_K/q2_K (steps of 64 / 128 elements): lanes =
 * 8 x rows, one weight row at a time. */
INL void k8rows_body(zf_dtype t, zf_qmm_recipe rc, int64_t K, const uint8_t *w, size_t ws, int nw,
                     const uint8_t *qx, int64_t qxs, int nr, float *y, int64_t ys) {
    const int64_t nb = K / 256;
    const uint8_t *xr[8];
    rows8(qx, qxs, nr, xr);
    __m256 A[ZF_QDOT_MAX_W], B[ZF_QDOT_MAX_W];
    for (int i = 0; i < nw; i++) A[i] = B[i] = _mm256_setzero_ps();
    const int step = rc == ZF_QR_TILED ? 8 : t == ZF_Q4_K ? 2 : 4; /* groups per FMA */
    for (int64_t b = 0; b < nb; b++) {
        kx8 X;
        kx8_load(xr, K, b, &X);
        for (int i = 0; i < nw; i++) {
            kdec D;
            kdecode(t, w + i * ws + (size_t)b * bszk(t), &D);
            __m256i mT[8];
#pragma GCC unroll 8
            for (int p = 0; p < 8; p++) mT[p] = kmin_pair(D.sb16, &X, p);
            const __m256 ca = _mm256_mul_ps(_mm256_set1_ps(D.dA), X.dx);
            const __m256 cb = _mm256_mul_ps(_mm256_set1_ps(D.dB), X.dx);
            for (int g0 = 0; g0 < 8; g0 += step) {
                KVEC s[8];
#pragma GCC unroll 8
                for (int r = 0; r < 8; r++) s[r] = kpart(&D, g0, g0 + step, xr[r] + 256 * b);
                __m256i SB = mT[g0];
                for (int p = g0 + 1; p < g0 + step; p++) SB = _mm256_add_epi32(SB, mT[p]);
                if (rc == ZF_QR_TILED) {
                    A[i] = tiled_step(t, kred8(s), SB, D.dA, D.dB, X.dx, A[i]);
                } else {
                    A[i] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(kred8(s)), ca, A[i]);
                    B[i] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(SB), cb, B[i]);
                }
            }
        }
    }
    for (int i = 0; i < nw; i++) store8(rc == ZF_QR_TILED ? A[i] : _mm256_sub_ps(A[i], B[i]), nr, y + i, ys);
}
#endif

/* GEMV of repacked q4_K/q2_K: per block A = fma(SA, dA * dx, A), B =
 * fma(SB, dB * dx, B), y = A - B. Lanes = 8 weight rows, one pass per x row. */
INL void kgemv_body(zf_dtype t, int64_t K, const uint8_t *w, size_t ws, int nw, const uint8_t *qx, int64_t qxs,
                    int nr, float *y, int64_t ys) {
    const int64_t nb = K / 256;
    const size_t od = zf_qx_d_offset(K), obs = zf_qx_bsums_offset(K);
    const uint8_t *wr[8];
    rows8(w, (int64_t)ws, nw, wr);
    /* prefetch the rows two calls ahead (contiguous, ws apart), spread over the first x row's blocks */
    const size_t span = (size_t)nw * ws, pstep = (span / (size_t)nb + 63) & ~(size_t)63;
    const uint8_t *pf = w + 2 * span;
    for (int r = 0; r < nr; r++) {
        const uint8_t *row = qx + r * qxs;
        __m256 A = _mm256_setzero_ps(), B = _mm256_setzero_ps();
        for (int64_t b = 0; b < nb; b++) {
            if (r == 0)
                for (size_t o = 0; o < pstep; o += 64) _mm_prefetch((const char *)pf + b * pstep + o, _MM_HINT_T0);
            const __m256i bs16 = ld256(row + obs + 32 * b);
            KVEC s[8];
            __m256i mp[8];
            float dA[8], dB[8];
            for (int i = 0; i < 8; i++) {
                kdec D;
                kdecode(t, wr[i] + (size_t)b * bszk(t), &D);
                s[i] = kpart(&D, 0, 8, row + 256 * b);
                mp[i] = _mm256_madd_epi16(D.sb16, bs16);
                dA[i] = D.dA;
                dB[i] = D.dB;
            }
            const __m256 dx = _mm256_set1_ps(ld_f32(row + od + 4 * b));
            A = _mm256_fmadd_ps(_mm256_cvtepi32_ps(kred8(s)), _mm256_mul_ps(_mm256_loadu_ps(dA), dx), A);
            B = _mm256_fmadd_ps(_mm256_cvtepi32_ps(red8y_hadd(mp)), _mm256_mul_ps(_mm256_loadu_ps(dB), dx), B);
        }
        store8(_mm256_sub_ps(A, B), nw, y + r * ys, 1);
    }
}

/* GEMV and GEMM of repacked q4_0 (ggml_gemv/gemm_q4_0_8x8_q8_0): per block
 * acc = fma(S, dw * dx, acc), S the whole block sum.
 * Lanes = the 8 weight rows; one pass per x row. */
INL void rp_q40_body(int64_t K, const uint8_t *w, size_t ws, int nw, const uint8_t *qx, int64_t qxs, int nr,
                     float *y, int64_t ys) {
    const int64_t nb = K / 32;
    const size_t od = zf_qx_d_offset(K);
    const uint8_t *wr[8];
    rows8(w, (int64_t)ws, nw, wr);
    for (int r = 0; r < nr; r++) {
        const uint8_t *row = qx + r * qxs;
        __m256 acc = _mm256_setzero_ps();
        for (int64_t b = 0; b < nb; b++) {
            const size_t o = 18 * (size_t)b;
            const __m256 d = _mm256_mul_ps(f16_8(wr, o), _mm256_set1_ps(ld_f32(row + od + 4 * b)));
            acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(q40_totals(wr, o, row + 32 * b)), d, acc);
        }
        store8(acc, nw, y + r * ys, 1);
    }
}

/* ---- entry points and the kernel table ---- */

INL void dotf_body(zf_dtype t, int64_t K, const uint8_t *w, size_t ws, int nw, const uint8_t *qx, int64_t qxs,
                   int nr, float *y, int64_t ys) {
    for (int i = 0; i < nw; i++) dotf_row(t, K, w + i * ws, qx, qxs, nr, y + i, ys);
}

#define QDOT_ARGS QDOT_ARGS_DECL
/* nr dispatched to bodies with a constant row count, at most maxr (cases
 * past maxr are never taken: qmatmul.c passes nr <= max_rows) */
#define QDOT_CASE(n, body, t, maxr) \
    case n: body(t, K, w, ws, nw, qx, qxs, (n) <= (maxr) ? (n) : 1, y, ys); break;
#define QDOT_DISPATCH(body, t, maxr)                                                                 \
    switch (nr < (maxr) ? nr : (maxr)) {                                                             \
        QDOT_CASE(1, body, t, maxr) QDOT_CASE(2, body, t, maxr) QDOT_CASE(3, body, t, maxr)          \
        QDOT_CASE(4, body, t, maxr) QDOT_CASE(5, body, t, maxr) QDOT_CASE(6, body, t, maxr)          \
        QDOT_CASE(7, body, t, maxr) default: body(t, K, w, ws, nw, qx, qxs, maxr, y, ys); break;     \
    }
#define ENTRY_NR(name, body, t) \
    TGT static void name(QDOT_ARGS) { QDOT_DISPATCH(body, t, R) }
/* float weights: at most ZF_QDOT_MAX_ROWS_F32 rows */
#define QDOT_MAX_F (R < ZF_QDOT_MAX_ROWS_F32 ? R : ZF_QDOT_MAX_ROWS_F32)
#define ENTRY_F(name, t) \
    TGT static void name(QDOT_ARGS) { QDOT_DISPATCH(dotf_body, t, QDOT_MAX_F) }
#define QDOT_K8(name, t, rc) \
    TGT static void name(QDOT_ARGS) { k8rows_body(t, rc, K, w, ws, nw, qx, qxs, nr, y, ys); }
#define QDOT_KGEMV(name, t) \
    TGT static void name(QDOT_ARGS) { kgemv_body(t, K, w, ws, nw, qx, qxs, nr, y, ys); }

#ifndef QDOT_GEMM_Q4_0 /* the includer may bring its own q4_0 GEMM */
#define QDOT_GEMM_Q4_0 rp_q4_0
#endif
#define QDOT_X86_KERNELS(var, nm, sup, rows, rows_k8)                                                           \
    ENTRY_NR(vec_q4_0, vec32_body, ZF_Q4_0)                                                                       \
    ENTRY_NR(vec_q4_1, vec32_body, ZF_Q4_1)                                                                       \
    ENTRY_NR(vec_q5_0, vec32_body, ZF_Q5_0)                                                                       \
    ENTRY_NR(vec_q5_1, vec32_body, ZF_Q5_1)                                                                       \
    ENTRY_NR(vec_q8_0, vec32_body, ZF_Q8_0)                                                                       \
    TGT static void rp_q4_0(QDOT_ARGS) { rp_q40_body(K, w, ws, nw, qx, qxs, nr, y, ys); }                        \
    ENTRY_NR(vec_q2_k, veck_body, ZF_Q2_K)                                                                        \
    ENTRY_NR(vec_q3_k, veck_body, ZF_Q3_K)                                                                        \
    ENTRY_NR(vec_q4_k, veck_body, ZF_Q4_K)                                                                        \
    ENTRY_NR(vec_q5_k, veck_body, ZF_Q5_K)                                                                        \
    ENTRY_NR(vec_q6_k, veck_body, ZF_Q6_K)                                                                        \
    QDOT_K8(tiled_q2_k, ZF_Q2_K, ZF_QR_TILED)                                                                     \
    QDOT_K8(tiled_q3_k, ZF_Q3_K, ZF_QR_TILED)                                                                     \
    QDOT_K8(tiled_q4_k, ZF_Q4_K, ZF_QR_TILED)                                                                     \
    QDOT_K8(tiled_q5_k, ZF_Q5_K, ZF_QR_TILED)                                                                     \
    QDOT_K8(tiled_q6_k, ZF_Q6_K, ZF_QR_TILED)                                                                     \
    QDOT_K8(gemm_q2_k, ZF_Q2_K, ZF_QR_GEMM)                                                                       \
    QDOT_K8(gemm_q4_k, ZF_Q4_K, ZF_QR_GEMM)                                                                       \
    QDOT_KGEMV(gemv_q2_k, ZF_Q2_K)                                                                                \
    QDOT_KGEMV(gemv_q4_k, ZF_Q4_K)                                                                                \
    ENTRY_F(dot_f32, ZF_F32)                                                                                      \
    ENTRY_F(dot_f16, ZF_F16)                                                                                      \
    ENTRY_F(dot_bf16, ZF_BF16)                                                                                    \
    const zf_qkernels var = {                                                                                     \
        .name = nm,                                                                                               \
        .supported = sup,                                                                                         \
        .max_rows = rows,                                                                                         \
        .max_rows_k8 = rows_k8,                                                                                   \
        .dot =                                                                                                    \
            {                                                                                                     \
                [ZF_QR_VEC] = {[ZF_F32] = dot_f32, [ZF_F16] = dot_f16, [ZF_BF16] = dot_bf16,                      \
                               [ZF_Q4_0] = vec_q4_0, [ZF_Q4_1] = vec_q4_1, [ZF_Q5_0] = vec_q5_0,                  \
                               [ZF_Q5_1] = vec_q5_1, [ZF_Q8_0] = vec_q8_0, [ZF_Q2_K] = vec_q2_k,                  \
                               [ZF_Q3_K] = vec_q3_k, [ZF_Q4_K] = vec_q4_k, [ZF_Q5_K] = vec_q5_k,                  \
                               [ZF_Q6_K] = vec_q6_k},                                                             \
                [ZF_QR_TILED] = {[ZF_Q2_K] = tiled_q2_k, [ZF_Q3_K] = tiled_q3_k, [ZF_Q4_K] = tiled_q4_k,          \
                                 [ZF_Q5_K] = tiled_q5_k, [ZF_Q6_K] = tiled_q6_k},                                 \
                [ZF_QR_GEMV] = {[ZF_Q4_0] = rp_q4_0, [ZF_Q2_K] = gemv_q2_k, [ZF_Q4_K] = gemv_q4_k},              \
                [ZF_QR_GEMM] = {[ZF_Q4_0] = QDOT_GEMM_Q4_0, [ZF_Q2_K] = gemm_q2_k, [ZF_Q4_K] = gemm_q4_k},          \
            },                                                                                                    \
    };

#endif
