/* libFuzzer target for the IDX reader: the input (after a mode byte) is
 * written to a temp file and read with zf_idx_load. Mode byte bit 0 set:
 * the rest is gzip-compressed first (a valid stream, so the IDX checks
 * behind the gzip path are reached); clear: written as is (a raw gzip file
 * when it starts with 1f 8b). Built and run by tests/fuzz/run_fuzz.sh idx
 * (clang, ASan + UBSan). */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "zerfoo/data.h"
#include "zerfoo/tensor.h"

static zf_ctx *g_ctx;
static char g_path[64];
static uint64_t g_sink;

static void cleanup(void) { unlink(g_path); }

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    if (!(g_ctx = zf_ctx_new(NULL))) abort();
    snprintf(g_path, sizeof g_path, "/tmp/zf_fuzz_idx_%d.idx", (int)getpid());
    atexit(cleanup);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    bool gz = data[0] & 1;
    data++, size--;
    if (gz) {
        gzFile g = gzopen(g_path, "wb1");
        if (!g || (size && gzwrite(g, data, (unsigned)size) != (int)size) || gzclose(g) != Z_OK) abort();
    } else {
        FILE *f = fopen(g_path, "wb");
        if (!f || fwrite(data, 1, size, f) != size || fclose(f) != 0) abort();
    }
    zf_tensor *t = zf_idx_load(g_ctx, g_path);
    if (t) {
        /* a loaded tensor holds exactly the bytes after the header */
        size_t nb = zf_nbytes(t);
        bool raw_gzip = size >= 2 && data[0] == 0x1f && data[1] == 0x8b;
        if (!gz && !raw_gzip && nb != size - 4 - 4 * (size_t)t->ndim) __builtin_trap();
        const unsigned char *p = zf_data(t);
        for (size_t i = 0; i < nb; i++) g_sink += p[i];
    }
    zf_ctx_reset(g_ctx);
    return 0;
}
