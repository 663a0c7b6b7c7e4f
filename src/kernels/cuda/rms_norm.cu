// rms_norm: out = in / sqrt(mean(in²) + eps) * weight, one block per row.
#include "kernels/cuda/check.h"
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/ops.cuh"

namespace llmpipe::cuda {

namespace {

constexpr int kThreads = 256;

// Each thread reads and writes only its own elements after the reduction, so out may alias in.
__global__ void rms_norm_f32_kernel(float* out, const float* in, const float* weight, float eps,
                                   int64_t d) {
  const float* x = in + blockIdx.x * d;
  float* y = out + blockIdx.x * d;
  float ss = 0;
  for (int64_t i = threadIdx.x; i < d; i += kThreads) ss += x[i] * x[i];
  __shared__ float partial[kThreads / kWarp];
  ss = warp_sum(ss);
  if (threadIdx.x % kWarp == 0) partial[threadIdx.x / kWarp] = ss;
  __syncthreads();
  if (threadIdx.x < kWarp) {
    float s = threadIdx.x < kThreads / kWarp ? partial[threadIdx.x] : 0.0f;
    s = warp_sum(s);
    if (threadIdx.x == 0) partial[0] = s;
  }
  __syncthreads();
  const float scale = 1.0f / sqrtf(partial[0] / float(d) + eps);
  for (int64_t i = threadIdx.x; i < d; i += kThreads) y[i] = x[i] * scale * weight[i];
}

}  // namespace

void rms_norm_f32(TensorView out, TensorView in, const float* weight, float eps,
                  cudaStream_t stream) {
  if (in.rows == 0) return;
  rms_norm_f32_kernel<<<unsigned(in.rows), kThreads, 0, stream>>>(
      static_cast<float*>(out.data), static_cast<const float*>(in.data), weight, eps, in.cols);
  CUDA_CHECK_LAUNCH();
}

}  // namespace llmpipe::cuda
