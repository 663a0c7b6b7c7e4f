// add: x += y, elementwise (the residual connections).
#include "kernels/cuda/check.h"
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/ops.cuh"

namespace llmpipe::cuda {

namespace {
__global__ void add_f32_kernel(float* x, const float* y, int64_t n) {
  const int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i < n) x[i] += y[i];
}
}  // namespace

void add_f32(float* x, const float* y, int64_t n, cudaStream_t stream) {
  if (n == 0) return;
  add_f32_kernel<<<blocks_for(n, 256), 256, 0, stream>>>(x, y, n);
  CUDA_CHECK_LAUNCH();
}

}  // namespace llmpipe::cuda
