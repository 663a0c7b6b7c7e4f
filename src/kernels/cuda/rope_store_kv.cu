// rope_store_kv: a layer's rope of q and k and the caching of k and v as one kernel (three
// launches were three of a decode step's ~16 per layer). One thread per (token, pair) of q,
// then per (token, pair) of k: that thread rotates the k pair, writes it back to k (as the
// separate ops leave it) and stores it and the v pair at (slot, position) of the cache.
#include <cuda_fp16.h>

#include "kernels/cuda/check.h"
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/ops.cuh"

namespace llmpipe::cuda {

namespace {

// kNeox: pairs (x[i], x[i + half]) of each head (rope_pair_column), else adjacent pairs.
template <typename T, bool kNeox>
__global__ void rope_store_kv_kernel(float* q, float* k, const float* v, T* kc, T* vc,
                                     const float2* table, const int32_t* positions,
                                     const int32_t* slots, int64_t n_tokens, int64_t q_cols,
                                     int64_t kv_cols, int head_dim, int64_t n_ctx) {
  const int64_t idx = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  const int64_t q_pairs = n_tokens * (q_cols / 2), k_pairs = n_tokens * (kv_cols / 2);
  const int half = head_dim / 2;
  const int64_t step = kNeox ? half : 1;  // from a pair's first element to its second
  if (idx < q_pairs) {
    const int64_t t = idx / (q_cols / 2), pair = idx % (q_cols / 2);
    const float2 cs = table[t * half + int(pair % half)];
    if constexpr (kNeox) {
      float* p = q + t * q_cols + rope_pair_column<true>(pair, half);
      const float2 r = rotate_pair(make_float2(p[0], p[step]), cs);
      p[0] = r.x;
      p[step] = r.y;
    } else {
      float2* p = reinterpret_cast<float2*>(q) + idx;
      *p = rotate_pair(*p, cs);
    }
    return;
  }
  const int64_t j = idx - q_pairs;
  if (j >= k_pairs) return;
  const int64_t t = j / (kv_cols / 2), c2 = j % (kv_cols / 2);
  const int64_t col = rope_pair_column<kNeox>(c2, half);
  float* p = k + t * kv_cols + col;
  const float2 r = rotate_pair(make_float2(p[0], p[step]), table[t * half + int(c2 % half)]);
  p[0] = r.x;
  p[step] = r.y;
  const int64_t dst = (int64_t(slots[t]) * n_ctx + positions[t]) * kv_cols + col;
  const int64_t src = t * kv_cols + col;
  store_cache(kc + dst, r.x);
  store_cache(kc + dst + step, r.y);
  store_cache(vc + dst, v[src]);
  store_cache(vc + dst + step, v[src + step]);
}

template <typename T, bool kNeox>
void launch(TensorView q, TensorView k, TensorView v, KvView cache, const float2* table,
            const DeviceBatch& batch, int head_dim, cudaStream_t stream) {
  const int64_t items = q.rows * (q.cols / 2) + k.rows * (k.cols / 2);
  if (items == 0) return;
  rope_store_kv_kernel<T, kNeox><<<blocks_for(items, 256), 256, 0, stream>>>(
      static_cast<float*>(q.data), static_cast<float*>(k.data), static_cast<const float*>(v.data),
      static_cast<T*>(cache.k.data), static_cast<T*>(cache.v.data), table, batch.positions,
      batch.slots, q.rows, q.cols, k.cols, head_dim, cache.n_ctx);
}

}  // namespace

void rope_store_kv_f32(TensorView q, TensorView k, TensorView v, KvView cache, const float2* table,
                       const DeviceBatch& batch, int head_dim, RopeStyle style,
                       cudaStream_t stream) {
  if (q.rows == 0) return;
  const bool f16 = cache.k.dtype == DType::F16, neox = style == RopeStyle::Neox;
  if (f16 && neox)
    launch<__half, true>(q, k, v, cache, table, batch, head_dim, stream);
  else if (f16)
    launch<__half, false>(q, k, v, cache, table, batch, head_dim, stream);
  else if (neox)
    launch<float, true>(q, k, v, cache, table, batch, head_dim, stream);
  else
    launch<float, false>(q, k, v, cache, table, batch, head_dim, stream);
  CUDA_CHECK_LAUNCH();
}

}  // namespace llmpipe::cuda
