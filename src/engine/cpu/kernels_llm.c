#include "engine/cpu/cpu.h"
void zf_cpu_register_llm(zf_kernel_fn *k) { (void)k; }
