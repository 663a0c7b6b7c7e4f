// Element-wise ops and RMS norm with AVX-512. Sums are taken in F32 like the reference, in a
// different order (16 lanes), so results agree to float rounding; silu uses exp_ps (~2e-7 rel).
#include <cmath>

#include "kernels/cpu/x86/avx512/simd_avx512.h"  // first: it includes <immintrin.h>
#include "kernels/cpu/x86/avx512/avx512_ops.h"

namespace llmpipe::cpu::avx512 {

void rms_norm_f32(TensorView out, TensorView in, const float* weight, float eps, int64_t r0,
                  int64_t r1) {
  const int64_t d = in.cols;
  for (int64_t r = r0; r < r1; ++r) {
    const float* x = static_cast<const float*>(in.data) + r * d;
    float* y = static_cast<float*>(out.data) + r * d;
    __m512 ss = _mm512_setzero_ps();
    for (int64_t i = 0; i < d; i += 16) {
      const __m512 v = _mm512_maskz_loadu_ps(head_mask16(d - i), x + i);
      ss = _mm512_fmadd_ps(v, v, ss);
    }
    const float scale = 1.0f / std::sqrt(_mm512_reduce_add_ps(ss) / float(d) + eps);
    const __m512 sv = _mm512_set1_ps(scale);
    for (int64_t i = 0; i < d; i += 16) {
      const __mmask16 m = head_mask16(d - i);
      const __m512 v = _mm512_maskz_loadu_ps(m, x + i);
      _mm512_mask_storeu_ps(y + i, m, _mm512_mul_ps(_mm512_mul_ps(v, sv), _mm512_maskz_loadu_ps(m, weight + i)));
    }
  }
}

void swiglu_f32(float* gate, const float* up, int64_t n) {
  const __m512 one = _mm512_set1_ps(1.0f);
  for (int64_t i = 0; i < n; i += 16) {
    const __mmask16 m = head_mask16(n - i);
    const __m512 g = _mm512_maskz_loadu_ps(m, gate + i);
    const __m512 e = exp_ps(_mm512_sub_ps(_mm512_setzero_ps(), g));
    const __m512 s = _mm512_div_ps(g, _mm512_add_ps(one, e));
    _mm512_mask_storeu_ps(gate + i, m, _mm512_mul_ps(s, _mm512_maskz_loadu_ps(m, up + i)));
  }
}

void add_f32(float* x, const float* y, int64_t n) {
  for (int64_t i = 0; i < n; i += 16) {
    const __mmask16 m = head_mask16(n - i);
    _mm512_mask_storeu_ps(x + i, m, _mm512_add_ps(_mm512_maskz_loadu_ps(m, x + i), _mm512_maskz_loadu_ps(m, y + i)));
  }
}

}  // namespace llmpipe::cpu::avx512
