// The block kernel of the decode products of Q8_0 / Q4_0 weights (LLMPIPE_CUDA_DECODE=block;
// the default is the warp kernel, matvec_warp.cuh): out[t, m] = Σ_k w[m, k] x[t, k] for
// t < n_tokens <= kMatvecMaxTokens, F32 activations, on the split-scales layout.
//
// A thread block of kMatvecThreads threads shares kRowsPerBlock rows, its warps splitting the
// row length and meeting in shared memory at the end; each thread reads 16 bytes of quants per
// row and step, kMatvecUnroll steps of all its rows before any arithmetic. Measured on an H100
// (3B Q8_0, bench/RESULTS.md): ~1.1 TB/s per product, because a block gets only 1.6-3.2 KiB of
// a 3200-wide row, so block scheduling and the final reduction dominate.
// The block scale multiplies each thread's partial block sum, as the CPU reference multiplies
// the block sum.
#pragma once

#include "kernels/cuda/check.h"
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/matvec_formats.cuh"
#include "kernels/cuda/ops.cuh"
#include "kernels/cuda/split_layout.cuh"

namespace llmpipe::cuda {

inline constexpr int kMatvecThreads = 128;
inline constexpr int kMatvecUnroll = 4;

// Sum of v over the block's threads for each of the kN values; the result is valid in thread 0.
template <int kN>
__device__ __forceinline__ void block_sum_to_thread0(float (&v)[kN]) {
  constexpr int kWarps = kMatvecThreads / kWarp;
  __shared__ float partial[kWarps][kN];
  const int warp = threadIdx.x / kWarp, lane = threadIdx.x % kWarp;
#pragma unroll
  for (int i = 0; i < kN; ++i) {
    const float s = warp_sum(v[i]);
    if (lane == 0) partial[warp][i] = s;
  }
  __syncthreads();
  if (threadIdx.x == 0) {
#pragma unroll
    for (int i = 0; i < kN; ++i) {
      float s = 0;
#pragma unroll
      for (int w = 0; w < kWarps; ++w) s += partial[w][i];
      v[i] = s;
    }
  }
}

// The block's sums of acc [kRows][kTokens] written to out[t, m0 + r] (rows past M and tokens
// past n_tokens skipped).
template <int kRows, int kTokens>
__device__ __forceinline__ void store_block_sums(float (&acc)[kRows * kTokens], float* out,
                                                 int64_t M, int64_t m0, int n_tokens) {
  block_sum_to_thread0(acc);
  if (threadIdx.x != 0) return;
#pragma unroll
  for (int r = 0; r < kRows; ++r)
#pragma unroll
    for (int t = 0; t < kTokens; ++t)
      if (t < n_tokens && m0 + r < M) out[t * M + m0 + r] = acc[r * kTokens + t];
}

// Precondition: K a multiple of 32; x 16-byte aligned; w in the split layout.
template <typename Format, int kRows, int kTokens>
__global__ void __launch_bounds__(kMatvecThreads)
    matvec_split_f32_kernel(float* out, const float* x, SplitRows w, int64_t M, int64_t K,
                            int n_tokens) {
  constexpr int kW = Format::kWeightsPerLoad;
  const int64_t m0 = int64_t(blockIdx.x) * kRows;
  const int64_t n_loads = K / kW;
  const uint4* quants[kRows];
  const uint16_t* scales[kRows];
#pragma unroll
  for (int r = 0; r < kRows; ++r) {
    const int64_t m = std::min(m0 + r, M - 1);  // past the last row: re-read it, write nothing
    quants[r] = reinterpret_cast<const uint4*>(w.quant_row(m));
    scales[r] = w.scale_row(m);
  }
  float acc[kRows * kTokens] = {};  // [row][token]
  for (int64_t p0 = threadIdx.x; p0 < n_loads; p0 += int64_t(kMatvecThreads) * kMatvecUnroll) {
    uint4 v[kRows][kMatvecUnroll];
    float d[kRows][kMatvecUnroll];
#pragma unroll
    for (int u = 0; u < kMatvecUnroll; ++u) {  // all loads first: they overlap in memory
      const int64_t p = p0 + int64_t(u) * kMatvecThreads;
      if (p < n_loads) {
#pragma unroll
        for (int r = 0; r < kRows; ++r) {
          v[r][u] = quants[r][p];
          d[r][u] = f16_bits_to_f32(scales[r][p * kW / kQK]);
        }
      }
    }
#pragma unroll
    for (int u = 0; u < kMatvecUnroll; ++u) {
      const int64_t p = p0 + int64_t(u) * kMatvecThreads;
      if (p >= n_loads) break;
#pragma unroll
      for (int t = 0; t < kTokens; ++t) {
        if (t >= n_tokens) break;
        float s[kRows];
        dot_loads<Format>(v, u, reinterpret_cast<const float4*>(x + t * K + p * kW), s);
#pragma unroll
        for (int r = 0; r < kRows; ++r) acc[r * kTokens + t] += d[r][u] * s[r];
      }
    }
  }
  store_block_sums<kRows, kTokens>(acc, out, M, m0, n_tokens);
}

template <typename Format>
void launch_matvec_split_f32(TensorView out, TensorView in, TensorView w, cudaStream_t stream) {
  auto* y = static_cast<float*>(out.data);
  const auto* x = static_cast<const float*>(in.data);
  const SplitRows s = split_rows(w.data, w.dtype, w.rows, w.cols);
  const int n = int(in.rows);
  check_matvec_inputs("matvec_split", n, x, w.cols, kQK);
  constexpr int kRows = Format::kRowsPerBlock;
  dispatch_tokens(n, [&]<int kT>() {
    matvec_split_f32_kernel<Format, kRows, kT>
        <<<blocks_for(w.rows, kRows), kMatvecThreads, 0, stream>>>(y, x, s, w.rows, w.cols, n);
  });
  CUDA_CHECK_LAUNCH();
}

}  // namespace llmpipe::cuda
