// swiglu: gate = silu(gate) * up, elementwise.
#include "kernels/cuda/check.h"
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/ops.cuh"

namespace llmpipe::cuda {

namespace {
// expf (not __expf): the accurate exponential, as the CPU reference's std::exp.
__global__ void swiglu_f32_kernel(float* g, const float* u, int64_t n) {
  const int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i < n) g[i] = g[i] / (1.0f + expf(-g[i])) * u[i];
}
}  // namespace

void swiglu_f32(float* gate, const float* up, int64_t n, cudaStream_t stream) {
  if (n == 0) return;
  swiglu_f32_kernel<<<blocks_for(n, 256), 256, 0, stream>>>(gate, up, n);
  CUDA_CHECK_LAUNCH();
}

}  // namespace llmpipe::cuda
