// F32 / F16 / BF16 weights × F32 activations with AVX2 + FMA (+ F16C for F16): weights widened
// to F32 in registers (exact) and multiplied in F32. Register tile: kRows activation rows × kCols
// weight rows = 8 accumulators (16 ymm registers in all). Any k: the last k % 8 are scalar.
#include <immintrin.h>

#include "kernels/cpu/x86/avx2/avx2_ops.h"
#include "kernels/cpu/x86/avx2/simd_avx2.h"

namespace llmpipe::cpu::avx2 {

namespace {

constexpr int kRows = 4, kCols = 2;

struct F32W {
  static __m256 load(const void* p, int64_t i) { return _mm256_loadu_ps(static_cast<const float*>(p) + i); }
  static float at(const void* p, int64_t i) { return static_cast<const float*>(p)[i]; }
};
struct F16W {
  static __m256 load(const void* p, int64_t i) {
    return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(static_cast<const uint16_t*>(p) + i)));
  }
  static float at(const void* p, int64_t i) { return _cvtsh_ss(static_cast<const uint16_t*>(p)[i]); }
};
struct BF16W {
  static __m256 load(const void* p, int64_t i) {
    const __m128i h = _mm_loadu_si128(reinterpret_cast<const __m128i*>(static_cast<const uint16_t*>(p) + i));
    return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
  }
  static float at(const void* p, int64_t i) {
    const uint32_t bits = uint32_t(static_cast<const uint16_t*>(p)[i]) << 16;
    float f;
    __builtin_memcpy(&f, &bits, sizeof f);
    return f;
  }
};

template <int R, int C, typename W>
void tile(const MatmulArgs& a, int64_t t0, int64_t m0) {
  const int64_t k = a.k;
  const void* w[C];
  for (int c = 0; c < C; ++c) w[c] = a.w + size_t(m0 + c) * a.w_row_bytes;
  const float* x = a.x + t0 * a.ldx;
  __m256 acc[R][C];
  for (int r = 0; r < R; ++r)
    for (int c = 0; c < C; ++c) acc[r][c] = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 8 <= k; i += 8) {
    __m256 wv[C];
    for (int c = 0; c < C; ++c) wv[c] = W::load(w[c], i);
    for (int r = 0; r < R; ++r) {
      const __m256 xv = _mm256_loadu_ps(x + r * a.ldx + i);
      for (int c = 0; c < C; ++c) acc[r][c] = _mm256_fmadd_ps(xv, wv[c], acc[r][c]);
    }
  }
  for (int r = 0; r < R; ++r)
    for (int c = 0; c < C; ++c) {
      float s = hsum_ps(acc[r][c]);
      for (int64_t j = i; j < k; ++j) s += x[r * a.ldx + j] * W::at(w[c], j);
      a.y[(t0 + r) * a.ldy + m0 + c] = s;
    }
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

}  // namespace llmpipe::cpu::avx2
