// store_kv: writes each token's K and V rows at (slot, position) of the cache, F32 or F16.
#include <cuda_fp16.h>

#include "kernels/cuda/check.h"
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/ops.cuh"

namespace llmpipe::cuda {

namespace {

// One thread per (token, column); consecutive threads write consecutive columns.
template <typename T>
__global__ void store_kv_kernel(T* kc, T* vc, const float* k, const float* v, int64_t cols,
                                const int32_t* positions, const int32_t* slots, int64_t n_ctx,
                                int64_t n_tokens) {
  const int64_t idx = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (idx >= n_tokens * cols) return;
  const int64_t t = idx / cols, c = idx % cols;
  const int64_t dst = (int64_t(slots[t]) * n_ctx + positions[t]) * cols + c;
  store_cache(kc + dst, k[idx]);
  store_cache(vc + dst, v[idx]);
}

template <typename T>
void launch(KvView cache, TensorView k, TensorView v, const DeviceBatch& batch,
            cudaStream_t stream) {
  const int64_t items = k.rows * k.cols;
  store_kv_kernel<T><<<blocks_for(items, 256), 256, 0, stream>>>(
      static_cast<T*>(cache.k.data), static_cast<T*>(cache.v.data),
      static_cast<const float*>(k.data), static_cast<const float*>(v.data), k.cols,
      batch.positions, batch.slots, cache.n_ctx, k.rows);
}

}  // namespace

void store_kv_f32(KvView cache, TensorView k, TensorView v, const DeviceBatch& batch,
                  cudaStream_t stream) {
  if (k.rows == 0) return;
  if (cache.k.dtype == DType::F16)
    launch<__half>(cache, k, v, batch, stream);
  else
    launch<float>(cache, k, v, batch, stream);
  CUDA_CHECK_LAUNCH();
}

}  // namespace llmpipe::cuda
