// The AVX2 kernel table. This file has no wide instructions itself, but lives with them.
#include "kernels/cpu/x86/avx2/avx2_ops.h"

namespace llmpipe::cpu {

const CpuKernels& cpu_kernels_avx2() {
  static const CpuKernels k = [] {
    CpuKernels t;
    t.isa = CpuIsa::Avx2;
    t.quantize_row_q8 = avx2::quantize_row_q8;
    t.matmul_f32_f32 = avx2::matmul_f32_f32;
    t.matmul_f16_f32 = avx2::matmul_f16_f32;
    t.matmul_bf16_f32 = avx2::matmul_bf16_f32;
    t.matmul_q8_0_f32 = avx2::matmul_q8_0_f32;
    t.matmul_q4_0_f32 = avx2::matmul_q4_0_f32;
    t.rms_norm_f32 = avx2::rms_norm_f32;
    t.attention_f32 = avx2::attention_f32;
    t.swiglu_f32 = avx2::swiglu_f32;
    t.add_f32 = avx2::add_f32;
    return t;
  }();
  return k;
}

}  // namespace llmpipe::cpu
