// argmax_rows: the index of each row's largest value, with the host's semantics
// (std::max_element, as runtime/sampler.h's argmax): the first of equal maxima; a NaN in
// column 0 wins (nothing compares greater), NaNs elsewhere are passed over. One block per row:
// each thread scans its strided columns, then the block keeps the larger value, or on a tie the
// lower column.
#include "kernels/cuda/check.h"
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/ops.cuh"

namespace llmpipe::cuda {

namespace {

constexpr int kThreads = 256;

struct Best {
  float value;
  int32_t index;  // INT32_MAX: none yet
};

__device__ __forceinline__ Best better(Best a, Best b) {
  if (b.index == INT32_MAX) return a;
  if (a.index == INT32_MAX) return b;
  if (b.value > a.value || (b.value == a.value && b.index < a.index)) return b;
  return a;
}

__global__ void argmax_rows_kernel(int32_t* ids, const float* x, int64_t cols) {
  const float* row = x + blockIdx.x * cols;
  Best best{0.0f, INT32_MAX};
  for (int64_t c = threadIdx.x; c < cols; c += kThreads) {
    const float v = row[c];
    if (!isnan(v)) best = better(best, {v, int32_t(c)});
  }
#pragma unroll
  for (int o = kWarp / 2; o > 0; o >>= 1) {
    const Best other{__shfl_xor_sync(0xffffffffu, best.value, o),
                     __shfl_xor_sync(0xffffffffu, best.index, o)};
    best = better(best, other);
  }
  __shared__ Best warps[kThreads / kWarp];
  if (threadIdx.x % kWarp == 0) warps[threadIdx.x / kWarp] = best;
  __syncthreads();
  if (threadIdx.x == 0) {
    for (int w = 1; w < kThreads / kWarp; ++w) best = better(best, warps[w]);
    // Column 0 is NaN: the host's scan starts there and nothing compares greater. Only NaNs:
    // the same.
    ids[blockIdx.x] = best.index == INT32_MAX || isnan(row[0]) ? 0 : best.index;
  }
}

}  // namespace

void argmax_rows_f32(int32_t* ids, TensorView x, cudaStream_t stream) {
  if (x.rows == 0) return;
  argmax_rows_kernel<<<unsigned(x.rows), kThreads, 0, stream>>>(
      ids, static_cast<const float*>(x.data), x.cols);
  CUDA_CHECK_LAUNCH();
}

}  // namespace llmpipe::cuda
