// Causal attention for the avx512 level, one (token, head) item at a time: scores q.k vectorized
// over head_dim, softmax with a vectorized exp, then the sum of p.v accumulated in registers.
// The shared part (items, cache-type dispatch, semantics) is in ../attention_impl.h. Why this
// kernel is not shared with AVX2: with 16-lane masks, q, the 16 score accumulators and the output
// fit in zmm registers for the common head sizes (specialized below on the chunk count), and
// partial key blocks and head_dim tails are masked; AVX2 has neither the masks nor the registers.
#include <cmath>

#define LLMPIPE_X86_ISA avx512
#include "kernels/cpu/x86/avx512/simd_avx512.h"  // first: it includes <immintrin.h>
#include "kernels/cpu/x86/attention_impl.h"

namespace llmpipe::cpu::avx512 {

namespace {

constexpr int kMaxChunks = kMaxHeadDim / 16;

// NC > 0: head_dim needs exactly NC 16-lane chunks, known at compile time, so q, the 16 score
// accumulators and the output stay in registers. NC == 0: any head_dim up to 512 (arrays).
template <typename T, int NC>
void attention_heads(TensorView out, TensorView q, KvView cache, const BatchLayout& batch,
                     AttentionShape shape, int64_t i0, int64_t i1, float* scores) {
  constexpr bool kF16 = sizeof(T) == 2;
  const int hd = shape.head_dim;
  const int chunks = NC > 0 ? NC : (hd + 15) / 16;
  const float scale = 1.0f / std::sqrt(float(hd));
  const T* kc = static_cast<const T*>(cache.k.data);
  const T* vc = static_cast<const T*>(cache.v.data);
  const int64_t ldk = cache.k.cols, ldv = cache.v.cols;
  constexpr int kN = NC > 0 ? NC : kMaxChunks;
  __mmask16 mask[kN];
  for (int c = 0; c < chunks; ++c) mask[c] = head_mask16(hd - 16 * c);
  __m512 qv[kN], ov[kN];
  for (int64_t item = i0; item < i1; ++item) {
    const AttentionItem it = attention_item(out, q, cache, batch, shape, item);
    const int64_t n_keys = it.n_keys, base = it.base, kv_col = it.kv_col;
    for (int c = 0; c < chunks; ++c) {
      __m512 v = _mm512_maskz_loadu_ps(mask[c], it.q + 16 * c);
      if constexpr (kF16) v = _mm512_cvtph_ps(_mm512_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
      qv[c] = v;
    }

    // Scores, 16 keys at a time: 16 dot-product vectors reduced together (reduce16_ps). Keys
    // past the end of a partial block re-read key 0 of the block; their lanes are discarded.
    __m512 maxv = _mm512_set1_ps(-INFINITY);
    const __m512 scalev = _mm512_set1_ps(scale);
    for (int64_t j0 = 0; j0 < n_keys; j0 += 16) {
      const int nk = n_keys - j0 < 16 ? int(n_keys - j0) : 16;
      const T* k0 = kc + (base + j0) * ldk + kv_col;
      int64_t off[16];
      for (int i = 0; i < 16; ++i) off[i] = (i < nk ? i : 0) * ldk;
      __m512 s[16];
      for (int i = 0; i < 16; ++i) s[i] = _mm512_setzero_ps();
      for (int c = 0; c < chunks; ++c)
        for (int i = 0; i < 16; ++i) s[i] = _mm512_fmadd_ps(qv[c], Simd::load(k0 + off[i] + 16 * c, mask[c]), s[i]);
      const __mmask16 m = head_mask16(nk);
      const __m512 sc = _mm512_mul_ps(reduce16_ps(s), scalev);
      _mm512_mask_storeu_ps(scores + j0, m, sc);
      maxv = _mm512_mask_max_ps(maxv, m, maxv, sc);
    }
    const float max = _mm512_reduce_max_ps(maxv);

    __m512 sumv = _mm512_setzero_ps();
    maxv = _mm512_set1_ps(max);
    for (int64_t j = 0; j < n_keys; j += 16) {
      const __mmask16 m = head_mask16(n_keys - j);
      const __m512 e = exp_ps(_mm512_sub_ps(_mm512_maskz_loadu_ps(m, scores + j), maxv));
      _mm512_mask_storeu_ps(scores + j, m, e);
      sumv = _mm512_add_ps(sumv, _mm512_maskz_mov_ps(m, e));
    }
    // Softmax weights p = e / sum (as the reference: times 1/sum), rounded to F16 for an F16 cache.
    const __m512 inv = _mm512_set1_ps(1.0f / _mm512_reduce_add_ps(sumv));
    for (int64_t j = 0; j < n_keys; j += 16) {
      const __mmask16 m = head_mask16(n_keys - j);
      __m512 p = _mm512_mul_ps(_mm512_maskz_loadu_ps(m, scores + j), inv);
      if constexpr (kF16) p = _mm512_cvtph_ps(_mm512_cvtps_ph(p, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
      _mm512_mask_storeu_ps(scores + j, m, p);
    }

    for (int c = 0; c < chunks; ++c) ov[c] = _mm512_setzero_ps();
    for (int64_t j = 0; j < n_keys; ++j) {
      const __m512 pv = _mm512_set1_ps(scores[j]);
      const T* vrow = vc + (base + j) * ldv + kv_col;
      for (int c = 0; c < chunks; ++c) ov[c] = _mm512_fmadd_ps(pv, Simd::load(vrow + 16 * c, mask[c]), ov[c]);
    }
    for (int c = 0; c < chunks; ++c) _mm512_mask_storeu_ps(it.out + 16 * c, mask[c], ov[c]);
  }
}

template <typename T>
void attention_kernel(TensorView out, TensorView q, KvView cache, const BatchLayout& batch,
                      AttentionShape shape, int64_t i0, int64_t i1, float* scores) {
  switch ((shape.head_dim + 15) / 16) {
    case 1: return attention_heads<T, 1>(out, q, cache, batch, shape, i0, i1, scores);
    case 2: return attention_heads<T, 2>(out, q, cache, batch, shape, i0, i1, scores);
    case 4: return attention_heads<T, 4>(out, q, cache, batch, shape, i0, i1, scores);
    case 7: return attention_heads<T, 7>(out, q, cache, batch, shape, i0, i1, scores);  // 100: OpenLLaMA-3B
    case 8: return attention_heads<T, 8>(out, q, cache, batch, shape, i0, i1, scores);  // 128
    default: return attention_heads<T, 0>(out, q, cache, batch, shape, i0, i1, scores);
  }
}

}  // namespace

}  // namespace llmpipe::cpu::avx512
