// How the decode products (matvec_blocks.cuh, matvec_warp.cuh) read each weight type: a Format
// names the weights per 16-byte load (kWeightsPerLoad), how a row is found (Row, row), loaded
// (load: the load'th 16 bytes of the row) and scaled (scale: the block scale of that load, or
// 1 for unscaled types), and decodes the four weights [4 k, 4 k + 4) of a load as floats
// (weights4, k < kWeightsPerLoad / 4), in column order.
//
// Quants become floats by placing their byte in a float's mantissa (__byte_perm) and
// subtracting the offset, not by int-to-float conversions, which run at a quarter of the FMA
// rate and were the limit for Q8_0/Q4_0 (a Q8_0 weight byte needs one conversion).
#pragma once

#include "kernels/cuda/common.cuh"
#include "kernels/cuda/ops.cuh"
#include "kernels/cuda/split_layout.cuh"

namespace llmpipe::cuda {

// The four bytes of `word`, each in [0, 255], as floats minus `offset`: byte i goes into the low
// mantissa bits of 2^23 (bits 0x4B0000xx = 2^23 + xx), and 2^23 + offset is subtracted, exactly.
__device__ __forceinline__ void bytes_to_floats(uint32_t word, float offset, float q[4]) {
  const float bias = 8388608.0f + offset;
  q[0] = __int_as_float(int(__byte_perm(word, 0x4B000000u, 0x7440))) - bias;
  q[1] = __int_as_float(int(__byte_perm(word, 0x4B000000u, 0x7441))) - bias;
  q[2] = __int_as_float(int(__byte_perm(word, 0x4B000000u, 0x7442))) - bias;
  q[3] = __int_as_float(int(__byte_perm(word, 0x4B000000u, 0x7443))) - bias;
}

__device__ __forceinline__ uint32_t word_of(const uint4& v, int k) {
  return k == 0 ? v.x : k == 1 ? v.y : k == 2 ? v.z : v.w;
}

// Weights are read once per product: streaming loads (evict first) leave L1 to the
// activations, which every row of the SM reads again.
__device__ __forceinline__ uint4 load_streaming(const uint4* p) {
  return __ldcs(p);
}

// Split-scales layouts (split_layout.cuh): quants of a row contiguous, F16 scales apart.
template <DType kType>
struct SplitFormat {
  struct Row {
    const uint4* quants;
    const uint16_t* scales;
  };
  static constexpr int kWeightsPerLoad = kType == DType::Q8_0 ? 16 : 32;
  __device__ static Row row(const void* w, int64_t M, int64_t K, int64_t m) {
    const SplitRows s = split_rows(w, kType, M, K);
    return {reinterpret_cast<const uint4*>(s.quant_row(m)), s.scale_row(m)};
  }
  __device__ static uint4 load(const Row& r, int64_t p) { return load_streaming(r.quants + p); }
  __device__ static float scale(const Row& r, int64_t p) {
    return f16_bits_to_f32(r.scales[p * kWeightsPerLoad / kQK]);
  }
};

// Q8_0: a load holds 16 signed quants, half a block. Weights [4 k, 4 k + 4) are the bytes of
// word k (XOR 0x80 makes them unsigned, b + 128, which bytes_to_floats takes back off).
struct Q8_0Split : SplitFormat<DType::Q8_0> {
  static constexpr int kRowsPerBlock = 2;  // block kernel; H100 3B tg128: 1 row 221 t/s, 2: 258
  static constexpr int kRowsPerWarp = 1;   // warp kernel
  __device__ static void weights4(const uint4& v, int k, float q[4]) {
    bytes_to_floats(word_of(v, k) ^ 0x80808080u, 128.0f, q);
  }
};

// Q4_0: a load holds one block's 32 quants (low nibbles weights 0..15, high nibbles 16..31, as
// in GGUF). Weights [4 k, 4 k + 4): low nibbles of word k (k < 4) or high nibbles of word k - 4,
// each nibble n standing for n - 8.
struct Q4_0Split : SplitFormat<DType::Q4_0> {
  static constexpr int kRowsPerBlock = 4;  // block kernel; H100 3B tg128: 1 row 165, 2: 222, 4: 268
  static constexpr int kRowsPerWarp = 2;   // warp kernel: one activation load serves two rows
  __device__ static void weights4(const uint4& v, int k, float q[4]) {
    const uint32_t word = word_of(v, k % 4);
    bytes_to_floats((k < 4 ? word : word >> 4) & 0x0f0f0f0fu, 8.0f, q);
  }
};

// F16 / BF16 rows of K % 8 == 0 weights: a load holds 8 weights, no scale.
template <bool kBf16>
struct Half16Format {
  struct Row {
    const uint4* w;
  };
  static constexpr int kWeightsPerLoad = 8;
  static constexpr int kRowsPerWarp = 1;
  __device__ static Row row(const void* w, int64_t /*M*/, int64_t K, int64_t m) {
    return {static_cast<const uint4*>(w) + m * (K / 8)};
  }
  __device__ static uint4 load(const Row& r, int64_t p) { return load_streaming(r.w + p); }
  __device__ static float scale(const Row&, int64_t) { return 1.0f; }
  __device__ static float to_f32(uint32_t h) {
    if constexpr (kBf16)
      return bf16_bits_to_f32(uint16_t(h));
    else
      return f16_bits_to_f32(uint16_t(h));
  }
  __device__ static void weights4(const uint4& v, int k, float q[4]) {
    const uint32_t a = word_of(v, 2 * k), b = word_of(v, 2 * k + 1);
    q[0] = to_f32(a & 0xffff);
    q[1] = to_f32(a >> 16);
    q[2] = to_f32(b & 0xffff);
    q[3] = to_f32(b >> 16);
  }
};

// s[r] = the dot product of load u of row r (v[r][u], F's kWeightsPerLoad weights) with the
// activations xs[0, kWeightsPerLoad / 4), for every row r: one activation load serves all rows.
template <typename F, int kRows, int kUnroll>
__device__ __forceinline__ void dot_loads(const uint4 (&v)[kRows][kUnroll], int u,
                                          const float4* xs, float (&s)[kRows]) {
#pragma unroll
  for (int r = 0; r < kRows; ++r) s[r] = 0.0f;
#pragma unroll
  for (int k = 0; k < F::kWeightsPerLoad / 4; ++k) {
    const float4 a = xs[k];
#pragma unroll
    for (int r = 0; r < kRows; ++r) {
      float q[4];
      F::weights4(v[r][u], k, q);
      s[r] += q[0] * a.x + q[1] * a.y + q[2] * a.z + q[3] * a.w;
    }
  }
}

// The decode kernels' preconditions, checked by their launchers (Products chooses them only
// where these hold; bench_cuda_matvec calls the launchers directly): at most kMatvecMaxTokens
// tokens (more would leave output rows unwritten), rows of whole loads (K % k_multiple == 0),
// 16-byte aligned activations.
inline void check_matvec_inputs(const char* kernel, int64_t n_tokens, const void* x, int64_t K,
                                int64_t k_multiple) {
  LLMPIPE_CHECK(n_tokens >= 0 && n_tokens <= kMatvecMaxTokens && K % k_multiple == 0 &&
                    aligned16(x),
                kernel, ": ", n_tokens, " tokens of ", K, " columns: expected <= ",
                kMatvecMaxTokens, " tokens, columns a multiple of ", k_multiple,
                ", 16-byte aligned activations");
}

// Calls fn.template operator()<kTokens>() with the smallest of 1, 2, 4, 8 that is >= n: the
// kernels keep kTokens accumulators per row, and registers sized for 8 tokens left a one-token
// decode with a third of the warps per SM.
template <typename Fn>
void dispatch_tokens(int n, Fn&& fn) {
  if (n <= 1)
    fn.template operator()<1>();
  else if (n <= 2)
    fn.template operator()<2>();
  else if (n <= 4)
    fn.template operator()<4>();
  else
    fn.template operator()<8>();
}

}  // namespace llmpipe::cuda
