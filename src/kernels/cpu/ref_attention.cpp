#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "core/half.h"
#include "kernels/cpu/reference_ops.h"

namespace llmpipe::cpu::ref {

namespace {

// K/V cache elements are F32 or F16 (uint16_t bits).
inline float load(const float* p, int64_t i) {
  return p[i];
}
inline float load(const uint16_t* p, int64_t i) {
  return f16_to_f32(p[i]);
}
inline void store(float* p, int64_t i, float v) {
  p[i] = v;
}
inline void store(uint16_t* p, int64_t i, float v) {
  p[i] = f32_to_f16(v);
}

// With an F16 cache, both products are taken in F16 precision: q is rounded to F16 before
// q·k and the softmax weights before p·v. This is what an F16 matrix product of the cache with
// F32 activations does (the activations are converted to the weights' type), and it makes
// our results agree with llama.cpp's F16 KV cache.
inline float operand(float x, const float*) {
  return x;
}
inline float operand(float x, const uint16_t*) {
  return f16_to_f32(f32_to_f16(x));
}

template <typename T>
void store_kv_impl(KvView cache, TensorView k, TensorView v, const BatchLayout& batch, int64_t r0,
                   int64_t r1) {
  for (int64_t r = r0; r < r1; ++r) {
    const int64_t dst = int64_t(batch.slots[size_t(r)]) * cache.n_ctx + batch.positions[size_t(r)];
    T* kd = static_cast<T*>(cache.k.data) + dst * cache.k.cols;
    T* vd = static_cast<T*>(cache.v.data) + dst * cache.v.cols;
    const float* ks = static_cast<const float*>(k.data) + r * k.cols;
    const float* vs = static_cast<const float*>(v.data) + r * v.cols;
    for (int64_t i = 0; i < k.cols; ++i) store(kd, i, ks[i]);
    for (int64_t i = 0; i < v.cols; ++i) store(vd, i, vs[i]);
  }
}

template <typename T>
void attention_impl(TensorView out, TensorView q, KvView cache, const BatchLayout& batch,
                    AttentionShape shape, int64_t i0, int64_t i1) {
  const int hd = shape.head_dim;
  const int group = shape.n_head / shape.n_head_kv;
  const float scale = 1.0f / std::sqrt(float(hd));
  const T* kc = static_cast<const T*>(cache.k.data);
  const T* vc = static_cast<const T*>(cache.v.data);
  std::vector<float> scores, qh(size_t(hd), 0.0f);
  for (int64_t item = i0; item < i1; ++item) {
    const int64_t t = item / shape.n_head;
    const int h = int(item % shape.n_head);
    const int64_t kv_col = int64_t(h / group) * hd;
    const int64_t pos = batch.positions[size_t(t)];
    const int64_t first = attention_first_key(pos, shape.window);
    const int64_t n_keys = pos + 1 - first;
    const int64_t base = int64_t(batch.slots[size_t(t)]) * cache.n_ctx + first;
    const float* qrow = static_cast<const float*>(q.data) + t * q.cols + h * hd;
    for (int d = 0; d < hd; ++d) qh[size_t(d)] = operand(qrow[d], kc);

    scores.resize(size_t(n_keys));
    float max = -INFINITY;
    for (int64_t j = 0; j < n_keys; ++j) {
      const int64_t row = (base + j) * cache.k.cols + kv_col;
      float s = 0;
      for (int d = 0; d < hd; ++d) s += qh[size_t(d)] * load(kc, row + d);
      scores[size_t(j)] = s * scale;
      max = std::max(max, scores[size_t(j)]);
    }
    float sum = 0;
    for (auto& s : scores) {
      s = std::exp(s - max);
      sum += s;
    }
    float* oh = static_cast<float*>(out.data) + t * out.cols + h * hd;
    std::fill(oh, oh + hd, 0.0f);
    for (int64_t j = 0; j < n_keys; ++j) {
      const float p = operand(scores[size_t(j)] / sum, vc);
      const int64_t row = (base + j) * cache.v.cols + kv_col;
      for (int d = 0; d < hd; ++d) oh[d] += p * load(vc, row + d);
    }
  }
}

}  // namespace

void store_kv_f32(KvView cache, TensorView k, TensorView v, const BatchLayout& batch, int64_t r0,
                  int64_t r1) {
  if (cache.k.dtype == DType::F16)
    store_kv_impl<uint16_t>(cache, k, v, batch, r0, r1);
  else
    store_kv_impl<float>(cache, k, v, batch, r0, r1);
}

void attention_f32(TensorView out, TensorView q, KvView cache, const BatchLayout& batch,
                   AttentionShape shape, int64_t i0, int64_t i1) {
  if (cache.k.dtype == DType::F16)
    attention_impl<uint16_t>(out, q, cache, batch, shape, i0, i1);
  else
    attention_impl<float>(out, q, cache, batch, shape, i0, i1);
}

}  // namespace llmpipe::cpu::ref
