/* ggml's K-quant super-block formats Q2_K … Q6_K (QK_K = 256 elements).
 *
 * Layouts (ggml-common.h block_q2_K … block_q6_K; d, dmin are f16):
 *   Q2_K  84 B: scales[16], qs[64], d, dmin
 *       16 sub-blocks of 16; scales[s] = scale (low nibble) | min (high nibble);
 *       x = d*(sc&15) * q - dmin*(sc>>4), q 2-bit.
 *   Q3_K 110 B: hmask[32], qs[64], scales[12], d
 *       16 sub-blocks of 16 with 6-bit signed scales (value - 32); q is the
 *       2-bit low part minus 4 when the hmask bit is clear; x = d*sc * q.
 *   Q4_K 144 B: d, dmin, scales[12], qs[128]
 *       8 sub-blocks of 32, 6-bit scale and min each (packed as in
 *       scale_min_k4 below); x = d*sc * q - dmin*m, q 4-bit.
 *   Q5_K 176 B: d, dmin, scales[12], qh[32], qs[128]   as Q4_K with a 5th bit.
 *   Q6_K 210 B: ql[128], qh[64], scales[16] (int8), d  x = d*sc * (q - 32), q 6-bit.
 *
 * Element order inside a super-block (ggml's dequantize_row_*): for Q2_K,
 * Q3_K and Q6_K each half of 128 elements uses 32 bytes of 2-bit fields (or
 * 64 of ql) for four groups of 32 at bit shifts 0, 2, 4, 6; Q4_K/Q5_K take
 * each 32-byte slice of qs for 64 elements, low nibbles first.
 *
 * The quantizers follow llama.cpp's quantize_row_q*_K_ref (no importance
 * matrix): per sub-block scale (and min) searches, then the scales themselves
 * quantized against the f16 super-block scale, then the elements quantized
 * again against the scales as stored. Arithmetic is done in the reference's
 * order so results match an unfused build of ggml. */
#include "formats/quant_internal.h"

#include <math.h>
#include <stdbool.h>

#define GROUP_MAX_EPS 1e-15f /* ggml-quants.c: below this a group counts as all zero */

/* Round to nearest, ties to even, as ggml's nearest_int (float + 1.5*2^23
 * trick) for |v| <= 2^22 - 1; larger values and NaN are clamped first so the
 * result is always defined. */
static inline int nearest_int(float v) {
    if (!(v >= -4194303.0f)) return v != v ? 0 : -4194303;
    if (v > 4194303.0f) return 4194303;
    float t = v + 12582912.0f;
    int32_t i;
    memcpy(&i, &t, 4);
    return (i & 0x007fffff) - 0x00400000;
}

static inline int clampi(int v, int lo, int hi) { return v < lo ? lo : v > hi ? hi : v; }

/* 6-bit scale and min of sub-block j (0..7) of Q4_K/Q5_K's 12 scale bytes:
 * j < 4: scale = s[j] & 63, min = s[j+4] & 63; j >= 4: the low 4 bits are in
 * s[j+4] (scale low nibble, min high nibble), the top 2 bits in the top 2
 * bits of s[j-4] (scale) and s[j] (min). */
static inline void scale_min_k4(int j, const uint8_t *s, uint8_t *sc, uint8_t *m) {
    if (j < 4) {
        *sc = s[j] & 63;
        *m = s[j + 4] & 63;
    } else {
        *sc = (uint8_t)((s[j + 4] & 0x0f) | ((s[j - 4] >> 6) << 4));
        *m = (uint8_t)((s[j + 4] >> 4) | ((s[j] >> 6) << 4));
    }
}

/* The 16 signed 6-bit scales of Q3_K: low 4 bits in the nibbles of s[0..7]
 * (sub-blocks 0..7 low nibbles, 8..15 high nibbles), top 2 bits in
 * s[8 + j%4] at bit 2*(j/4); stored with +32. */
static inline int q3k_scale(const uint8_t *s, int j) {
    int lo = j < 8 ? (s[j] & 0x0f) : (s[j - 8] >> 4);
    int hi = (s[8 + j % 4] >> (2 * (j / 4))) & 3;
    return (lo | (hi << 4)) - 32;
}

/* ---- dequantize ---- */

void zf_dequant_q2_k(const uint8_t *q, float *x, int64_t nb) {
    for (int64_t b = 0; b < nb; b++, q += 84) {
        const uint8_t *scales = q, *qs = q + 16;
        const float d = zf_q_ld_f16(q + 80), dmin = zf_q_ld_f16(q + 82);
        int is = 0;
        for (int half = 0; half < 2; half++, qs += 32) {
            for (int shift = 0; shift < 8; shift += 2) {
                for (int part = 0; part < 2; part++) {
                    const uint8_t sc = scales[is++];
                    const float dl = d * (float)(sc & 0x0f), ml = dmin * (float)(sc >> 4);
                    for (int l = 0; l < 16; l++) *x++ = dl * (float)((qs[l + 16 * part] >> shift) & 3) - ml;
                }
            }
        }
    }
}

void zf_dequant_q3_k(const uint8_t *q, float *x, int64_t nb) {
    for (int64_t b = 0; b < nb; b++, q += 110) {
        const uint8_t *hm = q, *qs = q + 32, *scales = q + 96;
        const float d = zf_q_ld_f16(q + 108);
        int is = 0;
        uint8_t m = 1;
        for (int half = 0; half < 2; half++, qs += 32) {
            for (int shift = 0; shift < 8; shift += 2, m = (uint8_t)(m << 1)) {
                for (int part = 0; part < 2; part++) {
                    const float dl = d * (float)q3k_scale(scales, is++);
                    for (int l = 16 * part; l < 16 * part + 16; l++) {
                        int v = ((qs[l] >> shift) & 3) - ((hm[l] & m) ? 0 : 4);
                        *x++ = dl * (float)v;
                    }
                }
            }
        }
    }
}

void zf_dequant_q4_k(const uint8_t *q, float *x, int64_t nb) {
    for (int64_t b = 0; b < nb; b++, q += 144) {
        const float d = zf_q_ld_f16(q), dmin = zf_q_ld_f16(q + 2);
        const uint8_t *scales = q + 4, *qs = q + 16;
        for (int j = 0; j < 8; j += 2, qs += 32) {
            uint8_t sc, m;
            scale_min_k4(j, scales, &sc, &m);
            const float d1 = d * (float)sc, m1 = dmin * (float)m;
            scale_min_k4(j + 1, scales, &sc, &m);
            const float d2 = d * (float)sc, m2 = dmin * (float)m;
            for (int l = 0; l < 32; l++) *x++ = d1 * (float)(qs[l] & 0x0f) - m1;
            for (int l = 0; l < 32; l++) *x++ = d2 * (float)(qs[l] >> 4) - m2;
        }
    }
}

void zf_dequant_q5_k(const uint8_t *q, float *x, int64_t nb) {
    for (int64_t b = 0; b < nb; b++, q += 176) {
        const float d = zf_q_ld_f16(q), dmin = zf_q_ld_f16(q + 2);
        const uint8_t *scales = q + 4, *qh = q + 16, *qs = q + 48;
        uint8_t u1 = 1, u2 = 2;
        for (int j = 0; j < 8; j += 2, qs += 32, u1 = (uint8_t)(u1 << 2), u2 = (uint8_t)(u2 << 2)) {
            uint8_t sc, m;
            scale_min_k4(j, scales, &sc, &m);
            const float d1 = d * (float)sc, m1 = dmin * (float)m;
            scale_min_k4(j + 1, scales, &sc, &m);
            const float d2 = d * (float)sc, m2 = dmin * (float)m;
            for (int l = 0; l < 32; l++) *x++ = d1 * (float)((qs[l] & 0x0f) + (qh[l] & u1 ? 16 : 0)) - m1;
            for (int l = 0; l < 32; l++) *x++ = d2 * (float)((qs[l] >> 4) + (qh[l] & u2 ? 16 : 0)) - m2;
        }
    }
}

void zf_dequant_q6_k(const uint8_t *q, float *x, int64_t nb) {
    for (int64_t b = 0; b < nb; b++, q += 210) {
        const uint8_t *ql = q, *qh = q + 128;
        const int8_t *sc = (const int8_t *)(q + 192);
        const float d = zf_q_ld_f16(q + 208);
        for (int half = 0; half < 2; half++, x += 128, ql += 64, qh += 32, sc += 8) {
            for (int l = 0; l < 32; l++) {
                const int is = l / 16;
                const int q1 = ((ql[l] & 0x0f) | (((qh[l] >> 0) & 3) << 4)) - 32;
                const int q2 = ((ql[l + 32] & 0x0f) | (((qh[l] >> 2) & 3) << 4)) - 32;
                const int q3 = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
                const int q4 = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
                x[l] = d * (float)sc[is] * (float)q1;
                x[l + 32] = d * (float)sc[is + 2] * (float)q2;
                x[l + 64] = d * (float)sc[is + 4] * (float)q3;
                x[l + 96] = d * (float)sc[is + 6] * (float)q4;
            }
        }
    }
}

/* ---- scale searches (llama.cpp make_qx_quants, make_q3_quants, make_qkx2_quants) ---- */

/* Symmetric scale for n values with levels -nmax..nmax-1, weights x^2:
 * start from scale = -max/nmax, then try 18 nearby scales, keeping the one
 * that maximizes (sum w x l)^2 / sum w l^2. L gets l + nmax. */
static float search_sym(int n, int nmax, const float *x, int8_t *L) {
    float max = 0.0f, amax = 0.0f;
    for (int i = 0; i < n; i++) {
        float ax = fabsf(x[i]);
        if (ax > amax) {
            amax = ax;
            max = x[i];
        }
    }
    if (amax < GROUP_MAX_EPS) {
        memset(L, 0, (size_t)n);
        return 0.0f;
    }
    float iscale = (float)-nmax / max;
    float sumlx = 0.0f, suml2 = 0.0f;
    for (int i = 0; i < n; i++) {
        int l = clampi(nearest_int(iscale * x[i]), -nmax, nmax - 1);
        L[i] = (int8_t)(l + nmax);
        float w = x[i] * x[i];
        sumlx += w * x[i] * (float)l;
        suml2 += w * (float)l * (float)l;
    }
    float scale = suml2 != 0.0f ? sumlx / suml2 : 0.0f;
    float best = scale * sumlx;
    for (int is = -9; is <= 9; is++) {
        if (is == 0) continue;
        iscale = -((float)nmax + 0.1f * (float)is) / max;
        sumlx = suml2 = 0.0f;
        for (int i = 0; i < n; i++) {
            int l = clampi(nearest_int(iscale * x[i]), -nmax, nmax - 1);
            float w = x[i] * x[i];
            sumlx += w * x[i] * (float)l;
            suml2 += w * (float)l * (float)l;
        }
        if (suml2 > 0.0f && sumlx * sumlx > best * suml2) {
            for (int i = 0; i < n; i++)
                L[i] = (int8_t)(nmax + clampi(nearest_int(iscale * x[i]), -nmax, nmax - 1));
            scale = sumlx / suml2;
            best = scale * sumlx;
        }
    }
    return scale;
}

/* Symmetric scale for Q3_K (levels -nmax..nmax-1, weights x^2) refined by up
 * to 5 passes of coordinate descent on single levels. L gets l + nmax. */
static float search_q3(int n, int nmax, const float *x, int8_t *L) {
    float max = 0.0f, amax = 0.0f;
    for (int i = 0; i < n; i++) {
        float ax = fabsf(x[i]);
        if (ax > amax) {
            amax = ax;
            max = x[i];
        }
    }
    if (amax < GROUP_MAX_EPS) {
        memset(L, 0, (size_t)n);
        return 0.0f;
    }
    const float iscale = (float)-nmax / max;
    float sumlx = 0.0f, suml2 = 0.0f;
    for (int i = 0; i < n; i++) {
        int l = clampi(nearest_int(iscale * x[i]), -nmax, nmax - 1);
        L[i] = (int8_t)l;
        float w = x[i] * x[i];
        sumlx += w * x[i] * (float)l;
        suml2 += w * (float)l * (float)l;
    }
    for (int itry = 0; itry < 5; itry++) {
        int n_changed = 0;
        for (int i = 0; i < n; i++) {
            float w = x[i] * x[i];
            float slx = sumlx - w * x[i] * (float)L[i];
            if (slx > 0.0f) {
                float sl2 = suml2 - w * (float)L[i] * (float)L[i];
                int new_l = clampi(nearest_int(x[i] * sl2 / slx), -nmax, nmax - 1);
                if (new_l != L[i]) {
                    slx += w * x[i] * (float)new_l;
                    sl2 += w * (float)new_l * (float)new_l;
                    if (sl2 > 0.0f && slx * slx * suml2 > sumlx * sumlx * sl2) {
                        L[i] = (int8_t)new_l;
                        sumlx = slx;
                        suml2 = sl2;
                        n_changed++;
                    }
                }
            }
        }
        if (!n_changed) break;
    }
    for (int i = 0; i < n; i++) L[i] = (int8_t)(L[i] + nmax);
    return suml2 > 0.0f ? sumlx / suml2 : 0.0f;
}

/* Affine fit x ~ scale * l + min (min <= 0) with levels 0..nmax and the given
 * weights: start from the min/max grid, then try nstep+1 scales
 * (rmin + rdelta*is + nmax) / (max - min), solving weighted least squares for
 * scale and min at each, keeping the lowest weighted error (abs when use_mad).
 * Returns the scale; *neg_min = -min. Laux is scratch of n bytes. */
static float search_affine(int n, int nmax, const float *x, const float *weights, uint8_t *L, float *neg_min,
                           uint8_t *Laux, float rmin, float rdelta, int nstep, bool use_mad) {
    float min = x[0], max = x[0];
    float sum_w = weights[0];
    float sum_x = sum_w * x[0];
    for (int i = 1; i < n; i++) {
        if (x[i] < min) min = x[i];
        if (x[i] > max) max = x[i];
        float w = weights[i];
        sum_w += w;
        sum_x += w * x[i];
    }
    if (min > 0.0f) min = 0.0f;
    if (max == min) {
        memset(L, 0, (size_t)n);
        *neg_min = -min;
        return 0.0f;
    }
    float iscale = (float)nmax / (max - min);
    float scale = 1.0f / iscale;
    float best_error = 0.0f;
    for (int i = 0; i < n; i++) {
        int l = nearest_int(iscale * (x[i] - min));
        L[i] = (uint8_t)clampi(l, 0, nmax);
        float diff = scale * (float)L[i] + min - x[i];
        diff = use_mad ? fabsf(diff) : diff * diff;
        best_error += weights[i] * diff;
    }
    for (int is = 0; is <= nstep; is++) {
        iscale = (rmin + rdelta * (float)is + (float)nmax) / (max - min);
        float sum_l = 0.0f, sum_l2 = 0.0f, sum_xl = 0.0f;
        for (int i = 0; i < n; i++) {
            int l = clampi(nearest_int(iscale * (x[i] - min)), 0, nmax);
            Laux[i] = (uint8_t)l;
            float w = weights[i];
            sum_l += w * (float)l;
            sum_l2 += w * (float)l * (float)l;
            sum_xl += w * (float)l * x[i];
        }
        float D = sum_w * sum_l2 - sum_l * sum_l;
        if (D > 0.0f) {
            float this_scale = (sum_w * sum_xl - sum_x * sum_l) / D;
            float this_min = (sum_l2 * sum_x - sum_l * sum_xl) / D;
            if (this_min > 0.0f) {
                this_min = 0.0f;
                this_scale = sum_xl / sum_l2;
            }
            float cur_error = 0.0f;
            for (int i = 0; i < n; i++) {
                float diff = this_scale * (float)Laux[i] + this_min - x[i];
                diff = use_mad ? fabsf(diff) : diff * diff;
                cur_error += weights[i] * diff;
            }
            if (cur_error < best_error) {
                memcpy(L, Laux, (size_t)n);
                best_error = cur_error;
                scale = this_scale;
                min = this_min;
            }
        }
    }
    *neg_min = -min;
    return scale;
}

/* Packs 256 2-bit values: byte half*32 + l holds elements half*128 + l + 32*k
 * at bits 2k (k = 0..3). */
static void pack_2bit(const uint8_t *L, uint8_t *qs) {
    for (int half = 0; half < 2; half++) {
        const uint8_t *Lh = L + 128 * half;
        for (int l = 0; l < 32; l++)
            qs[32 * half + l] = (uint8_t)(Lh[l] | (Lh[l + 32] << 2) | (Lh[l + 64] << 4) | (Lh[l + 96] << 6));
    }
}

/* ---- quantize (llama.cpp quantize_row_q*_K_ref) ---- */

void zf_quant_q2_k(const float *x, uint8_t *q, int64_t nb) {
    uint8_t L[ZF_QK_K], Laux[16];
    float weights[16], mins[16], scales[16];
    const float q4scale = 15.0f;
    for (int64_t b = 0; b < nb; b++, x += ZF_QK_K, q += 84) {
        uint8_t *sc = q, *qs = q + 16;
        float max_scale = 0.0f, max_min = 0.0f;
        for (int j = 0; j < 16; j++) {
            for (int l = 0; l < 16; l++) weights[l] = fabsf(x[16 * j + l]);
            scales[j] = search_affine(16, 3, x + 16 * j, weights, L + 16 * j, &mins[j], Laux, -0.5f, 0.1f, 15, true);
            if (scales[j] > max_scale) max_scale = scales[j];
            if (mins[j] > max_min) max_min = mins[j];
        }
        if (max_scale > 0.0f) {
            const float iscale = q4scale / max_scale;
            for (int j = 0; j < 16; j++) sc[j] = (uint8_t)nearest_int(iscale * scales[j]);
            zf_q_st_f16(q + 80, max_scale / q4scale);
        } else {
            memset(sc, 0, 16);
            zf_q_st_f16(q + 80, 0.0f);
        }
        if (max_min > 0.0f) {
            const float iscale = q4scale / max_min;
            for (int j = 0; j < 16; j++) sc[j] = (uint8_t)(sc[j] | (nearest_int(iscale * mins[j]) << 4));
            zf_q_st_f16(q + 82, max_min / q4scale);
        } else {
            zf_q_st_f16(q + 82, 0.0f);
        }
        const float dq = zf_q_ld_f16(q + 80), mq = zf_q_ld_f16(q + 82);
        for (int j = 0; j < 16; j++) {
            const float d = dq * (float)(sc[j] & 0x0f);
            if (d == 0.0f) continue;
            const float dm = mq * (float)(sc[j] >> 4);
            for (int i = 0; i < 16; i++)
                L[16 * j + i] = (uint8_t)clampi(nearest_int((x[16 * j + i] + dm) / d), 0, 3);
        }
        pack_2bit(L, qs);
    }
}

void zf_quant_q3_k(const float *x, uint8_t *q, int64_t nb) {
    int8_t L[ZF_QK_K];
    float scales[16];
    for (int64_t b = 0; b < nb; b++, x += ZF_QK_K, q += 110) {
        uint8_t *hmask = q, *qs = q + 32, *sc = q + 96;
        float max_scale = 0.0f, amax = 0.0f;
        for (int j = 0; j < 16; j++) {
            scales[j] = search_q3(16, 4, x + 16 * j, L + 16 * j);
            float a = fabsf(scales[j]);
            if (a > amax) {
                amax = a;
                max_scale = scales[j];
            }
        }
        memset(sc, 0, 12);
        if (max_scale != 0.0f) {
            const float iscale = -32.0f / max_scale;
            for (int j = 0; j < 16; j++) {
                int l = clampi(nearest_int(iscale * scales[j]), -32, 31) + 32;
                if (j < 8) sc[j] = (uint8_t)(l & 0x0f);
                else sc[j - 8] = (uint8_t)(sc[j - 8] | ((l & 0x0f) << 4));
                sc[8 + j % 4] = (uint8_t)(sc[8 + j % 4] | ((l >> 4) << (2 * (j / 4))));
            }
            zf_q_st_f16(q + 108, 1.0f / iscale);
        } else {
            zf_q_st_f16(q + 108, 0.0f);
        }
        const float dq = zf_q_ld_f16(q + 108);
        for (int j = 0; j < 16; j++) {
            const float d = dq * (float)q3k_scale(sc, j);
            if (d == 0.0f) continue;
            for (int i = 0; i < 16; i++) L[16 * j + i] = (int8_t)(clampi(nearest_int(x[16 * j + i] / d), -4, 3) + 4);
        }
        /* high bit (value > 3) of element j goes to hmask[j % 32] bit j / 32 */
        memset(hmask, 0, 32);
        uint8_t low[ZF_QK_K];
        for (int j = 0; j < ZF_QK_K; j++) {
            int v = L[j];
            if (v > 3) {
                hmask[j % 32] = (uint8_t)(hmask[j % 32] | (1u << (j / 32)));
                v -= 4;
            }
            low[j] = (uint8_t)v;
        }
        pack_2bit(low, qs);
    }
}

/* Writes the 6-bit scale ls and min lm of sub-block j (inverse of scale_min_k4). */
static void put_scale_min_k4(uint8_t *s, int j, uint8_t ls, uint8_t lm) {
    if (j < 4) {
        s[j] = ls;
        s[j + 4] = lm;
    } else {
        s[j + 4] = (uint8_t)((ls & 0x0f) | ((lm & 0x0f) << 4));
        s[j - 4] = (uint8_t)(s[j - 4] | ((ls >> 4) << 6));
        s[j] = (uint8_t)(s[j] | ((lm >> 4) << 6));
    }
}

/* Shared by Q4_K (nmax 15) and Q5_K (nmax 31): fills L[256] with levels,
 * the f16 d, dmin and the 12 scale bytes at q (layout offsets 0, 2, 4). */
static void quant_k_affine(const float *x, uint8_t *q, uint8_t *L, int nmax, float rmin, float rdelta, int nstep) {
    uint8_t Laux[32];
    float weights[32], mins[8], scales[8];
    uint8_t *sc = q + 4;
    float max_scale = 0.0f, max_min = 0.0f;
    for (int j = 0; j < 8; j++) {
        const float *xs = x + 32 * j;
        float sum_x2 = 0.0f;
        for (int l = 0; l < 32; l++) sum_x2 += xs[l] * xs[l];
        const float av_x = sqrtf(sum_x2 / 32);
        for (int l = 0; l < 32; l++) weights[l] = av_x + fabsf(xs[l]);
        scales[j] = search_affine(32, nmax, xs, weights, L + 32 * j, &mins[j], Laux, rmin, rdelta, nstep, false);
        if (scales[j] > max_scale) max_scale = scales[j];
        if (mins[j] > max_min) max_min = mins[j];
    }
    const float inv_scale = max_scale > 0.0f ? 63.0f / max_scale : 0.0f;
    const float inv_min = max_min > 0.0f ? 63.0f / max_min : 0.0f;
    for (int j = 0; j < 8; j++) {
        uint8_t ls = (uint8_t)nearest_int(inv_scale * scales[j]); /* wraps like ggml's uint8_t store */
        uint8_t lm = (uint8_t)nearest_int(inv_min * mins[j]);
        put_scale_min_k4(sc, j, ls < 63 ? ls : 63, lm < 63 ? lm : 63);
    }
    zf_q_st_f16(q, max_scale / 63.0f);
    zf_q_st_f16(q + 2, max_min / 63.0f);
    const float dq = zf_q_ld_f16(q), mq = zf_q_ld_f16(q + 2);
    for (int j = 0; j < 8; j++) {
        uint8_t s, m;
        scale_min_k4(j, sc, &s, &m);
        const float d = dq * (float)s;
        if (d == 0.0f) continue;
        const float dm = mq * (float)m;
        for (int i = 0; i < 32; i++) L[32 * j + i] = (uint8_t)clampi(nearest_int((x[32 * j + i] + dm) / d), 0, nmax);
    }
}

void zf_quant_q4_k(const float *x, uint8_t *q, int64_t nb) {
    uint8_t L[ZF_QK_K];
    for (int64_t b = 0; b < nb; b++, x += ZF_QK_K, q += 144) {
        memset(q + 4, 0, 12);
        quant_k_affine(x, q, L, 15, -1.0f, 0.1f, 20);
        uint8_t *qs = q + 16; /* 32-byte slice k: elements 64k + l (low), 64k + 32 + l (high) */
        for (int k = 0; k < 4; k++)
            for (int l = 0; l < 32; l++) qs[32 * k + l] = (uint8_t)(L[64 * k + l] | (L[64 * k + 32 + l] << 4));
    }
}

void zf_quant_q5_k(const float *x, uint8_t *q, int64_t nb) {
    uint8_t L[ZF_QK_K];
    for (int64_t b = 0; b < nb; b++, x += ZF_QK_K, q += 176) {
        memset(q + 4, 0, 12);
        quant_k_affine(x, q, L, 31, -0.5f, 0.1f, 15);
        uint8_t *qh = q + 16, *qs = q + 48;
        memset(qh, 0, 32);
        /* as Q4_K, with bit 4 of elements 64k + l and 64k + 32 + l in qh[l]
         * bits 2k and 2k + 1 */
        for (int k = 0; k < 4; k++) {
            for (int l = 0; l < 32; l++) {
                int l1 = L[64 * k + l], l2 = L[64 * k + 32 + l];
                if (l1 > 15) {
                    l1 -= 16;
                    qh[l] = (uint8_t)(qh[l] | (1u << (2 * k)));
                }
                if (l2 > 15) {
                    l2 -= 16;
                    qh[l] = (uint8_t)(qh[l] | (2u << (2 * k)));
                }
                qs[32 * k + l] = (uint8_t)(l1 | (l2 << 4));
            }
        }
    }
}

void zf_quant_q6_k(const float *x, uint8_t *q, int64_t nb) {
    int8_t L[ZF_QK_K];
    float scales[16];
    for (int64_t b = 0; b < nb; b++, x += ZF_QK_K, q += 210) {
        uint8_t *ql = q, *qh = q + 128;
        int8_t sc[16];
        float max_scale = 0.0f, max_abs_scale = 0.0f;
        for (int j = 0; j < 16; j++) {
            scales[j] = search_sym(16, 32, x + 16 * j, L + 16 * j);
            float a = fabsf(scales[j]);
            if (a > max_abs_scale) {
                max_abs_scale = a;
                max_scale = scales[j];
            }
        }
        if (max_abs_scale < GROUP_MAX_EPS) {
            memset(q, 0, 210);
            continue;
        }
        const float iscale = -128.0f / max_scale;
        zf_q_st_f16(q + 208, 1.0f / iscale);
        for (int j = 0; j < 16; j++) sc[j] = (int8_t)clampi(nearest_int(iscale * scales[j]), -128, 127);
        memcpy(q + 192, sc, 16);
        const float dq = zf_q_ld_f16(q + 208);
        for (int j = 0; j < 16; j++) {
            const float d = dq * (float)sc[j];
            if (d == 0.0f) continue;
            for (int i = 0; i < 16; i++) L[16 * j + i] = (int8_t)(clampi(nearest_int(x[16 * j + i] / d), -32, 31) + 32);
        }
        /* per half of 128: ql[l] = low nibbles of elements l (low) and l+64
         * (high), ql[l+32] of l+32 and l+96; qh[l] = their top 2 bits at
         * shifts 0, 2, 4, 6 for l, l+32, l+64, l+96 */
        for (int half = 0; half < 2; half++, ql += 64, qh += 32) {
            const int8_t *Lh = L + 128 * half;
            for (int l = 0; l < 32; l++) {
                ql[l] = (uint8_t)((Lh[l] & 0x0f) | ((Lh[l + 64] & 0x0f) << 4));
                ql[l + 32] = (uint8_t)((Lh[l + 32] & 0x0f) | ((Lh[l + 96] & 0x0f) << 4));
                qh[l] = (uint8_t)((Lh[l] >> 4) | ((Lh[l + 32] >> 4) << 2) | ((Lh[l + 64] >> 4) << 4) |
                                  ((Lh[l + 96] >> 4) << 6));
            }
        }
    }
}
