/* The op harness: every op of the op table x every dtype it claims x every
 * engine, checked against a float64 reference written independently here
 * (plain C loops on double arrays), plus central finite-difference gradient
 * checks of every differentiable op.
 *
 * A case (h_case) names the op it covers, its inputs (dtype, shape, how the
 * values are drawn, memory layout), a `run` function that calls the public
 * frontend (zf_add, zf_sum, zf_cast ...), and a `ref` function that computes
 * the expected output from the inputs' values in double. The runner
 * (harness.c) makes the inputs once, runs the case on every engine with a
 * poisoned output context, compares with the reference using per-dtype
 * tolerances, checks bit-for-bit determinism between engines, and tallies a
 * coverage table. Cases flagged H_GRAD are finite-difference gradient checks
 * instead (float inputs become f64 leaves).
 *
 * Values never pass through zerfoo's own dtype conversions on the harness
 * side: inputs are encoded to raw bytes and outputs decoded from raw bytes by
 * the codecs in harness_util.c, so a conversion bug cannot hide itself. */
#ifndef ZF_HARNESS_H
#define ZF_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "zerfoo/zerfoo.h"

#define H_MAX_IN 4
#define H_MAX_OUT 8

/* ---- dtype sets (bit i = dtype i) ---- */
#define H_DT(t) (1u << (t))
#define H_FLOATS (H_DT(ZF_F64) | H_DT(ZF_F32) | H_DT(ZF_F16) | H_DT(ZF_BF16) | H_DT(ZF_F8_E4M3) | H_DT(ZF_F8_E5M2))
#define H_SINTS (H_DT(ZF_I64) | H_DT(ZF_I32) | H_DT(ZF_I16) | H_DT(ZF_I8))
#define H_INTS (H_SINTS | H_DT(ZF_U8))
#define H_BOOL H_DT(ZF_BOOL)
#define H_ALL (H_FLOATS | H_INTS | H_BOOL)

/* ---- deterministic random numbers (splitmix64) ---- */
typedef struct h_rng {
    uint64_t s;
} h_rng;
uint64_t h_rng_next(h_rng *r);
double h_rng_uniform(h_rng *r);                  /* [0, 1) */
double h_rng_range(h_rng *r, double lo, double hi); /* [lo, hi) */
int64_t h_rng_int(h_rng *r, int64_t lo, int64_t hi); /* [lo, hi] */

/* ---- dtype codecs, independent of zerfoo's conversions ----
 * h_encode rounds to nearest, ties to even, once, from double; float ->
 * int truncates and saturates (NaN -> 0); int dtypes wrap like a C cast of
 * an int64; bool is x != 0. */
void h_encode(zf_dtype t, double x, void *dst);
void h_encode_int(zf_dtype t, int64_t x, void *dst); /* int/bool dtypes, exact */
double h_decode(zf_dtype t, const void *src);
int64_t h_decode_int(zf_dtype t, const void *src); /* int/bool dtypes, exact */
double h_quantize(zf_dtype t, double x);           /* decode(encode(x)) */
int64_t h_wrap_int(zf_dtype t, int64_t x);         /* value an int dtype stores for x */
bool h_is_float(zf_dtype t);
/* dtypes of the > 100k-element cases: f64 and f32 (any thread-count
 * dependence shows in their bits), bf16 (conversion tiles), i32 (int path). */
bool h_large_dtype(zf_dtype t);
bool h_is_intlike(zf_dtype t); /* int or bool: compared exactly */
const char *h_dtype_short(zf_dtype t);
/* Largest finite value and the relative spacing 2^-mantissa_bits. */
double h_dtype_max(zf_dtype t);
double h_dtype_ulp(zf_dtype t);

/* ---- value arrays of the reference ----
 * Row-major logical values. Int/bool dtypes carry exact int64 values in iv
 * (v holds the same values as doubles). Reference outputs may carry mag: a
 * per-element magnitude the rounding error scales with (e.g. sum |x| for a
 * sum), added to |v| in the tolerance. */
typedef struct h_arr {
    zf_dtype dtype;
    int ndim;
    int64_t shape[ZF_MAX_DIMS];
    int64_t n;
    double *v;
    int64_t *iv;
    double *mag;
} h_arr;

void h_arr_alloc(h_arr *a, zf_dtype dtype, int ndim, const int64_t *shape);
void h_arr_want_mag(h_arr *a);
void h_arr_free(h_arr *a);
/* Sets element i: floats store x, int dtypes store the wrapped int64. */
void h_arr_set(h_arr *a, int64_t i, double x);
void h_arr_set_int(h_arr *a, int64_t i, int64_t x);
/* Element i of src converted to out's dtype into element o of out, as a
 * cast must: floats round once to nearest even, float -> int truncates and
 * saturates (NaN -> 0), int -> int wraps, anything -> bool is x != 0. */
void h_convert(const h_arr *src, int64_t i, h_arr *out, int64_t o);
/* Multi-index of linear index i (row-major). */
void h_unravel(int64_t i, int ndim, const int64_t *shape, int64_t *idx);
int64_t h_ravel(int ndim, const int64_t *shape, const int64_t *idx);
/* Linear index into a (broadcast against the right-aligned out index). */
int64_t h_bcast_index(const h_arr *a, int ondim, const int64_t *oidx);
/* NumPy broadcast of two shapes; false when they do not broadcast. */
bool h_broadcast(int na, const int64_t *sa, int nb, const int64_t *sb, int *nout, int64_t *out);
int64_t h_numel(int ndim, const int64_t *shape);

/* ---- inputs ---- */
typedef enum h_kind {
    H_V_SIGNED,   /* +-U[0.1, 2]; ints: nonzero in [-9, 9] (u8: [1, 18]) */
    H_V_POS,      /* U[0.1, 2]; ints: [1, 9] */
    H_V_DISCRETE, /* +-{0.25, 0.5, 1, 1.5, 2}; ints +-{1, 2, 3}: many exact ties */
    H_V_BOOLISH,  /* about a third zeros, the rest like H_V_SIGNED (logical ops) */
    H_V_PROD,     /* +-U[0.5, 1.5]; ints +-1, a quarter +-2: products stay in range */
    H_V_LOG1P,    /* U[0.1, 2] or -U[0.1, 0.9]: inside log1p's domain */
    H_V_INDEX,    /* ints in [0, hi) (indices) */
    H_V_LIST,     /* values cycled from list / ilist */
} h_kind;

typedef enum h_layout {
    H_L_CONTIG,
    H_L_TRANS,   /* transposed view of storage with the last two dims swapped */
    H_L_STRIDED, /* slice (offset 1, step 2) of the last dim of a wider storage */
} h_layout;

typedef struct h_input {
    zf_dtype dtype;
    int ndim;
    int64_t shape[ZF_MAX_DIMS];
    h_kind kind;
    h_layout layout;
    int64_t hi;            /* H_V_INDEX: exclusive upper bound */
    const double *list;    /* H_V_LIST (float dtypes, or ints when ilist is NULL) */
    const int64_t *ilist;  /* H_V_LIST for int/bool dtypes, exact */
    int64_t nlist;
    bool nograd;           /* H_GRAD cases: this input is not differentiated */
} h_input;

/* ---- cases ---- */
enum {
    H_LARGE = 1u << 0,      /* > 100k elements: multi-threaded paths (ZF_HARNESS_SKIP_LARGE=1 skips, reported) */
    H_GRAD = 1u << 1,       /* finite-difference gradient check, not a forward check */
    H_SHARES = 1u << 2,     /* the output must share input 0's storage (a view) */
    H_EXACT = 1u << 3,      /* float outputs must equal the reference exactly (data movement) */
};

typedef struct h_case h_case;
/* Calls the frontend(s); writes up to H_MAX_OUT outputs, returns how many
 * (0 when the op failed: zf_last_error() says why). */
typedef int (*h_run_fn)(zf_ctx *ctx, zf_tensor *const *in, const h_case *c, zf_tensor **out);
/* Computes the expected outputs from the inputs' values (allocating them). */
typedef void (*h_ref_fn)(const h_case *c, const h_arr *in, h_arr *out);
/* Instead of ref: validates decoded outputs itself (random ops). Returns
 * false and writes a message on failure. */
typedef bool (*h_check_fn)(const h_case *c, const h_arr *out, int n_out, char *msg, size_t msz);

struct h_case {
    zf_op op;          /* op credited in the coverage table */
    zf_op trace_op;    /* kernel the trace engine must record; ZF_OP_COUNT: not checked */
    zf_dtype dtype;    /* dtype credited in the table */
    char label[112];   /* what the case does, printed on failure */
    int n_in;
    h_input in[H_MAX_IN];
    h_run_fn run;
    h_ref_fn ref;
    h_check_fn check;
    int n_out;         /* outputs of run/ref (0 = 1) */
    double f[4];       /* op parameters */
    int64_t i[8];
    unsigned flags;
    double tol_scale;  /* multiplies the dtype's tolerance (0 = 1) */
};

typedef struct h_suite {
    h_case *cases;
    size_t n, cap;
} h_suite;

/* Appends a copy of c. */
void h_add(h_suite *s, const h_case *c);

/* Input-spec shorthands. */
h_input h_in(zf_dtype dtype, int ndim, const int64_t *shape, h_kind kind, h_layout layout);
h_input h_in_index(zf_dtype dtype, int ndim, const int64_t *shape, int64_t hi);
/* "f32 [3,1,5]T x [4,1]": dtype, shapes and layouts of c's inputs. */
void h_label(h_case *c, const char *what);
/* Human-readable shape, e.g. "[3,1,5]". */
const char *h_shape_str(int ndim, const int64_t *shape, char *buf, size_t n);

/* Case registration, one per cases_*.c. */
void h_cases_elementwise(h_suite *s);
void h_cases_reduce(h_suite *s);
void h_cases_views(h_suite *s);
void h_cases_copy(h_suite *s);
void h_cases_creation(h_suite *s);
void h_cases_linalg(h_suite *s);
void h_cases_index(h_suite *s);
void h_cases_nn(h_suite *s);
void h_cases_llm(h_suite *s);

/* ---- input creation (harness_util.c) ----
 * Draws values for spec (quantized to its dtype), fills ref (allocated) with
 * them and returns a tensor in ctx holding the same logical values in the
 * spec's layout. NULL when a tensor could not be made. */
zf_tensor *h_make_input(zf_ctx *ctx, const h_input *spec, h_rng *rng, h_arr *ref);
/* Same values, contiguous, with dtype `dtype` (gradient checks). */
zf_tensor *h_make_tensor(zf_ctx *ctx, zf_dtype dtype, const h_arr *vals);
/* Decodes every element of t (any strides) in row-major order into a. */
void h_read_tensor(const zf_tensor *t, h_arr *a);
/* Raw element bytes in row-major order (malloc'd; numel * size bytes). */
unsigned char *h_read_bytes(const zf_tensor *t, size_t *nbytes);

/* Single-output run helper: stores t and returns 1, or 0 when t is NULL. */
static inline int h_one(zf_tensor **out, zf_tensor *t) {
    out[0] = t;
    return t ? 1 : 0;
}

#endif
