/* Helper of test_nn_parity.py: runs one zerfoo layer, loss, optimizer or
 * training case on tensors read from a safetensors file and writes the
 * results to another.
 *
 * usage: nn_tool IN.safetensors OUT.safetensors
 *
 * IN's metadata "case" is a space-separated spec (see run_* below); its
 * tensors are the inputs:
 *   module SPEC...  : "x" input, "gy" upstream gradient, "p.<name>" the
 *                     module's state dict (PyTorch names, loaded strictly).
 *                     Writes "y", "grad.x", "grad.<param>", "state.<name>".
 *   loss KIND ...   : "x", "target", "gy" (for reduction none); writes "y", "grad.x".
 *   optim KIND ...  : "p.<i>" parameters, "g.<s>.<i>" gradients per step;
 *                     writes "p.<s>.<i>" after each step.
 *   clip MAX        : "g.<i>"; writes "g.<i>" clipped and "norm".
 *   train MODEL OPT STEPS : "p.<name>" initial state, "x.<s>", "y.<s>"
 *                     batches; writes "loss" [STEPS], "grad1.<name>" (after
 *                     the first backward) and "final.<name>". The model is
 *                     f64 when the state is, f32 otherwise.
 * Exits nonzero with zf_last_error() on any failure. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "zerfoo/zerfoo.h"

#define MAX_TOK 32

static int g_ntok;
static char *g_tok[MAX_TOK];

static double num(int i) { return i < g_ntok ? atof(g_tok[i]) : 0.0; }
static int64_t inum(int i) { return i < g_ntok ? atoll(g_tok[i]) : 0; }

static int fail(const char *what) {
    fprintf(stderr, "nn_tool: %s: %s\n", what, zf_last_error());
    return 1;
}

/* Builds a module from the spec tokens starting at g_tok[1]. */
static zf_module *build_module(zf_nn *nn, const char *kind, int t) {
    if (!strcmp(kind, "linear")) return zf_nn_linear(nn, inum(t), inum(t + 1), inum(t + 2));
    if (!strcmp(kind, "conv2d")) {
        zf_conv2d_params p = {{inum(t + 4), inum(t + 5)}, {inum(t + 6), inum(t + 7)}, {inum(t + 8), inum(t + 9)},
                              inum(t + 10)};
        return zf_nn_conv2d(nn, inum(t), inum(t + 1), inum(t + 2), inum(t + 3), &p, inum(t + 11));
    }
    if (!strcmp(kind, "maxpool2d")) {
        zf_pool2d_params p = {.kernel = {inum(t), inum(t + 1)}, .stride = {inum(t + 2), inum(t + 3)},
                              .padding = {inum(t + 4), inum(t + 5)}, .dilation = {inum(t + 6), inum(t + 7)},
                              .ceil_mode = inum(t + 8)};
        return zf_nn_max_pool2d(nn, &p);
    }
    if (!strcmp(kind, "avgpool2d")) {
        zf_pool2d_params p = {.kernel = {inum(t), inum(t + 1)}, .stride = {inum(t + 2), inum(t + 3)},
                              .padding = {inum(t + 4), inum(t + 5)}, .ceil_mode = inum(t + 6),
                              .exclude_pad = !inum(t + 7), .divisor = inum(t + 8)};
        return zf_nn_avg_pool2d(nn, &p);
    }
    if (!strcmp(kind, "batchnorm1d")) return zf_nn_batch_norm1d(nn, inum(t), num(t + 1), num(t + 2));
    if (!strcmp(kind, "batchnorm2d")) return zf_nn_batch_norm2d(nn, inum(t), num(t + 1), num(t + 2));
    if (!strcmp(kind, "layernorm")) {
        int64_t shape[8];
        int nd = (int)inum(t + 2);
        for (int i = 0; i < nd && i < 8; i++) shape[i] = inum(t + 3 + i);
        return zf_nn_layer_norm(nn, nd, shape, num(t), inum(t + 1));
    }
    if (!strcmp(kind, "rmsnorm")) return zf_nn_rms_norm(nn, inum(t), num(t + 1));
    if (!strcmp(kind, "embedding")) return zf_nn_embedding(nn, inum(t), inum(t + 1));
    if (!strcmp(kind, "relu")) return zf_nn_relu(nn);
    if (!strcmp(kind, "gelu")) return zf_nn_gelu(nn, inum(t));
    if (!strcmp(kind, "silu")) return zf_nn_silu(nn);
    if (!strcmp(kind, "tanh")) return zf_nn_tanh(nn);
    if (!strcmp(kind, "sigmoid")) return zf_nn_sigmoid(nn);
    if (!strcmp(kind, "flatten")) return zf_nn_flatten(nn, (int)inum(t), (int)inum(t + 1));
    if (!strcmp(kind, "mlp"))
        return zf_nn_sequential(nn, 4, (zf_module *[]){zf_nn_flatten(nn, 1, -1), zf_nn_linear(nn, 784, 128, true),
                                                       zf_nn_relu(nn), zf_nn_linear(nn, 128, 10, true)});
    if (!strcmp(kind, "lenet5")) {
        zf_pool2d_params pool = {.kernel = {2, 2}};
        return zf_nn_sequential(
            nn, 12,
            (zf_module *[]){zf_nn_conv2d(nn, 1, 6, 5, 5, NULL, true), zf_nn_relu(nn), zf_nn_max_pool2d(nn, &pool),
                            zf_nn_conv2d(nn, 6, 16, 5, 5, NULL, true), zf_nn_relu(nn), zf_nn_max_pool2d(nn, &pool),
                            zf_nn_flatten(nn, 1, -1), zf_nn_linear(nn, 256, 120, true), zf_nn_relu(nn),
                            zf_nn_linear(nn, 120, 84, true), zf_nn_relu(nn), zf_nn_linear(nn, 84, 10, true)});
    }
    zf_set_error(ZF_ERR_INVALID_ARG, "unknown module kind '%s'", kind);
    return NULL;
}

/* Entries of `in` named prefix + X as a list named X (in ctx). */
static zf_named_tensors *with_prefix(zf_ctx *ctx, const zf_named_tensors *in, const char *prefix) {
    zf_named_tensors *l = zf_named_new(ctx, in->n);
    size_t n = strlen(prefix);
    for (int i = 0; l && i < in->n; i++)
        if (!strncmp(in->names[i], prefix, n) && zf_named_push(ctx, l, in->names[i] + n, in->tensors[i])) return NULL;
    return l;
}

static zf_status push(zf_ctx *ctx, zf_named_tensors *out, const char *prefix, const char *name, zf_tensor *t) {
    char buf[256];
    snprintf(buf, sizeof buf, "%s%s", prefix, name);
    if (!t) return zf_last_status() ? zf_last_status() : zf_set_error(ZF_ERR_INTERNAL, "no tensor for %s", buf);
    return zf_named_push(ctx, out, buf, zf_clone(ctx, zf_detach(ctx, t)));
}

/* module SPEC: forward, backward with gy, gradients and state. */
static int run_module(zf_ctx *ctx, const zf_named_tensors *in, zf_named_tensors *out) {
    zf_nn nn = zf_nn_init(ctx, ZF_F32, 1);
    zf_module *m = build_module(&nn, g_tok[1], 2);
    if (!m) return fail("build");
    zf_named_tensors *sd = with_prefix(ctx, in, "p.");
    if (!sd || zf_module_load_state_dict(m, sd, true)) return fail("load_state_dict");
    const char *mode = zf_named_find(in, "eval") ? "eval" : "train";
    zf_module_train(m, strcmp(mode, "eval") != 0);
    zf_tensor *x = zf_named_find(in, "x"), *gy = zf_named_find(in, "gy");
    if (!x) return fail("no x");
    if (zf_dtype_is_float(x->dtype)) zf_requires_grad(x, true);
    zf_tensor *y = zf_module_forward(m, ctx, x);
    if (!y || push(ctx, out, "", "y", y)) return fail("forward");
    if (gy && zf_backward(ctx, y, gy)) return fail("backward");
    if (x->grad && push(ctx, out, "grad.", "x", x->grad)) return fail("out");
    zf_named_tensors *np = zf_module_named_parameters(m, ctx), *st = zf_module_state_dict(m, ctx);
    for (int i = 0; np && i < np->n; i++)
        if (np->tensors[i]->grad && push(ctx, out, "grad.", np->names[i], np->tensors[i]->grad)) return fail("out");
    for (int i = 0; st && i < st->n; i++)
        if (push(ctx, out, "state.", st->names[i], st->tensors[i])) return fail("out");
    return 0;
}

/* loss KIND RED [LS]: KIND ce | nll | mse | bce | bce_pw. */
static int run_loss(zf_ctx *ctx, const zf_named_tensors *in, zf_named_tensors *out) {
    const char *kind = g_tok[1];
    zf_reduction red = (zf_reduction)inum(2);
    zf_tensor *x = zf_named_find(in, "x"), *t = zf_named_find(in, "target"), *gy = zf_named_find(in, "gy");
    if (!x || !t) return fail("inputs");
    zf_requires_grad(x, true);
    zf_tensor *y;
    if (!strcmp(kind, "ce")) y = zf_cross_entropy(ctx, x, t, num(3), red);
    else if (!strcmp(kind, "nll")) y = zf_nll_loss(ctx, x, t, red);
    else if (!strcmp(kind, "mse")) y = zf_mse_loss(ctx, x, t, red);
    else if (!strcmp(kind, "bce")) y = zf_bce_with_logits(ctx, x, t, zf_named_find(in, "pos_weight"), red);
    else return zf_set_error(ZF_ERR_INVALID_ARG, "unknown loss %s", kind), fail("loss");
    if (!y || push(ctx, out, "", "y", y)) return fail("forward");
    if (zf_backward(ctx, y, red == ZF_REDUCTION_NONE ? gy : NULL)) return fail("backward");
    return push(ctx, out, "grad.", "x", x->grad) ? fail("out") : 0;
}

static zf_optimizer *make_opt(const zf_named_tensors *params, int t) {
    const char *kind = g_tok[t];
    if (!strcmp(kind, "sgd")) {
        zf_sgd_params p = {num(t + 1), num(t + 2), num(t + 3), num(t + 4), inum(t + 5) != 0};
        return zf_sgd_new(params, &p);
    }
    zf_adam_params p = {num(t + 1), num(t + 2), num(t + 3), num(t + 4), num(t + 5)};
    if (!strcmp(kind, "adam")) return zf_adam_new(params, &p);
    if (!strcmp(kind, "adamw")) return zf_adamw_new(params, &p);
    zf_set_error(ZF_ERR_INVALID_ARG, "unknown optimizer %s", kind);
    return NULL;
}

/* optim KIND HYPER... STEPS(last token) */
static int run_optim(zf_ctx *ctx, const zf_named_tensors *in, zf_named_tensors *out) {
    zf_named_tensors *ps = zf_named_new(ctx, in->n);
    char name[64];
    for (int i = 0;; i++) {
        snprintf(name, sizeof name, "p.%d", i);
        zf_tensor *p = zf_named_find(in, name);
        if (!p) break;
        zf_requires_grad(p, true);
        zf_named_push(ctx, ps, name, p);
    }
    zf_optimizer *opt = make_opt(ps, 1);
    if (!opt) return fail("optimizer");
    int steps = (int)inum(g_ntok - 1);
    for (int s = 0; s < steps; s++) {
        for (int i = 0; i < ps->n; i++) {
            snprintf(name, sizeof name, "g.%d.%d", s, i);
            zf_tensor *g = zf_named_find(in, name);
            ps->tensors[i]->grad = g ? zf_clone(ctx, g) : NULL;
        }
        if (zf_optim_step(opt)) return fail("step");
        for (int i = 0; i < ps->n; i++) {
            snprintf(name, sizeof name, "p.%d.%d", s, i);
            if (push(ctx, out, "", name, ps->tensors[i])) return fail("out");
        }
    }
    zf_optim_free(opt);
    return 0;
}

static int run_clip(zf_ctx *ctx, const zf_named_tensors *in, zf_named_tensors *out) {
    zf_named_tensors *ps = zf_named_new(ctx, in->n);
    for (int i = 0; i < in->n; i++) {
        zf_tensor *p = zf_zeros(ctx, in->tensors[i]->dtype, in->tensors[i]->ndim, in->tensors[i]->shape);
        p->grad = zf_clone(ctx, in->tensors[i]);
        zf_named_push(ctx, ps, in->names[i], p);
    }
    double norm;
    if (zf_clip_grad_norm(ctx, ps, num(1), &norm)) return fail("clip");
    for (int i = 0; i < ps->n; i++)
        if (push(ctx, out, "", ps->names[i], ps->tensors[i]->grad)) return fail("out");
    return push(ctx, out, "", "norm", zf_scalar(ctx, ZF_F64, norm)) ? fail("out") : 0;
}

/* train MODEL OPTSPEC... STEPS */
static int run_train(zf_ctx *ctx, const zf_named_tensors *in, zf_named_tensors *out) {
    bool f64 = false;
    for (int i = 0; i < in->n; i++)
        if (!strncmp(in->names[i], "p.", 2) && zf_dtype_is_float(in->tensors[i]->dtype)) {
            f64 = in->tensors[i]->dtype == ZF_F64;
            break;
        }
    zf_nn nn = zf_nn_init(ctx, f64 ? ZF_F64 : ZF_F32, 1);
    zf_module *m = build_module(&nn, g_tok[1], 2);
    zf_named_tensors *sd = m ? with_prefix(ctx, in, "p.") : NULL;
    if (!sd || zf_module_load_state_dict(m, sd, true)) return fail("model");
    zf_named_tensors *np = zf_module_named_parameters(m, ctx);
    zf_optimizer *opt = make_opt(np, 2);
    if (!opt) return fail("optimizer");
    int steps = (int)inum(g_ntok - 1);
    zf_tensor *losses = zf_zeros(ctx, ZF_F64, 1, (int64_t[]){steps});
    zf_ctx *step = zf_ctx_new(NULL);
    char name[64];
    for (int s = 0; s < steps; s++) {
        zf_ctx_reset(step);
        snprintf(name, sizeof name, "x.%d", s);
        zf_tensor *x = zf_named_find(in, name);
        snprintf(name, sizeof name, "y.%d", s);
        zf_tensor *y = zf_named_find(in, name);
        zf_tensor *l = zf_cross_entropy(step, zf_module_forward(m, step, x), y, 0.0, ZF_REDUCTION_MEAN);
        zf_optim_zero_grad(opt);
        if (!l || zf_backward(step, l, NULL)) return fail("train step");
        ((double *)zf_data(losses))[s] = zf_item(l);
        if (s == 0)
            for (int i = 0; i < np->n; i++)
                if (push(ctx, out, "grad1.", np->names[i], np->tensors[i]->grad)) return fail("out");
        if (zf_optim_step(opt)) return fail("optimizer step");
    }
    for (int i = 0; i < np->n; i++)
        if (push(ctx, out, "final.", np->names[i], np->tensors[i])) return fail("out");
    zf_ctx_free(step);
    zf_optim_free(opt);
    return push(ctx, out, "", "loss", losses) ? fail("out") : 0;
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: nn_tool IN.safetensors OUT.safetensors\n");
        return 2;
    }
    zf_safetensors *st = zf_safetensors_open(argv[1]);
    if (!st) return fail(argv[1]);
    const char *spec = zf_safetensors_meta_get(st, "case");
    if (!spec) {
        fprintf(stderr, "nn_tool: %s has no 'case' metadata\n", argv[1]);
        return 2;
    }
    char *buf = strdup(spec);
    for (char *s = strtok(buf, " "); s && g_ntok < MAX_TOK; s = strtok(NULL, " ")) g_tok[g_ntok++] = s;
    zf_ctx *ctx = zf_ctx_new(NULL);
    zf_named_tensors *in = zf_safetensors_load_all(st, ctx);
    zf_named_tensors *out = zf_named_new(ctx, 4096);
    if (!in || !out || g_ntok < 1) return fail("load");
    int rc;
    if (!strcmp(g_tok[0], "module")) rc = run_module(ctx, in, out);
    else if (!strcmp(g_tok[0], "loss")) rc = run_loss(ctx, in, out);
    else if (!strcmp(g_tok[0], "optim")) rc = run_optim(ctx, in, out);
    else if (!strcmp(g_tok[0], "clip")) rc = run_clip(ctx, in, out);
    else if (!strcmp(g_tok[0], "train")) rc = run_train(ctx, in, out);
    else rc = (zf_set_error(ZF_ERR_INVALID_ARG, "unknown case '%s'", g_tok[0]), fail("case"));
    if (!rc && zf_safetensors_save(argv[2], out, 0, NULL, NULL)) rc = fail("save");
    zf_ctx_free(ctx);
    zf_safetensors_close(st);
    free(buf);
    return rc;
}
