// Device helpers shared by the kernels: warp reductions and element loads of every weight type
// (GGUF block layouts, bit-identical to the CPU's dequantize_row_f32).
#pragma once

#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <cstdint>

#include "core/dtype.h"
#include "core/error.h"

namespace llmpipe::cuda {

inline constexpr int kWarp = 32;

__device__ __forceinline__ float warp_sum(float v) {
#pragma unroll
  for (int o = kWarp / 2; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
  return v;
}

__device__ __forceinline__ float warp_max(float v) {
#pragma unroll
  for (int o = kWarp / 2; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
  return v;
}

__device__ __forceinline__ float f16_bits_to_f32(uint16_t h) {
  return __half2float(__ushort_as_half(h));
}
__device__ __forceinline__ float bf16_bits_to_f32(uint16_t h) {
  return __uint_as_float(uint32_t(h) << 16);
}
// Rounds to F16 and back: the precision an F16 matrix product gives its F32 operand.
__device__ __forceinline__ float round_f16(float x) { return __half2float(__float2half_rn(x)); }

// The pair v rotated by the angle whose (cos, sin) is cs (rope). Each product and sum rounded
// on its own (the _rn intrinsics are never contracted into FMAs): rope.cu and rope_store_kv.cu
// then give the same bits whatever the compiler does at each call site, as the CPU reference's
// a * c - b * s does.
__device__ __forceinline__ float2 rotate_pair(float2 v, float2 cs) {
  return make_float2(__fsub_rn(__fmul_rn(v.x, cs.x), __fmul_rn(v.y, cs.y)),
                     __fadd_rn(__fmul_rn(v.x, cs.y), __fmul_rn(v.y, cs.x)));
}

// RoPE pair `pair` of a row (pairs numbered along the row, head_dim / 2 per head): the column
// of its first element; the second is at + 1 (adjacent, GGUF llama) or + head_dim / 2 (NEOX,
// the rotate-half order of qwen2/qwen3). Its angle is the table's entry pair % (head_dim / 2).
template <bool kNeox>
__device__ __forceinline__ int64_t rope_pair_column(int64_t pair, int half) {
  return kNeox ? (pair / half) * 2 * half + pair % half : 2 * pair;
}

// A KV cache element (F32, or F16 rounded to nearest even with overflow to inf: the same
// rounding as the CPU's f32_to_f16).
__device__ __forceinline__ void store_cache(float* p, float v) { *p = v; }
__device__ __forceinline__ void store_cache(__half* p, float v) { *p = __float2half_rn(v); }

// Element c of a row of type T (c < row length), as the CPU's dequantize_row_f32 computes it.
template <DType T>
__device__ __forceinline__ float load_element(const void* row, int64_t c) {
  if constexpr (T == DType::F32) {
    return static_cast<const float*>(row)[c];
  } else if constexpr (T == DType::F16) {
    return f16_bits_to_f32(static_cast<const uint16_t*>(row)[c]);
  } else if constexpr (T == DType::BF16) {
    return bf16_bits_to_f32(static_cast<const uint16_t*>(row)[c]);
  } else if constexpr (T == DType::Q8_0) {
    const BlockQ8_0& b = static_cast<const BlockQ8_0*>(row)[c / kQK];
    return f16_bits_to_f32(b.d) * float(b.qs[c % kQK]);
  } else {
    const BlockQ4_0& b = static_cast<const BlockQ4_0*>(row)[c / kQK];
    const int j = int(c % kQK);
    const int q = j < kQK / 2 ? (b.qs[j] & 0x0f) : (b.qs[j - kQK / 2] >> 4);
    return f16_bits_to_f32(b.d) * float(q - 8);
  }
}

// Calls fn.template operator()<T>() with the weight type as a compile-time constant.
template <typename Fn>
void dispatch_dtype(DType t, Fn&& fn) {
  switch (t) {
    case DType::F32: fn.template operator()<DType::F32>(); return;
    case DType::F16: fn.template operator()<DType::F16>(); return;
    case DType::BF16: fn.template operator()<DType::BF16>(); return;
    case DType::Q8_0: fn.template operator()<DType::Q8_0>(); return;
    case DType::Q4_0: fn.template operator()<DType::Q4_0>(); return;
    default: fail("CUDA kernels: no kernel for ", dtype_name(t), " weights");
  }
}

// Host side: whether a device pointer allows 16-byte (float4 / uint4) loads.
inline bool aligned16(const void* p) {
  return (reinterpret_cast<uintptr_t>(p) & 15u) == 0;
}

inline unsigned blocks_for(int64_t n, int per_block) {
  return unsigned((n + per_block - 1) / per_block);
}

}  // namespace llmpipe::cuda
