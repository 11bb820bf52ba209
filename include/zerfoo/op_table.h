/* zerfoo — the one op table.
 *
 * X(ENUM, "name", n_inputs, kind). n_inputs -1: variable (cat) or optional
 * trailing inputs (rms_norm, rope, attention). Kinds:
 *   K = needs an engine kernel, V = view (no kernel, only autograd),
 *   C = composite (built from other ops in the frontend, has its own backward).
 * Each engine fills kernels[ZF_OP_*]; autograd/ has one backward rule per
 * differentiable op. */
#ifndef ZERFOO_OP_TABLE_H
#define ZERFOO_OP_TABLE_H

#include <stdbool.h>

#define ZF_OP_LIST(X)                                                       \
    /* memory, creation */                                                  \
    X(COPY, "copy", 1, K)            /* strided copy + dtype conversion */  \
    X(FILL, "fill", 0, K)            /* f[0] */                             \
    X(ARANGE, "arange", 0, K)        /* out[i] = f[0] + i*f[1] */           \
    X(RAND, "rand", 0, K)            /* U[0,1), i[0]=seed i[1]=stream */    \
    X(RANDN, "randn", 0, K)          /* N(0,1) */                           \
    X(EYE, "eye", 0, K)                                                     \
    /* views */                                                             \
    X(RESHAPE, "reshape", 1, V)                                             \
    X(PERMUTE, "permute", 1, V)                                             \
    X(SLICE, "slice", 1, V)          /* i[0]=dim i[1]=start i[2]=step */    \
    X(EXPAND, "expand", 1, V)                                               \
    X(CAST, "cast", 1, C)                                                   \
    /* binary, broadcasting */                                              \
    X(ADD, "add", 2, K)                                                     \
    X(SUB, "sub", 2, K)                                                     \
    X(MUL, "mul", 2, K)                                                     \
    X(DIV, "div", 2, K)                                                     \
    X(POW, "pow", 2, K)                                                     \
    X(MAXIMUM, "maximum", 2, K)                                             \
    X(MINIMUM, "minimum", 2, K)                                             \
    X(EQ, "eq", 2, K)                                                       \
    X(NE, "ne", 2, K)                                                       \
    X(LT, "lt", 2, K)                                                       \
    X(LE, "le", 2, K)                                                       \
    X(GT, "gt", 2, K)                                                       \
    X(GE, "ge", 2, K)                                                       \
    X(LOGICAL_AND, "logical_and", 2, K)                                     \
    X(LOGICAL_OR, "logical_or", 2, K)                                       \
    /* unary */                                                             \
    X(NEG, "neg", 1, K)                                                     \
    X(ABS, "abs", 1, K)                                                     \
    X(SIGN, "sign", 1, K)                                                   \
    X(EXP, "exp", 1, K)                                                     \
    X(LOG, "log", 1, K)                                                     \
    X(LOG1P, "log1p", 1, K)                                                 \
    X(ERF, "erf", 1, K)                                                     \
    X(SQRT, "sqrt", 1, K)                                                   \
    X(RSQRT, "rsqrt", 1, K)                                                 \
    X(SIN, "sin", 1, K)                                                     \
    X(COS, "cos", 1, K)                                                     \
    X(TANH, "tanh", 1, K)                                                   \
    X(SIGMOID, "sigmoid", 1, K)                                             \
    X(RELU, "relu", 1, K)                                                   \
    X(LEAKY_RELU, "leaky_relu", 1, K) /* f[0]=negative slope */             \
    X(GELU, "gelu", 1, K)            /* erf form */                         \
    X(GELU_TANH, "gelu_tanh", 1, K)  /* tanh approximation */               \
    X(SILU, "silu", 1, K)                                                   \
    X(SOFTPLUS, "softplus", 1, K)    /* f[0]=beta f[1]=threshold */         \
    X(CLAMP, "clamp", 1, K)          /* f[0]=min f[1]=max (NaN = none) */   \
    X(LOGICAL_NOT, "logical_not", 1, K)                                     \
    X(WHERE, "where", 3, K)          /* cond, a, b */                       \
    /* reductions: i[0]=dims bitmask, i[1]=keepdim, i[2]=correction */     \
    X(SUM, "sum", 1, K)                                                     \
    X(MEAN, "mean", 1, K)                                                   \
    X(MAX, "max", 1, K)                                                     \
    X(MIN, "min", 1, K)                                                     \
    X(ARGMAX, "argmax", 1, K)        /* i[0]=dim (single), i[1]=keepdim */  \
    X(ARGMIN, "argmin", 1, K)                                               \
    X(VAR, "var", 1, K)                                                     \
    X(PROD, "prod", 1, K)                                                   \
    X(LOGSUMEXP, "logsumexp", 1, K)                                         \
    X(SOFTMAX, "softmax", 1, K)      /* i[0]=dim */                         \
    X(LOG_SOFTMAX, "log_softmax", 1, K)                                     \
    /* linear algebra */                                                    \
    X(MATMUL, "matmul", 2, K)        /* [..., M, K] x [..., K, N] */        \
    /* indexing */                                                          \
    X(CAT, "cat", -1, C)             /* i[0]=dim */                         \
    X(GATHER, "gather", 2, K)        /* input, index; i[0]=dim */           \
    X(SCATTER_ADD, "scatter_add", 3, K) /* self, index, src; i[0]=dim */    \
    X(INDEX_SELECT, "index_select", 2, K) /* input, index(1-d); i[0]=dim */ \
    X(INDEX_ADD, "index_add", 3, K)  /* self, index(1-d), src; i[0]=dim */  \
    X(EMBEDDING, "embedding", 2, K)  /* weight [V, D], ids [...] int */     \
    X(TRIL, "tril", 1, K)            /* i[0]=diagonal */                    \
    X(TRIU, "triu", 1, K)                                                   \
    /* neural-network layers (src/ops/conv.c, src/ops/pool.c, src/nn/loss.c). \
     * conv: i[0..1]=stride, i[2..3]=padding, i[4..5]=dilation, i[6]=groups; \
     * ws is an f32/f64 workspace the frontend sizes (see kernels_conv.c). */\
    X(CONV2D, "conv2d", 4, K)        /* x, w, ws[, bias] -> y */            \
    X(CONV2D_GRAD_INPUT, "conv2d_grad_input", 3, K) /* gy, w, ws -> gx */   \
    X(CONV2D_GRAD_WEIGHT, "conv2d_grad_weight", 3, K) /* x, gy, ws -> gw */ \
    /* pool: i[0..1]=kernel, i[2..3]=stride, i[4..5]=padding; max:      */  \
    /* i[6..7]=dilation; avg: i[6]=exclude pad, i[7]=divisor override   */  \
    X(MAX_POOL2D, "max_pool2d", 1, K)                                       \
    X(MAX_POOL2D_GRAD, "max_pool2d_grad", 2, K) /* gy, x -> gx */           \
    X(AVG_POOL2D, "avg_pool2d", 1, K)                                       \
    X(AVG_POOL2D_GRAD, "avg_pool2d_grad", 1, K) /* gy -> gx */              \
    /* logits [N, C], target [N] int -> per-row loss [N]; f[0]=label    */  \
    /* smoothing, i[0]=ignore index, i[1]=1: input is log-probabilities */  \
    X(CROSS_ENTROPY, "cross_entropy", 2, K)                                 \
    X(CROSS_ENTROPY_GRAD, "cross_entropy_grad", 3, K) /* gl, logits, t */   \
    /* optimizer updates, in place on input 0 (out == in[0]); no backward */\
    /* sgd: param, grad[, buf]; f[0]=lr f[1]=momentum f[2]=dampening   */  \
    /* f[3]=weight decay, i[0]=nesterov, i[1]=1: first step (buf = g)   */  \
    X(SGD_UPDATE, "sgd_update", 3, K)                                       \
    /* adam: param, grad, m, v; f[0]=lr f[1]=beta1 f[2]=beta2 f[3]=eps  */  \
    /* f[4]=weight decay f[5]=1-beta1^t f[6]=1-beta2^t, i[0]=1: AdamW   */  \
    X(ADAM_UPDATE, "adam_update", 4, K)                                     \
    /* ema: average, param; average = f[0]*average + (1-f[0])*param    */  \
    X(EMA_UPDATE, "ema_update", 2, K)                                       \
    /* LLM inference (see ops.h) */                                         \
    X(QMATMUL, "qmatmul", 2, K)      /* x [..., K] f32, w [N, K] (quant) */ \
    X(RMS_NORM, "rms_norm", -1, K)   /* x [, w]; f[0]=eps f[1]=w offset */  \
    X(ROPE, "rope", -1, K)           /* x, pos [, freq factors]; i[0]=mode */ \
                                     /* i[1]=n_rot i[2]=inverse i[3]=ggml */  \
                                     /* f[0]=base */                        \
                                     /* f[1]=scale */                        \
    X(ATTENTION, "attention", -1, K) /* q, k, v [, mask]; see ops.h */ \
    X(GLU, "glu", 2, K)              /* gate, up; i[0]=act i[1]=numerics */

typedef enum zf_op {
#define ZF_OP_ENUM(e, name, n, kind) ZF_OP_##e,
    ZF_OP_LIST(ZF_OP_ENUM)
#undef ZF_OP_ENUM
    ZF_OP_COUNT
} zf_op;

const char *zf_op_name(zf_op op);
zf_op zf_op_from_name(const char *name); /* ZF_OP_COUNT when unknown */
int zf_op_arity(zf_op op);               /* -1 for variable */
bool zf_op_needs_kernel(zf_op op);

#endif
