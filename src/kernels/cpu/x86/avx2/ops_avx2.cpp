// Element-wise ops and RMS norm with AVX2 + FMA. Sums are F32 in a different order than the
// reference (8 lanes), so results agree to float rounding; silu uses exp_ps (~2e-7 relative).
#include <immintrin.h>

#include <cmath>

#include "kernels/cpu/x86/avx2/avx2_ops.h"
#include "kernels/cpu/x86/avx2/simd_avx2.h"

namespace llmpipe::cpu::avx2 {

void rms_norm_f32(TensorView out, TensorView in, const float* weight, float eps, int64_t r0,
                  int64_t r1) {
  const int64_t d = in.cols;
  for (int64_t r = r0; r < r1; ++r) {
    const float* x = static_cast<const float*>(in.data) + r * d;
    float* y = static_cast<float*>(out.data) + r * d;
    __m256 ss = _mm256_setzero_ps();
    int64_t i = 0;
    for (; i + 8 <= d; i += 8) {
      const __m256 v = _mm256_loadu_ps(x + i);
      ss = _mm256_fmadd_ps(v, v, ss);
    }
    float sum = hsum_ps(ss);
    for (int64_t j = i; j < d; ++j) sum += x[j] * x[j];
    const float scale = 1.0f / std::sqrt(sum / float(d) + eps);
    const __m256 sv = _mm256_set1_ps(scale);
    for (i = 0; i + 8 <= d; i += 8)
      _mm256_storeu_ps(y + i, _mm256_mul_ps(_mm256_mul_ps(_mm256_loadu_ps(x + i), sv), _mm256_loadu_ps(weight + i)));
    for (; i < d; ++i) y[i] = x[i] * scale * weight[i];
  }
}

void swiglu_f32(float* gate, const float* up, int64_t n) {
  const __m256 one = _mm256_set1_ps(1.0f);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 g = _mm256_loadu_ps(gate + i);
    const __m256 e = exp_ps(_mm256_sub_ps(_mm256_setzero_ps(), g));
    _mm256_storeu_ps(gate + i, _mm256_mul_ps(_mm256_div_ps(g, _mm256_add_ps(one, e)), _mm256_loadu_ps(up + i)));
  }
  for (; i < n; ++i) gate[i] = gate[i] / (1.0f + std::exp(-gate[i])) * up[i];
}

void add_f32(float* x, const float* y, int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(x + i, _mm256_add_ps(_mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i)));
  for (; i < n; ++i) x[i] += y[i];
}

}  // namespace llmpipe::cpu::avx2
