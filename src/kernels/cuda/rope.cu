// rope: rotates adjacent pairs of every head in place (GGUF llama convention).
#include "kernels/cuda/check.h"
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/ops.cuh"

namespace llmpipe::cuda {

namespace {

// One thread per (token, pair): the angle is computed once, in double precision like the CPU
// reference (positions reach thousands, where float angles lose digits), then applied to the
// pair in every head.
__global__ void rope_f32_kernel(float* x, int64_t cols, const int32_t* positions, int64_t n_tokens,
                                int head_dim, int heads, double freq_base) {
  const int64_t idx = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  const int half = head_dim / 2;
  if (idx >= n_tokens * half) return;
  const int64_t t = idx / half;
  const int i = int(idx % half);
  const double theta = double(positions[t]) * pow(freq_base, -2.0 * i / head_dim);
  const float c = float(cos(theta)), s = float(sin(theta));
  float* row = x + t * cols;
  for (int h = 0; h < heads; ++h) {
    float* p = row + int64_t(h) * head_dim + 2 * i;
    const float a = p[0], b = p[1];
    p[0] = a * c - b * s;
    p[1] = a * s + b * c;
  }
}

}  // namespace

void rope_f32(TensorView x, const DeviceBatch& batch, int head_dim, float freq_base,
              cudaStream_t stream) {
  const int64_t items = x.rows * (head_dim / 2);
  if (items == 0) return;
  rope_f32_kernel<<<blocks_for(items, 128), 128, 0, stream>>>(
      static_cast<float*>(x.data), x.cols, batch.positions, x.rows, head_dim,
      int(x.cols / head_dim), double(freq_base));
  CUDA_CHECK_LAUNCH();
}

}  // namespace llmpipe::cuda
