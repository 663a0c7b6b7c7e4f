// attention: causal, grouped-query attention of F32 queries over an F32 or F16 KV cache, within
// a sliding window of positions when one is set (AttentionShape::window).
//
// Flash-decoding: the keys of each (token, head) are cut into `n_splits` ranges processed by
// separate blocks (so a decode step with few tokens still fills the GPU on long contexts), each
// keeping an online softmax (running max m, sum l, unnormalized output acc); a second kernel
// combines the ranges where there is more than one. Prefill uses the same kernels with one split
// per (token, head): there are enough of those to fill the GPU.
//
// With an F16 cache, q is rounded to F16 before q·k and the softmax weights before p·v, as the
// CPU reference does. The CPU rounds the normalized weight p/sum; here the weight relative to
// the running max is rounded (the sum is not known yet), which differs in the last F16 bit.
#include <cuda_fp16.h>

#include <algorithm>

#include "kernels/cuda/check.h"
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/ops.cuh"

namespace llmpipe::cuda {

namespace {

constexpr int kThreads = 128;
constexpr int kWarps = kThreads / kWarp;
constexpr int kKeyTile = 64;                            // scores held in shared memory at a time
constexpr int kDimsPerThread = kMaxHeadDim / kThreads;  // output dims each thread accumulates

__device__ __forceinline__ float load_kv(const float* p, int64_t i) {
  return p[i];
}
__device__ __forceinline__ float load_kv(const __half* p, int64_t i) {
  return __half2float(p[i]);
}
__device__ __forceinline__ float operand(float x, const float*) {
  return x;
}
__device__ __forceinline__ float operand(float x, const __half*) {
  return round_f16(x);
}

// Grid: (n_tokens * n_head, n_splits). Writes, per (item, split), acc[head_dim] and (m, l).
// A split with no keys (beyond the token's position) writes m = -inf, l = 0, acc = 0.
// With one split the block writes the output itself, acc / l: what the combine kernel computes
// from one range (e^0 = 1), to the bit, without its launch (short contexts, prefill).
template <typename T>
__global__ void attention_partial_kernel(const float* q, int64_t q_cols, const T* kc, const T* vc,
                                         int64_t kv_cols, const int32_t* positions,
                                         const int32_t* slots, int64_t n_ctx, int n_head, int group,
                                         int hd, int window, float scale, int keys_per_split,
                                         float* part_acc, float* part_ml, float* out,
                                         int64_t out_cols) {
  const int64_t item = blockIdx.x;
  const int split = blockIdx.y, n_splits = gridDim.y;
  const int64_t t = item / n_head;
  const int h = int(item % n_head);
  const int64_t n_keys = int64_t(positions[t]) + 1;
  const int64_t base = int64_t(slots[t]) * n_ctx;
  const int64_t kv_col = int64_t(h / group) * hd;
  // Splits cut positions [0, n_keys) as without a window; the window's first position clips
  // them (a split wholly before it has no keys: m = -inf, l = 0, as past the end).
  const int64_t first = window > 0 && n_keys > window ? n_keys - window : 0;
  const int64_t k0 =
      int64_t(split) * keys_per_split < first ? first : int64_t(split) * keys_per_split;
  const int64_t split_end = int64_t(split + 1) * keys_per_split;
  const int64_t k1 = n_keys < split_end ? n_keys : split_end;
  const int warp = threadIdx.x / kWarp, lane = threadIdx.x % kWarp;

  __shared__ float q_s[kMaxHeadDim];
  __shared__ float s_s[kKeyTile];
  for (int d = threadIdx.x; d < hd; d += kThreads) q_s[d] = operand(q[t * q_cols + h * hd + d], kc);
  __syncthreads();

  float m = -INFINITY, l = 0.0f;
  float acc[kDimsPerThread] = {};
  for (int64_t tile = k0; tile < k1; tile += kKeyTile) {
    const int nt = k1 - tile < kKeyTile ? int(k1 - tile) : kKeyTile;
    // Scores: one warp per key, lanes over the head dimension (contiguous in the cache row).
    for (int j = warp; j < nt; j += kWarps) {
      const T* krow = kc + (base + tile + j) * kv_cols + kv_col;
      float s = 0;
      for (int d = lane; d < hd; d += kWarp) s += q_s[d] * load_kv(krow, d);
      s = warp_sum(s);
      if (lane == 0) s_s[j] = s * scale;
    }
    __syncthreads();
    float tile_max = -INFINITY;
    for (int j = 0; j < nt; ++j) tile_max = fmaxf(tile_max, s_s[j]);
    const float new_m = fmaxf(m, tile_max);
    const float correction = expf(m - new_m);  // 0 on the first tile (m = -inf)
    l *= correction;
#pragma unroll
    for (int i = 0; i < kDimsPerThread; ++i) acc[i] *= correction;
    // Weighted values: threads over the head dimension, keys in order.
    for (int j = 0; j < nt; ++j) {
      const float e = expf(s_s[j] - new_m);
      l += e;
      const float p = operand(e, vc);
      const T* vrow = vc + (base + tile + j) * kv_cols + kv_col;
#pragma unroll
      for (int i = 0; i < kDimsPerThread; ++i) {
        const int d = threadIdx.x + i * kThreads;
        if (d < hd) acc[i] += p * load_kv(vrow, d);
      }
    }
    m = new_m;
    __syncthreads();  // s_s is rewritten by the next tile
  }
  if (n_splits == 1) {  // l > 0: a token attends at least to itself
#pragma unroll
    for (int i = 0; i < kDimsPerThread; ++i) {
      const int d = threadIdx.x + i * kThreads;
      if (d < hd) out[t * out_cols + int64_t(h) * hd + d] = acc[i] / l;
    }
    return;
  }
  const int64_t part = item * n_splits + split;
#pragma unroll
  for (int i = 0; i < kDimsPerThread; ++i) {
    const int d = threadIdx.x + i * kThreads;
    if (d < hd) part_acc[part * hd + d] = acc[i];
  }
  if (threadIdx.x == 0) {
    part_ml[part * 2] = m;
    part_ml[part * 2 + 1] = l;
  }
}

// One block per (token, head): out = Σ_s e^(m_s - M) acc_s / Σ_s e^(m_s - M) l_s.
__global__ void attention_combine_kernel(float* out, int64_t out_cols, int n_head, int hd,
                                         int n_splits, const float* part_acc,
                                         const float* part_ml) {
  const int64_t item = blockIdx.x;
  const int64_t t = item / n_head;
  const int h = int(item % n_head);
  const float* ml = part_ml + item * n_splits * 2;
  float M = -INFINITY;
  for (int s = 0; s < n_splits; ++s) M = fmaxf(M, ml[2 * s]);
  float denom = 0;
  for (int s = 0; s < n_splits; ++s)
    if (ml[2 * s + 1] > 0) denom += expf(ml[2 * s] - M) * ml[2 * s + 1];
  for (int d = threadIdx.x; d < hd; d += blockDim.x) {
    float num = 0;
    for (int s = 0; s < n_splits; ++s)
      if (ml[2 * s + 1] > 0) num += expf(ml[2 * s] - M) * part_acc[(item * n_splits + s) * hd + d];
    out[t * out_cols + int64_t(h) * hd + d] = num / denom;
  }
}

template <typename T>
void launch(TensorView out, TensorView q, KvView cache, const DeviceBatch& batch,
            AttentionShape shape, const AttentionPlan& plan, float* partials, cudaStream_t stream) {
  const int64_t items = batch.n_tokens * shape.n_head;
  float* part_acc = partials;
  float* part_ml = partials + items * plan.n_splits * shape.head_dim;
  const dim3 grid(unsigned(items), unsigned(plan.n_splits));
  attention_partial_kernel<T><<<grid, kThreads, 0, stream>>>(
      static_cast<const float*>(q.data), q.cols, static_cast<const T*>(cache.k.data),
      static_cast<const T*>(cache.v.data), cache.k.cols, batch.positions, batch.slots, cache.n_ctx,
      shape.n_head, shape.n_head / shape.n_head_kv, shape.head_dim, shape.window,
      1.0f / sqrtf(float(shape.head_dim)), plan.keys_per_split, part_acc, part_ml,
      static_cast<float*>(out.data), out.cols);
  CUDA_CHECK_LAUNCH();
  if (plan.n_splits == 1) return;
  attention_combine_kernel<<<unsigned(items), std::min(shape.head_dim, 256), 0, stream>>>(
      static_cast<float*>(out.data), out.cols, shape.n_head, shape.head_dim, plan.n_splits,
      part_acc, part_ml);
  CUDA_CHECK_LAUNCH();
}

}  // namespace

AttentionPlan plan_attention(int64_t n_items, int32_t max_keys, int sm_count) {
  // Enough blocks for every SM to hold a few, but no split shorter than one key tile.
  const int64_t tiles = (int64_t(max_keys) + kKeyTile - 1) / kKeyTile;
  const int64_t want =
      (int64_t(4) * std::max(sm_count, 1) + n_items - 1) / std::max<int64_t>(n_items, 1);
  const int64_t splits = std::clamp<int64_t>(want, 1, std::min<int64_t>(tiles, 64));
  const int64_t tiles_per_split = (tiles + splits - 1) / splits;
  AttentionPlan p;
  p.keys_per_split = int(tiles_per_split * kKeyTile);
  p.n_splits = int((tiles + tiles_per_split - 1) / tiles_per_split);
  return p;
}

size_t attention_partials_bytes(int64_t n_items, const AttentionPlan& plan, int head_dim) {
  return size_t(n_items) * size_t(plan.n_splits) * size_t(head_dim + 2) * sizeof(float);
}

void attention_f32(TensorView out, TensorView q, KvView cache, const DeviceBatch& batch,
                   AttentionShape shape, const AttentionPlan& plan, float* partials,
                   cudaStream_t stream) {
  if (batch.n_tokens == 0) return;
  if (cache.k.dtype == DType::F16)
    launch<__half>(out, q, cache, batch, shape, plan, partials, stream);
  else
    launch<float>(out, q, cache, batch, shape, plan, partials, stream);
}

}  // namespace llmpipe::cuda
