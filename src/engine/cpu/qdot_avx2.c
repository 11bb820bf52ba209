#include "engine/cpu/qmatmul.h"
static bool never(void) { return false; }
const zf_qkernels zf_qkernels_avx2 = {.name = "avx2", .supported = never, .max_rows = 8};
