#include "engine/cpu/qmatmul.h"
static bool never(void) { return false; }
const zf_qkernels zf_qkernels_avx512 = {.name = "avx512", .supported = never, .max_rows = 8};
