// Q4_0 / Q8_0 weights × F32 activations with AVX2, as llama.cpp does it: activations quantized
// once per matmul to Q8_0-style int8 blocks; per 32-weight block, vpmaddubsw(|w|, sign(x, w))
// then vpmaddwd with ones gives exact int32 partial sums (|w|, |x| <= 127 cannot saturate the
// int16 pair sums: 2·127·127 < 32767), scaled by d_w · d_x in F32.
// Each unpacked weight block serves kRowTile activation rows (register blocking for prefill).
// Q4_0 goes two blocks at a time: their 2 × 16 packed bytes fill one ymm, whose low nibbles are
// the blocks' first halves and high nibbles their second halves; the activations of each whole
// pair of blocks are stored in that order (both first halves, then both second halves), so the
// nibbles need no shuffling. An odd last block keeps the natural order.
#include <immintrin.h>

#include <type_traits>

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
  int64_t b = 0;
  if constexpr (std::is_same_v<Block, BlockQ4_0>) {
    const __m256i low = _mm256_set1_epi8(0x0f), eight = _mm256_set1_epi8(8);
    const __m256i pick2 = _mm256_setr_epi32(0, 0, 0, 0, 1, 1, 1, 1);
    for (; b + 2 <= nb; b += 2) {
      const __m256i t = _mm256_loadu2_m128i(reinterpret_cast<const __m128i*>(w[b + 1].qs),
                                            reinterpret_cast<const __m128i*>(w[b].qs));
      const __m256i lo = _mm256_sub_epi8(_mm256_and_si256(t, low), eight);
      const __m256i hi = _mm256_sub_epi8(_mm256_and_si256(_mm256_srli_epi16(t, 4), low), eight);
      const __m256i alo = _mm256_sign_epi8(lo, lo), ahi = _mm256_sign_epi8(hi, hi);
      const __m128 dw = _mm_cvtph_ps(_mm_cvtsi32_si128(int(uint32_t(w[b].d) | uint32_t(w[b + 1].d) << 16)));
      for (int r = 0; r < R; ++r) {
        const int8_t* xr = xq + r * k + b * kQK;
        const __m256i xa = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xr));
        const __m256i xb = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xr + 32));
        // |products| <= 8·127: the two int16 pair sums add without overflow.
        const __m256i p16 = _mm256_add_epi16(_mm256_maddubs_epi16(alo, _mm256_sign_epi8(xa, lo)),
                                             _mm256_maddubs_epi16(ahi, _mm256_sign_epi8(xb, hi)));
        const __m128 dx = _mm_castsi128_ps(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(xd + r * nb + b)));
        // Lanes 0-3 hold block b, lanes 4-7 block b+1.
        const __m256 sc = _mm256_permutevar8x32_ps(_mm256_castps128_ps256(_mm_mul_ps(dw, dx)), pick2);
        acc[r] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_madd_epi16(p16, ones)), sc, acc[r]);
      }
    }
  }
  for (; b < nb; ++b) {
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

void quantize_row_q8(DType weights, const float* x, int64_t k, int8_t* qs, float* d) {
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
  if (weights == DType::Q4_0) {  // whole pairs of blocks: both first halves, then second halves
    for (int64_t b = 0; b + 2 <= k / kQK; b += 2) {
      auto* p = reinterpret_cast<__m256i*>(qs + b * kQK);
      const __m256i z0 = _mm256_loadu_si256(p), z1 = _mm256_loadu_si256(p + 1);
      _mm256_storeu_si256(p, _mm256_permute2x128_si256(z0, z1, 0x20));
      _mm256_storeu_si256(p + 1, _mm256_permute2x128_si256(z0, z1, 0x31));
    }
  }
}

void matmul_q4_0_f32(const MatmulArgs& a, int64_t m0, int64_t m1) {
  matmul_quant<BlockQ4_0>(a, m0, m1);
}
void matmul_q8_0_f32(const MatmulArgs& a, int64_t m0, int64_t m1) {
  matmul_quant<BlockQ8_0>(a, m0, m1);
}

}  // namespace llmpipe::cpu::avx2
