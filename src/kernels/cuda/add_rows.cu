// add_rows: x[r, :] += bias[:] for every row (the q/k/v projection biases of qwen2).
#include "kernels/cuda/check.h"
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/ops.cuh"

namespace llmpipe::cuda {

namespace {
__global__ void add_rows_f32_kernel(float* x, const float* bias, int64_t n, int64_t cols) {
  const int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i < n) x[i] += bias[i % cols];
}
}  // namespace

void add_rows_f32(float* x, const float* bias, int64_t rows, int64_t cols, cudaStream_t stream) {
  const int64_t n = rows * cols;
  if (n == 0) return;
  add_rows_f32_kernel<<<blocks_for(n, 256), 256, 0, stream>>>(x, bias, n, cols);
  CUDA_CHECK_LAUNCH();
}

}  // namespace llmpipe::cuda
