// Causal attention for the avx2 level (AVX2 + FMA + F16C), one (token, head) item at a time:
// q.k vectorized over head_dim (8 lanes, scalar tail), softmax with a vectorized exp, sum of
// p.v accumulated on the stack. The shared part (items, cache-type dispatch, semantics) is in
// ../attention_impl.h; avx512/attention_avx512.cpp says why the kernels differ.
#include <cmath>

#define LLMPIPE_X86_ISA avx2
#include "kernels/cpu/x86/avx2/simd_avx2.h"  // first: it includes <immintrin.h>
#include "kernels/cpu/x86/attention_impl.h"

namespace llmpipe::cpu::avx2 {

namespace {

static inline float round_f16(float x) { return _cvtsh_ss(_cvtss_sh(x, _MM_FROUND_TO_NEAREST_INT)); }
static inline float load1(const float* p) { return *p; }
static inline float load1(const uint16_t* p) { return _cvtsh_ss(*p); }

template <typename T>
void attention_kernel(TensorView out, TensorView q, KvView cache, const BatchLayout& batch,
                      AttentionShape shape, int64_t i0, int64_t i1, float* scores) {
  constexpr bool kF16 = sizeof(T) == 2;
  const int hd = shape.head_dim;
  const int hv = hd / 8 * 8;  // vectorized part
  const float scale = 1.0f / std::sqrt(float(hd));
  const T* kc = static_cast<const T*>(cache.k.data);
  const T* vc = static_cast<const T*>(cache.v.data);
  alignas(32) float qh[kMaxHeadDim];
  for (int64_t item = i0; item < i1; ++item) {
    const AttentionItem it = attention_item(out, q, cache, batch, shape, item);
    const int64_t n_keys = it.n_keys;
    for (int d = 0; d < hd; ++d) qh[d] = kF16 ? round_f16(it.q[d]) : it.q[d];

    // Scores, 8 keys at a time: 8 dot-product vectors reduced together (reduce8_ps).
    float max = -INFINITY;
    for (int64_t j0 = 0; j0 < n_keys; j0 += 8) {
      const int nk = n_keys - j0 < 8 ? int(n_keys - j0) : 8;
      __m256 s[8];
      alignas(32) float part[8] = {0, 0, 0, 0, 0, 0, 0, 0};
      for (int i = 0; i < 8; ++i) s[i] = _mm256_setzero_ps();
      for (int i = 0; i < nk; ++i) {
        const T* krow = kc + (it.base + j0 + i) * cache.k.cols + it.kv_col;
        for (int d = 0; d < hv; d += 8) s[i] = _mm256_fmadd_ps(_mm256_load_ps(qh + d), Simd::load(krow + d), s[i]);
        for (int d = hv; d < hd; ++d) part[i] += qh[d] * load1(krow + d);
      }
      alignas(32) float sc[8];
      _mm256_store_ps(sc, _mm256_add_ps(reduce8_ps(s), _mm256_load_ps(part)));
      for (int i = 0; i < nk; ++i) {
        const float sj = sc[i] * scale;
        scores[j0 + i] = sj;
        max = sj > max ? sj : max;
      }
    }
    const __m256 maxv = _mm256_set1_ps(max);
    __m256 sumv = _mm256_setzero_ps();
    int64_t j = 0;
    for (; j + 8 <= n_keys; j += 8) {
      const __m256 e = exp_ps(_mm256_sub_ps(_mm256_loadu_ps(scores + j), maxv));
      _mm256_storeu_ps(scores + j, e);
      sumv = _mm256_add_ps(sumv, e);
    }
    float sum = hsum_ps(sumv);
    for (; j < n_keys; ++j) {
      scores[j] = std::exp(scores[j] - max);
      sum += scores[j];
    }
    const float inv = 1.0f / sum;

    float* oh = it.out;
    for (int d = 0; d < hd; ++d) oh[d] = 0.0f;
    for (j = 0; j < n_keys; ++j) {
      const float p = kF16 ? round_f16(scores[j] * inv) : scores[j] * inv;
      const __m256 pv = _mm256_set1_ps(p);
      const T* vrow = vc + (it.base + j) * cache.v.cols + it.kv_col;
      for (int d = 0; d < hv; d += 8)
        _mm256_storeu_ps(oh + d, _mm256_fmadd_ps(pv, Simd::load(vrow + d), _mm256_loadu_ps(oh + d)));
      for (int d = hv; d < hd; ++d) oh[d] += p * load1(vrow + d);
    }
  }
}

}  // namespace

}  // namespace llmpipe::cpu::avx2
