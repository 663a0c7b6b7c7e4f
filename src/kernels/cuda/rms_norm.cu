// rms_norm: out = in / sqrt(mean(in²) + eps) * weight, one block per row; optionally after
// in += residual (add_rms_norm).
#include "kernels/cuda/check.h"
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/ops.cuh"

namespace llmpipe::cuda {

namespace {

constexpr int kThreads = 256;

// The row's sum of squares, reduced over the block; every thread gets it.
__device__ float block_sum(float v) {
  __shared__ float partial[kThreads / kWarp];
  v = warp_sum(v);
  if (threadIdx.x % kWarp == 0) partial[threadIdx.x / kWarp] = v;
  __syncthreads();
  if (threadIdx.x < kWarp) {
    float s = threadIdx.x < kThreads / kWarp ? partial[threadIdx.x] : 0.0f;
    s = warp_sum(s);
    if (threadIdx.x == 0) partial[0] = s;
  }
  __syncthreads();
  return partial[0];
}

// Each thread reads and writes only its own elements (the same ones in both loops), so out may
// alias in or residual. Rows of 4k floats (every model's) are read as float4: a decode step's
// norm is one block of a few thousand floats, where the number of dependent loads per thread
// sets the time. kAdd: in += residual on the way (the residual add before a norm, one pass
// instead of two kernels), the same float additions as add_f32.
template <bool kVec4, bool kAdd>
__global__ void rms_norm_f32_kernel(float* out, float* in, const float* weight, float eps,
                                    int64_t d, const float* residual) {
  float* x = in + blockIdx.x * d;
  float* y = out + blockIdx.x * d;
  const float* r = residual + (kAdd ? blockIdx.x * d : 0);
  float ss = 0;
  if constexpr (kVec4) {
    auto* x4 = reinterpret_cast<float4*>(x);
    for (int64_t i = threadIdx.x; i < d / 4; i += kThreads) {
      float4 v = x4[i];
      if constexpr (kAdd) {
        const float4 a = reinterpret_cast<const float4*>(r)[i];
        v = make_float4(v.x + a.x, v.y + a.y, v.z + a.z, v.w + a.w);
        x4[i] = v;
      }
      ss += v.x * v.x + v.y * v.y + v.z * v.z + v.w * v.w;
    }
  } else {
    for (int64_t i = threadIdx.x; i < d; i += kThreads) {
      if constexpr (kAdd) x[i] += r[i];
      ss += x[i] * x[i];
    }
  }
  const float scale = 1.0f / sqrtf(block_sum(ss) / float(d) + eps);
  if constexpr (kVec4) {
    const auto* x4 = reinterpret_cast<const float4*>(x);
    const auto* w4 = reinterpret_cast<const float4*>(weight);
    auto* y4 = reinterpret_cast<float4*>(y);
    for (int64_t i = threadIdx.x; i < d / 4; i += kThreads) {
      const float4 v = x4[i], w = w4[i];
      y4[i] =
          make_float4(v.x * scale * w.x, v.y * scale * w.y, v.z * scale * w.z, v.w * scale * w.w);
    }
  } else {
    for (int64_t i = threadIdx.x; i < d; i += kThreads) y[i] = x[i] * scale * weight[i];
  }
}

template <bool kAdd>
void launch(TensorView out, TensorView in, const float* weight, float eps, cudaStream_t stream,
            const float* residual) {
  auto* y = static_cast<float*>(out.data);
  auto* x = static_cast<float*>(in.data);
  const bool vec4 = in.cols % 4 == 0 && aligned16(x) && aligned16(y) && aligned16(weight) &&
                    (!kAdd || aligned16(residual));
  if (vec4)
    rms_norm_f32_kernel<true, kAdd>
        <<<unsigned(in.rows), kThreads, 0, stream>>>(y, x, weight, eps, in.cols, residual);
  else
    rms_norm_f32_kernel<false, kAdd>
        <<<unsigned(in.rows), kThreads, 0, stream>>>(y, x, weight, eps, in.cols, residual);
  CUDA_CHECK_LAUNCH();
}

}  // namespace

void rms_norm_f32(TensorView out, TensorView in, const float* weight, float eps,
                  cudaStream_t stream, const float* residual) {
  if (in.rows == 0) return;
  if (residual)
    launch<true>(out, in, weight, eps, stream, residual);
  else
    launch<false>(out, in, weight, eps, stream, residual);
}

}  // namespace llmpipe::cuda
