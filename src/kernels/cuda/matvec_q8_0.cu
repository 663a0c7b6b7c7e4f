// matvec_q8_0_f32: decode-sized products (<= kMatvecMaxTokens tokens) with Q8_0 weights.
//
// One warp per weight row. Four lanes share a 34-byte block, eight quants each, so a warp reads
// eight consecutive blocks (272 contiguous bytes) per step: coalesced, and every weight byte is
// read once for all the batch's tokens. The scale multiplies each lane's partial block sum, as
// the CPU reference multiplies the block sum.
#include "kernels/cuda/check.h"
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/ops.cuh"

namespace llmpipe::cuda {

namespace {

constexpr int kRowsPerBlock = 4;  // warps per thread block
constexpr int kLanesPerBlock = 4;
constexpr int kQuantsPerLane = kQK / kLanesPerBlock;  // 8
constexpr int kBlocksPerStep = kWarp / kLanesPerBlock;  // 8

__global__ void matvec_q8_0_f32_kernel(float* out, const float* x, const BlockQ8_0* w, int64_t M,
                                       int64_t K, int n_tokens) {
  const int64_t m = int64_t(blockIdx.x) * kRowsPerBlock + threadIdx.x / kWarp;
  if (m >= M) return;  // whole warps leave together: the shuffles below stay full-warp
  const int lane = threadIdx.x % kWarp;
  const int sub = lane % kLanesPerBlock;
  const int64_t nb = K / kQK;
  const BlockQ8_0* row = w + m * nb;
  float acc[kMatvecMaxTokens] = {};
  for (int64_t b = lane / kLanesPerBlock; b < nb; b += kBlocksPerStep) {
    const BlockQ8_0& blk = row[b];
    // The quants start at byte 2 of the block: 2-byte aligned, read as four 16-bit words.
    const auto* qw = reinterpret_cast<const uint16_t*>(blk.qs + sub * kQuantsPerLane);
    float q[kQuantsPerLane];
#pragma unroll
    for (int i = 0; i < kQuantsPerLane / 2; ++i) {
      const uint16_t pair = qw[i];
      q[2 * i] = float(int8_t(pair & 0xff));
      q[2 * i + 1] = float(int8_t(pair >> 8));
    }
    const float d = f16_bits_to_f32(blk.d);
    const int64_t col = b * kQK + sub * kQuantsPerLane;
#pragma unroll
    for (int t = 0; t < kMatvecMaxTokens; ++t) {
      if (t >= n_tokens) break;
      const float4* xv = reinterpret_cast<const float4*>(x + t * K + col);
      const float4 a = xv[0], c = xv[1];
      const float s = q[0] * a.x + q[1] * a.y + q[2] * a.z + q[3] * a.w + q[4] * c.x +
                      q[5] * c.y + q[6] * c.z + q[7] * c.w;
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

void matvec_q8_0_f32(TensorView out, TensorView in, TensorView w, cudaStream_t stream) {
  matvec_q8_0_f32_kernel<<<blocks_for(w.rows, kRowsPerBlock), kRowsPerBlock * kWarp, 0, stream>>>(
      static_cast<float*>(out.data), static_cast<const float*>(in.data),
      static_cast<const BlockQ8_0*>(w.data), w.rows, w.cols, int(in.rows));
  CUDA_CHECK_LAUNCH();
}

}  // namespace llmpipe::cuda
