/* Modules: registration of children, parameters and buffers, forward,
 * train/eval mode, PyTorch-style names, state dicts and printing.
 *
 * A module and its arrays live in the ctx of the zf_nn it was built from.
 * Arrays grow by reallocation inside the arena (the old copy stays until the
 * ctx is freed; modules are built once, so this wastes little). */
#include <stdlib.h>
#include <string.h>

#include "nn/module_internal.h"

#define PATH_MAX_LEN 512

zf_nn zf_nn_init(zf_ctx *ctx, zf_dtype dtype, uint64_t seed) {
    zf_nn nn = {ctx, dtype, {seed, 0}};
    return nn;
}

bool zf_nn_ok(const zf_nn *nn, const char *who) {
    if (!nn || !nn->ctx) {
        zf_set_error(ZF_ERR_INVALID_ARG, "%s: the zf_nn builder has no context (use zf_nn_init)", who);
        return false;
    }
    if (nn->dtype != ZF_F32 && nn->dtype != ZF_F64) {
        zf_set_error(ZF_ERR_DTYPE, "%s: parameters must be f32 or f64, got %s", who, zf_dtype_name(nn->dtype));
        return false;
    }
    return true;
}

zf_module *zf_mod_new(zf_nn *nn, const char *type, zf_forward_fn forward, zf_mod_extra_fn extra) {
    if (!zf_nn_ok(nn, type)) return NULL;
    zf_module *m = zf_ctx_alloc_zeroed(nn->ctx, sizeof *m);
    if (!m) return NULL;
    m->type = type;
    m->forward = forward;
    m->extra = extra;
    m->ctx = nn->ctx;
    m->dtype = nn->dtype;
    m->training = true;
    return m;
}

static bool valid_name(const zf_module *m, const char *name, const char *who) {
    if (!m || !name || !*name || strchr(name, '.') || strlen(name) >= 64) {
        zf_set_error(ZF_ERR_INVALID_ARG, "%s: names must be non-empty, shorter than 64 bytes and have no dots", who);
        return false;
    }
    for (int i = 0; i < m->n_entries; i++)
        if (strcmp(m->entries[i].name, name) == 0) goto dup;
    for (int i = 0; i < m->n_children; i++)
        if (strcmp(m->children[i].name, name) == 0) goto dup;
    return true;
dup:
    zf_set_error(ZF_ERR_INVALID_ARG, "%s: '%s' is already used in this %s", who, name, m->type);
    return false;
}

static const char *copy_str(zf_ctx *ctx, const char *s) {
    size_t n = strlen(s) + 1;
    char *d = zf_ctx_alloc(ctx, n);
    if (d) memcpy(d, s, n);
    return d;
}

/* Grows an arena array of `size`-byte items to hold one more. */
static bool grow(zf_ctx *ctx, void **arr, int n, int *cap, size_t size) {
    if (n < *cap) return true;
    int ncap = *cap ? *cap * 2 : 4;
    void *na = zf_ctx_alloc(ctx, (size_t)ncap * size);
    if (!na) return false;
    if (n) memcpy(na, *arr, (size_t)n * size);
    *arr = na;
    *cap = ncap;
    return true;
}

static zf_status add_entry(zf_module *m, const char *name, zf_tensor *t, bool buffer) {
    const char *who = buffer ? "module_add_buffer" : "module_add_param";
    if (!t) return zf_last_status() ? zf_last_status() : zf_set_error(ZF_ERR_INVALID_ARG, "%s: NULL tensor", who);
    if (!valid_name(m, name, who)) return zf_last_status();
    if (t->grad_fn) return zf_set_error(ZF_ERR_INVALID_ARG, "%s: '%s' must be a leaf tensor", who, name);
    if (!buffer && !zf_dtype_is_float(t->dtype))
        return zf_set_error(ZF_ERR_DTYPE, "%s: parameter '%s' must be a float tensor", who, name);
    if (!grow(m->ctx, (void **)&m->entries, m->n_entries, &m->cap_entries, sizeof *m->entries))
        return zf_last_status();
    const char *nm = copy_str(m->ctx, name);
    if (!nm) return zf_last_status();
    if (!buffer) {
        zf_status st = zf_requires_grad(t, true);
        if (st) return st;
    }
    zf_tensor_set_name(t, name);
    m->entries[m->n_entries++] = (zf_mod_entry){nm, t, buffer};
    return ZF_OK;
}

zf_status zf_module_add_param(zf_module *m, const char *name, zf_tensor *t) { return add_entry(m, name, t, false); }
zf_status zf_module_add_buffer(zf_module *m, const char *name, zf_tensor *t) { return add_entry(m, name, t, true); }

zf_tensor *zf_mod_param(zf_module *m, const char *name, int ndim, const int64_t *shape) {
    if (!m) return NULL;
    zf_tensor *t = zf_zeros(m->ctx, m->dtype, ndim, shape);
    if (!t || add_entry(m, name, t, false) != ZF_OK) return NULL;
    return t;
}

zf_status zf_module_add_child(zf_module *m, const char *name, zf_module *child) {
    if (!child)
        return zf_last_status() ? zf_last_status() : zf_set_error(ZF_ERR_INVALID_ARG, "module_add_child: NULL child");
    if (!valid_name(m, name, "module_add_child")) return zf_last_status();
    if (child == m) return zf_set_error(ZF_ERR_INVALID_ARG, "module_add_child: a module cannot contain itself");
    if (!grow(m->ctx, (void **)&m->children, m->n_children, &m->cap_children, sizeof *m->children))
        return zf_last_status();
    const char *nm = copy_str(m->ctx, name);
    if (!nm) return zf_last_status();
    m->children[m->n_children++] = (zf_mod_child){nm, child};
    return ZF_OK;
}

zf_module *zf_nn_custom(zf_nn *nn, const char *type_name, zf_forward_fn forward, void *user) {
    if (!forward) {
        zf_set_error(ZF_ERR_INVALID_ARG, "nn_custom: NULL forward function");
        return NULL;
    }
    const char *type = type_name && *type_name ? type_name : "Module";
    zf_module *m = zf_mod_new(nn, "Module", forward, NULL);
    if (!m) return NULL;
    m->type = copy_str(nn->ctx, type);
    m->user = user;
    return m->type ? m : NULL;
}

void *zf_module_user(const zf_module *m) { return m ? m->user : NULL; }

zf_tensor *zf_module_forward(zf_module *m, zf_ctx *step, zf_tensor *x) {
    if (!m || !step) {
        zf_set_error(ZF_ERR_INVALID_ARG, "module_forward: NULL %s", m ? "step context" : "module");
        return NULL;
    }
    if (!x) {
        if (zf_last_status() == ZF_OK) zf_set_error(ZF_ERR_INVALID_ARG, "%s forward: NULL input", m->type);
        return NULL;
    }
    return m->forward(m, step, x);
}

void zf_module_train(zf_module *m, bool training) {
    if (!m) return;
    m->training = training;
    for (int i = 0; i < m->n_children; i++) zf_module_train(m->children[i].m, training);
}
bool zf_module_is_training(const zf_module *m) { return m && m->training; }

static void set_rng(zf_module *m, uint64_t seed, uint64_t counter, uint64_t *k) {
    if (m->is_dropout) {
        m->cfg.seed = seed;
        m->cfg.stream_hi = (*k)++ << 40;
        m->cfg.counter = counter;
    }
    for (int i = 0; i < m->n_children; i++) set_rng(m->children[i].m, seed, counter, k);
}
void zf_module_set_rng(zf_module *m, uint64_t seed, uint64_t counter) {
    uint64_t k = 0;
    if (m) set_rng(m, seed, counter, &k);
}

const char *zf_module_type(const zf_module *m) { return m ? m->type : NULL; }
int zf_module_num_children(const zf_module *m) { return m ? m->n_children : 0; }
zf_module *zf_module_child_at(const zf_module *m, int i) {
    return m && i >= 0 && i < m->n_children ? m->children[i].m : NULL;
}
const char *zf_module_child_name(const zf_module *m, int i) {
    return m && i >= 0 && i < m->n_children ? m->children[i].name : NULL;
}

zf_module *zf_module_get(const zf_module *m, const char *path) {
    if (!m || !path) return NULL;
    const char *dot = strchr(path, '.');
    size_t len = dot ? (size_t)(dot - path) : strlen(path);
    for (int i = 0; i < m->n_children; i++) {
        if (strlen(m->children[i].name) == len && strncmp(m->children[i].name, path, len) == 0)
            return dot ? zf_module_get(m->children[i].m, dot + 1) : m->children[i].m;
    }
    return NULL;
}

zf_tensor *zf_module_param(const zf_module *m, const char *name) {
    if (!m || !name) return NULL;
    for (int i = 0; i < m->n_entries; i++)
        if (strcmp(m->entries[i].name, name) == 0) return m->entries[i].t;
    return NULL;
}

/* ---- walking the tree ---- */
typedef struct {
    zf_ctx *ctx;
    zf_named_tensors *out; /* NULL: count only */
    int count;
    bool buffers;
    zf_status st;
} walk;

static void visit(const zf_module *m, char *path, size_t len, walk *w) {
    for (int pass = 0; pass < (w->buffers ? 2 : 1); pass++) {
        for (int i = 0; i < m->n_entries; i++) {
            if (m->entries[i].buffer != (pass == 1)) continue;
            w->count++;
            if (!w->out || w->st) continue;
            size_t n = strlen(m->entries[i].name);
            if (len + n + 1 >= PATH_MAX_LEN) {
                w->st = zf_set_error(ZF_ERR_INVALID_ARG, "module names nest too deeply");
                continue;
            }
            memcpy(path + len, m->entries[i].name, n + 1);
            w->st = zf_named_push(w->ctx, w->out, path, m->entries[i].t);
        }
    }
    for (int i = 0; i < m->n_children; i++) {
        size_t n = strlen(m->children[i].name);
        if (len + n + 2 >= PATH_MAX_LEN) {
            if (!w->st) w->st = zf_set_error(ZF_ERR_INVALID_ARG, "module names nest too deeply");
            continue;
        }
        memcpy(path + len, m->children[i].name, n);
        path[len + n] = '.';
        path[len + n + 1] = 0;
        visit(m->children[i].m, path, len + n + 1, w);
    }
    path[len] = 0;
}

static zf_named_tensors *list(const zf_module *m, zf_ctx *ctx, bool buffers) {
    if (!m || !ctx) {
        zf_set_error(ZF_ERR_INVALID_ARG, "module: NULL module or context");
        return NULL;
    }
    char path[PATH_MAX_LEN] = {0};
    walk w = {.buffers = buffers};
    visit(m, path, 0, &w);
    w.out = zf_named_new(ctx, w.count);
    if (!w.out) return NULL;
    w.ctx = ctx;
    w.count = 0;
    visit(m, path, 0, &w);
    return w.st ? NULL : w.out;
}

zf_named_tensors *zf_module_named_parameters(const zf_module *m, zf_ctx *ctx) { return list(m, ctx, false); }
zf_named_tensors *zf_module_state_dict(const zf_module *m, zf_ctx *ctx) { return list(m, ctx, true); }

zf_status zf_module_load_state_dict(zf_module *m, const zf_named_tensors *sd, bool strict) {
    if (!m || !sd) return zf_set_error(ZF_ERR_INVALID_ARG, "load_state_dict: NULL argument");
    zf_ctx *tmp = zf_ctx_new(NULL);
    if (!tmp) return zf_last_status();
    zf_status st = ZF_OK;
    zf_named_tensors *own = zf_module_state_dict(m, tmp);
    if (!own) {
        st = zf_last_status();
        goto done;
    }
    char a[64], b[64];
    for (int i = 0; i < own->n && !st; i++) {
        zf_tensor *src = zf_named_find(sd, own->names[i]);
        if (!src) {
            if (strict) st = zf_set_error(ZF_ERR_FORMAT, "load_state_dict: missing entry '%s'", own->names[i]);
            continue;
        }
        if (!zf_same_shape(src, own->tensors[i]))
            st = zf_set_error(ZF_ERR_SHAPE, "load_state_dict: '%s' has shape %s, the module expects %s", own->names[i],
                              zf_shape_str(src, a, sizeof a), zf_shape_str(own->tensors[i], b, sizeof b));
        else if (zf_dtype_is_quant(src->dtype))
            st = zf_set_error(ZF_ERR_DTYPE, "load_state_dict: '%s' is quantized (%s)", own->names[i],
                              zf_dtype_name(src->dtype));
    }
    for (int i = 0; i < sd->n && strict && !st; i++)
        if (!zf_named_find(own, sd->names[i]))
            st = zf_set_error(ZF_ERR_FORMAT, "load_state_dict: unexpected entry '%s' (not in this %s)", sd->names[i],
                              m->type);
    for (int i = 0; i < own->n && !st; i++) {
        zf_tensor *src = zf_named_find(sd, own->names[i]);
        if (src) st = zf_copy_(own->tensors[i], src);
    }
done:
    zf_ctx_free(tmp);
    return st;
}

static int64_t count_params(const zf_module *m) {
    int64_t n = 0;
    for (int i = 0; i < m->n_entries; i++)
        if (!m->entries[i].buffer) n += zf_numel(m->entries[i].t);
    for (int i = 0; i < m->n_children; i++) n += count_params(m->children[i].m);
    return n;
}
int64_t zf_module_num_parameters(const zf_module *m) { return m ? count_params(m) : 0; }

void zf_module_zero_grad(zf_module *m) {
    if (!m) return;
    for (int i = 0; i < m->n_entries; i++)
        if (!m->entries[i].buffer) zf_zero_grad(m->entries[i].t);
    for (int i = 0; i < m->n_children; i++) zf_module_zero_grad(m->children[i].m);
}

static void print_rec(const zf_module *m, FILE *f, int indent, const char *name) {
    char extra[256] = "";
    if (m->extra) m->extra(m, extra, sizeof extra);
    fprintf(f, "%*s%s%s%s%s(%s", indent, "", name ? "(" : "", name ? name : "", name ? "): " : "", m->type, extra);
    if (!m->n_children) {
        fprintf(f, ")\n");
        return;
    }
    fprintf(f, "\n");
    for (int i = 0; i < m->n_children; i++) print_rec(m->children[i].m, f, indent + 2, m->children[i].name);
    fprintf(f, "%*s)\n", indent, "");
}

void zf_module_print(const zf_module *m, FILE *f) {
    if (m && f) print_rec(m, f, 0, NULL);
}
