// The table of CPU kernels for one instruction-set level. The backend picks a table once (see
// cpu_isa.h) and calls through it; each level's kernels live in their own translation units,
// compiled with that level's target flags (x86/avx2, x86/avx512), so nothing outside them may
// execute a wide instruction on a CPU that lacks it.
//
// Matmul kernels compute out[t, m] = Σ_k x[t, k] · w[m, k] for weight rows m in [m0, m1) and
// every activation row t, so threads split the output by weight rows (disjoint columns of out).
#pragma once

#include <cstddef>
#include <cstdint>

#include "kernels/backend.h"
#include "kernels/cpu/cpu_isa.h"

namespace llmpipe::cpu {

struct MatmulArgs {
  float* y = nullptr;  // [n, ldy]
  int64_t ldy = 0;
  const uint8_t* w = nullptr;  // weight rows, w_row_bytes apart
  size_t w_row_bytes = 0;
  int64_t n = 0;  // activation rows
  int64_t k = 0;  // inner dimension
  // Float kernels: x [n, ldx] F32.
  const float* x = nullptr;
  int64_t ldx = 0;
  // Q4_0/Q8_0 kernels: activations quantized once per matmul by quantize_row_q8 (k % 32 == 0):
  // row t is xq + t * k (int8 codes, in the level's layout) with scales xd + t * k / 32.
  const int8_t* xq = nullptr;
  const float* xd = nullptr;
  // Packed kernels (packed_weights.h; w is the packed weight): activations from
  // quantize_row_q8_packed, xs + t * k / 32 = code offset * d * Σ codes per block (Q6_K: per 16
  // codes, at xs + t * k / 16).
  const float* xs = nullptr;
  // Block-decoded weight kernels (matmul_blocks_f32): activations from quantize_row_q8_blocks,
  // row t's codes at xq + t * ldq (ldq = k rounded up to 256), its dx per 4-weight lane at
  // xd + t * ldq / 4 and its dx * Σ codes per 16 weights at xs + t * ldq / 16.
  int64_t ldq = 0;
};
using MatmulFn = void (*)(const MatmulArgs& args, int64_t m0, int64_t m1);

// MatmulArgs::ldq for a row of k: k rounded up to whole groups of 256 (block_unpack.h).
inline constexpr int64_t q8_blocks_stride(int64_t k) { return (k + 255) / 256 * 256; }

struct CpuKernels {
  CpuIsa isa = CpuIsa::Scalar;
  // Activation row x[0, k) (k % 32 == 0) to Q8_0-style blocks of 32: d = max|x| / 127 (rounded
  // through F16, as ggml stores it) and codes round(x / d), written to qs[0, k) and d[0, k/32),
  // for a matmul with weights of type `weights` (Q4_0 or Q8_0). The byte layout of qs is private
  // to that level's kernel for that type (avx512 stores x + 128, and reorders for Q4_0).
  void (*quantize_row_q8)(DType weights, const float* x, int64_t k, int8_t* qs, float* d) = nullptr;
  // Null entries: the backend uses the scalar reference for that dtype.
  MatmulFn matmul_f32_f32 = nullptr;
  MatmulFn matmul_f16_f32 = nullptr;
  MatmulFn matmul_bf16_f32 = nullptr;
  MatmulFn matmul_q8_0_f32 = nullptr;  // needs quantized activations (xq, xd)
  MatmulFn matmul_q4_0_f32 = nullptr;  // needs quantized activations (xq, xd)
  // Row-interleaved Q4_0/Q8_0 weights (packed_weights.h). Null (here and below): this level
  // has no packed kernels, and the backend keeps such weights row-major. Activations:
  // quantize_row_q8_packed (codes in natural order, signed; d; and s = code offset * d * Σ
  // codes, per block of 32).
  // Threads split the weight rows at multiples of kPackRows.
  void (*quantize_row_q8_packed)(DType weights, const float* x, int64_t k, int8_t* qs, float* d,
                                 float* s) = nullptr;
  MatmulFn matmul_q4_0x16_f32 = nullptr;
  MatmulFn matmul_q8_0x16_f32 = nullptr;
  MatmulFn matmul_q5_0x16_f32 = nullptr;  // the same activations (Q5_0's code offset: 16)
  MatmulFn matmul_q4_kx16_f32 = nullptr;  // the same activations (Q4_K's code offset: 1)
  MatmulFn matmul_q6_kx16_f32 = nullptr;  // the same, but s per 16 codes (two per block)
  // Column-interleaved F32/F16/BF16 weights (packed_weights.h), F32 activations x: every output
  // accumulated column by column in one order for any n (results independent of the batch).
  MatmulFn matmul_f32x16_f32 = nullptr;
  MatmulFn matmul_f16x16_f32 = nullptr;
  MatmulFn matmul_bf16x16_f32 = nullptr;
  // The block-decoded weight types (block_decode.h: Q4_1 ... IQ4_XS), indexed by DType; a null
  // entry leaves that type to CpuBackend::matmul_decoded. Activations: quantize_row_q8_blocks,
  // codes per 32 with d = max|x| / 127, padded with zeros to a whole group of 256, see
  // MatmulArgs::ldq.
  void (*quantize_row_q8_blocks)(const float* x, int64_t k, int8_t* qs, float* lane_d,
                                 float* sums16) = nullptr;
  MatmulFn matmul_blocks_f32[kDTypeCount] = {};

  // Same contracts as the reference kernels (reference_ops.h). attention also takes per-call
  // scratch for `max positions + 1` floats (the scores of one item).
  void (*rms_norm_f32)(TensorView out, TensorView in, const float* weight, float eps, int64_t r0,
                       int64_t r1) = nullptr;
  void (*attention_f32)(TensorView out, TensorView q, KvView cache, const BatchLayout& batch,
                        AttentionShape shape, int64_t i0, int64_t i1, float* scratch) = nullptr;
  void (*swiglu_f32)(float* gate, const float* up, int64_t n) = nullptr;  // gate = silu(gate)*up
  void (*add_f32)(float* x, const float* y, int64_t n) = nullptr;         // x += y
};

// The table for `isa` (which must be supported: see cpu_isa_supported).
const CpuKernels& cpu_kernels(CpuIsa isa);

// Per-level tables, defined in the level's translation units.
const CpuKernels& cpu_kernels_scalar();
const CpuKernels& cpu_kernels_avx2();
const CpuKernels& cpu_kernels_avx512();

}  // namespace llmpipe::cpu
