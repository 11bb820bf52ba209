/* zerfoo info FILE: GGUF metadata (arrays summarized) and the tensor table,
 * then the model summary when the architecture is one zerfoo runs. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "tools/zerfoo/commands.h"
#include "zerfoo/gguf.h"
#include "zerfoo/llm.h"

/* Prints a string value, escaping control bytes, cut at max bytes. */
static void print_str(zf_gguf_str s, size_t max) {
    putchar('"');
    for (uint64_t i = 0; i < s.len && i < max; i++) {
        unsigned char c = (unsigned char)s.ptr[i];
        if (c == '\n') fputs("\\n", stdout);
        else if (c == '"' || c == '\\') printf("\\%c", c);
        else if (c < 0x20) printf("\\x%02x", c);
        else putchar(c);
    }
    putchar('"');
    if (s.len > max) printf("... (%" PRIu64 " bytes)", s.len);
}

static void print_scalar(const zf_gguf_val *v, zf_gguf_type t) {
    uint64_t u;
    int64_t i;
    double f;
    bool b;
    zf_gguf_str s;
    switch (t) {
    case ZF_GGUF_FLOAT32:
    case ZF_GGUF_FLOAT64: zf_gguf_val_f64(v, &f), printf("%.9g", f); break;
    case ZF_GGUF_BOOL: zf_gguf_val_bool(v, &b), printf("%s", b ? "true" : "false"); break;
    case ZF_GGUF_STRING: zf_gguf_val_str(v, &s), print_str(s, 120); break;
    case ZF_GGUF_INT8:
    case ZF_GGUF_INT16:
    case ZF_GGUF_INT32:
    case ZF_GGUF_INT64: zf_gguf_val_i64(v, &i), printf("%" PRId64, i); break;
    default: zf_gguf_val_u64(v, &u), printf("%" PRIu64, u); break;
    }
}

static void print_array(const zf_gguf_val *v) {
    zf_gguf_type et = zf_gguf_arr_type(v);
    uint64_t n = zf_gguf_arr_len(v);
    printf("[%s × %" PRIu64 "] ", zf_gguf_type_name(et), n);
    for (uint64_t k = 0; k < n && k < 6; k++) {
        if (k) printf(", ");
        if (et == ZF_GGUF_STRING) {
            zf_gguf_str s;
            if (zf_gguf_arr_str(v, k, &s) == ZF_OK) print_str(s, 24);
        } else if (et == ZF_GGUF_FLOAT32 || et == ZF_GGUF_FLOAT64) {
            double f;
            if (zf_gguf_arr_f64(v, k, &f) == ZF_OK) printf("%.6g", f);
        } else if (et == ZF_GGUF_BOOL) {
            bool b;
            if (zf_gguf_arr_bool(v, k, &b) == ZF_OK) printf("%s", b ? "true" : "false");
        } else if (et == ZF_GGUF_ARRAY) {
            printf("[...]");
        } else {
            int64_t i;
            uint64_t u;
            if (zf_gguf_arr_i64(v, k, &i) == ZF_OK) printf("%" PRId64, i);
            else if (zf_gguf_arr_u64(v, k, &u) == ZF_OK) printf("%" PRIu64, u);
        }
    }
    if (n > 6) printf(", ...");
}

int zf_cmd_info(int argc, char **argv) {
    if (argc != 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        FILE *f = argc == 2 ? stdout : stderr;
        fprintf(f, "usage: zerfoo info MODEL\n\nPrints a GGUF file's metadata, its tensors (name, type, shape, "
                   "bytes, offset)\nand, for architectures zerfoo runs, the model's hyperparameters.\n"
                   "MODEL is a path or a short name:\n");
        zf_models_list(f);
        return argc == 2 ? 0 : 2;
    }
    char path[4096];
    if (!zf_resolve_model(argv[1], path, sizeof path)) return 1;
    zf_gguf *g = zf_gguf_open(path);
    if (!g) {
        fprintf(stderr, "zerfoo info: %s\n", zf_last_error());
        return 1;
    }
    printf("file: %s\nGGUF v%u, %" PRIu64 " bytes, alignment %" PRIu64 ", data at %" PRIu64 "\n", path,
           zf_gguf_version(g), zf_gguf_file_size(g), zf_gguf_alignment(g), zf_gguf_data_offset(g));
    printf("\nmetadata (%" PRId64 " keys):\n", zf_gguf_n_kv(g));
    for (int64_t i = 0; i < zf_gguf_n_kv(g); i++) {
        const zf_gguf_val *v = zf_gguf_kv_val(g, i);
        zf_gguf_type t = zf_gguf_val_type(v);
        printf("  %-44s %-7s ", zf_gguf_kv_key(g, i), zf_gguf_type_name(t));
        if (t == ZF_GGUF_ARRAY) print_array(v);
        else print_scalar(v, t);
        printf("\n");
    }
    int64_t nt = zf_gguf_n_tensors(g);
    printf("\ntensors (%" PRId64 "):\n  %-36s %-6s %-22s %12s %12s\n", nt, "name", "type", "ne", "bytes", "offset");
    uint64_t total = 0;
    for (int64_t i = 0; i < nt; i++) {
        const zf_gguf_tensor_info *ti = zf_gguf_tensor(g, i);
        char shape[64];
        size_t u = 0;
        shape[0] = '\0';
        for (uint32_t d = 0; d < ti->n_dims && u < sizeof shape; d++)
            u += (size_t)snprintf(shape + u, sizeof shape - u, "%s%" PRId64, d ? ", " : "", ti->ne[d]);
        printf("  %-36s %-6s [%-20s] %12" PRIu64 " %12" PRIu64 "\n", ti->name, zf_ggml_type_name(ti->ggml_type),
               shape, ti->size, ti->offset);
        total += ti->size;
    }
    printf("  total %" PRIu64 " bytes of tensor data\n", total);
    zf_gguf_close(g);
    zf_llm_model *m = zf_llm_load(path, NULL);
    if (!m) {
        printf("\nmodel: not runnable by zerfoo: %s\n", zf_last_error());
        return 0;
    }
    const zf_llm_hparams *hp = zf_llm_hparams_of(m);
    printf("\nmodel: %s (%s)\n  layers %lld, d_model %lld, heads %lld (kv %lld), head_dim %lld, ffn %lld, vocab %lld\n"
           "  context %lld, rope base %g (window layers %g), rope dims %lld, rms eps %g, sliding window %lld\n"
           "  logit softcap %g, embedding scale %g, tied output %s, chat template %s\n",
           hp->name, hp->arch, (long long)hp->n_layer, (long long)hp->n_embd, (long long)hp->n_head,
           (long long)hp->n_head_kv, (long long)hp->head_dim, (long long)hp->n_ff, (long long)hp->n_vocab,
           (long long)hp->n_ctx_train, hp->rope_base, hp->rope_base_swa, (long long)hp->n_rot, hp->norm_eps,
           (long long)hp->sliding_window, hp->logit_softcap, hp->embd_scale, hp->tied_output ? "yes" : "no",
           zf_chat_template_name(zf_chat_template_detect(m)));
    zf_llm_free(m);
    return 0;
}
