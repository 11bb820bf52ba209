/* safetensors reader and writer (round trips of every dtype, metadata,
 * strided tensors, atomic replacement), hostile headers, and checkpoints
 * (save, resume, wrong model / shape / optimizer, truncated files). */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "zf_test.h"

static char g_dir[256];

static const char *path_of(const char *name) {
    static char buf[512];
    snprintf(buf, sizeof buf, "%s/%s", g_dir, name);
    return buf;
}

static void test_round_trip(zf_ctx *ctx) {
    zf_dtype dts[] = {ZF_F64, ZF_F32, ZF_F16, ZF_BF16, ZF_I64, ZF_I32, ZF_I16, ZF_I8, ZF_U8, ZF_BOOL, ZF_F8_E4M3, ZF_F8_E5M2};
    int nd = (int)(sizeof dts / sizeof dts[0]);
    zf_named_tensors *l = zf_named_new(ctx, nd + 3);
    char name[32];
    for (int i = 0; i < nd; i++) {
        zf_tensor *t = zf_cast(ctx, zf_mul_scalar(ctx, zf_randn(ctx, ZF_F64, 2, (int64_t[]){3, 5}, 1, (uint64_t)i), 4.0), dts[i]);
        snprintf(name, sizeof name, "t.%s", zf_dtype_name(dts[i]));
        CHECK(t && zf_named_push(ctx, l, name, t) == ZF_OK);
    }
    zf_tensor *base = zf_arange(ctx, ZF_F32, 0, 24, 1);
    zf_named_push(ctx, l, "strided", zf_transpose(ctx, zf_reshape(ctx, base, 2, (int64_t[]){4, 6}), 0, 1));
    zf_named_push(ctx, l, "scalar", zf_scalar(ctx, ZF_F64, 3.25));
    zf_named_push(ctx, l, "empty \"q\"", zf_zeros(ctx, ZF_F32, 2, (int64_t[]){0, 4}));
    const char *keys[] = {"note", "unicode"}, *vals[] = {"line\nbreak \"quoted\"", "caf\xc3\xa9"};
    const char *p = path_of("rt.safetensors");
    CHECK(zf_safetensors_save(p, l, 2, keys, vals) == ZF_OK);
    zf_safetensors *st = zf_safetensors_open(p);
    CHECK(st && zf_safetensors_count(st) == l->n);
    if (!st) return;
    CHECK(strcmp(zf_safetensors_meta_get(st, "note"), vals[0]) == 0);
    CHECK(strcmp(zf_safetensors_meta_get(st, "unicode"), vals[1]) == 0);
    CHECK(zf_safetensors_meta_count(st) == 2 && zf_safetensors_meta_get(st, "nope") == NULL);
    for (int i = 0; i < l->n; i++) {
        zf_tensor *t = zf_safetensors_load(st, ctx, l->names[i]);
        zf_tensor *want = zf_contiguous(ctx, l->tensors[i]);
        CHECK(t && t->dtype == want->dtype && zf_same_shape(t, want) &&
              memcmp(zf_data(t), zf_data(want), zf_nbytes(t)) == 0);
        CHECK(strcmp(zf_safetensors_info(st, i)->name, l->names[i]) == 0); /* order kept */
    }
    const zf_st_info *inf = zf_safetensors_info(st, zf_safetensors_find(st, "t.bf16"));
    CHECK(inf && strcmp(inf->dtype_name, "BF16") == 0 && inf->end - inf->begin == 30);
    zf_named_tensors *all = zf_safetensors_load_all(st, ctx);
    CHECK(all && all->n == l->n);
    CHECK(zf_safetensors_load(st, ctx, "missing") == NULL && zf_last_status() == ZF_ERR_INDEX);
    zf_safetensors_close(st);
    /* header length is a multiple of 8 */
    FILE *f = fopen(p, "rb");
    unsigned char h[8];
    CHECK(f && fread(h, 1, 8, f) == 8 && h[0] % 8 == 0);
    if (f) fclose(f);
}

static zf_status open_mem(const char *header, const void *data, size_t dn) {
    size_t hn = strlen(header);
    unsigned char *buf = malloc(8 + hn + dn + 1);
    for (int k = 0; k < 8; k++) buf[k] = (unsigned char)((uint64_t)hn >> (8 * k));
    memcpy(buf + 8, header, hn);
    if (dn) memcpy(buf + 8 + hn, data, dn);
    zf_safetensors *st = zf_safetensors_open_memory(buf, 8 + hn + dn, "mem");
    zf_status s = st ? ZF_OK : zf_last_status();
    zf_safetensors_close(st);
    free(buf);
    return s;
}

static void test_hostile(void) {
    static const unsigned char zeros[64] = {0};
    CHECK(open_mem("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", zeros, 8) == ZF_OK);
    CHECK(open_mem("{}", NULL, 0) == ZF_OK);
    CHECK(open_mem("{\"__metadata__\":{\"k\":\"v\"}}  ", NULL, 0) == ZF_OK);
    CHECK(open_mem("{\"a\":{\"shape\":[2],\"data_offsets\":[0,8],\"dtype\":\"F32\",\"x\":[1,{\"y\":null}]}}", zeros,
                   8) == ZF_OK); /* key order and unknown keys */
    const char *bad[] = {
        "",                                                                   /* empty */
        "[]",                                                                 /* not an object */
        "{\"a\":{\"dtype\":\"F33\",\"shape\":[2],\"data_offsets\":[0,8]}}",  /* unknown dtype */
        "{\"a\":{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}}", /* negative */
        "{\"a\":{\"dtype\":\"F32\",\"shape\":[2.5],\"data_offsets\":[0,8]}}",
        "{\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}",  /* size mismatch */
        "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,0]}}",  /* reversed */
        "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
        "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", /* overlap */
        "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,16]}}", /* gap at 0 */
        "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}",  /* bytes left over */
        "{\"a\":{\"dtype\":\"F32\",\"shape\":[20],\"data_offsets\":[0,80]}}", /* past the end */
        "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
        "\"a\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[8,8]}}", /* duplicate */
        "{\"a\":{\"dtype\":\"F32\",\"shape\":[2]}}",                           /* missing offsets */
        "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8],\"dtype\":\"F32\"}}",
        "{\"__metadata__\":{\"k\":1}}",                                        /* non-string meta */
        "{\"a\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296,4294967296],\"data_offsets\":[0,8]}}",
        /* empty, but its strides overflow (UB in zf_contiguous_strides under fuzz_safetensors) */
        "{\"a\":{\"dtype\":\"F64\",\"shape\":[0,1099511627776,1099511627776,1099511627776],\"data_offsets\":[0,0]}}",
        "{\"a\":{\"dtype\":\"F32\",\"shape\":[1,1,1,1,1,1,1,1,2],\"data_offsets\":[0,8]}}", /* 9 dims */
        "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}} x",  /* trailing */
        "{\"a\\q\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", /* bad escape */
        "{\"a\\ud800\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", /* lone surrogate */
        "{\"\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}",     /* empty name */
        "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,18446744073709551616]}}",
        "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8],\"x\":"
        "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}}",
        "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]",     /* unterminated */
        "{\"a\":\"F32\"}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        zf_status s = open_mem(bad[i], zeros, 8);
        if (s != ZF_ERR_FORMAT) fprintf(stderr, "hostile header %zu accepted (%d)\n", i, (int)s);
        CHECK(s == ZF_ERR_FORMAT);
    }
    /* header length past the file, tiny files, NUL in a string */
    unsigned char tiny[8] = {0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0};
    CHECK(zf_safetensors_open_memory(tiny, 8, "tiny") == NULL && zf_last_status() == ZF_ERR_FORMAT);
    CHECK(zf_safetensors_open_memory(tiny, 3, "tiny") == NULL && zf_last_status() == ZF_ERR_FORMAT);
    CHECK(open_mem("{\"a\\u0000\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", zeros, 8) ==
          ZF_ERR_FORMAT);
    /* a dtype zerfoo cannot hold: listed, not loadable */
    const char *u32 = "{\"u\":{\"dtype\":\"U32\",\"shape\":[2],\"data_offsets\":[0,8]}}";
    size_t hn = strlen(u32);
    unsigned char buf[256] = {0};
    buf[0] = (unsigned char)hn;
    memcpy(buf + 8, u32, hn);
    zf_safetensors *st = zf_safetensors_open_memory(buf, 8 + hn + 8, "u32");
    zf_ctx *ctx = zf_ctx_new(NULL);
    CHECK(st && zf_safetensors_info(st, 0)->dtype == ZF_DTYPE_COUNT);
    CHECK(st && zf_safetensors_load(st, ctx, "u") == NULL && zf_last_status() == ZF_ERR_UNSUPPORTED);
    zf_safetensors_close(st);
    zf_ctx_free(ctx);
    CHECK(zf_safetensors_open(path_of("does-not-exist")) == NULL && zf_last_status() == ZF_ERR_IO);
    CHECK(zf_safetensors_open(g_dir) == NULL && zf_last_status() == ZF_ERR_IO);
}

static void test_atomic(zf_ctx *ctx) {
    const char *p = path_of("atomic.safetensors");
    zf_named_tensors *l = zf_named_new(ctx, 2);
    zf_named_push(ctx, l, "x", zf_ones(ctx, ZF_F32, 1, (int64_t[]){4}));
    CHECK(zf_safetensors_save(p, l, 0, NULL, NULL) == ZF_OK);
    /* a failing save (quantized dtype) leaves the old file in place */
    zf_named_tensors *q = zf_named_new(ctx, 1);
    zf_named_push(ctx, q, "q", zf_empty(ctx, ZF_Q8_0, 1, (int64_t[]){32}));
    CHECK(zf_safetensors_save(p, q, 0, NULL, NULL) == ZF_ERR_UNSUPPORTED);
    zf_named_tensors *dup = zf_named_new(ctx, 2);
    zf_named_push(ctx, dup, "x", l->tensors[0]);
    zf_named_push(ctx, dup, "x", l->tensors[0]);
    CHECK(zf_safetensors_save(p, dup, 0, NULL, NULL) == ZF_ERR_INVALID_ARG);
    zf_safetensors *st = zf_safetensors_open(p);
    CHECK(st && zf_safetensors_count(st) == 1);
    zf_safetensors_close(st);
    /* overwrite replaces; no temporary files are left behind */
    zf_named_push(ctx, l, "y", zf_zeros(ctx, ZF_I64, 1, (int64_t[]){2}));
    CHECK(zf_safetensors_save(p, l, 0, NULL, NULL) == ZF_OK);
    st = zf_safetensors_open(p);
    CHECK(st && zf_safetensors_count(st) == 2);
    zf_safetensors_close(st);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "ls -a %s | grep -q tmp", g_dir);
    CHECK(system(cmd) != 0);
    CHECK(zf_safetensors_save(path_of("no/such/dir/x.safetensors"), l, 0, NULL, NULL) == ZF_ERR_IO);
    zf_named_tensors *reserved = zf_named_new(ctx, 1);
    zf_named_push(ctx, reserved, "__metadata__", l->tensors[0]);
    CHECK(zf_safetensors_save(p, reserved, 0, NULL, NULL) == ZF_ERR_INVALID_ARG);
}

/* ---- checkpoints ---- */
typedef struct {
    zf_ctx *params;
    zf_module *m;
    zf_optimizer *opt;
    zf_named_tensors *sd;
} trainee;

static trainee make_trainee(uint64_t seed, int64_t hidden) {
    trainee t;
    t.params = zf_ctx_new(NULL);
    zf_nn nn = zf_nn_init(t.params, ZF_F32, seed);
    t.m = zf_nn_sequential(&nn, 4, (zf_module *[]){zf_nn_linear(&nn, 5, hidden, true), zf_nn_batch_norm1d(&nn, hidden, 1e-5, 0.1),
                                                    zf_nn_relu(&nn), zf_nn_linear(&nn, hidden, 3, true)});
    zf_adam_params h = zf_adam_defaults();
    t.opt = zf_adam_new(zf_module_named_parameters(t.m, t.params), &h);
    t.sd = zf_module_state_dict(t.m, t.params);
    return t;
}
static void free_trainee(trainee *t) {
    zf_optim_free(t->opt);
    zf_ctx_free(t->params);
}
static double train_step(trainee *t, zf_ctx *step, int k) {
    zf_ctx_reset(step);
    zf_tensor *x = zf_randn(step, ZF_F32, 2, (int64_t[]){8, 5}, 100, (uint64_t)k);
    zf_tensor *y = zf_cast(step, zf_mul_scalar(step, zf_rand(step, ZF_F32, 1, (int64_t[]){8}, 200, (uint64_t)k), 3), ZF_I64);
    zf_tensor *l = zf_cross_entropy(step, zf_module_forward(t->m, step, x), y, 0, ZF_REDUCTION_MEAN);
    zf_optim_zero_grad(t->opt);
    if (!l || zf_backward(step, l, NULL) || zf_optim_step(t->opt)) return NAN;
    return zf_item(l);
}

/* Copies checkpoint src to dst with metadata `key` set to `value` (NULL:
 * removed). */
static bool resave_meta(const char *src, const char *dst, const char *key, const char *value) {
    zf_ctx *ctx = zf_ctx_new(NULL);
    zf_safetensors *st = zf_safetensors_open(src);
    zf_named_tensors *all = st ? zf_safetensors_load_all(st, ctx) : NULL;
    const char *keys[32], *vals[32];
    int n = 0;
    for (int i = 0; st && i < zf_safetensors_meta_count(st) && n < 31; i++) {
        const char *k = zf_safetensors_meta_key(st, i);
        if (strcmp(k, key) != 0) keys[n] = k, vals[n++] = zf_safetensors_meta_get(st, k);
    }
    if (value) keys[n] = key, vals[n++] = value;
    bool ok = all && zf_safetensors_save(dst, all, n, keys, vals) == ZF_OK;
    zf_safetensors_close(st);
    zf_ctx_free(ctx);
    return ok;
}

static void test_checkpoint(void) {
    zf_ctx *step = zf_ctx_new(NULL);
    trainee a = make_trainee(1, 7), b = make_trainee(2, 7);
    for (int k = 0; k < 3; k++) train_step(&a, step, k);
    zf_checkpoint_meta meta = {.step = 3, .epoch = 1};
    snprintf(meta.model, sizeof meta.model, "tiny");
    CHECK(zf_checkpoint_meta_set(&meta, "seed", "1") == ZF_OK);
    CHECK(zf_checkpoint_meta_set(&meta, "step", "1") == ZF_ERR_INVALID_ARG);
    const char *p = path_of("ckpt.safetensors");
    CHECK(zf_checkpoint_save(p, a.sd, a.opt, &meta) == ZF_OK);
    zf_safetensors *st = zf_safetensors_open(p);
    CHECK(st && zf_safetensors_find(st, "optim.0.weight.exp_avg") >= 0 &&
          zf_safetensors_find(st, "1.num_batches_tracked") >= 0 &&
          strcmp(zf_safetensors_meta_get(st, "optimizer"), "adam") == 0);
    zf_safetensors_close(st);
    zf_checkpoint_meta got = {.step = 0};
    snprintf(got.model, sizeof got.model, "tiny");
    CHECK(zf_checkpoint_load(p, b.sd, b.opt, &got) == ZF_OK);
    CHECK(got.step == 3 && got.epoch == 1 && got.version == 1 && strcmp(zf_checkpoint_meta_get(&got, "seed"), "1") == 0);
    CHECK(zf_optim_steps(b.opt) == 3);
    /* resumed training matches bit for bit */
    bool same = true;
    for (int k = 3; k < 6; k++) same &= train_step(&a, step, k) == train_step(&b, step, k);
    CHECK(same);
    for (int i = 0; i < a.sd->n; i++)
        CHECK(memcmp(zf_data(a.sd->tensors[i]), zf_data(b.sd->tensors[i]), zf_nbytes(a.sd->tensors[i])) == 0);

    /* another shape: clear error, nothing changed */
    trainee c = make_trainee(3, 9);
    double before = ((float *)zf_data(c.sd->tensors[0]))[0];
    CHECK(zf_checkpoint_load(p, c.sd, c.opt, NULL) == ZF_ERR_SHAPE && strstr(zf_last_error(), "0.weight"));
    CHECK(((float *)zf_data(c.sd->tensors[0]))[0] == before);
    /* another model name, another optimizer */
    zf_checkpoint_meta other = {.step = 0};
    snprintf(other.model, sizeof other.model, "lenet5");
    CHECK(zf_checkpoint_load(p, b.sd, b.opt, &other) == ZF_ERR_FORMAT && strstr(zf_last_error(), "tiny"));
    zf_sgd_params sp = {.lr = 0.1, .momentum = 0.9};
    zf_optimizer *sgd = zf_sgd_new(zf_module_named_parameters(b.m, step), &sp);
    CHECK(zf_checkpoint_load(p, b.sd, sgd, NULL) == ZF_ERR_FORMAT && strstr(zf_last_error(), "adam"));
    CHECK(zf_checkpoint_load(p, b.sd, NULL, NULL) == ZF_OK); /* weights only */
    zf_optim_free(sgd);
    /* truncated copies of the file */
    FILE *f = fopen(p, "rb");
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *buf = malloc((size_t)n);
    CHECK(fread(buf, 1, (size_t)n, f) == (size_t)n);
    fclose(f);
    long cuts[] = {0, 5, 20, n / 2, n - 1};
    for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
        const char *tp = path_of("trunc.safetensors");
        FILE *g = fopen(tp, "wb");
        fwrite(buf, 1, (size_t)cuts[i], g);
        fclose(g);
        zf_status s = zf_checkpoint_load(tp, b.sd, b.opt, NULL);
        CHECK(s == ZF_ERR_FORMAT);
    }
    free(buf);
    /* metadata that is not a number is a corrupt file, not a default (the
     * fuzzer found lr "nan" set as the optimizer's learning rate) */
    char good[512], bad[512];
    snprintf(good, sizeof good, "%s", path_of("ckpt.safetensors"));
    snprintf(bad, sizeof bad, "%s", path_of("badmeta.safetensors"));
    const char *const bad_lr[] = {"nan", "inf", "-0.5", "abc", "", "0.1x"};
    for (size_t i = 0; i < sizeof bad_lr / sizeof bad_lr[0]; i++) {
        CHECK(resave_meta(good, bad, "lr", bad_lr[i]));
        CHECK(zf_checkpoint_load(bad, b.sd, b.opt, NULL) == ZF_ERR_FORMAT && strstr(zf_last_error(), "bad lr"));
    }
    CHECK(resave_meta(good, bad, "lr", NULL));
    CHECK(zf_checkpoint_load(bad, b.sd, b.opt, NULL) == ZF_ERR_FORMAT && strstr(zf_last_error(), "bad lr '(none)'"));
    CHECK(zf_checkpoint_load(bad, b.sd, NULL, NULL) == ZF_OK); /* weights only: lr unused */
    const char *const bad_decay[] = {"nan", "1", "-0.1", "x", "1e400"};
    for (size_t i = 0; i < sizeof bad_decay / sizeof bad_decay[0]; i++) {
        CHECK(resave_meta(good, bad, "ema_decay", bad_decay[i]));
        CHECK(zf_checkpoint_load(bad, b.sd, NULL, NULL) == ZF_ERR_FORMAT && strstr(zf_last_error(), "bad ema_decay"));
    }
    /* a step past int64 was clamped to INT64_MAX by strtoll */
    CHECK(resave_meta(good, bad, "step", "99999999999999999999"));
    CHECK(zf_checkpoint_load(bad, b.sd, b.opt, NULL) == ZF_ERR_FORMAT && strstr(zf_last_error(), "bad step"));
    CHECK(resave_meta(good, bad, "lr", "0.25"));
    CHECK(zf_checkpoint_load(bad, b.sd, b.opt, NULL) == ZF_OK && zf_optim_lr(b.opt) == 0.25);
    /* a plain safetensors file is not a checkpoint */
    CHECK(zf_checkpoint_load(path_of("rt.safetensors"), b.sd, NULL, NULL) == ZF_ERR_FORMAT);
    free_trainee(&a);
    free_trainee(&b);
    free_trainee(&c);
    zf_ctx_free(step);
}

static bool same_state(const trainee *a, const trainee *b) {
    bool same = a->sd->n == b->sd->n;
    for (int i = 0; same && i < a->sd->n; i++)
        same = memcmp(zf_data(a->sd->tensors[i]), zf_data(b->sd->tensors[i]), zf_nbytes(a->sd->tensors[i])) == 0;
    return same;
}

/* Checkpoints with the EMA of the weights: saved and restored (a resumed
 * run continues bit for bit, averages included), loadable as the model's
 * weights (zf_checkpoint_load_ema), and refused where EMA does not match.
 * Runs after test_checkpoint, whose checkpoint has no EMA. */
static void test_checkpoint_ema(void) {
    zf_ctx *step = zf_ctx_new(NULL);
    trainee a = make_trainee(1, 7), b = make_trainee(2, 7), c = make_trainee(3, 7);
    CHECK(zf_optim_set_ema(a.opt, 0.9) == ZF_OK && zf_optim_set_ema(b.opt, 0.9) == ZF_OK);
    for (int k = 0; k < 3; k++) train_step(&a, step, k);
    const char *p = path_of("ema.safetensors");
    CHECK(zf_checkpoint_save(p, a.sd, a.opt, NULL) == ZF_OK);
    zf_safetensors *st = zf_safetensors_open(p);
    CHECK(st && zf_safetensors_find(st, "optim.0.weight.ema") >= 0 && zf_safetensors_find(st, "optim.1.bias.ema") >= 0 &&
          zf_safetensors_meta_get(st, "ema_decay") && strtod(zf_safetensors_meta_get(st, "ema_decay"), NULL) == 0.9);
    zf_safetensors_close(st);
    /* the averaged weights as the model's (BatchNorm's buffers as saved) */
    zf_checkpoint_meta got;
    memset(&got, 0, sizeof got);
    CHECK(zf_checkpoint_load_ema(p, c.sd, &got) == ZF_OK && got.ema_decay == 0.9);
    CHECK(zf_optim_swap_ema(a.opt) == ZF_OK);
    CHECK(same_state(&a, &c));
    CHECK(zf_optim_swap_ema(a.opt) == ZF_OK);
    /* resume with the averages: bit for bit, averages included */
    memset(&got, 0, sizeof got);
    CHECK(zf_checkpoint_load(p, b.sd, b.opt, &got) == ZF_OK && got.ema_decay == 0.9);
    bool same = true;
    for (int k = 3; k < 6; k++) same &= train_step(&a, step, k) == train_step(&b, step, k);
    CHECK(same && same_state(&a, &b));
    CHECK(zf_optim_swap_ema(a.opt) == ZF_OK && zf_optim_swap_ema(b.opt) == ZF_OK);
    CHECK(same_state(&a, &b));
    CHECK(zf_optim_swap_ema(a.opt) == ZF_OK && zf_optim_swap_ema(b.opt) == ZF_OK);
    /* EMA on one side only */
    CHECK(zf_checkpoint_load(p, c.sd, c.opt, NULL) == ZF_ERR_FORMAT && strstr(zf_last_error(), "EMA weights (decay 0.9)"));
    const char *plain = path_of("ckpt.safetensors");
    CHECK(zf_checkpoint_load(plain, b.sd, b.opt, NULL) == ZF_ERR_FORMAT && strstr(zf_last_error(), "no EMA weights"));
    memset(&got, 0, sizeof got);
    CHECK(zf_checkpoint_load(plain, c.sd, NULL, &got) == ZF_OK && isnan(got.ema_decay));
    float before = ((float *)zf_data(c.sd->tensors[0]))[0];
    CHECK(zf_checkpoint_load_ema(plain, c.sd, NULL) == ZF_ERR_INVALID_ARG && strstr(zf_last_error(), "no EMA"));
    CHECK(((float *)zf_data(c.sd->tensors[0]))[0] == before);
    free_trainee(&a);
    free_trainee(&b);
    free_trainee(&c);
    zf_ctx_free(step);
}

int main(void) {
    snprintf(g_dir, sizeof g_dir, "/tmp/zf_test_st_XXXXXX");
    if (!mkdtemp(g_dir)) return 1;
    zf_ctx *ctx = zf_ctx_new(NULL);
    test_round_trip(ctx);
    test_hostile();
    test_atomic(ctx);
    test_checkpoint();
    test_checkpoint_ema();
    zf_ctx_free(ctx);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", g_dir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", g_dir);
    ZF_TEST_MAIN_END();
}
