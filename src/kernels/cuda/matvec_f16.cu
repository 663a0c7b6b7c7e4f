// matvec_f16_f32 / matvec_bf16_f32: decode-sized products (<= kMatvecMaxTokens tokens) with
// 16-bit weights and F32 activations (no rounding of the activations, as on the CPU).
// One warp per weight row; each lane reads two adjacent weights (one 32-bit load) per step.
#include "kernels/cuda/check.h"
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/ops.cuh"

namespace llmpipe::cuda {

namespace {

constexpr int kRowsPerBlock = 4;

template <bool kBf16>
__device__ __forceinline__ float to_f32(uint16_t h) {
  if constexpr (kBf16) return bf16_bits_to_f32(h);
  else return f16_bits_to_f32(h);
}

// Precondition: K even, rows 4-byte aligned (cudaMalloc'd weights with even K are).
template <bool kBf16>
__global__ void matvec_16_f32_kernel(float* out, const float* x, const uint16_t* w, int64_t M,
                                     int64_t K, int n_tokens) {
  const int64_t m = int64_t(blockIdx.x) * kRowsPerBlock + threadIdx.x / kWarp;
  if (m >= M) return;  // whole warps leave together
  const int lane = threadIdx.x % kWarp;
  const uint32_t* row = reinterpret_cast<const uint32_t*>(w + m * K);
  float acc[kMatvecMaxTokens] = {};
  for (int64_t p = lane; p < K / 2; p += kWarp) {
    const uint32_t pair = row[p];
    const float w0 = to_f32<kBf16>(uint16_t(pair & 0xffff)), w1 = to_f32<kBf16>(uint16_t(pair >> 16));
#pragma unroll
    for (int t = 0; t < kMatvecMaxTokens; ++t) {
      if (t >= n_tokens) break;
      const float2 a = *reinterpret_cast<const float2*>(x + t * K + 2 * p);
      acc[t] += w0 * a.x + w1 * a.y;
    }
  }
#pragma unroll
  for (int t = 0; t < kMatvecMaxTokens; ++t) {
    if (t >= n_tokens) break;
    const float s = warp_sum(acc[t]);
    if (lane == 0) out[t * M + m] = s;
  }
}

template <bool kBf16>
void launch(TensorView out, TensorView in, TensorView w, cudaStream_t stream) {
  matvec_16_f32_kernel<kBf16><<<blocks_for(w.rows, kRowsPerBlock), kRowsPerBlock * kWarp, 0, stream>>>(
      static_cast<float*>(out.data), static_cast<const float*>(in.data),
      static_cast<const uint16_t*>(w.data), w.rows, w.cols, int(in.rows));
  CUDA_CHECK_LAUNCH();
}

}  // namespace

void matvec_f16_f32(TensorView out, TensorView in, TensorView w, cudaStream_t stream) {
  launch<false>(out, in, w, stream);
}

void matvec_bf16_f32(TensorView out, TensorView in, TensorView w, cudaStream_t stream) {
  launch<true>(out, in, w, stream);
}

}  // namespace llmpipe::cuda
