// The AVX-512 kernel table. This file has no wide instructions itself, but lives with them.
#define LLMPIPE_X86_ISA avx512
#include "kernels/cpu/x86/isa_kernels.h"

namespace llmpipe::cpu::avx512 {
// Only AVX-512 has kernels for packed weights (matmul_packed_avx512.cpp,
// matmul_packed_float_avx512.cpp).
void quantize_row_q8_packed(DType weights, const float* x, int64_t k, int8_t* qs, float* d, float* s);
void matmul_q4_0x16_f32(const MatmulArgs& a, int64_t m0, int64_t m1);
void matmul_q8_0x16_f32(const MatmulArgs& a, int64_t m0, int64_t m1);
void matmul_q5_0x16_f32(const MatmulArgs& a, int64_t m0, int64_t m1);
void matmul_q4_kx16_f32(const MatmulArgs& a, int64_t m0, int64_t m1);  // matmul_packed_q4_k_avx512.cpp
void matmul_q6_kx16_f32(const MatmulArgs& a, int64_t m0, int64_t m1);  // matmul_packed_q6_k_avx512.cpp
void matmul_f32x16_f32(const MatmulArgs& a, int64_t m0, int64_t m1);
void matmul_f16x16_f32(const MatmulArgs& a, int64_t m0, int64_t m1);
void matmul_bf16x16_f32(const MatmulArgs& a, int64_t m0, int64_t m1);
}  // namespace llmpipe::cpu::avx512

const llmpipe::cpu::CpuKernels& llmpipe::cpu::cpu_kernels_avx512() {
  static const CpuKernels k = [] {
    CpuKernels t = avx512::kernel_table(CpuIsa::Avx512);
    t.quantize_row_q8_packed = avx512::quantize_row_q8_packed;
    t.matmul_q4_0x16_f32 = avx512::matmul_q4_0x16_f32;
    t.matmul_q8_0x16_f32 = avx512::matmul_q8_0x16_f32;
    t.matmul_q5_0x16_f32 = avx512::matmul_q5_0x16_f32;
    t.matmul_q4_kx16_f32 = avx512::matmul_q4_kx16_f32;
    t.matmul_q6_kx16_f32 = avx512::matmul_q6_kx16_f32;
    t.matmul_f32x16_f32 = avx512::matmul_f32x16_f32;
    t.matmul_f16x16_f32 = avx512::matmul_f16x16_f32;
    t.matmul_bf16x16_f32 = avx512::matmul_bf16x16_f32;
    return t;
  }();
  return k;
}
