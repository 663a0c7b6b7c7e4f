// Portable scalar kernels: the reference every faster kernel (SIMD, CUDA) is tested against.
// Each works on a range of rows so that the CPU backend can split work across threads.
// Kernel names carry their dtypes: <op>_<weight type>_<activation type>.
#pragma once

#include <cstdint>

#include "core/dtype.h"
#include "kernels/backend.h"

namespace llmpipe::cpu::ref {

// Dot product of one weight row (type `type`, n elements) with n floats.
float dot_f32_f32(const float* w, const float* x, int64_t n);
float dot_f16_f32(const uint16_t* w, const float* x, int64_t n);
float dot_bf16_f32(const uint16_t* w, const float* x, int64_t n);
float dot_q8_0_f32(const BlockQ8_0* w, const float* x, int64_t n);
float dot_q4_0_f32(const BlockQ4_0* w, const float* x, int64_t n);
float dot_row_f32(DType type, const void* w_row, const float* x, int64_t n);

// out[t, m] for weight rows m in [m0, m1) and every token t. out: [n, M], in: [n, K], w: [M, K].
void matmul_rows(TensorView out, TensorView in, TensorView w, int64_t m0, int64_t m1);

// Per-row ops for rows [r0, r1).
void rms_norm_f32(TensorView out, TensorView in, const float* weight, float eps, int64_t r0,
                  int64_t r1);
// params.freq_factors, if set, is host memory here.
void rope_f32(TensorView x, const BatchLayout& batch, const RopeParams& params, int64_t r0,
              int64_t r1);
// The first cache position a token at `position` attends to (sliding window, AttentionShape).
inline int64_t attention_first_key(int64_t position, int window) {
  return window > 0 && position >= window ? position - window + 1 : 0;
}
// The cache is F32 or F16 (cache.k.dtype); activations are F32.
void store_kv_f32(KvView cache, TensorView k, TensorView v, const BatchLayout& batch, int64_t r0,
                  int64_t r1);
// Work items are (token, head) pairs: item = token * n_head + head, for items [i0, i1).
void attention_f32(TensorView out, TensorView q, KvView cache, const BatchLayout& batch,
                   AttentionShape shape, int64_t i0, int64_t i1);

}  // namespace llmpipe::cpu::ref
