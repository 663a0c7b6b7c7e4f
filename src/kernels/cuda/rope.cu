// rope: rotates the pairs of every head in place: adjacent pairs (GGUF llama) or halves (NEOX,
// qwen2/qwen3), by the angles of RopeParams (linear position scale, per-frequency divisors).
//
// The angles depend only on the batch's positions, not on the layer: rope_angles_f32 computes
// (cos, sin) per (token, pair) once per batch, in double precision like the CPU reference
// (positions reach thousands, where float angles lose digits), and every layer's q and k are
// rotated from that table by rope_apply_f32, one thread per pair of every head. (Computing
// the angles in each call, one thread looping over the heads, took ~18 us per call on an H100:
// about a fifth of a 3B model's decode step.)
#include "kernels/cuda/check.h"
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/ops.cuh"

namespace llmpipe::cuda {

namespace {

// The CPU reference's angle, in the same double-precision steps (ref_norm_rope.cpp).
__global__ void rope_angles_kernel(float2* table, const int32_t* positions, int64_t n_tokens,
                                   int head_dim, double freq_base, double position_scale,
                                   const float* factors) {
  const int64_t idx = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  const int half = head_dim / 2;
  if (idx >= n_tokens * half) return;
  const int64_t t = idx / half;
  const int i = int(idx % half);
  double theta = double(positions[t]) * position_scale * pow(freq_base, -2.0 * i / head_dim);
  if (factors) theta /= double(factors[i]);
  table[idx] = make_float2(float(cos(theta)), float(sin(theta)));
}

// Adjacent pairs. Precondition: x 8-byte aligned (pairs are read as float2), cols a multiple
// of head_dim.
__global__ void rope_apply_kernel(float* x, const float2* table, int64_t n_tokens, int64_t cols,
                                  int head_dim) {
  const int64_t pairs_per_row = cols / 2;
  const int64_t idx = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (idx >= n_tokens * pairs_per_row) return;
  const int64_t t = idx / pairs_per_row;
  const int half = head_dim / 2;
  const int i = int((idx % pairs_per_row) % half);  // pair within its head
  const float2 cs = table[t * half + i];
  float2* p = reinterpret_cast<float2*>(x) + idx;
  *p = rotate_pair(*p, cs);
}

// NEOX pairs (x[i], x[i + half]) of each head, one thread per pair.
__global__ void rope_apply_neox_kernel(float* x, const float2* table, int64_t n_tokens,
                                       int64_t cols, int head_dim) {
  const int64_t pairs_per_row = cols / 2;
  const int64_t idx = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (idx >= n_tokens * pairs_per_row) return;
  const int64_t t = idx / pairs_per_row, pair = idx % pairs_per_row;
  const int half = head_dim / 2;
  float* p = x + t * cols + rope_pair_column<true>(pair, half);
  const float2 r = rotate_pair(make_float2(p[0], p[half]), table[t * half + int(pair % half)]);
  p[0] = r.x;
  p[half] = r.y;
}

}  // namespace

void rope_angles_f32(float2* table, const DeviceBatch& batch, const RopeParams& params,
                     cudaStream_t stream) {
  const int64_t items = batch.n_tokens * (params.head_dim / 2);
  if (items == 0) return;
  rope_angles_kernel<<<blocks_for(items, 128), 128, 0, stream>>>(
      table, batch.positions, batch.n_tokens, params.head_dim, double(params.freq_base),
      double(params.position_scale), static_cast<const float*>(params.freq_factors.data));
  CUDA_CHECK_LAUNCH();
}

void rope_apply_f32(TensorView x, const float2* table, int head_dim, RopeStyle style,
                    cudaStream_t stream) {
  const int64_t items = x.rows * (x.cols / 2);
  if (items == 0) return;
  auto* data = static_cast<float*>(x.data);
  if (style == RopeStyle::Neox)
    rope_apply_neox_kernel<<<blocks_for(items, 256), 256, 0, stream>>>(data, table, x.rows, x.cols,
                                                                       head_dim);
  else
    rope_apply_kernel<<<blocks_for(items, 256), 256, 0, stream>>>(data, table, x.rows, x.cols,
                                                                  head_dim);
  CUDA_CHECK_LAUNCH();
}

}  // namespace llmpipe::cuda
