/* zerfoo — reverse-mode autograd.
 *
 * An op whose inputs include a tensor with requires_grad (and grad mode on)
 * records a node in the output's context: the op, its inputs and parameters.
 * zf_backward walks the nodes from `root` in reverse topological order and
 * accumulates d(root)/d(leaf) into each leaf's ->grad (allocated on first use
 * in the leaf's own context, then added to in place). Intermediate gradients
 * are made in `tmp`, which the caller resets after the step. */
#ifndef ZERFOO_AUTOGRAD_H
#define ZERFOO_AUTOGRAD_H

#include "zerfoo/engine.h"
#include "zerfoo/tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

struct zf_node {
    zf_op op;
    int n_in;
    zf_tensor **in;        /* inputs (arena array of n_in) */
    zf_tensor *out;        /* the result this node produced */
    zf_op_params p;
    int64_t shape_arg[ZF_MAX_DIMS]; /* ops that need an extra shape (views) */
    int shape_ndim;
    /* backward bookkeeping (owned by zf_backward) */
    zf_tensor *grad_acc;   /* accumulated d(root)/d(out) */
    uint64_t mark;         /* visit epoch of the last topological sort */
};

/* Marks t as a leaf that wants gradients. */
zf_status zf_requires_grad(zf_tensor *t, bool on);
/* root must have one element unless grad_root (same shape) is given. */
zf_status zf_backward(zf_ctx *tmp, zf_tensor *root, zf_tensor *grad_root);
/* Sets leaf ->grad to zero (keeps the buffer). */
void zf_zero_grad(zf_tensor *t);

/* Grad mode is thread-local. zf_set_grad_enabled returns the previous mode,
 * so a no-grad scope is: bool prev = zf_set_grad_enabled(false); ...;
 * zf_set_grad_enabled(prev); */
bool zf_set_grad_enabled(bool on);
bool zf_is_grad_enabled(void);

/* Sums g over broadcast dims so it has `shape` (the inverse of broadcasting). */
zf_tensor *zf_sum_to_shape(zf_ctx *ctx, zf_tensor *g, int ndim, const int64_t *shape);

/* Does op have a backward rule? */
bool zf_op_has_backward(zf_op op);

#ifdef __cplusplus
}
#endif
#endif
