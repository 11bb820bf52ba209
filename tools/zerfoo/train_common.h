/* Helpers shared by `zerfoo train` and `zerfoo eval`. */
#ifndef ZF_TOOLS_TRAIN_COMMON_H
#define ZF_TOOLS_TRAIN_COMMON_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "zerfoo/data.h"

/* Known dataset names ("fashion-mnist"). */
bool zf_cli_dataset_known(const char *name);

/* Loads a split of a named dataset from dir (NULL: the dataset's default
 * directory), normalized by norm (NULL: the dataset's default); limit > 0
 * keeps only the first `limit` samples. */
zf_status zf_cli_load_dataset(zf_ctx *ctx, const char *name, const char *dir, zf_data_split split,
                              const zf_image_norm *norm, int64_t limit, zf_dataset *out);

/* --norm NAME: "mean-std" (the dataset's mean and std, the default) or
 * "unit" (pixel / 255). false for anything else. */
bool zf_cli_parse_norm(const char *name, zf_image_norm *out);

/* --threads N: sets ZF_NUM_THREADS before the CPU engine starts. false (with
 * a message on stderr) when N is not an integer in [1, 1024]. */
bool zf_cli_set_threads(const char *cmd, const char *arg);

/* The number of CPU threads the default engine uses. */
int zf_cli_threads(void);

/* Prints ,"key":v to stdout (null when not finite). */
void zf_cli_json_num(const char *key, double v);
/* Prints s as a JSON string literal. */
void zf_cli_json_str(FILE *f, const char *s);

/* "101,770" */
const char *zf_cli_thousands(int64_t v, char *buf, size_t n);

#endif
