/* IDX reader/writer (plain and gzip), hostile and truncated files, image
 * datasets, the seeded loader, and the real Fashion-MNIST files when installed. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "zerfoo/data.h"
#include "zf_test.h"

static char g_dir[256];

static const char *tmp_path(const char *name) {
    static char buf[4][512];
    static int k;
    k = (k + 1) % 4;
    snprintf(buf[k], sizeof buf[k], "%s/%s", g_dir, name);
    return buf[k];
}

static void write_bytes(const char *path, const void *p, size_t n) {
    FILE *f = fopen(path, "wb");
    if (!f) return;
    fwrite(p, 1, n, f);
    fclose(f);
}

static void write_gz(const char *path, const void *p, size_t n) {
    gzFile g = gzopen(path, "wb");
    if (!g) return;
    gzwrite(g, p, (unsigned)n);
    gzclose(g);
}

static size_t read_bytes(const char *path, unsigned char *buf, size_t cap) {
    FILE *f = fopen(path, "rb");
    if (!f) return 0;
    size_t n = fread(buf, 1, cap, f);
    fclose(f);
    return n;
}

/* A hand-made big-endian i16 file [2, 3] (independent of the writer). */
static void test_known_bytes(zf_ctx *ctx) {
    unsigned char b[4 + 8 + 12] = {0, 0, 0x0B, 2, 0, 0, 0, 2, 0, 0, 0, 3};
    int16_t vals[6] = {1, -2, 300, -32768, 32767, 0};
    for (int i = 0; i < 6; i++) {
        b[12 + 2 * i] = (unsigned char)((uint16_t)vals[i] >> 8);
        b[13 + 2 * i] = (unsigned char)((uint16_t)vals[i] & 0xFF);
    }
    write_bytes(tmp_path("known.idx"), b, sizeof b);
    write_gz(tmp_path("known.idx.gz"), b, sizeof b);
    for (int gz = 0; gz < 2; gz++) {
        zf_tensor *t = zf_idx_load(ctx, tmp_path(gz ? "known.idx.gz" : "known.idx"));
        CHECK(t && t->dtype == ZF_I16 && t->ndim == 2 && t->shape[0] == 2 && t->shape[1] == 3);
        if (t) CHECK(memcmp(zf_data(t), vals, sizeof vals) == 0);
    }
    /* gzip is detected from the content, not the name */
    write_gz(tmp_path("gz_named_plain.idx"), b, sizeof b);
    zf_tensor *t = zf_idx_load(ctx, tmp_path("gz_named_plain.idx"));
    CHECK(t && memcmp(zf_data(t), vals, sizeof vals) == 0);
}

static void test_round_trip(zf_ctx *ctx) {
    const zf_dtype types[] = {ZF_U8, ZF_I8, ZF_I16, ZF_I32, ZF_F32, ZF_F64};
    for (size_t k = 0; k < sizeof types / sizeof types[0]; k++) {
        zf_tensor *r = zf_randn(ctx, ZF_F64, 3, (int64_t[]){3, 4, 5}, 7, k);
        zf_tensor *t = zf_cast(ctx, zf_mul_scalar(ctx, r, 50), types[k]);
        for (int gz = 0; gz < 2; gz++) {
            const char *p = tmp_path(gz ? "rt.idx.gz" : "rt.idx");
            CHECK(zf_idx_save(p, t, gz) == ZF_OK);
            zf_tensor *u = zf_idx_load(ctx, p);
            CHECK(u && u->dtype == types[k] && u->ndim == 3 && u->shape[2] == 5);
            if (u) CHECK(memcmp(zf_data(u), zf_data(t), zf_nbytes(t)) == 0);
        }
    }
    /* a strided view is written in row-major order */
    zf_tensor *a = zf_cast(ctx, zf_arange(ctx, ZF_F32, 0, 6, 1), ZF_U8);
    zf_tensor *tr = zf_transpose(ctx, zf_reshape(ctx, a, 2, (int64_t[]){2, 3}), 0, 1);
    CHECK(zf_idx_save(tmp_path("tr.idx"), tr, false) == ZF_OK);
    zf_tensor *u = zf_idx_load(ctx, tmp_path("tr.idx"));
    const uint8_t want[6] = {0, 3, 1, 4, 2, 5};
    CHECK(u && u->shape[0] == 3 && memcmp(zf_data(u), want, 6) == 0);
    /* unsupported dtypes and shapes */
    CHECK(zf_idx_save(tmp_path("bad.idx"), zf_zeros(ctx, ZF_I64, 1, (int64_t[]){3}), false) == ZF_ERR_DTYPE);
    CHECK(zf_idx_save(tmp_path("bad.idx"), zf_scalar(ctx, ZF_F32, 1), false) == ZF_ERR_SHAPE);
    CHECK(zf_idx_save(tmp_path("nodir/x.idx"), a, false) == ZF_ERR_IO);
}

/* Each hostile file must fail with the given status and never crash. */
static void expect_fail(zf_ctx *ctx, const char *name, const void *bytes, size_t n, zf_status want, const char *msg) {
    for (int gz = 0; gz < 2; gz++) {
        const char *p = tmp_path(gz ? "hostile.gz" : "hostile");
        if (gz)
            write_gz(p, bytes, n);
        else
            write_bytes(p, bytes, n);
        zf_clear_error();
        zf_tensor *t = zf_idx_load(ctx, p);
        CHECK(t == NULL);
        CHECK(zf_last_status() == want);
        if (msg && !strstr(zf_last_error(), msg)) {
            fprintf(stderr, "%s (gz=%d): message '%s' lacks '%s'\n", name, gz, zf_last_error(), msg);
            CHECK(false);
        }
    }
}

static void test_hostile(zf_ctx *ctx) {
    unsigned char good[4 + 4 + 3] = {0, 0, 0x08, 1, 0, 0, 0, 3, 1, 2, 3};
    expect_fail(ctx, "empty", good, 0, ZF_ERR_FORMAT, "too short");
    expect_fail(ctx, "short header", good, 3, ZF_ERR_FORMAT, "too short");
    unsigned char b[64];
    memcpy(b, good, sizeof good);
    b[0] = 0x42;
    expect_fail(ctx, "magic", b, sizeof good, ZF_ERR_FORMAT, "not an IDX file");
    memcpy(b, good, sizeof good);
    b[2] = 0x0A;
    expect_fail(ctx, "type", b, sizeof good, ZF_ERR_FORMAT, "element type");
    memcpy(b, good, sizeof good);
    b[3] = 0;
    expect_fail(ctx, "ndim 0", b, sizeof good, ZF_ERR_FORMAT, "dims");
    b[3] = 9;
    expect_fail(ctx, "ndim 9", b, sizeof good, ZF_ERR_FORMAT, "dims");
    memcpy(b, good, sizeof good);
    b[7] = 0;
    expect_fail(ctx, "zero dim", b, sizeof good, ZF_ERR_FORMAT, "is 0");
    expect_fail(ctx, "cut in dims", good, 6, ZF_ERR_FORMAT, "truncated IDX header");
    expect_fail(ctx, "cut in data", good, 10, ZF_ERR_FORMAT, "truncated");
    unsigned char longer[sizeof good + 1];
    memcpy(longer, good, sizeof good);
    longer[sizeof good] = 9;
    expect_fail(ctx, "trailing", longer, sizeof longer, ZF_ERR_FORMAT, "trailing data");
    /* dims whose product overflows, and dims far larger than the file */
    unsigned char big[4 + 16] = {0, 0, 0x0E, 4, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
                                 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF};
    expect_fail(ctx, "overflow", big, sizeof big, ZF_ERR_OVERFLOW, "overflow");
    unsigned char huge[4 + 8] = {0, 0, 0x08, 2, 0x10, 0, 0, 0, 0x10, 0, 0, 0};
    expect_fail(ctx, "huge", huge, sizeof huge, ZF_ERR_FORMAT, "truncated");
    /* missing file and a directory */
    CHECK(zf_idx_load(ctx, tmp_path("does-not-exist")) == NULL && zf_last_status() == ZF_ERR_IO);
    CHECK(zf_idx_load(ctx, g_dir) == NULL && zf_last_status() == ZF_ERR_IO);
}

/* A real gzip stream cut short or with flipped bytes. */
static void test_gzip_damage(zf_ctx *ctx) {
    zf_tensor *r = zf_cast(ctx, zf_mul_scalar(ctx, zf_rand(ctx, ZF_F32, 2, (int64_t[]){200, 300}, 3, 0), 255), ZF_U8);
    const char *p = tmp_path("img.gz");
    CHECK(zf_idx_save(p, r, true) == ZF_OK);
    static unsigned char buf[1 << 20];
    size_t n = read_bytes(p, buf, sizeof buf);
    CHECK(n > 1000);
    CHECK(zf_idx_load(ctx, p) != NULL);
    /* truncated at several points: inside the deflate data and in the trailer */
    const size_t cuts[] = {n / 2, n - 9, n - 4, n - 1};
    for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
        write_bytes(tmp_path("cut.gz"), buf, cuts[i]);
        zf_clear_error();
        CHECK(zf_idx_load(ctx, tmp_path("cut.gz")) == NULL);
        CHECK(zf_last_status() == ZF_ERR_FORMAT);
        CHECK(strstr(zf_last_error(), "truncated") != NULL);
    }
    /* a flipped byte in the CRC trailer */
    buf[n - 6] ^= 0x5A;
    write_bytes(tmp_path("crc.gz"), buf, n);
    CHECK(zf_idx_load(ctx, tmp_path("crc.gz")) == NULL && zf_last_status() == ZF_ERR_FORMAT);
    CHECK(strstr(zf_last_error(), "corrupt gzip") != NULL);
    buf[n - 6] ^= 0x5A;
    /* garbage in the middle of the deflate stream */
    for (size_t i = n / 3; i < n / 3 + 16; i++) buf[i] ^= 0xA5;
    write_bytes(tmp_path("mid.gz"), buf, n);
    CHECK(zf_idx_load(ctx, tmp_path("mid.gz")) == NULL && zf_last_status() == ZF_ERR_FORMAT);
    /* just the gzip magic */
    write_bytes(tmp_path("magic.gz"), "\x1f\x8b", 2);
    CHECK(zf_idx_load(ctx, tmp_path("magic.gz")) == NULL && zf_last_status() == ZF_ERR_FORMAT);
}

static void make_image_files(zf_ctx *ctx, int64_t n, int64_t n_labels, int max_label) {
    zf_tensor *img = zf_cast(ctx, zf_arange(ctx, ZF_F32, 0, (double)(n * 2 * 3), 1), ZF_U8);
    img = zf_reshape(ctx, img, 3, (int64_t[]){n, 2, 3});
    zf_tensor *lab = zf_cast(ctx, zf_arange(ctx, ZF_F32, 0, (double)n_labels, 1), ZF_U8);
    if (max_label >= 0) zf_set(lab, (int64_t[]){0}, max_label);
    zf_idx_save(tmp_path("img.idx"), img, false);
    zf_idx_save(tmp_path("lab.idx.gz"), lab, true);
}

static void test_dataset(zf_ctx *ctx) {
    zf_dataset ds;
    make_image_files(ctx, 10, 10, -1);
    zf_image_norm nm = {0.5f, 0.25f};
    CHECK(zf_dataset_load_idx(ctx, tmp_path("img.idx"), tmp_path("lab.idx.gz"), &nm, 10, &ds) == ZF_OK);
    CHECK(ds.n == 10 && ds.x->ndim == 4 && ds.x->shape[1] == 1 && ds.x->shape[2] == 2 && ds.x->shape[3] == 3);
    const float *x = zf_data(ds.x);
    CHECK(x[7] == (7.0f / 255.0f - 0.5f) / 0.25f);
    CHECK(((int64_t *)zf_data(ds.y))[9] == 9);
    CHECK(zf_dataset_load_idx(ctx, tmp_path("img.idx"), tmp_path("lab.idx.gz"), NULL, 10, &ds) == ZF_OK);
    CHECK(((float *)zf_data(ds.x))[59] == 59.0f / 255.0f);
    /* labels out of range, count mismatch, features given as labels, bad norm */
    CHECK(zf_dataset_load_idx(ctx, tmp_path("img.idx"), tmp_path("lab.idx.gz"), NULL, 5, &ds) == ZF_ERR_FORMAT);
    make_image_files(ctx, 10, 9, -1);
    CHECK(zf_dataset_load_idx(ctx, tmp_path("img.idx"), tmp_path("lab.idx.gz"), NULL, 10, &ds) == ZF_ERR_FORMAT);
    CHECK(strstr(zf_last_error(), "labels") != NULL);
    CHECK(zf_dataset_load_idx(ctx, tmp_path("img.idx"), tmp_path("img.idx"), NULL, 10, &ds) == ZF_ERR_FORMAT);
    zf_image_norm bad = {0, 0};
    CHECK(zf_dataset_load_idx(ctx, tmp_path("img.idx"), tmp_path("lab.idx.gz"), &bad, 10, &ds) ==
          ZF_ERR_INVALID_ARG);
    CHECK(zf_dataset_load_idx(ctx, tmp_path("nope"), tmp_path("lab.idx.gz"), NULL, 10, &ds) == ZF_ERR_IO);
    /* from tensors */
    zf_tensor *fx = zf_zeros(ctx, ZF_F32, 2, (int64_t[]){4, 3});
    zf_tensor *fy = zf_zeros(ctx, ZF_I64, 1, (int64_t[]){4});
    CHECK(zf_dataset_from_tensors(&ds, fx, fy, 2) == ZF_OK && ds.n == 4);
    CHECK(zf_dataset_from_tensors(&ds, fx, zf_zeros(ctx, ZF_I64, 1, (int64_t[]){3}), 2) == ZF_ERR_SHAPE);
    CHECK(zf_dataset_from_tensors(&ds, fx, zf_zeros(ctx, ZF_I32, 1, (int64_t[]){4}), 2) == ZF_ERR_DTYPE);
    zf_set(fy, (int64_t[]){2}, 2);
    CHECK(zf_dataset_from_tensors(&ds, fx, fy, 2) == ZF_ERR_FORMAT);
    /* fashion-mnist from a directory without the files */
    CHECK(zf_fashion_mnist_load(ctx, g_dir, ZF_SPLIT_TEST, NULL, &ds) == ZF_ERR_IO);
    CHECK(strstr(zf_last_error(), "t10k-images-idx3-ubyte") != NULL);
}

static void test_loader(zf_ctx *ctx) {
    const int64_t n = 103;
    zf_tensor *x = zf_reshape(ctx, zf_arange(ctx, ZF_F32, 0, (double)(n * 2), 1), 2, (int64_t[]){n, 2});
    zf_tensor *y = zf_cast(ctx, zf_arange(ctx, ZF_F32, 0, (double)n, 1), ZF_I64);
    zf_dataset ds;
    CHECK(zf_dataset_from_tensors(&ds, x, y, n) == ZF_OK);
    zf_loader_opts o = {.batch_size = 10, .shuffle = true, .drop_last = false, .seed = 5};
    zf_loader *l = zf_loader_new(&ds, &o);
    CHECK(l && zf_loader_num_batches(l) == 11 && zf_loader_num_samples(l) == n);
    zf_ctx *step = zf_ctx_new(NULL);
    int64_t first_order[103], seen[103];
    size_t reserved = 0;
    for (int epoch = 0; epoch < 3; epoch++) {
        CHECK(zf_loader_set_epoch(l, epoch) == ZF_OK);
        memset(seen, 0, sizeof seen);
        bool rows_ok = true;
        for (int64_t b = 0; b < zf_loader_num_batches(l); b++) {
            zf_ctx_reset(step);
            zf_tensor *bx, *by;
            CHECK(zf_loader_batch(l, b, step, &bx, &by) == ZF_OK);
            CHECK(bx->shape[0] == (b == 10 ? 3 : 10) && by->shape[0] == bx->shape[0]);
            for (int64_t r = 0; r < by->shape[0]; r++) {
                int64_t s = ((int64_t *)zf_data(by))[r];
                seen[s]++;
                rows_ok &= ((float *)zf_data(bx))[2 * r + 1] == (float)(2 * s + 1);
            }
            if (epoch == 0 && b == 0) reserved = zf_ctx_reserved_bytes(step);
        }
        CHECK(rows_ok);
        bool all_once = true;
        for (int64_t i = 0; i < n; i++) all_once &= seen[i] == 1;
        CHECK(all_once);
        if (epoch == 0) memcpy(first_order, zf_loader_order(l), sizeof first_order);
        else CHECK(memcmp(first_order, zf_loader_order(l), sizeof first_order) != 0);
    }
    /* the step context did not grow after the first batch */
    CHECK(zf_ctx_reserved_bytes(step) == reserved);
    /* the order of an epoch depends only on (seed, epoch) */
    CHECK(zf_loader_set_epoch(l, 0) == ZF_OK);
    CHECK(memcmp(first_order, zf_loader_order(l), sizeof first_order) == 0);
    zf_loader_opts o2 = o;
    o2.seed = 6;
    zf_loader *l2 = zf_loader_new(&ds, &o2);
    zf_loader_set_epoch(l2, 0);
    CHECK(memcmp(first_order, zf_loader_order(l2), sizeof first_order) != 0);
    zf_loader_free(l2);
    /* no shuffle: identity; drop_last */
    o2 = (zf_loader_opts){.batch_size = 10, .shuffle = false, .drop_last = true, .seed = 1};
    l2 = zf_loader_new(&ds, &o2);
    zf_loader_set_epoch(l2, 4);
    CHECK(l2 && zf_loader_num_batches(l2) == 10 && zf_loader_num_samples(l2) == 100);
    CHECK(zf_loader_order(l2)[57] == 57);
    zf_tensor *bx, *by;
    CHECK(zf_loader_batch(l2, 10, step, &bx, &by) == ZF_ERR_INDEX);
    zf_loader_free(l2);
    o2.batch_size = 0;
    CHECK(zf_loader_new(&ds, &o2) == NULL && zf_last_status() == ZF_ERR_INVALID_ARG);
    o2.batch_size = 200;
    CHECK(zf_loader_new(&ds, &o2) == NULL);
    zf_loader_free(l);
    zf_ctx_free(step);
}

/* Reference: pad the (mirrored) image by P blank pixels on every side, then
 * crop H x W at (P - dy, P - dx) — torchvision's RandomCrop(padding=P). */
static void ref_augment(const float *src, float *dst, int64_t C, int64_t H, int64_t W, bool flip, int dy, int dx,
                        float fill) {
    enum { P = 3, MAXS = 16 };
    float pad[MAXS + 2 * P][MAXS + 2 * P];
    for (int64_t c = 0; c < C; c++) {
        for (int i = 0; i < H + 2 * P; i++)
            for (int j = 0; j < W + 2 * P; j++) pad[i][j] = fill;
        for (int64_t i = 0; i < H; i++)
            for (int64_t j = 0; j < W; j++) pad[i + P][j + P] = src[c * H * W + i * W + (flip ? W - 1 - j : j)];
        for (int64_t i = 0; i < H; i++)
            for (int64_t j = 0; j < W; j++) dst[c * H * W + i * W + j] = pad[i + P - dy][j + P - dx];
    }
}

/* Which (flip, dy, dx) with |dy|, |dx| <= s turns src into dst; false when none. */
static bool find_transform(const float *src, const float *dst, int64_t C, int64_t H, int64_t W, int s, float fill,
                           bool *flip, int *dy, int *dx) {
    float buf[2 * 16 * 16];
    for (int f = 0; f < 2; f++)
        for (int a = -s; a <= s; a++)
            for (int b = -s; b <= s; b++) {
                ref_augment(src, buf, C, H, W, f, a, b, fill);
                if (memcmp(buf, dst, (size_t)(C * H * W) * sizeof(float)) == 0) {
                    *flip = f;
                    *dy = a;
                    *dx = b;
                    return true;
                }
            }
    return false;
}

/* Augmentation: exact pixels for a mirror and a shift, every draw a legal
 * transform of its sample, flips about half the time and every shift used,
 * labels untouched, a pure function of (seed, epoch, sample) — so a batch
 * fetched on its own (as a resumed run does) or with another batch size is
 * the same — and other epochs and seeds draw differently. */
static void test_augment(zf_ctx *ctx) {
    /* one 1x3x3 image 1..9: the draw of some sample index mirrors it and
     * shifts it down 1, left 1 (max_shift 1); check that one by hand */
    const float img[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
    zf_augment aug = {.hflip = true, .max_shift = 1, .fill = -1};
    const float want[9] = {-1, -1, -1, 2, 1, -1, 5, 4, -1}; /* mirrored: 3 2 1 / 6 5 4 / 9 8 7 */
    bool found = false, ok = true;
    int count_flip = 0, shifts[3][3] = {{0}};
    for (int64_t idx = 0; idx < 900; idx++) {
        float out[9];
        zf_augment_image(&aug, 5, 0, idx, img, out, 1, 3, 3);
        bool f;
        int dy, dx;
        if (!find_transform(img, out, 1, 3, 3, 1, -1, &f, &dy, &dx)) {
            ok = false;
            continue;
        }
        count_flip += f;
        shifts[dy + 1][dx + 1]++;
        if (f && dy == 1 && dx == -1) found |= memcmp(out, want, sizeof want) == 0;
    }
    CHECK(ok && found);
    CHECK(count_flip > 380 && count_flip < 520);
    bool all_shifts = true;
    for (int a = 0; a < 3; a++)
        for (int b = 0; b < 3; b++) all_shifts &= shifts[a][b] > 60;
    CHECK(all_shifts);
    /* flip only / shift only / none */
    zf_augment flip_only = {.hflip = true}, none = {0};
    float out[9];
    int flips = 0;
    bool flip_ok = true;
    for (int64_t idx = 0; idx < 64; idx++) {
        zf_augment_image(&flip_only, 5, 1, idx, img, out, 1, 3, 3);
        const float mir[9] = {3, 2, 1, 6, 5, 4, 9, 8, 7};
        bool m = memcmp(out, mir, sizeof mir) == 0, same = memcmp(out, img, sizeof img) == 0;
        flip_ok &= m || same;
        flips += m;
    }
    CHECK(flip_ok && flips > 16 && flips < 48);
    zf_augment_image(&none, 5, 1, 3, img, out, 1, 3, 3);
    CHECK(memcmp(out, img, sizeof img) == 0);

    /* through the loader: 50 samples 2x5x6 with distinct pixels */
    const int64_t n = 50, C = 2, H = 5, W = 6, numel = C * H * W;
    zf_tensor *x = zf_reshape(ctx, zf_arange(ctx, ZF_F32, 0, (double)(n * numel), 1), 4, (int64_t[]){n, C, H, W});
    zf_tensor *y = zf_cast(ctx, zf_arange(ctx, ZF_F32, 0, (double)n, 1), ZF_I64);
    zf_dataset ds;
    CHECK(zf_dataset_from_tensors(&ds, x, y, n) == ZF_OK);
    zf_loader_opts o = {.batch_size = 8, .shuffle = true, .seed = 9,
                        .augment = {.hflip = true, .max_shift = 2, .fill = -3.5f}};
    zf_loader *l = zf_loader_new(&ds, &o), *l2 = zf_loader_new(&ds, &o);
    zf_loader_opts o3 = o;
    o3.batch_size = 5;
    zf_loader *l3 = zf_loader_new(&ds, &o3);
    CHECK(l && l2 && l3);
    zf_ctx *step = zf_ctx_new(NULL);
    static float epoch_x[3][50 * 60]; /* by sample index */
    bool legal = true, labels_ok = true, direct_same = true, bs_same = true;
    int moved = 0;
    for (int e = 0; e < 3 && l && l2 && l3; e++) {
        CHECK(zf_loader_set_epoch(l, e) == ZF_OK && zf_loader_set_epoch(l3, e) == ZF_OK);
        for (int64_t b = 0; b < zf_loader_num_batches(l); b++) {
            zf_ctx_reset(step);
            zf_tensor *bx, *by;
            CHECK(zf_loader_batch(l, b, step, &bx, &by) == ZF_OK);
            for (int64_t r = 0; r < by->shape[0]; r++) {
                int64_t s = zf_loader_order(l)[b * 8 + r];
                const float *src = (const float *)zf_data(x) + s * numel, *got = (const float *)zf_data(bx) + r * numel;
                labels_ok &= ((int64_t *)zf_data(by))[r] == s;
                bool f;
                int dy, dx;
                legal &= find_transform(src, got, C, H, W, 2, -3.5f, &f, &dy, &dx);
                moved += memcmp(src, got, (size_t)numel * sizeof(float)) != 0;
                memcpy(epoch_x[e] + s * numel, got, (size_t)numel * sizeof(float));
            }
        }
        /* a fresh loader fetching one batch directly (resume) sees the same images */
        CHECK(zf_loader_set_epoch(l2, e) == ZF_OK);
        zf_ctx_reset(step);
        zf_tensor *bx, *by;
        CHECK(zf_loader_batch(l2, 3, step, &bx, &by) == ZF_OK);
        for (int64_t r = 0; r < by->shape[0]; r++) {
            int64_t s = ((int64_t *)zf_data(by))[r];
            direct_same &= memcmp(epoch_x[e] + s * numel, (float *)zf_data(bx) + r * numel,
                                  (size_t)numel * sizeof(float)) == 0;
        }
        /* another batch size: the same image for the same (epoch, sample) */
        for (int64_t b = 0; b < zf_loader_num_batches(l3); b++) {
            zf_ctx_reset(step);
            CHECK(zf_loader_batch(l3, b, step, &bx, &by) == ZF_OK);
            for (int64_t r = 0; r < by->shape[0]; r++) {
                int64_t s = ((int64_t *)zf_data(by))[r];
                bs_same &= memcmp(epoch_x[e] + s * numel, (float *)zf_data(bx) + r * numel,
                                  (size_t)numel * sizeof(float)) == 0;
            }
        }
    }
    CHECK(legal && labels_ok && direct_same && bs_same);
    CHECK(moved > 3 * 50 / 2);
    /* epochs draw differently */
    CHECK(memcmp(epoch_x[0], epoch_x[1], sizeof epoch_x[0]) != 0);
    /* another seed draws differently for the same sample */
    int differs = 0;
    float a1[60], a2[60];
    for (int64_t s = 0; s < n; s++) {
        zf_augment_image(&o.augment, 9, 0, s, (const float *)zf_data(x) + s * numel, a1, C, H, W);
        zf_augment_image(&o.augment, 10, 0, s, (const float *)zf_data(x) + s * numel, a2, C, H, W);
        differs += memcmp(a1, a2, sizeof a1) != 0;
    }
    CHECK(differs > n / 2);
    /* bad options */
    zf_loader_opts bad = o;
    bad.augment.max_shift = -1;
    CHECK(zf_loader_new(&ds, &bad) == NULL && zf_last_status() == ZF_ERR_INVALID_ARG);
    bad.augment.max_shift = 7; /* > H */
    CHECK(zf_loader_new(&ds, &bad) == NULL);
    zf_tensor *flat = zf_reshape(ctx, x, 2, (int64_t[]){n, numel});
    zf_dataset fds;
    CHECK(zf_dataset_from_tensors(&fds, flat, y, n) == ZF_OK);
    CHECK(zf_loader_new(&fds, &o) == NULL && zf_last_status() == ZF_ERR_INVALID_ARG);
    /* the blank value under a normalization */
    zf_image_norm nm = {ZF_FASHION_MNIST_MEAN, ZF_FASHION_MNIST_STD};
    CHECK(zf_image_norm_blank(&nm) == (0.0f - 0.2860f) / 0.3530f && zf_image_norm_blank(NULL) == 0.0f);
    zf_loader_free(l);
    zf_loader_free(l2);
    zf_loader_free(l3);
    zf_ctx_free(step);
}

/* The installed dataset (skipped when dataset-fashion-mnist is absent). */
static void test_fashion_mnist(void) {
    char p[512];
    snprintf(p, sizeof p, "%s/t10k-labels-idx1-ubyte.gz", zf_fashion_mnist_dir());
    if (access(p, R_OK) != 0) {
        printf("skipping Fashion-MNIST checks: %s not found\n", p);
        return;
    }
    zf_ctx *ctx = zf_ctx_new(NULL);
    zf_dataset te;
    CHECK(zf_fashion_mnist_load(ctx, NULL, ZF_SPLIT_TEST, NULL, &te) == ZF_OK);
    CHECK(te.n == 10000 && te.x->shape[2] == 28 && te.num_classes == 10);
    const int64_t *y = zf_data(te.y);
    /* the first test labels: ankle boot, pullover, trouser, trouser, shirt */
    CHECK(y[0] == 9 && y[1] == 2 && y[2] == 1 && y[3] == 1 && y[4] == 6);
    int64_t count[10] = {0};
    for (int64_t i = 0; i < te.n; i++) count[y[i]]++;
    bool balanced = true;
    for (int c = 0; c < 10; c++) balanced &= count[c] == 1000;
    CHECK(balanced);
    /* mean/std normalization leaves the pixels at about mean 0, std 1 */
    const float *x = zf_data(te.x);
    double m = 0, v = 0;
    for (int64_t i = 0; i < zf_numel(te.x); i++) m += x[i];
    m /= (double)zf_numel(te.x);
    for (int64_t i = 0; i < zf_numel(te.x); i++) v += (x[i] - m) * (x[i] - m);
    v /= (double)zf_numel(te.x);
    CHECK(fabs(m) < 0.02 && fabs(sqrt(v) - 1) < 0.02);
    zf_ctx_free(ctx);
}

int main(void) {
    snprintf(g_dir, sizeof g_dir, "/tmp/zf_test_idx_XXXXXX");
    if (!mkdtemp(g_dir)) {
        perror("mkdtemp");
        return 1;
    }
    zf_ctx *ctx = zf_ctx_new(NULL);
    test_known_bytes(ctx);
    test_round_trip(ctx);
    test_hostile(ctx);
    test_gzip_damage(ctx);
    test_dataset(ctx);
    test_loader(ctx);
    test_augment(ctx);
    test_fashion_mnist();
    zf_ctx_free(ctx);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_dir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", g_dir);
    ZF_TEST_MAIN_END();
}
