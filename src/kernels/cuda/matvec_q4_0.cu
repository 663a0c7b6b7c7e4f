// matvec_q4_0_f32: decode-sized products (<= kMatvecMaxTokens tokens) with Q4_0 weights.
//
// One warp per weight row. Four lanes share an 18-byte block: lane `sub` takes quant bytes
// [4 sub, 4 sub + 4), i.e. weights 4 sub .. 4 sub + 3 (low nibbles) and 16 + 4 sub .. (high
// nibbles). A warp reads eight consecutive blocks (144 contiguous bytes) per step.
#include "kernels/cuda/check.h"
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/ops.cuh"

namespace llmpipe::cuda {

namespace {

constexpr int kRowsPerBlock = 4;
constexpr int kLanesPerBlock = 4;
constexpr int kBytesPerLane = kQK / 2 / kLanesPerBlock;  // 4
constexpr int kBlocksPerStep = kWarp / kLanesPerBlock;   // 8

__global__ void matvec_q4_0_f32_kernel(float* out, const float* x, const BlockQ4_0* w, int64_t M,
                                       int64_t K, int n_tokens) {
  const int64_t m = int64_t(blockIdx.x) * kRowsPerBlock + threadIdx.x / kWarp;
  if (m >= M) return;  // whole warps leave together
  const int lane = threadIdx.x % kWarp;
  const int sub = lane % kLanesPerBlock;
  const int64_t nb = K / kQK;
  const BlockQ4_0* row = w + m * nb;
  float acc[kMatvecMaxTokens] = {};
  for (int64_t b = lane / kLanesPerBlock; b < nb; b += kBlocksPerStep) {
    const BlockQ4_0& blk = row[b];
    // Quant bytes start at byte 2 of the block: 2-byte aligned, two 16-bit words per lane.
    const auto* qw = reinterpret_cast<const uint16_t*>(blk.qs + sub * kBytesPerLane);
    float lo[kBytesPerLane], hi[kBytesPerLane];
#pragma unroll
    for (int i = 0; i < kBytesPerLane / 2; ++i) {
      const uint16_t pair = qw[i];
      const int b0 = pair & 0xff, b1 = pair >> 8;
      lo[2 * i] = float((b0 & 0x0f) - 8);
      hi[2 * i] = float((b0 >> 4) - 8);
      lo[2 * i + 1] = float((b1 & 0x0f) - 8);
      hi[2 * i + 1] = float((b1 >> 4) - 8);
    }
    const float d = f16_bits_to_f32(blk.d);
    const int64_t col = b * kQK + sub * kBytesPerLane;
#pragma unroll
    for (int t = 0; t < kMatvecMaxTokens; ++t) {
      if (t >= n_tokens) break;
      const float4 a = *reinterpret_cast<const float4*>(x + t * K + col);
      const float4 c = *reinterpret_cast<const float4*>(x + t * K + col + kQK / 2);
      const float s = lo[0] * a.x + lo[1] * a.y + lo[2] * a.z + lo[3] * a.w + hi[0] * c.x +
                      hi[1] * c.y + hi[2] * c.z + hi[3] * c.w;
      acc[t] += d * s;
    }
  }
#pragma unroll
  for (int t = 0; t < kMatvecMaxTokens; ++t) {
    if (t >= n_tokens) break;
    const float s = warp_sum(acc[t]);
    if (lane == 0) out[t * M + m] = s;
  }
}

}  // namespace

void matvec_q4_0_f32(TensorView out, TensorView in, TensorView w, cudaStream_t stream) {
  matvec_q4_0_f32_kernel<<<blocks_for(w.rows, kRowsPerBlock), kRowsPerBlock * kWarp, 0, stream>>>(
      static_cast<float*>(out.data), static_cast<const float*>(in.data),
      static_cast<const BlockQ4_0*>(w.data), w.rows, w.cols, int(in.rows));
  CUDA_CHECK_LAUNCH();
}

}  // namespace llmpipe::cuda
