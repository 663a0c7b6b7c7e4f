// The AVX2 kernel table. This file has no wide instructions itself, but lives with them.
#define LLMPIPE_X86_ISA avx2
#include "kernels/cpu/x86/isa_kernels.h"

const llmpipe::cpu::CpuKernels& llmpipe::cpu::cpu_kernels_avx2() {
  static const CpuKernels k = avx2::kernel_table(CpuIsa::Avx2);
  return k;
}
