// F32 / F16 / BF16 weights × F32 activations with AVX-512: weights are widened to F32 in registers
// (F16 with vcvtph2ps, BF16 by a 16-bit shift, both exact) and multiplied with FMA in F32.
// Register tile: kRows activation rows × kCols weight rows = 16 accumulators, so each weight
// vector loaded feeds kRows FMAs and each activation vector kCols FMAs. Any k (masked tail).
#include "kernels/cpu/x86/avx512/simd_avx512.h"  // first: it includes <immintrin.h>
#include "kernels/cpu/x86/avx512/avx512_ops.h"

namespace llmpipe::cpu::avx512 {

namespace {

constexpr int kRows = 4, kCols = 4;

struct F32W {
  static __m512 load(const void* p, int64_t i, __mmask16 m) {
    return _mm512_maskz_loadu_ps(m, static_cast<const float*>(p) + i);
  }
};
struct F16W {
  static __m512 load(const void* p, int64_t i, __mmask16 m) {
    return _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(m, static_cast<const uint16_t*>(p) + i));
  }
};
struct BF16W {
  static __m512 load(const void* p, int64_t i, __mmask16 m) {
    const __m256i h = _mm256_maskz_loadu_epi16(m, static_cast<const uint16_t*>(p) + i);
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
  }
};

template <int R, int C, typename W>
void tile(const MatmulArgs& a, int64_t t0, int64_t m0) {
  const int64_t k = a.k;
  const void* w[C];
  for (int c = 0; c < C; ++c) w[c] = a.w + size_t(m0 + c) * a.w_row_bytes;
  const float* x = a.x + t0 * a.ldx;
  __m512 acc[R][C];
  for (int r = 0; r < R; ++r)
    for (int c = 0; c < C; ++c) acc[r][c] = _mm512_setzero_ps();
  auto step = [&](int64_t i, __mmask16 m) {
    __m512 wv[C];
    for (int c = 0; c < C; ++c) wv[c] = W::load(w[c], i, m);
    for (int r = 0; r < R; ++r) {
      const __m512 xv = _mm512_maskz_loadu_ps(m, x + r * a.ldx + i);
      for (int c = 0; c < C; ++c) acc[r][c] = _mm512_fmadd_ps(xv, wv[c], acc[r][c]);
    }
  };
  int64_t i = 0;
  for (; i + 16 <= k; i += 16) step(i, __mmask16(0xffff));
  if (i < k) step(i, head_mask16(k - i));  // masked lanes load as 0 and add nothing
  for (int r = 0; r < R; ++r)
    for (int c = 0; c < C; ++c) a.y[(t0 + r) * a.ldy + m0 + c] = _mm512_reduce_add_ps(acc[r][c]);
}

template <int R, int C, typename W>
void tail_rows(int rem, const MatmulArgs& a, int64_t t0, int64_t m0) {
  if constexpr (R > 0) {
    if (rem == R) return tile<R, C, W>(a, t0, m0);
    tail_rows<R - 1, C, W>(rem, a, t0, m0);
  }
}

template <int C, typename W>
void column_block(const MatmulArgs& a, int64_t c0, int64_t c1, int64_t m) {
  int64_t t = c0;
  for (; t + kRows <= c1; t += kRows) tile<kRows, C, W>(a, t, m);
  if (t < c1) tail_rows<kRows - 1, C, W>(int(c1 - t), a, t, m);
}

template <typename W>
void matmul_float(const MatmulArgs& a, int64_t m0, int64_t m1) {
  // Activation rows per pass sized to stay in L2 (~512 KiB of F32) while the weights stream.
  int64_t chunk = ((int64_t(1) << 17) / (a.k > 0 ? a.k : 1)) / kRows * kRows;
  if (chunk < kRows) chunk = kRows;
  for (int64_t c0 = 0; c0 < a.n; c0 += chunk) {
    const int64_t c1 = c0 + chunk < a.n ? c0 + chunk : a.n;
    int64_t m = m0;
    for (; m + kCols <= m1; m += kCols) column_block<kCols, W>(a, c0, c1, m);
    for (; m < m1; ++m) column_block<1, W>(a, c0, c1, m);
  }
}

}  // namespace

void matmul_f32_f32(const MatmulArgs& a, int64_t m0, int64_t m1) { matmul_float<F32W>(a, m0, m1); }
void matmul_f16_f32(const MatmulArgs& a, int64_t m0, int64_t m1) { matmul_float<F16W>(a, m0, m1); }
void matmul_bf16_f32(const MatmulArgs& a, int64_t m0, int64_t m1) { matmul_float<BF16W>(a, m0, m1); }

}  // namespace llmpipe::cpu::avx512
