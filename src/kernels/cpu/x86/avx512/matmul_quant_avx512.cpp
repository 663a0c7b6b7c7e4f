// Q4_0 / Q8_0 weights × F32 activations with AVX-512 VNNI, the way llama.cpp does it: the
// activations are quantized once per matmul to Q8_0-style int8 blocks, and each pair of 32-weight
// blocks is multiplied with vpdpbusd (u8 × s8 → s32). vpdpbusd wants one operand unsigned, so the
// activation codes are stored offset by +128 and the offset is removed with -128·Σw, which is
// computed once per weight block pair and reused for every activation row of the tile.
//
// Q4_0 goes four blocks at a time: the 4 × 16 packed bytes fill one zmm, whose low nibbles are
// the first halves of the 4 blocks and high nibbles the second halves. The activations of each
// whole group of 4 blocks are stored in that order (the 4 first halves, then the 4 second
// halves), so the nibbles need no shuffling; the last nb % 4 blocks keep the natural order.
//
// Numerics: the result is the exact integer dot product per block, scaled by d_w · d_x in F32; it
// differs from the F32-activation reference only by the Q8_0 rounding of the activations.
#include <type_traits>

#include "core/dtype.h"
#include "kernels/cpu/x86/avx512/simd_avx512.h"  // first: it includes <immintrin.h>
#include "kernels/cpu/x86/avx512/avx512_ops.h"

namespace llmpipe::cpu::avx512 {

namespace {

constexpr int kRowTile = 8;  // activation rows sharing each unpacked weight block pair

// The two F16 scales of blocks b, b+1 as floats [d0, d1, 0, 0] (one conversion for both).
template <typename Block>
static inline __m128 load_scales(const Block* b, bool two) {
  const uint32_t bits = uint32_t(b[0].d) | (two ? uint32_t(b[1].d) << 16 : 0u);
  return _mm_cvtph_ps(_mm_cvtsi32_si128(int(bits)));
}

// Two blocks' weights as 64 signed bytes in element order.
// `two` = false loads block b only (the odd tail) and leaves the upper half zero.
static inline void load_blocks(const BlockQ4_0* b, bool two, __m512i& q) {
  const __m128i q0 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(b[0].qs));
  const __m128i q1 = two ? _mm_loadu_si128(reinterpret_cast<const __m128i*>(b[1].qs)) : _mm_set1_epi8(0x08 | 0x80);
  const __m256i t = _mm256_inserti128_si256(_mm256_castsi128_si256(q0), q1, 1);
  const __m256i m = _mm256_set1_epi8(0x0f);
  const __m256i lo = _mm256_and_si256(t, m), hi = _mm256_and_si256(_mm256_srli_epi16(t, 4), m);
  __m512i z = _mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1);  // lo0 lo1 hi0 hi1
  z = _mm512_shuffle_i64x2(z, z, _MM_SHUFFLE(3, 1, 2, 0));             // lo0 hi0 lo1 hi1
  q = _mm512_sub_epi8(z, _mm512_set1_epi8(8));  // the missing block's nibbles are 8: zero weights
}

static inline void load_blocks(const BlockQ8_0* b, bool two, __m512i& q) {
  const __m256i q0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b[0].qs));
  const __m256i q1 = two ? _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b[1].qs))
                         : _mm256_setzero_si256();
  q = _mm512_inserti64x4(_mm512_castsi256_si512(q0), q1, 1);
}

// out[r * ldy] = row r of the tile (R activation rows) · weight row w, for r < R.
template <int R, typename Block>
void tile(const Block* w, const int8_t* xq, const float* xd, int64_t k, float* y, int64_t ldy) {
  const int64_t nb = k / kQK;
  __m512 acc[R];
  for (int r = 0; r < R; ++r) acc[r] = _mm512_setzero_ps();
  const __m512i k128 = _mm512_set1_epi8(char(0x80));
  const __m512i pick = _mm512_setr_epi32(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1);
  int64_t b = 0;
  if constexpr (std::is_same_v<Block, BlockQ4_0>) {
    const __m512i pick4 = _mm512_setr_epi32(0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3);
    const __m512i low = _mm512_set1_epi8(0x0f), eight = _mm512_set1_epi8(8);
    for (; b + 4 <= nb; b += 4) {
      const Block* g = w + b;
      _mm_prefetch(reinterpret_cast<const char*>(g) + 512, _MM_HINT_T0);
      __m512i t = _mm512_castsi128_si512(_mm_loadu_si128(reinterpret_cast<const __m128i*>(g[0].qs)));
      t = _mm512_inserti32x4(t, _mm_loadu_si128(reinterpret_cast<const __m128i*>(g[1].qs)), 1);
      t = _mm512_inserti32x4(t, _mm_loadu_si128(reinterpret_cast<const __m128i*>(g[2].qs)), 2);
      t = _mm512_inserti32x4(t, _mm_loadu_si128(reinterpret_cast<const __m128i*>(g[3].qs)), 3);
      const __m512i lo = _mm512_sub_epi8(_mm512_and_si512(t, low), eight);
      const __m512i hi = _mm512_sub_epi8(_mm512_and_si512(_mm512_srli_epi16(t, 4), low), eight);
      const uint64_t bits = uint64_t(g[0].d) | uint64_t(g[1].d) << 16 | uint64_t(g[2].d) << 32 |
                            uint64_t(g[3].d) << 48;
      const __m128 dw = _mm_cvtph_ps(_mm_cvtsi64_si128(int64_t(bits)));
      const __m512i neg = _mm512_sub_epi32(
          _mm512_setzero_si512(),
          _mm512_dpbusd_epi32(_mm512_dpbusd_epi32(_mm512_setzero_si512(), k128, lo), k128, hi));
      for (int r = 0; r < R; ++r) {
        const int8_t* xr = xq + r * k + b * kQK;
        __m512i s = _mm512_dpbusd_epi32(neg, _mm512_loadu_si512(xr), lo);
        s = _mm512_dpbusd_epi32(s, _mm512_loadu_si512(xr + 64), hi);
        // Lanes 4i..4i+3 hold block i: [dw_i · dx_i] spread to 4 lanes each.
        const __m512 sc = _mm512_permutexvar_ps(pick4, _mm512_castps128_ps512(_mm_mul_ps(dw, _mm_loadu_ps(xd + r * nb + b))));
        acc[r] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(s), sc, acc[r]);
      }
    }
  }
  for (; b < nb; b += 2) {
    const bool two = b + 1 < nb;
    // Weights stream from DRAM at decode: ask for them a few hundred bytes ahead.
    _mm_prefetch(reinterpret_cast<const char*>(w + b) + 512, _MM_HINT_T0);
    __m512i q;
    load_blocks(w + b, two, q);
    const __m128 dw = load_scales(w + b, two);
    // -128 · Σw per lane: cancels the +128 offset of the activation codes.
    const __m512i neg = _mm512_sub_epi32(_mm512_setzero_si512(),
                                         _mm512_dpbusd_epi32(_mm512_setzero_si512(), k128, q));
    const __mmask64 xmask = two ? ~__mmask64(0) : __mmask64(0xffffffffu);
    for (int r = 0; r < R; ++r) {
      const __m512i xv = _mm512_maskz_loadu_epi8(xmask, xq + r * k + b * kQK);
      const __m512i s = _mm512_dpbusd_epi32(neg, xv, q);
      const float* ds = xd + r * nb + b;
      // Two floats, only 4-byte aligned: movq (an unaligned 8-byte load), not movsd.
      const __m128 dx = two ? _mm_castsi128_ps(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(ds)))
                            : _mm_load_ss(ds);
      // [dw0·dx0, dw1·dx1] spread to 8 + 8 lanes, matching the two blocks' int32 lanes.
      const __m512 sc = _mm512_permutexvar_ps(pick, _mm512_castps128_ps512(_mm_mul_ps(dw, dx)));
      acc[r] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(s), sc, acc[r]);
    }
  }
  for (int r = 0; r < R; ++r) y[r * ldy] = _mm512_reduce_add_ps(acc[r]);
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
  // Activation rows per pass: their int8 codes (~512 KiB) stay in L2 while every weight row of
  // this thread's range streams past once; each weight block then serves kRowTile rows at a time.
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
  const __m512 sign = _mm512_set1_ps(-0.0f);
  for (int64_t b = 0; b < k / kQK; ++b) {
    const __m512 v0 = _mm512_loadu_ps(x + b * kQK), v1 = _mm512_loadu_ps(x + b * kQK + 16);
    const float amax = _mm512_reduce_max_ps(
        _mm512_max_ps(_mm512_andnot_ps(sign, v0), _mm512_andnot_ps(sign, v1)));
    const float dd = amax / 127.0f;
    const float id = dd != 0.0f ? 1.0f / dd : 0.0f;
    d[b] = _cvtsh_ss(_cvtss_sh(dd, _MM_FROUND_TO_NEAREST_INT));  // as stored in ggml's F16
    const __m512 idv = _mm512_set1_ps(id);
    // Round to nearest (even) as llama.cpp does; |code| <= 127, stored offset by +128.
    const __m128i c0 = _mm512_cvtsepi32_epi8(_mm512_cvtps_epi32(_mm512_mul_ps(v0, idv)));
    const __m128i c1 = _mm512_cvtsepi32_epi8(_mm512_cvtps_epi32(_mm512_mul_ps(v1, idv)));
    const __m128i off = _mm_set1_epi8(char(0x80));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(qs + b * kQK), _mm_xor_si128(c0, off));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(qs + b * kQK + 16), _mm_xor_si128(c1, off));
  }
  if (weights == DType::Q4_0) {  // whole groups of 4 blocks: first halves, then second halves
    for (int64_t b = 0; b + 4 <= k / kQK; b += 4) {
      int8_t* p = qs + b * kQK;
      const __m512i z0 = _mm512_loadu_si512(p), z1 = _mm512_loadu_si512(p + 64);
      _mm512_storeu_si512(p, _mm512_shuffle_i64x2(z0, z1, _MM_SHUFFLE(2, 0, 2, 0)));
      _mm512_storeu_si512(p + 64, _mm512_shuffle_i64x2(z0, z1, _MM_SHUFFLE(3, 1, 3, 1)));
    }
  }
}

void matmul_q4_0_f32(const MatmulArgs& a, int64_t m0, int64_t m1) {
  matmul_quant<BlockQ4_0>(a, m0, m1);
}
void matmul_q8_0_f32(const MatmulArgs& a, int64_t m0, int64_t m1) {
  matmul_quant<BlockQ8_0>(a, m0, m1);
}

}  // namespace llmpipe::cpu::avx512
