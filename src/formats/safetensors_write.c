/* safetensors writer: builds the JSON header, then writes header and data to
 * a temporary file in the destination's directory, fsyncs it, renames it
 * over the destination and fsyncs the directory (zerfoo/safetensors.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/internal.h"
#include "zerfoo/safetensors.h"

typedef struct {
    char *s;
    size_t n, cap;
    bool oom;
} sbuf;

static void put(sbuf *b, const char *s, size_t n) {
    if (b->oom) return;
    if (b->n + n + 1 > b->cap) {
        size_t nc = (b->cap ? b->cap * 2 : 1024) + n;
        char *ns = realloc(b->s, nc);
        if (!ns) {
            b->oom = true;
            return;
        }
        b->s = ns;
        b->cap = nc;
    }
    memcpy(b->s + b->n, s, n);
    b->n += n;
    b->s[b->n] = 0;
}
static void puts_(sbuf *b, const char *s) { put(b, s, strlen(s)); }
static void putf(sbuf *b, const char *fmt, unsigned long long v) {
    char tmp[32];
    int k = snprintf(tmp, sizeof tmp, fmt, v);
    put(b, tmp, (size_t)k);
}
/* JSON string literal: quotes, backslashes and control bytes escaped;
 * other bytes (UTF-8) copied. */
static void put_json_str(sbuf *b, const char *s) {
    put(b, "\"", 1);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\') {
            char e[2] = {'\\', (char)*p};
            put(b, e, 2);
        } else if (*p < 0x20) {
            char e[8];
            snprintf(e, sizeof e, "\\u%04x", *p);
            put(b, e, 6);
        } else {
            put(b, (const char *)p, 1);
        }
    }
    put(b, "\"", 1);
}

static zf_status write_all(int fd, const void *p, size_t n, const char *path) {
    const char *c = p;
    while (n > 0) {
        ssize_t w = write(fd, c, n > (1u << 30) ? (1u << 30) : n);
        if (w < 0) {
            if (errno == EINTR) continue;
            return zf_set_error(ZF_ERR_IO, "%s: write failed: %s", path, strerror(errno));
        }
        c += w;
        n -= (size_t)w;
    }
    return ZF_OK;
}

/* Directory part of path ("." when none) into dir. */
static void dir_of(const char *path, char *dir, size_t n) {
    const char *slash = strrchr(path, '/');
    if (!slash) {
        snprintf(dir, n, ".");
    } else if (slash == path) {
        snprintf(dir, n, "/");
    } else {
        snprintf(dir, n, "%.*s", (int)(slash - path), path);
    }
}

zf_status zf_safetensors_save(const char *path, const zf_named_tensors *tensors, int n_meta,
                              const char *const *meta_keys, const char *const *meta_values) {
    if (!path || !*path || !tensors || n_meta < 0 || (n_meta && (!meta_keys || !meta_values)))
        return zf_set_error(ZF_ERR_INVALID_ARG, "safetensors_save: bad arguments");
    if (strlen(path) > 3800) return zf_set_error(ZF_ERR_INVALID_ARG, "safetensors_save: path too long");
    const uint16_t probe = 1;
    if (*(const uint8_t *)&probe != 1)
        return zf_set_error(ZF_ERR_UNSUPPORTED, "safetensors_save: big-endian hosts are not supported");
    /* Check entries and make contiguous host copies where needed. */
    zf_ctx *tmp = zf_ctx_new(NULL);
    if (!tmp) return zf_last_status();
    zf_status st = ZF_OK;
    int n = tensors->n;
    zf_tensor **flat = zf_ctx_alloc(tmp, sizeof(zf_tensor *) * (size_t)(n > 0 ? n : 1));
    if (!flat) {
        st = zf_last_status();
        goto out;
    }
    for (int i = 0; i < n && !st; i++) {
        const char *name = tensors->names[i];
        zf_tensor *t = tensors->tensors[i];
        if (!name || !*name || strcmp(name, "__metadata__") == 0) {
            st = zf_set_error(ZF_ERR_INVALID_ARG, "safetensors_save: tensor %d has an empty or reserved name", i);
        } else if (!t) {
            st = zf_set_error(ZF_ERR_INVALID_ARG, "safetensors_save: tensor '%s' is NULL", name);
        } else if (!zf_safetensors_dtype_name(t->dtype)) {
            st = zf_set_error(ZF_ERR_UNSUPPORTED, "safetensors_save: '%s' has dtype %s, which safetensors cannot hold",
                              name, zf_dtype_name(t->dtype));
        } else if (!zf_ctx_engine(t->ctx)->host_memory) {
            st = zf_set_error(ZF_ERR_UNSUPPORTED, "safetensors_save: '%s' is not in host memory", name);
        } else {
            for (int k = 0; k < i && !st; k++)
                if (strcmp(tensors->names[k], name) == 0)
                    st = zf_set_error(ZF_ERR_INVALID_ARG, "safetensors_save: two tensors named '%s'", name);
            flat[i] = st ? NULL : zf_is_contiguous(t) ? t : zf_contiguous(tmp, zf_detach(tmp, t));
            if (!st && !flat[i]) st = zf_last_status();
        }
    }
    for (int i = 0; i < n_meta && !st; i++)
        if (!meta_keys[i] || !meta_values[i])
            st = zf_set_error(ZF_ERR_INVALID_ARG, "safetensors_save: metadata entry %d is NULL", i);
    if (st) goto out;

    sbuf h = {0};
    puts_(&h, "{");
    bool first = true;
    if (n_meta > 0) {
        puts_(&h, "\"__metadata__\":{");
        for (int i = 0; i < n_meta; i++) {
            if (i) puts_(&h, ",");
            put_json_str(&h, meta_keys[i]);
            puts_(&h, ":");
            put_json_str(&h, meta_values[i]);
        }
        puts_(&h, "}");
        first = false;
    }
    uint64_t off = 0;
    for (int i = 0; i < n; i++) {
        zf_tensor *t = flat[i];
        uint64_t bytes = (uint64_t)zf_nbytes(t);
        if (!first) puts_(&h, ",");
        first = false;
        put_json_str(&h, tensors->names[i]);
        puts_(&h, ":{\"dtype\":\"");
        puts_(&h, zf_safetensors_dtype_name(t->dtype));
        puts_(&h, "\",\"shape\":[");
        for (int d = 0; d < t->ndim; d++) putf(&h, d ? ",%llu" : "%llu", (unsigned long long)t->shape[d]);
        putf(&h, "],\"data_offsets\":[%llu,", off);
        putf(&h, "%llu]}", off + bytes);
        off += bytes;
    }
    puts_(&h, "}");
    while (!h.oom && h.n % 8) puts_(&h, " ");
    if (h.oom) {
        free(h.s);
        st = zf_set_error(ZF_ERR_OOM, "safetensors_save: out of memory");
        goto out;
    }

    char dir[4096], tmpl[4096 + 32];
    dir_of(path, dir, sizeof dir);
    const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
    snprintf(tmpl, sizeof tmpl, "%s/.%s.tmp.XXXXXX", dir, base);
    int fd = mkstemp(tmpl);
    if (fd < 0) {
        free(h.s);
        st = zf_set_error(ZF_ERR_IO, "%s: cannot create a temporary file in %s: %s", path, dir, strerror(errno));
        goto out;
    }
    fchmod(fd, 0644); /* mkstemp makes 0600; checkpoints are ordinary files */
    uint8_t len8[8];
    for (int k = 0; k < 8; k++) len8[k] = (uint8_t)((uint64_t)h.n >> (8 * k));
    st = write_all(fd, len8, 8, path);
    if (!st) st = write_all(fd, h.s, h.n, path);
    free(h.s);
    for (int i = 0; i < n && !st; i++) st = write_all(fd, zf_data(flat[i]), zf_nbytes(flat[i]), path);
    if (!st && fsync(fd) != 0) st = zf_set_error(ZF_ERR_IO, "%s: fsync failed: %s", path, strerror(errno));
    if (close(fd) != 0 && !st) st = zf_set_error(ZF_ERR_IO, "%s: close failed: %s", path, strerror(errno));
    if (!st && rename(tmpl, path) != 0)
        st = zf_set_error(ZF_ERR_IO, "%s: cannot rename the temporary file into place: %s", path, strerror(errno));
    if (st) {
        unlink(tmpl);
        goto out;
    }
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        if (fsync(dfd) != 0 && errno != EINVAL)
            st = zf_set_error(ZF_ERR_IO, "%s: fsync of directory %s failed: %s", path, dir, strerror(errno));
        close(dfd);
    }
out:
    zf_ctx_free(tmp);
    return st;
}
