// The kernels of one x86 level, declared in that level's namespace: the including file defines
// LLMPIPE_X86_ISA (avx2 or avx512) first. No include guard on purpose: nothing includes it for
// two levels, and the level's files each include it once.
// Defined only in translation units under x86/<level>, which are compiled with that level's
// target flags (CMakeLists.txt); call them only through cpu_kernels(level).
#include "kernels/cpu/cpu_kernels.h"

#ifndef LLMPIPE_X86_ISA
#error "define LLMPIPE_X86_ISA (the level's namespace) before including isa_kernels.h"
#endif

namespace llmpipe::cpu::LLMPIPE_X86_ISA {

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
void quantize_row_q8_blocks(const float* x, int64_t k, int8_t* qs, float* lane_d, float* sums16);
void matmul_q4_1_f32(const MatmulArgs& a, int64_t m0, int64_t m1);
void matmul_q5_0_f32(const MatmulArgs& a, int64_t m0, int64_t m1);
void matmul_q5_1_f32(const MatmulArgs& a, int64_t m0, int64_t m1);
void matmul_iq4_nl_f32(const MatmulArgs& a, int64_t m0, int64_t m1);
void matmul_q2_k_f32(const MatmulArgs& a, int64_t m0, int64_t m1);
void matmul_q3_k_f32(const MatmulArgs& a, int64_t m0, int64_t m1);
void matmul_q4_k_f32(const MatmulArgs& a, int64_t m0, int64_t m1);
void matmul_q5_k_f32(const MatmulArgs& a, int64_t m0, int64_t m1);
void matmul_q6_k_f32(const MatmulArgs& a, int64_t m0, int64_t m1);
void matmul_iq4_xs_f32(const MatmulArgs& a, int64_t m0, int64_t m1);
void rms_norm_f32(TensorView out, TensorView in, const float* weight, float eps, int64_t r0,
                  int64_t r1);
void attention_f32(TensorView out, TensorView q, KvView cache, const BatchLayout& batch,
                   AttentionShape shape, int64_t i0, int64_t i1, float* scratch);
void swiglu_f32(float* gate, const float* up, int64_t n);
void add_f32(float* x, const float* y, int64_t n);

// The level's table, for kernels_<level>.cpp (compiled without the level's flags: it only takes
// addresses). `static inline`: internal linkage, like everything else per level.
static inline CpuKernels kernel_table(CpuIsa isa) {
  CpuKernels t;
  t.isa = isa;
  t.quantize_row_q8 = quantize_row_q8;
  t.matmul_f32_f32 = matmul_f32_f32;
  t.matmul_f16_f32 = matmul_f16_f32;
  t.matmul_bf16_f32 = matmul_bf16_f32;
  t.matmul_q8_0_f32 = matmul_q8_0_f32;
  t.matmul_q4_0_f32 = matmul_q4_0_f32;
  t.quantize_row_q8_blocks = quantize_row_q8_blocks;
  auto block = [&t](DType type, MatmulFn fn) { t.matmul_blocks_f32[int(type)] = fn; };
  block(DType::Q4_1, matmul_q4_1_f32);
  block(DType::Q5_0, matmul_q5_0_f32);
  block(DType::Q5_1, matmul_q5_1_f32);
  block(DType::IQ4_NL, matmul_iq4_nl_f32);
  block(DType::Q2_K, matmul_q2_k_f32);
  block(DType::Q3_K, matmul_q3_k_f32);
  block(DType::Q4_K, matmul_q4_k_f32);
  block(DType::Q5_K, matmul_q5_k_f32);
  block(DType::Q6_K, matmul_q6_k_f32);
  block(DType::IQ4_XS, matmul_iq4_xs_f32);
  t.rms_norm_f32 = rms_norm_f32;
  t.attention_f32 = attention_f32;
  t.swiglu_f32 = swiglu_f32;
  t.add_f32 = add_f32;
  return t;
}

}  // namespace llmpipe::cpu::LLMPIPE_X86_ISA
