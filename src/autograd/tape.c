/* The autograd tape: node recording, topological sort and zf_backward. */
#include <pthread.h>
#include <string.h>

#include "autograd/autograd_internal.h"

static _Thread_local bool tl_grad_disabled; /* zero-initialized: grad mode on */

bool zf_set_grad_enabled(bool on) {
    bool prev = !tl_grad_disabled;
    tl_grad_disabled = !on;
    return prev;
}
bool zf_is_grad_enabled(void) { return !tl_grad_disabled; }

static zf_backward_fn g_rules[ZF_OP_COUNT];
static pthread_once_t g_rules_once = PTHREAD_ONCE_INIT;
static void rules_init(void) {
    zf_register_rules_elementwise(g_rules);
    zf_register_rules_views(g_rules);
    zf_register_rules_reduce(g_rules);
    zf_register_rules_linalg(g_rules);
    zf_register_rules_index(g_rules);
    zf_register_rules_conv(g_rules);
    zf_register_rules_llm(g_rules);
}
static const zf_backward_fn *rules(void) {
    pthread_once(&g_rules_once, rules_init);
    return g_rules;
}

bool zf_op_has_backward(zf_op op) { return (unsigned)op < ZF_OP_COUNT && rules()[op] != NULL; }

bool zf_any_requires_grad(int n, zf_tensor *const *in) {
    if (tl_grad_disabled) return false;
    for (int i = 0; i < n; i++)
        if (in[i] && in[i]->requires_grad) return true;
    return false;
}

zf_node *zf_record(zf_ctx *ctx, zf_op op, zf_tensor *out, int n_in, zf_tensor *const *in, const zf_op_params *p,
                   bool *failed) {
    *failed = false;
    if (!zf_any_requires_grad(n_in, in) || !zf_op_has_backward(op)) return NULL;
    if (!zf_dtype_is_float(out->dtype)) return NULL; /* integer/bool results carry no gradient */
    zf_node *n = zf_ctx_alloc_zeroed(ctx, sizeof *n);
    zf_tensor **ins = n ? zf_ctx_alloc(ctx, sizeof(zf_tensor *) * (size_t)(n_in > 0 ? n_in : 1)) : NULL;
    if (!ins) {
        *failed = true;
        return NULL;
    }
    for (int i = 0; i < n_in; i++) ins[i] = in[i];
    n->op = op;
    n->n_in = n_in;
    n->in = ins;
    n->out = out;
    if (p) n->p = *p;
    out->grad_fn = n;
    out->requires_grad = true;
    return n;
}

zf_status zf_requires_grad(zf_tensor *t, bool on) {
    if (!t) return zf_set_error(ZF_ERR_INVALID_ARG, "requires_grad: NULL tensor");
    if (on && !zf_dtype_is_float(t->dtype))
        return zf_set_error(ZF_ERR_DTYPE, "requires_grad: only float tensors can require grad, got %s",
                            zf_dtype_name(t->dtype));
    if (t->grad_fn)
        return zf_set_error(ZF_ERR_INVALID_ARG, "requires_grad: can only be set on leaf tensors (use detach)");
    t->requires_grad = on;
    return ZF_OK;
}

void zf_zero_grad(zf_tensor *t) {
    if (!t || !t->grad) return;
    zf_op_params p = {.f = {0}};
    zf_dispatch(t->grad->ctx, ZF_OP_FILL, t->grad, 0, NULL, &p);
}

zf_tensor *zf_sum_to_shape(zf_ctx *ctx, zf_tensor *g, int ndim, const int64_t *shape) {
    if (!g) return NULL;
    if (g->ndim == ndim) {
        bool same = true;
        for (int i = 0; i < ndim; i++) same &= g->shape[i] == shape[i];
        if (same) return g;
    }
    if (ndim > g->ndim) {
        zf_set_error(ZF_ERR_SHAPE, "sum_to_shape: target has more dims than the gradient");
        return NULL;
    }
    int dims[ZF_MAX_DIMS], nd = 0, lead = g->ndim - ndim;
    for (int i = 0; i < g->ndim; i++) {
        if (i < lead)
            dims[nd++] = i;
        else if (shape[i - lead] == 1 && g->shape[i] != 1)
            dims[nd++] = i;
        else if (shape[i - lead] != g->shape[i]) {
            zf_set_error(ZF_ERR_SHAPE, "sum_to_shape: gradient does not broadcast to the target shape");
            return NULL;
        }
    }
    zf_tensor *s = nd ? zf_sum(ctx, g, nd, dims, true) : g;
    return zf_reshape(ctx, s, ndim, shape);
}

/* Accumulates g into *slot (a fresh tensor the first time). */
static zf_status accumulate(zf_ctx *ctx, zf_tensor **slot, zf_tensor *g) {
    if (!*slot) {
        *slot = g;
        return ZF_OK;
    }
    zf_tensor *s = zf_add(ctx, *slot, g);
    if (!s) return zf_last_status();
    *slot = s;
    return ZF_OK;
}

static zf_status accumulate_leaf(zf_tensor *leaf, zf_tensor *g) {
    if (!leaf->grad) {
        /* First use: a zeroed buffer in the leaf's own (long-lived) context. */
        leaf->grad = zf_zeros(leaf->ctx, leaf->dtype, leaf->ndim, leaf->shape);
        if (!leaf->grad) return zf_last_status();
    }
    if (g->dtype != leaf->dtype) return zf_set_error(ZF_ERR_INTERNAL, "gradient dtype differs from its leaf");
    const zf_tensor *in[2] = {leaf->grad, g};
    return zf_dispatch(leaf->grad->ctx, ZF_OP_ADD, leaf->grad, 2, in, NULL);
}

static uint64_t g_epoch; /* visit epochs; atomically incremented per backward call */

zf_status zf_backward(zf_ctx *tmp, zf_tensor *root, zf_tensor *grad_root) {
    if (!tmp || !root) return zf_set_error(ZF_ERR_INVALID_ARG, "backward: NULL argument");
    if (!root->requires_grad) return zf_set_error(ZF_ERR_INVALID_ARG, "backward: the root does not require grad");
    if (!grad_root && zf_numel(root) != 1)
        return zf_set_error(ZF_ERR_SHAPE, "backward: root has %lld elements; pass grad_root",
                            (long long)zf_numel(root));
    if (grad_root && !zf_same_shape(grad_root, root))
        return zf_set_error(ZF_ERR_SHAPE, "backward: grad_root shape differs from root");
    bool prev = zf_set_grad_enabled(false);
    zf_status st = ZF_OK;
    zf_tensor *g0 = grad_root ? grad_root : zf_ones(tmp, root->dtype, root->ndim, root->shape);
    if (!g0) {
        st = zf_last_status();
        goto done;
    }
    if (!root->grad_fn) { /* the root is a leaf */
        st = accumulate_leaf(root, g0);
        goto done;
    }
    /* Iterative DFS post-order over nodes -> topological order. */
    uint64_t epoch = __atomic_add_fetch(&g_epoch, 1, __ATOMIC_RELAXED);
    size_t cap = 256, n_order = 0, sp = 0;
    zf_node **order = zf_ctx_alloc(tmp, cap * sizeof *order);
    zf_node **stack = zf_ctx_alloc(tmp, cap * sizeof *stack);
    int *child = zf_ctx_alloc(tmp, cap * sizeof *child);
    if (!order || !stack || !child) {
        st = zf_last_status();
        goto done;
    }
    stack[sp] = root->grad_fn;
    child[sp++] = 0;
    root->grad_fn->mark = epoch;
    while (sp > 0) {
        zf_node *n = stack[sp - 1];
        int ci = child[sp - 1];
        if (ci < n->n_in) {
            child[sp - 1]++;
            zf_tensor *in = n->in[ci];
            zf_node *m = in ? in->grad_fn : NULL;
            if (m && m->mark != epoch) {
                m->mark = epoch;
                if (sp == cap || n_order == cap) {
                    size_t ncap = cap * 2;
                    zf_node **o2 = zf_ctx_alloc(tmp, ncap * sizeof *o2);
                    zf_node **s2 = zf_ctx_alloc(tmp, ncap * sizeof *s2);
                    int *c2 = zf_ctx_alloc(tmp, ncap * sizeof *c2);
                    if (!o2 || !s2 || !c2) {
                        st = zf_last_status();
                        goto done;
                    }
                    memcpy(o2, order, n_order * sizeof *o2);
                    memcpy(s2, stack, sp * sizeof *s2);
                    memcpy(c2, child, sp * sizeof *c2);
                    order = o2, stack = s2, child = c2, cap = ncap;
                }
                m->grad_acc = NULL;
                stack[sp] = m;
                child[sp++] = 0;
            }
        } else {
            order[n_order++] = n;
            sp--;
        }
    }
    root->grad_fn->grad_acc = g0;
    const zf_backward_fn *R = rules();
    for (size_t k = n_order; k-- > 0;) {
        zf_node *n = order[k];
        zf_tensor *gout = n->grad_acc;
        if (!gout) continue; /* no gradient reached this node */
        zf_tensor *gin_small[8] = {0};
        zf_tensor **gin = gin_small;
        if (n->n_in > 8) { /* cat of many tensors */
            gin = zf_ctx_alloc_zeroed(tmp, sizeof(zf_tensor *) * (size_t)n->n_in);
            if (!gin) {
                st = zf_last_status();
                goto done;
            }
        }
        st = R[n->op](tmp, n, gout, gin);
        if (st) goto done;
        for (int i = 0; i < n->n_in; i++) {
            zf_tensor *in = n->in[i];
            if (!gin[i] || !in || !in->requires_grad) continue;
            if (!zf_same_shape(gin[i], in)) {
                st = zf_set_error(ZF_ERR_INTERNAL, "backward: %s gave a gradient of the wrong shape for input %d",
                                  zf_op_name(n->op), i);
                goto done;
            }
            if (gin[i]->dtype != in->dtype) {
                gin[i] = zf_cast(tmp, gin[i], in->dtype);
                if (!gin[i]) {
                    st = zf_last_status();
                    goto done;
                }
            }
            st = in->grad_fn ? accumulate(tmp, &in->grad_fn->grad_acc, gin[i]) : accumulate_leaf(in, gin[i]);
            if (st) goto done;
        }
        n->grad_acc = NULL;
    }
done:
    zf_set_grad_enabled(prev);
    return st;
}
