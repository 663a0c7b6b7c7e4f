// The AVX-512 kernel table. This file has no wide instructions itself, but lives with them.
#include "kernels/cpu/x86/avx512/avx512_ops.h"

namespace llmpipe::cpu {

const CpuKernels& cpu_kernels_avx512() {
  static const CpuKernels k = [] {
    CpuKernels t;
    t.isa = CpuIsa::Avx512;
    t.quantize_row_q8 = avx512::quantize_row_q8;
    t.matmul_f32_f32 = avx512::matmul_f32_f32;
    t.matmul_f16_f32 = avx512::matmul_f16_f32;
    t.matmul_bf16_f32 = avx512::matmul_bf16_f32;
    t.matmul_q8_0_f32 = avx512::matmul_q8_0_f32;
    t.matmul_q4_0_f32 = avx512::matmul_q4_0_f32;
    t.rms_norm_f32 = avx512::rms_norm_f32;
    t.attention_f32 = avx512::attention_f32;
    t.swiglu_f32 = avx512::swiglu_f32;
    t.add_f32 = avx512::add_f32;
    return t;
  }();
  return k;
}

}  // namespace llmpipe::cpu
