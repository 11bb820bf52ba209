/* The blocked GEMM driver shared by zf_sgemm and zf_dgemm; see gemm.h.
 *
 * Loop nest of one thread over its region C[m0:m1, n0:n1] (GotoBLAS/BLIS):
 *
 *   for jc in n0..n1 step nc              B panel  op(B)[pc:pc+kc, jc:jc+nc]
 *     for pc in 0..K step kc                packed once, kept in L3/L2
 *       pack B panel -> bbuf  [nc/nr micro-panels of kc x nr]
 *       for ic in m0..m1 step mc          A block  op(A)[ic:ic+mc, pc:pc+kc]
 *         pack A block -> abuf [mc/mr micro-panels of kc x mr], kept in L2
 *         for jr in 0..nc step nr         one B micro-panel, kept in L1
 *           for ir in 0..mc step mr       A micro-panels stream from L2
 *             micro(kc, abuf[ir], bbuf[jr], C[ic+ir, jc+jr], m <= mr, n <= nr)
 *
 * The first kc step applies the caller's beta; later ones accumulate
 * (beta = 1). Threads get disjoint rectangles of C from a tm x tn grid, so no
 * synchronisation is needed inside a call; each thread packs the parts of A
 * and B its rectangle needs into its own cached buffers. */
#include "engine/cpu/gemm.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

/* ---- Per-thread packing buffers ----
 * One cache per thread, grown on demand and kept for the next call. The
 * pointer lives in TLS (fast access, and visible to leak checkers while the
 * thread lives); a pthread key frees it when the thread exits. */

#define ZF_GEMM_ALIGN 4096 /* page aligned: micro-panels never straddle pages oddly */

typedef struct {
    void *buf[2]; /* [0]: packed A block, [1]: packed B panel */
    size_t cap[2];
} gemm_workspace;

static _Thread_local gemm_workspace *tls_ws;
static pthread_key_t ws_key;
static pthread_once_t ws_once = PTHREAD_ONCE_INIT;
static bool ws_key_ok;

static void ws_destroy(void *p) {
    gemm_workspace *ws = p;
    free(ws->buf[0]);
    free(ws->buf[1]);
    free(ws);
}

static void ws_key_init(void) { ws_key_ok = pthread_key_create(&ws_key, ws_destroy) == 0; }

/* Returns this thread's buffers with at least `bytes_a` and `bytes_b` bytes,
 * or NULL when out of memory. Contents are not preserved on growth. */
static gemm_workspace *ws_get(size_t bytes_a, size_t bytes_b) {
    gemm_workspace *ws = tls_ws;
    if (!ws) {
        pthread_once(&ws_once, ws_key_init);
        ws = calloc(1, sizeof *ws);
        if (!ws) return NULL;
        if (ws_key_ok) pthread_setspecific(ws_key, ws);
        tls_ws = ws;
    }
    size_t need[2] = {bytes_a, bytes_b};
    for (int i = 0; i < 2; i++) {
        if (ws->cap[i] >= need[i]) continue;
        size_t cap = (need[i] + ZF_GEMM_ALIGN - 1) / ZF_GEMM_ALIGN * ZF_GEMM_ALIGN;
        void *p = aligned_alloc(ZF_GEMM_ALIGN, cap);
        if (!p) return NULL;
        free(ws->buf[i]);
        ws->buf[i] = p;
        ws->cap[i] = cap;
    }
    return ws;
}

/* ---- CPU features ---- */

bool zf_gemm_isa_supported(zf_gemm_isa isa) {
    switch (isa) {
    case ZF_GEMM_ISA_NONE:
        return true;
#if defined(__x86_64__) || defined(__i386__)
    case ZF_GEMM_ISA_AVX2:
        __builtin_cpu_init();
        return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    case ZF_GEMM_ISA_AVX512:
        __builtin_cpu_init();
        return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
               __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("fma");
#endif
    default:
        return false;
    }
}

/* ---- Argument checks ---- */

zf_status zf_gemm_check_args(const char *who, bool trans_a, bool trans_b, int64_t M, int64_t N,
                             int64_t K, const void *A, int64_t lda, const void *B, int64_t ldb,
                             const void *C, int64_t ldc) {
    if (M < 0 || N < 0 || K < 0)
        return zf_set_error(ZF_ERR_INVALID_ARG, "%s: negative size M=%lld N=%lld K=%lld", who,
                            (long long)M, (long long)N, (long long)K);
    /* Stored column counts: A is [M, K] or [K, M], B is [K, N] or [N, K]. */
    int64_t acols = trans_a ? M : K, bcols = trans_b ? K : N;
    if (lda < (acols > 1 ? acols : 1))
        return zf_set_error(ZF_ERR_INVALID_ARG, "%s: lda=%lld < %lld", who, (long long)lda,
                            (long long)(acols > 1 ? acols : 1));
    if (ldb < (bcols > 1 ? bcols : 1))
        return zf_set_error(ZF_ERR_INVALID_ARG, "%s: ldb=%lld < %lld", who, (long long)ldb,
                            (long long)(bcols > 1 ? bcols : 1));
    if (ldc < (N > 1 ? N : 1))
        return zf_set_error(ZF_ERR_INVALID_ARG, "%s: ldc=%lld < %lld", who, (long long)ldc,
                            (long long)(N > 1 ? N : 1));
    if (M > 0 && N > 0 && !C) return zf_set_error(ZF_ERR_INVALID_ARG, "%s: C is NULL", who);
    if (M > 0 && N > 0 && K > 0 && (!A || !B))
        return zf_set_error(ZF_ERR_INVALID_ARG, "%s: A or B is NULL", who);
    /* Index arithmetic below is int64: the largest offset must fit. */
    const int64_t lim = INT64_MAX / 16;
    if ((M > 0 && ldc > lim / M) || (trans_a ? K : M) > lim / lda || (trans_b ? N : K) > lim / ldb)
        return zf_set_error(ZF_ERR_OVERFLOW, "%s: matrix too large", who);
    return ZF_OK;
}

/* ---- The blocked driver ---- */

typedef struct {
    const zf_gemm_kernel *kern;
    bool trans_a, trans_b;
    int64_t M, N, K;
    double alpha, beta;
    const char *A, *B; /* bytes; element (r, c) of the stored matrix at (r*ld + c)*esize */
    char *C;
    int64_t lda, ldb, ldc;
    int tm, tn;             /* thread grid: tm row bands x tn column bands */
    int64_t kc, mc, nc;     /* block sizes for this call (even splits of K, M, N) */
    _Atomic int oom;        /* set when a thread could not get its buffers */
} gemm_job;

static inline int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }
static inline int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }
static inline int64_t round_up(int64_t a, int64_t b) { return ceil_div(a, b) * b; }

/* Splits `total` into ceil(total/max) near-equal blocks, each rounded up to a
 * multiple of `unit` (the last block takes the remainder). Avoids a tiny
 * trailing block when total is slightly above a multiple of max. */
static int64_t even_block(int64_t total, int64_t max, int64_t unit) {
    if (total <= max) return total;
    int64_t nblocks = ceil_div(total, max);
    int64_t b = round_up(ceil_div(total, nblocks), unit);
    return b < max ? b : max;
}

/* Computes C[m0:m1, n0:n1]. Returns false when out of memory. */
static bool gemm_region(const gemm_job *job, int64_t m0, int64_t m1, int64_t n0, int64_t n1) {
    const zf_gemm_kernel *kern = job->kern;
    const size_t es = kern->esize;
    const int mr = kern->mr, nr = kern->nr;
    const int64_t K = job->K;
    const int64_t kc_max = job->kc;
    const int64_t mc_max = min64(job->mc, round_up(m1 - m0, mr));
    const int64_t nc_max = min64(job->nc, round_up(n1 - n0, nr));
    gemm_workspace *ws = ws_get((size_t)(round_up(mc_max, mr) * kc_max) * es,
                                (size_t)(round_up(nc_max, nr) * kc_max) * es);
    if (!ws) return false;
    char *abuf = ws->buf[0], *bbuf = ws->buf[1];

    for (int64_t jc = n0; jc < n1; jc += nc_max) {
        const int64_t nc = min64(nc_max, n1 - jc);
        for (int64_t pc = 0; pc < K; pc += kc_max) {
            const int64_t kc = min64(kc_max, K - pc);
            const double beta = pc == 0 ? job->beta : 1.0;
            /* op(B)[pc, jc] is B[pc][jc], or B[jc][pc] when transposed. */
            const char *b = job->trans_b ? job->B + (jc * job->ldb + pc) * (int64_t)es
                                         : job->B + (pc * job->ldb + jc) * (int64_t)es;
            kern->pack_b(bbuf, b, job->ldb, job->trans_b, kc, nc, nr);
            for (int64_t ic = m0; ic < m1; ic += mc_max) {
                const int64_t mc = min64(mc_max, m1 - ic);
                const char *a = job->trans_a ? job->A + (pc * job->lda + ic) * (int64_t)es
                                             : job->A + (ic * job->lda + pc) * (int64_t)es;
                kern->pack_a(abuf, a, job->lda, job->trans_a, mc, kc, mr);
                for (int64_t jr = 0; jr < nc; jr += nr) {
                    const char *bp = bbuf + (size_t)(jr * kc) * es;
                    const int n = (int)min64(nr, nc - jr);
                    char *crow = job->C + ((ic * job->ldc) + jc + jr) * (int64_t)es;
                    for (int64_t ir = 0; ir < mc; ir += mr) {
                        const int m = (int)min64(mr, mc - ir);
                        kern->micro(kc, abuf + (size_t)(ir * kc) * es, bp,
                                    crow + ir * job->ldc * (int64_t)es, job->ldc, job->alpha, beta,
                                    m, n);
                    }
                }
            }
        }
    }
    return true;
}

static void gemm_thread(void *arg, int tid, int nthreads) {
    gemm_job *job = arg;
    const int ntiles = job->tm * job->tn;
    if (tid >= ntiles) return;
    const int ti = tid / job->tn, tj = tid % job->tn;
    /* Band boundaries in whole micro-tiles, so only the last band has edges. */
    const int64_t mu = ceil_div(job->M, job->kern->mr), nu = ceil_div(job->N, job->kern->nr);
    int64_t m0 = mu * ti / job->tm * job->kern->mr, m1 = mu * (ti + 1) / job->tm * job->kern->mr;
    int64_t n0 = nu * tj / job->tn * job->kern->nr, n1 = nu * (tj + 1) / job->tn * job->kern->nr;
    m1 = min64(m1, job->M);
    n1 = min64(n1, job->N);
    if (m0 >= m1 || n0 >= n1) return;
    if (!gemm_region(job, m0, m1, n0, n1)) atomic_store(&job->oom, 1);
    (void)nthreads;
}

/* Below this many multiply-adds a call runs on the calling thread only: the
 * wake-up of the pool costs more than it saves. */
#define ZF_GEMM_MT_MIN_FMAS (64 * 64 * 64)
/* Each thread should get at least this many multiply-adds. */
#define ZF_GEMM_FMAS_PER_THREAD (32 * 64 * 64)

/* Picks the tm x tn thread grid (tm * tn <= nthreads) for an M x N output
 * of mu x nu micro-tiles: the largest per-thread rectangle is minimised,
 * ties go to the one with the smaller perimeter (less packing), then to
 * splitting N (each thread then packs only its own part of B). */
static void pick_grid(int nthreads, int64_t mu, int64_t nu, int mr, int nr, int *tm, int *tn) {
    int best_m = 1, best_n = 1;
    int64_t best_area = INT64_MAX, best_perim = INT64_MAX;
    for (int t = nthreads; t >= 1; t--) {
        for (int a = 1; a <= t; a++) {
            if (t % a) continue;
            int b = t / a;
            if (a > mu || b > nu) continue;
            int64_t rows = ceil_div(mu, a) * mr, cols = ceil_div(nu, b) * nr;
            int64_t area = rows * cols, perim = rows + cols;
            if (area < best_area || (area == best_area && perim < best_perim)) {
                best_area = area, best_perim = perim, best_m = a, best_n = b;
            }
        }
        if (best_area != INT64_MAX) break; /* use as many threads as fit */
    }
    *tm = best_m;
    *tn = best_n;
}

zf_status zf_gemm_blocked(const zf_gemm_kernel *kern, zf_threadpool *pool, bool trans_a,
                          bool trans_b, int64_t M, int64_t N, int64_t K, double alpha,
                          const void *A, int64_t lda, const void *B, int64_t ldb, double beta,
                          void *C, int64_t ldc) {
    gemm_job job = {
        .kern = kern, .trans_a = trans_a, .trans_b = trans_b, .M = M, .N = N, .K = K,
        .alpha = alpha, .beta = beta, .A = A, .B = B, .C = C,
        .lda = lda, .ldb = ldb, .ldc = ldc, .tm = 1, .tn = 1,
    };
    atomic_init(&job.oom, 0);
    /* K, and each thread's band of M and N, in near-equal blocks no larger
     * than the kernel's kc, mc, nc (mc, nc in whole micro-tiles). */
    job.kc = even_block(K, kern->kc, 8);

    int nthreads = zf_threadpool_size(pool);
    const double fmas = (double)M * (double)N * (double)K;
    if (fmas < ZF_GEMM_MT_MIN_FMAS) nthreads = 1;
    if (nthreads > 1 && fmas < (double)nthreads * ZF_GEMM_FMAS_PER_THREAD)
        nthreads = (int)(fmas / ZF_GEMM_FMAS_PER_THREAD); /* >= 1 given MT_MIN_FMAS */
    const int64_t mu = ceil_div(M, kern->mr), nu = ceil_div(N, kern->nr);
    pick_grid(nthreads, mu, nu, kern->mr, kern->nr, &job.tm, &job.tn);
    const int64_t band_m = ceil_div(mu, job.tm) * kern->mr, band_n = ceil_div(nu, job.tn) * kern->nr;
    job.mc = even_block(band_m, kern->mc, kern->mr);
    job.nc = even_block(band_n, kern->nc, kern->nr);

    if (job.tm * job.tn == 1)
        gemm_thread(&job, 0, 1);
    else
        zf_threadpool_run(pool, gemm_thread, &job);
    if (atomic_load(&job.oom))
        return zf_set_error(ZF_ERR_OOM, "gemm: cannot allocate packing buffers");
    return ZF_OK;
}
