/* Run-time loading of a CBLAS library; see blas_loader.h. */
#include "engine/blas_loader.h"

#include <dlfcn.h>
#include <limits.h>
#include <pthread.h>
#include <stddef.h>

#include "engine/cpu/gemm.h"

/* CBLAS enum values (cblas.h): fixed by the CBLAS standard. */
enum { CBLAS_ROW_MAJOR = 101, CBLAS_NO_TRANS = 111, CBLAS_TRANS = 112 };

/* LP64 CBLAS prototypes; the enums are passed as int. */
typedef void (*cblas_sgemm_fn)(int order, int ta, int tb, int M, int N, int K, float alpha,
                               const float *A, int lda, const float *B, int ldb, float beta,
                               float *C, int ldc);
typedef void (*cblas_dgemm_fn)(int order, int ta, int tb, int M, int N, int K, double alpha,
                               const double *A, int lda, const double *B, int ldb, double beta,
                               double *C, int ldc);
typedef void (*set_threads_fn)(int n);

static struct {
    void *handle;
    const char *name;
    cblas_sgemm_fn sgemm;
    cblas_dgemm_fn dgemm;
    set_threads_fn set_threads;
} g_blas;
static pthread_once_t g_blas_once = PTHREAD_ONCE_INIT;

/* Copies a dlsym result into a function pointer without the object-to-
 * function pointer conversion that ISO C leaves undefined. */
static void load_sym(void *handle, const char *sym, void *fnptr, size_t size) {
    void *p = dlsym(handle, sym);
    __builtin_memcpy(fnptr, &p, size);
}

static void blas_init(void) {
    static const char *const names[] = {"libopenblas.so.0", "libopenblas.so", "libcblas.so.3",
                                        "libblas.so.3"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        void *h = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
        if (!h) continue;
        cblas_sgemm_fn s = NULL;
        cblas_dgemm_fn d = NULL;
        load_sym(h, "cblas_sgemm", &s, sizeof s);
        load_sym(h, "cblas_dgemm", &d, sizeof d);
        if (!s || !d) {
            dlclose(h);
            continue;
        }
        g_blas.handle = h;
        g_blas.name = names[i];
        g_blas.sgemm = s;
        g_blas.dgemm = d;
        load_sym(h, "openblas_set_num_threads", &g_blas.set_threads, sizeof g_blas.set_threads);
        return;
    }
}

bool zf_blas_available(void) {
    pthread_once(&g_blas_once, blas_init);
    return g_blas.sgemm != NULL;
}

const char *zf_blas_library(void) { return zf_blas_available() ? g_blas.name : NULL; }

void zf_blas_set_threads(int n) {
    if (zf_blas_available() && g_blas.set_threads && n >= 1) g_blas.set_threads(n);
}

/* Checks the shared arguments and that every size fits in an int. */
static zf_status blas_check(const char *who, bool ta, bool tb, int64_t M, int64_t N, int64_t K,
                            const void *A, int64_t lda, const void *B, int64_t ldb, const void *C,
                            int64_t ldc) {
    if (!zf_blas_available())
        return zf_set_error(ZF_ERR_UNSUPPORTED, "%s: no CBLAS library found", who);
    zf_status st = zf_gemm_check_args(who, ta, tb, M, N, K, A, lda, B, ldb, C, ldc);
    if (st != ZF_OK) return st;
    if (M > INT_MAX || N > INT_MAX || K > INT_MAX || lda > INT_MAX || ldb > INT_MAX ||
        ldc > INT_MAX)
        return zf_set_error(ZF_ERR_UNSUPPORTED, "%s: sizes exceed the 32-bit CBLAS interface",
                            who);
    return ZF_OK;
}

zf_status zf_blas_sgemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha,
                        const float *A, int64_t lda, const float *B, int64_t ldb, float beta,
                        float *C, int64_t ldc) {
    zf_status st = blas_check("zf_blas_sgemm", trans_a, trans_b, M, N, K, A, lda, B, ldb, C, ldc);
    if (st != ZF_OK) return st;
    if (M == 0 || N == 0) return ZF_OK;
    g_blas.sgemm(CBLAS_ROW_MAJOR, trans_a ? CBLAS_TRANS : CBLAS_NO_TRANS,
                 trans_b ? CBLAS_TRANS : CBLAS_NO_TRANS, (int)M, (int)N, (int)K, alpha, A, (int)lda,
                 B, (int)ldb, beta, C, (int)ldc);
    return ZF_OK;
}

zf_status zf_blas_dgemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, double alpha,
                        const double *A, int64_t lda, const double *B, int64_t ldb, double beta,
                        double *C, int64_t ldc) {
    zf_status st = blas_check("zf_blas_dgemm", trans_a, trans_b, M, N, K, A, lda, B, ldb, C, ldc);
    if (st != ZF_OK) return st;
    if (M == 0 || N == 0) return ZF_OK;
    g_blas.dgemm(CBLAS_ROW_MAJOR, trans_a ? CBLAS_TRANS : CBLAS_NO_TRANS,
                 trans_b ? CBLAS_TRANS : CBLAS_NO_TRANS, (int)M, (int)N, (int)K, alpha, A, (int)lda,
                 B, (int)ldb, beta, C, (int)ldc);
    return ZF_OK;
}
