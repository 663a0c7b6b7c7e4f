// The warp kernel of the decode products (the default; LLMPIPE_CUDA_DECODE=block selects the
// earlier block kernels): out_i[t, m] = Σ_k w_i[m, k] x[t, k] for the products i of a
// MatvecGroup (ops.cuh), t < n_tokens <= kMatvecMaxTokens, F32 activations (not rounded, as
// in the CPU reference), every weight type through its Format (matvec_formats.cuh).
//
// Why it looks like this:
// - A warp takes whole rows (kRows of them) and keeps up to kMatvecLoadsInFlight 16-byte
//   loads per lane in flight before any arithmetic. The block kernel split a row over a
//   thread block instead; with a 3B model's 3200-wide rows each block got 1.6-3.2 KiB, so
//   block scheduling and its shared-memory reduction dominated (H100: ~1.1 TB/s for Q8_0,
//   bench/RESULTS.md). A warp needs no shared memory and no __syncthreads: lanes meet by
//   shuffles once, at the end.
// - One launch for several products of one input (q, k, v; gate and up): fewer launches per
//   decode step, and one grid large enough to fill the GPU.
// - Swiglu: a warp takes the same rows of gate and up and writes silu(gate) * up, so one
//   activation load serves both rows and the swiglu kernel and the up buffer's round trip go.
// - kRows rows per warp share each activation load (Q4_0: a 16-byte weight load needs 128
//   bytes of activations, read from L1).
// The block scale multiplies each load's partial sum, as the CPU reference multiplies block
// sums (a Q8_0 load is half a block: the same products, summed in another order).
#pragma once

#include "kernels/cuda/check.h"
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/matvec_formats.cuh"
#include "kernels/cuda/ops.cuh"

namespace llmpipe::cuda {

inline constexpr int kMatvecWarpsPerBlock = 4;
// Per lane, over all of the warp's rows (a template parameter of the kernel, so that
// bench/bench_cuda_matvec.cu can time other values beside it).
inline constexpr int kMatvecLoadsInFlight = 8;

// a[i] for i < kMatvecMaxProducts without indexing a parameter array at run time (which
// would copy the kernel's parameters to local memory).
template <typename T>
__device__ __forceinline__ T pick(const T (&a)[kMatvecMaxProducts], int i) {
  return i == 0 ? a[0] : i == 1 ? a[1] : a[2];
}

// acc[r][t] = Σ_k row_r[k] x[t, k], summed over the warp: every lane gets every sum.
template <typename F, int kRows, int kTokens, int kLoadsInFlight>
__device__ __forceinline__ void warp_dot_rows(const typename F::Row (&rows)[kRows], const float* x,
                                              int64_t K, int n_tokens,
                                              float (&acc)[kRows][kTokens]) {
  constexpr int kW = F::kWeightsPerLoad;
  // Fewer loads in flight where each carries more arithmetic (eight tokens; Q4_0's 32 weights
  // per load), so that the accumulators and decoded weights stay in registers (spills else).
  constexpr int kLoads = kLoadsInFlight / (kTokens >= 8 ? 2 : 1) / (kW > 16 ? 2 : 1);
  constexpr int kUnroll = kLoads / kRows > 0 ? kLoads / kRows : 1;
  const int lane = threadIdx.x % kWarp;
  const int64_t n_loads = K / kW;
  for (int64_t p0 = lane; p0 < n_loads; p0 += int64_t(kWarp) * kUnroll) {
    uint4 v[kRows][kUnroll];
    float d[kRows][kUnroll];
#pragma unroll
    for (int u = 0; u < kUnroll; ++u) {  // all loads first: they overlap in memory
      const int64_t p = p0 + int64_t(u) * kWarp;
      if (p < n_loads)
#pragma unroll
        for (int r = 0; r < kRows; ++r) {
          v[r][u] = F::load(rows[r], p);
          d[r][u] = F::scale(rows[r], p);
        }
    }
#pragma unroll
    for (int u = 0; u < kUnroll; ++u) {
      const int64_t p = p0 + int64_t(u) * kWarp;
      if (p >= n_loads) break;
#pragma unroll
      for (int t = 0; t < kTokens; ++t) {
        if (t >= n_tokens) break;
        float s[kRows];
        dot_loads<F>(v, u, reinterpret_cast<const float4*>(x + t * K + p * kW), s);
#pragma unroll
        for (int r = 0; r < kRows; ++r) acc[r][t] += d[r][u] * s[r];
      }
    }
  }
#pragma unroll
  for (int r = 0; r < kRows; ++r)
#pragma unroll
    for (int t = 0; t < kTokens; ++t) acc[r][t] = warp_sum(acc[r][t]);
}

// Warp w takes rows [m0, m0 + kR) of product i, the first with w < first_warp_end[i]; with
// Swiglu the same rows of product 1 (up) too. Rows past the product's end re-read its last
// row and write nothing.
template <typename F, int kR, int kTokens, MatvecEpilogue kE, int kLoadsInFlight>
__global__ void __launch_bounds__(kMatvecWarpsPerBlock* kWarp)
    matvec_warp_kernel(const MatvecGroup g) {
  constexpr int kRows = kE == MatvecEpilogue::Swiglu ? 2 * kR : kR;
  const int64_t warp = int64_t(blockIdx.x) * kMatvecWarpsPerBlock + threadIdx.x / kWarp;
  const int products = kE == MatvecEpilogue::Swiglu ? 1 : g.count;
  if (warp >= pick(g.first_warp_end, products - 1)) return;  // whole warps leave together
  int i = 0;
  while (i + 1 < products && warp >= pick(g.first_warp_end, i)) ++i;
  const int64_t M = pick(g.rows, i);
  const int64_t m0 = (warp - (i == 0 ? 0 : pick(g.first_warp_end, i - 1))) * kR;
  typename F::Row rows[kRows];
#pragma unroll
  for (int r = 0; r < kR; ++r) {
    const int64_t m = m0 + r < M ? m0 + r : M - 1;
    rows[r] = F::row(pick(g.w, i), M, g.K, m);
    if constexpr (kE == MatvecEpilogue::Swiglu) rows[kR + r] = F::row(g.w[1], M, g.K, m);
  }
  float acc[kRows][kTokens] = {};
  warp_dot_rows<F, kRows, kTokens, kLoadsInFlight>(rows, g.x, g.K, g.n_tokens, acc);
  // Every lane holds every sum; lane r * kTokens + t stores (r, t), so the stores go in parallel.
  float* out = pick(g.out, i);
  const int lane = threadIdx.x % kWarp;
#pragma unroll
  for (int r = 0; r < kR; ++r)
#pragma unroll
    for (int t = 0; t < kTokens; ++t) {
      if (lane != (r * kTokens + t) % kWarp || t >= g.n_tokens || m0 + r >= M) continue;
      if constexpr (kE == MatvecEpilogue::Swiglu) {
        const float gate = acc[r][t], up = acc[kR + r][t];
        out[t * M + m0 + r] = gate / (1.0f + expf(-gate)) * up;  // as swiglu.cu
      } else {
        out[t * M + m0 + r] = acc[r][t];
      }
    }
}

// Sets g.first_warp_end for kR rows per warp; returns the thread blocks to launch (0: none).
inline unsigned plan_matvec_warps(MatvecGroup& g, MatvecEpilogue e, int kR) {
  const int products = e == MatvecEpilogue::Swiglu ? 1 : g.count;
  int64_t warps = 0;
  for (int i = 0; i < products; ++i) {
    warps += (g.rows[i] + kR - 1) / kR;
    g.first_warp_end[i] = warps;
  }
  return g.n_tokens == 0 ? 0 : blocks_for(warps, kMatvecWarpsPerBlock);
}

// The kernel's preconditions (check_matvec_inputs, and the group's own).
template <typename F>
void check_matvec_group(const MatvecGroup& g, MatvecEpilogue e) {
  check_matvec_inputs("matvec_warp", g.n_tokens, g.x, g.K, F::kWeightsPerLoad);
  const int products = e == MatvecEpilogue::Swiglu ? 2 : g.count;
  LLMPIPE_CHECK(g.count == products && products <= kMatvecMaxProducts, "matvec_warp: ", g.count,
                " products for ", products, " (at most ", kMatvecMaxProducts, ")");
  for (int i = 0; i < g.count; ++i)
    LLMPIPE_CHECK(aligned16(g.w[i]) && g.rows[i] >= 0, "matvec_warp: product ", i,
                  ": weights not 16-byte aligned or negative rows");
}

template <typename F, int kR, int kLoadsInFlight = kMatvecLoadsInFlight>
void launch_matvec_warp(MatvecGroup g, MatvecEpilogue e, cudaStream_t stream) {
  check_matvec_group<F>(g, e);
  const unsigned blocks = plan_matvec_warps(g, e, kR);
  if (blocks == 0) return;
  dispatch_tokens(g.n_tokens, [&]<int kT>() {
    if (e == MatvecEpilogue::Swiglu)
      matvec_warp_kernel<F, kR, kT, MatvecEpilogue::Swiglu, kLoadsInFlight>
          <<<blocks, kMatvecWarpsPerBlock * kWarp, 0, stream>>>(g);
    else
      matvec_warp_kernel<F, kR, kT, MatvecEpilogue::Store, kLoadsInFlight>
          <<<blocks, kMatvecWarpsPerBlock * kWarp, 0, stream>>>(g);
  });
  CUDA_CHECK_LAUNCH();
}

// rows_per_warp: 1 or 2; 0 for the format's default.
template <typename F>
void launch_matvec_group(const MatvecGroup& g, MatvecEpilogue e, int rows_per_warp,
                         cudaStream_t stream) {
  if ((rows_per_warp == 0 ? F::kRowsPerWarp : rows_per_warp) == 2)
    launch_matvec_warp<F, 2>(g, e, stream);
  else
    launch_matvec_warp<F, 1>(g, e, stream);
}

}  // namespace llmpipe::cuda
