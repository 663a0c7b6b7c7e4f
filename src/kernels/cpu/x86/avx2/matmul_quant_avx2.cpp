// Q4_0 / Q8_0 weights × F32 activations with AVX2, as llama.cpp does it: activations quantized
// once per matmul to Q8_0-style int8 blocks; per 32-weight block, vpmaddubsw(|w|, sign(x, w))
// then vpmaddwd with ones gives exact int32 partial sums (|w|, |x| <= 127 cannot saturate the
// int16 pair sums: 2·127·127 < 32767), scaled by d_w · d_x in F32.
// Each unpacked weight block serves kRowTile activation rows (register blocking for prefill).
#include <immintrin.h>

#include "core/dtype.h"
#include "kernels/cpu/x86/avx2/avx2_ops.h"
#include "kernels/cpu/x86/avx2/simd_avx2.h"

namespace llmpipe::cpu::avx2 {

namespace {

constexpr int kRowTile = 4;

static inline float h2f(uint16_t h) { return _cvtsh_ss(h); }

static inline __m256i load_block(const BlockQ4_0& b) {
  const __m128i t = _mm_loadu_si128(reinterpret_cast<const __m128i*>(b.qs));
  const __m128i m = _mm_set1_epi8(0x0f);
  const __m128i lo = _mm_and_si128(t, m), hi = _mm_and_si128(_mm_srli_epi16(t, 4), m);
  return _mm256_sub_epi8(_mm256_set_m128i(hi, lo), _mm256_set1_epi8(8));
}
static inline __m256i load_block(const BlockQ8_0& b) {
  return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b.qs));
}

template <int R, typename Block>
void tile(const Block* w, const int8_t* xq, const float* xd, int64_t k, float* y, int64_t ldy) {
  const int64_t nb = k / kQK;
  __m256 acc[R];
  for (int r = 0; r < R; ++r) acc[r] = _mm256_setzero_ps();
  const __m256i ones = _mm256_set1_epi16(1);
  for (int64_t b = 0; b < nb; ++b) {
    const __m256i q = load_block(w[b]);
    const __m256i aq = _mm256_sign_epi8(q, q);
    const float dw = h2f(w[b].d);
    for (int r = 0; r < R; ++r) {
      const __m256i xv = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xq + r * k + b * kQK));
      const __m256i p = _mm256_madd_epi16(_mm256_maddubs_epi16(aq, _mm256_sign_epi8(xv, q)), ones);
      acc[r] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(p), _mm256_set1_ps(dw * xd[r * nb + b]), acc[r]);
    }
  }
  for (int r = 0; r < R; ++r) y[r * ldy] = hsum_ps(acc[r]);
}

template <int R, typename Block>
void tail_tile(int rem, const Block* w, const int8_t* xq, const float* xd, int64_t k, float* y,
               int64_t ldy) {
  if constexpr (R > 0) {
    if (rem == R) return tile<R>(w, xq, xd, k, y, ldy);
    tail_tile<R - 1>(rem, w, xq, xd, k, y, ldy);
  }
}

template <typename Block>
void matmul_quant(const MatmulArgs& a, int64_t m0, int64_t m1) {
  const int64_t k = a.k, nb = k / kQK;
  // Activation rows per pass: ~512 KiB of codes stay in L2 while this thread's weights stream.
  int64_t chunk = ((int64_t(1) << 19) / k) / kRowTile * kRowTile;
  if (chunk < kRowTile) chunk = kRowTile;
  for (int64_t c0 = 0; c0 < a.n; c0 += chunk) {
    const int64_t c1 = c0 + chunk < a.n ? c0 + chunk : a.n;
    for (int64_t m = m0; m < m1; ++m) {
      const auto* w = reinterpret_cast<const Block*>(a.w + size_t(m) * a.w_row_bytes);
      float* y = a.y + m;
      int64_t t = c0;
      for (; t + kRowTile <= c1; t += kRowTile)
        tile<kRowTile>(w, a.xq + t * k, a.xd + t * nb, k, y + t * a.ldy, a.ldy);
      if (t < c1) tail_tile<kRowTile - 1>(int(c1 - t), w, a.xq + t * k, a.xd + t * nb, k, y + t * a.ldy, a.ldy);
    }
  }
}

}  // namespace

void quantize_row_q8(DType, const float* x, int64_t k, int8_t* qs, float* d) {
  const __m256 sign = _mm256_set1_ps(-0.0f);
  for (int64_t b = 0; b < k / kQK; ++b) {
    __m256 v[4];
    __m256 amax = _mm256_setzero_ps();
    for (int i = 0; i < 4; ++i) {
      v[i] = _mm256_loadu_ps(x + b * kQK + 8 * i);
      amax = _mm256_max_ps(amax, _mm256_andnot_ps(sign, v[i]));
    }
    const float dd = hmax_ps(amax) / 127.0f;
    const float id = dd != 0.0f ? 1.0f / dd : 0.0f;
    d[b] = _cvtsh_ss(_cvtss_sh(dd, _MM_FROUND_TO_NEAREST_INT));  // as stored in ggml's F16
    const __m256 idv = _mm256_set1_ps(id);
    __m256i c[4];
    for (int i = 0; i < 4; ++i) c[i] = _mm256_cvtps_epi32(_mm256_mul_ps(v[i], idv));  // nearest even
    // Pack 4×8 int32 to 32 int8; the packs interleave 128-bit lanes, the permute restores order.
    const __m256i p = _mm256_packs_epi16(_mm256_packs_epi32(c[0], c[1]), _mm256_packs_epi32(c[2], c[3]));
    const __m256i o = _mm256_permutevar8x32_epi32(p, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(qs + b * kQK), o);
  }
}

void matmul_q4_0_f32(const MatmulArgs& a, int64_t m0, int64_t m1) {
  matmul_quant<BlockQ4_0>(a, m0, m1);
}
void matmul_q8_0_f32(const MatmulArgs& a, int64_t m0, int64_t m1) {
  matmul_quant<BlockQ8_0>(a, m0, m1);
}

}  // namespace llmpipe::cpu::avx2
