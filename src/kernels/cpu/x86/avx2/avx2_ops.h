// AVX2 + FMA + F16C kernels. Defined only in translation units under x86/avx2,
// which are compiled with those target flags; call them only through cpu_kernels(Avx2).
#pragma once

#include "kernels/cpu/cpu_kernels.h"

namespace llmpipe::cpu::avx2 {

// Preconditions (checked by CpuBackend, not here): see cpu_kernels.h for the contracts.
//   quantize_row_q8, matmul_q4_0/q8_0: k % 32 == 0; xq/xd from quantize_row_q8 with the same
//     weight type; weight rows w_row_bytes apart, any alignment.
//   matmul_*: out columns [m0, m1) are written by this call only (threads own disjoint ranges).
//   attention_f32: head_dim <= 512; scratch holds max position + 1 floats; cache F32 or F16.
void quantize_row_q8(DType weights, const float* x, int64_t k, int8_t* qs, float* d);
void matmul_q4_0_f32(const MatmulArgs& a, int64_t m0, int64_t m1);
void matmul_q8_0_f32(const MatmulArgs& a, int64_t m0, int64_t m1);
void matmul_f32_f32(const MatmulArgs& a, int64_t m0, int64_t m1);
void matmul_f16_f32(const MatmulArgs& a, int64_t m0, int64_t m1);
void matmul_bf16_f32(const MatmulArgs& a, int64_t m0, int64_t m1);
void rms_norm_f32(TensorView out, TensorView in, const float* weight, float eps, int64_t r0,
                  int64_t r1);
void attention_f32(TensorView out, TensorView q, KvView cache, const BatchLayout& batch,
                   AttentionShape shape, int64_t i0, int64_t i1, float* scratch);
void swiglu_f32(float* gate, const float* up, int64_t n);
void add_f32(float* x, const float* y, int64_t n);

}  // namespace llmpipe::cpu::avx2
