/* Shared helpers of the op frontends (argument checks, output allocation). */
#ifndef ZF_OPS_INTERNAL_H
#define ZF_OPS_INTERNAL_H

#include "core/internal.h"
#include "zerfoo/autograd.h"
#include "zerfoo/ops.h"

/* NULL inputs propagate: keep the first error, or set one if none is set. */
static inline bool zf_ops_check(zf_ctx *ctx, int n, zf_tensor *const *in, const char *op) {
    if (!ctx) {
        zf_set_error(ZF_ERR_INVALID_ARG, "%s: NULL context", op);
        return false;
    }
    for (int i = 0; i < n; i++) {
        if (!in[i]) {
            if (zf_last_status() == ZF_OK) zf_set_error(ZF_ERR_INVALID_ARG, "%s: input %d is NULL", op, i);
            return false;
        }
        if (zf_dtype_is_quant(in[i]->dtype)) {
            zf_set_error(ZF_ERR_DTYPE, "%s: input %d has quantized dtype %s; dequantize it first (zf_cast)", op, i,
                         zf_dtype_name(in[i]->dtype));
            return false;
        }
    }
    return true;
}

/* Runs op into out and records the autograd node; NULL on failure. */
static inline zf_tensor *zf_ops_finish(zf_ctx *ctx, zf_op op, zf_tensor *out, int n_in, zf_tensor *const *in,
                                       const zf_op_params *p) {
    if (!out) return NULL;
    if (zf_numel(out) > 0 && zf_dispatch(ctx, op, out, n_in, (const zf_tensor *const *)in, p) != ZF_OK) return NULL;
    bool failed = false;
    zf_record(ctx, op, out, n_in, in, p, &failed);
    return failed ? NULL : out;
}

#endif
