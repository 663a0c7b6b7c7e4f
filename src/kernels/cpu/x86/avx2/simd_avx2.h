// AVX2 + FMA + F16C: the SIMD vocabulary in which the shared x86 kernels (../*_impl.h) are
// written, as struct Simd (simd_avx512.h has one with the same names), plus the few pieces where
// AVX2 needs its own algorithm (the int8 dot products, the activation code layout).
// Everything here has internal linkage (`static inline`, anonymous namespace) on purpose: these
// files are compiled with AVX2 flags, and internal linkage keeps the linker from ever picking
// such a copy for code that runs on a lesser CPU (or an AVX-512 copy for the AVX2 path).
#pragma once

#include <immintrin.h>

#include <cstdint>

#include "core/dtype.h"

namespace llmpipe::cpu::avx2 {

// e^x, relative error ~2e-7; underflows to 0 below -87.3, saturates above 88.3.
static inline __m256 exp_ps(__m256 x) {
  x = _mm256_min_ps(_mm256_max_ps(x, _mm256_set1_ps(-87.3f)), _mm256_set1_ps(88.3f));
  const __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504f)),
                                   _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), x);
  r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), r);
  __m256 p = _mm256_set1_ps(1.9875691500e-4f);
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.3981999507e-3f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(8.3334519073e-3f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(4.1665795894e-2f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.6666665459e-1f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(5.0000001201e-1f));
  p = _mm256_fmadd_ps(p, _mm256_mul_ps(r, r), _mm256_add_ps(r, _mm256_set1_ps(1.0f)));
  // 2^n by building the exponent bits; n is in [-126, 128) after the clamp... except 128:
  // split as 2^(n/2) twice to stay finite near the top of the range.
  const __m256i ni = _mm256_cvtps_epi32(n);
  const __m256i h = _mm256_srai_epi32(ni, 1);
  const __m256 s1 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(h, _mm256_set1_epi32(127)), 23));
  const __m256 s2 = _mm256_castsi256_ps(
      _mm256_slli_epi32(_mm256_add_epi32(_mm256_sub_epi32(ni, h), _mm256_set1_epi32(127)), 23));
  return _mm256_mul_ps(_mm256_mul_ps(p, s1), s2);
}

static inline float hsum_ps(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

static inline float hmax_ps(__m256 v) {
  __m128 s = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_max_ps(s, _mm_movehl_ps(s, s));
  s = _mm_max_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

// Horizontal sums of 8 vectors at once: lane i of the result is the sum of v[i]'s lanes.
static inline __m256 reduce8_ps(const __m256 v[8]) {
  const __m256 t0 = _mm256_hadd_ps(v[0], v[1]), t1 = _mm256_hadd_ps(v[2], v[3]);
  const __m256 t2 = _mm256_hadd_ps(v[4], v[5]), t3 = _mm256_hadd_ps(v[6], v[7]);
  const __m256 u0 = _mm256_hadd_ps(t0, t1), u1 = _mm256_hadd_ps(t2, t3);  // per 128-bit half
  return _mm256_add_ps(_mm256_permute2f128_ps(u0, u1, 0x20), _mm256_permute2f128_ps(u0, u1, 0x31));
}

namespace {

struct Simd {
  using V = __m256;
  static constexpr int kW = 8;             // float lanes
  static constexpr bool kMasked = false;   // no lane masks: loop tails are scalar
  // Register tiles, activation rows x weight rows: 8 float accumulators (16 ymm in all), and
  // the int8 matmuls' rows per unpacked weight block.
  static constexpr int kFloatRows = 4, kFloatCols = 2;
  // Block-decoded weights (../matmul_blocks_impl.h): activation rows per unpacked group, one accumulator each: 8 of the 16 ymm.
  static constexpr int kBlockRows = 8;
  static constexpr int kQuantRows = 4;

  static V zero() { return _mm256_setzero_ps(); }
  static V set1(float x) { return _mm256_set1_ps(x); }
  static V load(const float* p) { return _mm256_loadu_ps(p); }
  static V load(const uint16_t* p) {  // F16, widened exactly
    return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
  }
  static V load_bf16(const uint16_t* p) {  // BF16, widened exactly by a 16-bit shift
    const __m128i h = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
  }
  static void store(float* p, V v) { _mm256_storeu_ps(p, v); }
  static V add(V a, V b) { return _mm256_add_ps(a, b); }
  static V sub(V a, V b) { return _mm256_sub_ps(a, b); }
  static V mul(V a, V b) { return _mm256_mul_ps(a, b); }
  static V div(V a, V b) { return _mm256_div_ps(a, b); }
  static V fma(V a, V b, V c) { return _mm256_fmadd_ps(a, b, c); }  // a * b + c
  static float reduce_add(V v) { return hsum_ps(v); }
  static V exp(V x) { return exp_ps(x); }

  // ---- Q8_0-style activation codes (quantize_row_q8) ----
  // AVX2 layout: signed codes; for Q4_0 weights each whole pair of blocks is stored as both
  // first halves, then both second halves (matching the nibbles of Q4Group below).
  static constexpr int kQ4Group = 2;  // Q4_0 blocks unpacked together
  struct Block32 { __m256 v[4]; };
  static Block32 load32(const float* x) {
    Block32 b;
    for (int i = 0; i < 4; ++i) b.v[i] = _mm256_loadu_ps(x + 8 * i);
    return b;
  }
  static float abs_max(const Block32& b) {
    const __m256 sign = _mm256_set1_ps(-0.0f);
    __m256 amax = _mm256_setzero_ps();
    for (int i = 0; i < 4; ++i) amax = _mm256_max_ps(amax, _mm256_andnot_ps(sign, b.v[i]));
    return hmax_ps(amax);
  }
  static void store_codes(const Block32& b, float id, int8_t* qs) {
    const __m256 idv = _mm256_set1_ps(id);
    __m256i c[4];
    for (int i = 0; i < 4; ++i) c[i] = _mm256_cvtps_epi32(_mm256_mul_ps(b.v[i], idv));  // nearest even
    // Pack 4x8 int32 to 32 int8; the packs interleave 128-bit lanes, the permute restores order.
    const __m256i p = _mm256_packs_epi16(_mm256_packs_epi32(c[0], c[1]), _mm256_packs_epi32(c[2], c[3]));
    const __m256i o = _mm256_permutevar8x32_epi32(p, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(qs), o);
  }
  static void group_q4(int8_t* qs) {  // one whole pair of blocks: first halves, then second
    auto* p = reinterpret_cast<__m256i*>(qs);
    const __m256i z0 = _mm256_loadu_si256(p), z1 = _mm256_loadu_si256(p + 1);
    _mm256_storeu_si256(p, _mm256_permute2x128_si256(z0, z1, 0x20));
    _mm256_storeu_si256(p + 1, _mm256_permute2x128_si256(z0, z1, 0x31));
  }

  // ---- int8 dot products: vpmaddubsw(|w|, sign(x, w)), then vpmaddwd with ones ----
  // Exact int32 partial sums (|w|, |x| <= 127 cannot saturate the int16 pair sums:
  // 2*127*127 < 32767), scaled by d_w * d_x in F32 and accumulated per lane.
  // A pair of Q4_0 blocks: their 2 x 16 packed bytes fill one ymm, whose low nibbles are the
  // blocks' first halves and high nibbles their second halves.
  struct Q4Group { __m256i lo, hi, alo, ahi; __m128 dw; };
  static Q4Group q4_group(const BlockQ4_0* w) {
    const __m256i low = _mm256_set1_epi8(0x0f), eight = _mm256_set1_epi8(8);
    const __m256i t = _mm256_loadu2_m128i(reinterpret_cast<const __m128i*>(w[1].qs),
                                          reinterpret_cast<const __m128i*>(w[0].qs));
    Q4Group g;
    g.lo = _mm256_sub_epi8(_mm256_and_si256(t, low), eight);
    g.hi = _mm256_sub_epi8(_mm256_and_si256(_mm256_srli_epi16(t, 4), low), eight);
    g.alo = _mm256_sign_epi8(g.lo, g.lo);
    g.ahi = _mm256_sign_epi8(g.hi, g.hi);
    g.dw = _mm_cvtph_ps(_mm_cvtsi32_si128(int(uint32_t(w[0].d) | uint32_t(w[1].d) << 16)));
    return g;
  }
  // acc + one activation row's codes xr (and scales dx) of the pair . the pair's weights.
  static V dot(const Q4Group& g, const int8_t* xr, const float* dx, V acc) {
    const __m256i xa = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xr));
    const __m256i xb = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xr + 32));
    // |products| <= 8*127: the two int16 pair sums add without overflow.
    const __m256i p16 = _mm256_add_epi16(_mm256_maddubs_epi16(g.alo, _mm256_sign_epi8(xa, g.lo)),
                                         _mm256_maddubs_epi16(g.ahi, _mm256_sign_epi8(xb, g.hi)));
    const __m128 dxv = _mm_castsi128_ps(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(dx)));
    // Lanes 0-3 hold block b, lanes 4-7 block b+1.
    const __m256 sc = _mm256_permutevar8x32_ps(_mm256_castps128_ps256(_mm_mul_ps(g.dw, dxv)),
                                               _mm256_setr_epi32(0, 0, 0, 0, 1, 1, 1, 1));
    return _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_madd_epi16(p16, _mm256_set1_epi16(1))), sc, acc);
  }
  // Other blocks one at a time (Q8_0, and an odd last Q4_0 block, in the natural order).
  static constexpr int kBlockStep = 1;
  struct Blocks { __m256i q, aq; float dw; };
  static __m256i load_block(const BlockQ4_0& b) {
    const __m128i t = _mm_loadu_si128(reinterpret_cast<const __m128i*>(b.qs));
    const __m128i m = _mm_set1_epi8(0x0f);
    const __m128i lo = _mm_and_si128(t, m), hi = _mm_and_si128(_mm_srli_epi16(t, 4), m);
    return _mm256_sub_epi8(_mm256_set_m128i(hi, lo), _mm256_set1_epi8(8));
  }
  static __m256i load_block(const BlockQ8_0& b) {
    return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b.qs));
  }
  template <typename Block>
  static Blocks blocks(const Block* w, int64_t /*left*/) {
    Blocks g;
    g.q = load_block(w[0]);
    g.aq = _mm256_sign_epi8(g.q, g.q);
    g.dw = _cvtsh_ss(w[0].d);
    return g;
  }
  static V dot(const Blocks& g, const int8_t* xr, const float* dx, V acc) {
    const __m256i xv = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xr));
    const __m256i p = _mm256_madd_epi16(_mm256_maddubs_epi16(g.aq, _mm256_sign_epi8(xv, g.q)),
                                        _mm256_set1_epi16(1));
    return _mm256_fmadd_ps(_mm256_cvtepi32_ps(p), _mm256_set1_ps(g.dw * dx[0]), acc);
  }

  // ---- block-decoded weights (../matmul_blocks_impl.h) ----
  static void prefetch(const uint8_t* p, size_t bytes) {
    for (size_t o = 0; o < bytes; o += 64) _mm_prefetch(reinterpret_cast<const char*>(p) + o, _MM_HINT_T0);
  }
  static V load_written(const float* p) { return _mm256_loadu_ps(p); }  // see simd_avx512.h
  // Unit u (32 weights) of a group: lanes 0-3 take scale 2u, lanes 4-7 scale 2u + 1.
  static V lane_scales(const float* d16, int u) {
    return _mm256_set_m128(_mm_broadcast_ss(d16 + 2 * u + 1), _mm_broadcast_ss(d16 + 2 * u));
  }
  // Lane i: Σ codes[4i + j] * x[4i + j], j < 4, exact for codes <= 127 (vpmaddubsw's int16
  // pair sums stay below 2 * 127 * 127 < 32767).
  static V dot_codes(const uint8_t* codes, const int8_t* x) {
    const __m256i c = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(codes));
    const __m256i xv = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x));
    return _mm256_cvtepi32_ps(_mm256_madd_epi16(_mm256_maddubs_epi16(c, xv), _mm256_set1_epi16(1)));
  }
  // The same for any u8 codes: (code - 128) . x by |w| * sign(x, w) (pair sums <= 2 * 128 *
  // 127), plus 128 * Σ x.
  static V dot_codes_wide(const uint8_t* codes, const int8_t* x) {
    const __m256i w = _mm256_xor_si256(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(codes)),
                                       _mm256_set1_epi8(char(0x80)));
    const __m256i xv = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x));
    const __m256i one16 = _mm256_set1_epi16(1);
    const __m256i p = _mm256_madd_epi16(
        _mm256_maddubs_epi16(_mm256_sign_epi8(w, w), _mm256_sign_epi8(xv, w)), one16);
    const __m256i sx = _mm256_madd_epi16(_mm256_maddubs_epi16(_mm256_set1_epi8(1), xv), one16);
    return _mm256_cvtepi32_ps(_mm256_add_epi32(p, _mm256_slli_epi32(sx, 7)));
  }
};

}  // namespace

}  // namespace llmpipe::cpu::avx2
