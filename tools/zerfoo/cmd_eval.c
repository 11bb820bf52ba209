/* zerfoo eval: loss and accuracy of a checkpoint written by zerfoo train,
 * printed as one JSON object. Exit 0 ok, 1 failure, 2 usage error. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "tools/zerfoo/commands.h"
#include "tools/zerfoo/train_common.h"
#include "zerfoo/zerfoo.h"

static void eval_usage(FILE *f) {
    fprintf(f,
            "usage: zerfoo eval --model mlp|lenet5 --checkpoint FILE [options]\n\n"
            "Loads a checkpoint written by 'zerfoo train --out' and prints the loss and accuracy on a split\n"
            "as one JSON object.\n\n"
            "options:\n"
            "  --dataset NAME     fashion-mnist (default)\n"
            "  --data-dir DIR     where the IDX files are (see zerfoo train --help)\n"
            "  --split NAME       test (default) or train\n"
            "  --norm NAME        mean-std (default) or unit: as the model was trained\n"
            "  --weights NAME     ema (the moving average of 'zerfoo train --ema'; the default when the\n"
            "                     checkpoint has it) or train (the weights of the last step)\n"
            "  --batch-size B     evaluation batch size (default 1000)\n"
            "  --limit N          the first N samples only\n"
            "  --threads N        CPU threads\n");
}

int zf_cmd_eval(int argc, char **argv) {
    const char *model_name = NULL, *ckpt = NULL, *dataset = "fashion-mnist", *dir = NULL, *weights = NULL;
    zf_data_split split = ZF_SPLIT_TEST;
    int64_t batch = 1000, limit = 0;
    zf_image_norm norm;
    zf_cli_parse_norm("mean-std", &norm);
    for (int i = 1; i < argc; i++) {
        const char *f = argv[i];
        if (strcmp(f, "--help") == 0 || strcmp(f, "-h") == 0) {
            eval_usage(stdout);
            return 0;
        }
        if (strncmp(f, "--", 2) != 0 || i + 1 >= argc) {
            fprintf(stderr, "zerfoo eval: %s '%s' (see zerfoo eval --help)\n",
                    strncmp(f, "--", 2) != 0 ? "unexpected argument" : "missing value for", f);
            return 2;
        }
        const char *v = argv[++i];
        bool ok = true;
        if (strcmp(f, "--model") == 0) model_name = v;
        else if (strcmp(f, "--checkpoint") == 0) ckpt = v;
        else if (strcmp(f, "--dataset") == 0) dataset = v;
        else if (strcmp(f, "--norm") == 0) ok = zf_cli_parse_norm(v, &norm);
        else if (strcmp(f, "--data-dir") == 0) dir = v;
        else if (strcmp(f, "--weights") == 0) {
            ok = strcmp(v, "ema") == 0 || strcmp(v, "train") == 0;
            weights = v;
        }
        else if (strcmp(f, "--split") == 0) {
            ok = strcmp(v, "test") == 0 || strcmp(v, "train") == 0;
            split = strcmp(v, "train") == 0 ? ZF_SPLIT_TRAIN : ZF_SPLIT_TEST;
        } else if (strcmp(f, "--batch-size") == 0) ok = zf_parse_i64(v, &batch) && batch >= 1 && batch <= 1000000;
        else if (strcmp(f, "--limit") == 0) ok = zf_parse_i64(v, &limit) && limit >= 1;
        else if (strcmp(f, "--threads") == 0) {
            if (!zf_cli_set_threads("eval", v)) return 2;
        } else {
            fprintf(stderr, "zerfoo eval: unknown option '%s' (see zerfoo eval --help)\n", f);
            return 2;
        }
        if (!ok) {
            fprintf(stderr, "zerfoo eval: bad value '%s' for %s (see zerfoo eval --help)\n", v, f);
            return 2;
        }
    }
    if (!model_name || !ckpt) {
        fprintf(stderr, "zerfoo eval: --model and --checkpoint are required\n");
        return 2;
    }
    if (!zf_cli_dataset_known(dataset)) {
        fprintf(stderr, "zerfoo eval: unknown dataset '%s' (fashion-mnist)\n", dataset);
        return 2;
    }
    zf_ctx *ctx = zf_ctx_new(NULL);
    if (!ctx) goto fail;
    zf_nn nn = zf_nn_init(ctx, ZF_F32, 0);
    zf_module *model = zf_model_build(&nn, model_name);
    if (!model) goto fail;
    zf_checkpoint_meta meta;
    memset(&meta, 0, sizeof meta);
    snprintf(meta.model, sizeof meta.model, "%s", model_name);
    zf_named_tensors *state = zf_module_state_dict(model, ctx);
    if (!state || zf_checkpoint_load(ckpt, state, NULL, &meta) != ZF_OK) goto fail;
    bool has_ema = !isnan(meta.ema_decay);
    if (!weights) weights = has_ema ? "ema" : "train";
    if (strcmp(weights, "ema") == 0) {
        if (!has_ema) {
            fprintf(stderr, "zerfoo eval: %s has no EMA weights (it was trained without --ema); use --weights train\n",
                    ckpt);
            zf_ctx_free(ctx);
            return 1;
        }
        if (zf_checkpoint_load_ema(ckpt, state, &meta) != ZF_OK) goto fail;
    }
    zf_dataset ds;
    if (zf_cli_load_dataset(ctx, dataset, dir, split, &norm, limit, &ds) != ZF_OK) goto fail;
    double loss, acc;
    if (zf_evaluate(model, &ds, batch, NULL, &loss, &acc) != ZF_OK) goto fail;
    printf("{\"model\":\"%s\",\"checkpoint\":", model_name);
    zf_cli_json_str(stdout, ckpt);
    printf(",\"epoch\":%lld,\"split\":\"%s\",\"samples\":%lld,\"weights\":\"%s\"", (long long)meta.epoch,
           split == ZF_SPLIT_TRAIN ? "train" : "test", (long long)ds.n, weights);
    zf_cli_json_num("loss", loss);
    zf_cli_json_num("accuracy", acc);
    printf("}\n");
    zf_ctx_free(ctx);
    return 0;
fail:
    fprintf(stderr, "zerfoo eval: %s\n", zf_last_error());
    zf_ctx_free(ctx);
    return 1;
}
