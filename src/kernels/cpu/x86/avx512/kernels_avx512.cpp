// The AVX-512 kernel table. This file has no wide instructions itself, but lives with them.
#define LLMPIPE_X86_ISA avx512
#include "kernels/cpu/x86/isa_kernels.h"

const llmpipe::cpu::CpuKernels& llmpipe::cpu::cpu_kernels_avx512() {
  static const CpuKernels k = avx512::kernel_table(CpuIsa::Avx512);
  return k;
}
