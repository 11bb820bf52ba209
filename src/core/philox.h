/* Philox4x32-10 counter-based RNG (Salmon et al., "Parallel random numbers:
 * as easy as 1, 2, 3", SC'11). Output depends only on (key, counter), so any
 * element can be generated independently: the same seed gives the same
 * numbers whatever the thread count or chunking. */
#ifndef ZF_CORE_PHILOX_H
#define ZF_CORE_PHILOX_H

#include <math.h>
#include <stdint.h>

typedef struct {
    uint32_t v[4];
} zf_philox_out;

static inline zf_philox_out zf_philox4x32(uint64_t key, uint64_t ctr_lo, uint64_t ctr_hi) {
    uint32_t k0 = (uint32_t)key, k1 = (uint32_t)(key >> 32);
    uint32_t c0 = (uint32_t)ctr_lo, c1 = (uint32_t)(ctr_lo >> 32);
    uint32_t c2 = (uint32_t)ctr_hi, c3 = (uint32_t)(ctr_hi >> 32);
    for (int r = 0; r < 10; r++) {
        uint64_t p0 = (uint64_t)0xD2511F53u * c0;
        uint64_t p1 = (uint64_t)0xCD9E8D57u * c2;
        uint32_t n0 = (uint32_t)(p1 >> 32) ^ c1 ^ k0;
        uint32_t n1 = (uint32_t)p1;
        uint32_t n2 = (uint32_t)(p0 >> 32) ^ c3 ^ k1;
        uint32_t n3 = (uint32_t)p0;
        c0 = n0;
        c1 = n1;
        c2 = n2;
        c3 = n3;
        k0 += 0x9E3779B9u;
        k1 += 0xBB67AE85u;
    }
    zf_philox_out o = {{c0, c1, c2, c3}};
    return o;
}

/* Uniform in [0, 1) with 53 random bits from two words. */
static inline double zf_u01_f64(uint32_t a, uint32_t b) {
    uint64_t x = ((uint64_t)a << 21) ^ (uint64_t)(b >> 11);
    return (double)(x & ((1ull << 53) - 1)) * (1.0 / 9007199254740992.0);
}

/* Element i of the uniform stream (seed, stream). */
static inline double zf_rng_uniform(uint64_t seed, uint64_t stream, uint64_t i) {
    zf_philox_out o = zf_philox4x32(seed, i, stream);
    return zf_u01_f64(o.v[0], o.v[1]);
}

/* Element i of the standard normal stream (Box-Muller on one Philox block). */
static inline double zf_rng_normal(uint64_t seed, uint64_t stream, uint64_t i) {
    zf_philox_out o = zf_philox4x32(seed, i, stream ^ 0x9E3779B97F4A7C15ull);
    double u1 = 1.0 - zf_u01_f64(o.v[0], o.v[1]); /* (0, 1] */
    double u2 = zf_u01_f64(o.v[2], o.v[3]);
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586476925 * u2);
}

#endif
