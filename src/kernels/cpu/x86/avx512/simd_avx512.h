// AVX-512 (F/BW/VL/DQ + VNNI): the SIMD vocabulary in which the shared x86 kernels
// (../*_impl.h) are written, as struct Simd (simd_avx2.h has one with the same names), plus the
// few pieces where AVX-512 has its own algorithm (vpdpbusd dot products on activation codes
// offset by +128, four-block Q4_0 groups). Everything here has internal linkage (`static inline`,
// anonymous namespace) on purpose: these files are compiled with AVX-512 flags, and internal
// linkage keeps the linker from ever picking such a copy for code that runs on a lesser CPU.
#pragma once

// GCC 12's AVX-512 intrinsic headers trip -Wuninitialized on their own _mm512_undefined_*
// placeholders (GCC bug 105593, fixed in 13). The warnings point into the header, so silencing
// them for the header only keeps our own code checked.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>
#pragma GCC diagnostic pop
#else
#include <immintrin.h>
#endif

#include <cstdint>

#include "core/dtype.h"

namespace llmpipe::cpu::avx512 {

// e^x, relative error ~2e-7 over the float range; underflows to 0 below -87.3, saturates above 88.
static inline __m512 exp_ps(__m512 x) {
  x = _mm512_min_ps(_mm512_max_ps(x, _mm512_set1_ps(-87.3f)), _mm512_set1_ps(88.3f));
  // x = n ln2 + r, |r| <= ln2/2; e^x = 2^n e^r with a degree-6 polynomial for e^r.
  const __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504f)),
                                        _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693359375f), x);
  r = _mm512_fnmadd_ps(n, _mm512_set1_ps(-2.12194440e-4f), r);
  __m512 p = _mm512_set1_ps(1.9875691500e-4f);
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.3981999507e-3f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(8.3334519073e-3f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(4.1665795894e-2f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.6666665459e-1f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(5.0000001201e-1f));
  p = _mm512_fmadd_ps(p, _mm512_mul_ps(r, r), _mm512_add_ps(r, _mm512_set1_ps(1.0f)));
  return _mm512_scalef_ps(p, n);  // p * 2^n, exact and range-safe
}

// Mask of the first `n` (0..16) lanes.
static inline __mmask16 head_mask16(int64_t n) {
  return n >= 16 ? __mmask16(0xffff) : __mmask16((1u << n) - 1u);
}

// Horizontal sums of 16 vectors at once: lane i of the result is the sum of v[i]'s lanes.
// 45 shuffles/adds in all, against ~8 per vector for 16 separate reductions.
static inline __m512 reduce16_ps(const __m512 v[16]) {
  __m512 x[8], z[4];
  for (int i = 0; i < 8; ++i)  // per 128-bit lane: [a0+a2, b0+b2, a1+a3, b1+b3]
    x[i] = _mm512_add_ps(_mm512_unpacklo_ps(v[2 * i], v[2 * i + 1]),
                         _mm512_unpackhi_ps(v[2 * i], v[2 * i + 1]));
  for (int i = 0; i < 4; ++i)  // per 128-bit lane: [a, b, c, d] partial sums of 4 vectors
    z[i] = _mm512_add_ps(_mm512_shuffle_ps(x[2 * i], x[2 * i + 1], _MM_SHUFFLE(1, 0, 1, 0)),
                         _mm512_shuffle_ps(x[2 * i], x[2 * i + 1], _MM_SHUFFLE(3, 2, 3, 2)));
  // Sum the four 128-bit lanes of each z, keeping vector i's result in lane i.
  const __m512 u01 = _mm512_add_ps(_mm512_shuffle_f32x4(z[0], z[1], _MM_SHUFFLE(2, 0, 2, 0)),
                                   _mm512_shuffle_f32x4(z[0], z[1], _MM_SHUFFLE(3, 1, 3, 1)));
  const __m512 u23 = _mm512_add_ps(_mm512_shuffle_f32x4(z[2], z[3], _MM_SHUFFLE(2, 0, 2, 0)),
                                   _mm512_shuffle_f32x4(z[2], z[3], _MM_SHUFFLE(3, 1, 3, 1)));
  return _mm512_add_ps(_mm512_shuffle_f32x4(u01, u23, _MM_SHUFFLE(2, 0, 2, 0)),
                       _mm512_shuffle_f32x4(u01, u23, _MM_SHUFFLE(3, 1, 3, 1)));
}

namespace {

struct Simd {
  using V = __m512;
  using M = __mmask16;
  static constexpr int kW = 16;           // float lanes
  static constexpr bool kMasked = true;   // loop tails are one masked step
  // Register tiles, activation rows x weight rows: 16 float accumulators, and the int8
  // matmuls' activation rows per unpacked weight block group.
  static constexpr int kFloatRows = 4, kFloatCols = 4;
  // Block-decoded weights (../matmul_blocks_impl.h): activation rows per unpacked group, one accumulator each: 16 of the 32 zmm.
  static constexpr int kBlockRows = 16;
  static constexpr int kQuantRows = 8;

  static M mask(int64_t n) { return head_mask16(n); }  // the first n (< 16) lanes
  static V zero() { return _mm512_setzero_ps(); }
  static V set1(float x) { return _mm512_set1_ps(x); }
  static V load(const float* p) { return _mm512_loadu_ps(p); }
  static V load(const float* p, M m) { return _mm512_maskz_loadu_ps(m, p); }  // others 0
  static V load(const uint16_t* p) {  // F16, widened exactly
    return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
  }
  static V load(const uint16_t* p, M m) { return _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(m, p)); }
  static V load_bf16(const uint16_t* p) {  // BF16, widened exactly by a 16-bit shift
    return bf16_to_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
  }
  static V load_bf16(const uint16_t* p, M m) { return bf16_to_ps(_mm256_maskz_loadu_epi16(m, p)); }
  static V bf16_to_ps(__m256i h) { return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16)); }
  static void store(float* p, V v) { _mm512_storeu_ps(p, v); }
  static void store(float* p, V v, M m) { _mm512_mask_storeu_ps(p, m, v); }
  static V add(V a, V b) { return _mm512_add_ps(a, b); }
  static V sub(V a, V b) { return _mm512_sub_ps(a, b); }
  static V mul(V a, V b) { return _mm512_mul_ps(a, b); }
  static V div(V a, V b) { return _mm512_div_ps(a, b); }
  static V fma(V a, V b, V c) { return _mm512_fmadd_ps(a, b, c); }  // a * b + c
  static float reduce_add(V v) { return _mm512_reduce_add_ps(v); }
  static V exp(V x) { return exp_ps(x); }

  // ---- Q8_0-style activation codes (quantize_row_q8) ----
  // AVX-512 layout: codes offset by +128 (vpdpbusd wants one operand unsigned); for Q4_0
  // weights each whole group of 4 blocks is stored as the 4 first halves, then the 4 second
  // halves (matching the nibbles of Q4Group below).
  static constexpr int kQ4Group = 4;  // Q4_0 blocks unpacked together
  struct Block32 { __m512 v[2]; };
  static Block32 load32(const float* x) { return {{_mm512_loadu_ps(x), _mm512_loadu_ps(x + 16)}}; }
  static float abs_max(const Block32& b) {
    const __m512 sign = _mm512_set1_ps(-0.0f);
    return _mm512_reduce_max_ps(
        _mm512_max_ps(_mm512_andnot_ps(sign, b.v[0]), _mm512_andnot_ps(sign, b.v[1])));
  }
  static void store_codes(const Block32& b, float id, int8_t* qs) {
    const __m512 idv = _mm512_set1_ps(id);
    // Round to nearest (even) as llama.cpp does; |code| <= 127, stored offset by +128.
    const __m128i c0 = _mm512_cvtsepi32_epi8(_mm512_cvtps_epi32(_mm512_mul_ps(b.v[0], idv)));
    const __m128i c1 = _mm512_cvtsepi32_epi8(_mm512_cvtps_epi32(_mm512_mul_ps(b.v[1], idv)));
    const __m128i off = _mm_set1_epi8(char(0x80));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(qs), _mm_xor_si128(c0, off));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(qs + 16), _mm_xor_si128(c1, off));
  }
  static void group_q4(int8_t* qs) {  // one whole group of 4 blocks: first halves, then second
    const __m512i z0 = _mm512_loadu_si512(qs), z1 = _mm512_loadu_si512(qs + 64);
    _mm512_storeu_si512(qs, _mm512_shuffle_i64x2(z0, z1, _MM_SHUFFLE(2, 0, 2, 0)));
    _mm512_storeu_si512(qs + 64, _mm512_shuffle_i64x2(z0, z1, _MM_SHUFFLE(3, 1, 3, 1)));
  }

  // ---- int8 dot products: vpdpbusd (u8 x s8 -> s32) on codes offset by +128 ----
  // The offset is removed with -128 * sum(w), computed once per unpacked weight group (`neg`)
  // and reused for every activation row of the tile. Exact int32 sums per block, scaled by
  // d_w * d_x in F32 and accumulated per lane.
  // Four Q4_0 blocks: their 4 x 16 packed bytes fill one zmm, whose low nibbles are the first
  // halves of the 4 blocks and high nibbles the second halves.
  struct Q4Group { __m512i lo, hi, neg; __m128 dw; };
  static Q4Group q4_group(const BlockQ4_0* g) {
    const __m512i low = _mm512_set1_epi8(0x0f), eight = _mm512_set1_epi8(8);
    const __m512i k128 = _mm512_set1_epi8(char(0x80));
    // Weights stream from DRAM at decode: ask for them a few hundred bytes ahead.
    _mm_prefetch(reinterpret_cast<const char*>(g) + 512, _MM_HINT_T0);
    __m512i t = _mm512_castsi128_si512(_mm_loadu_si128(reinterpret_cast<const __m128i*>(g[0].qs)));
    t = _mm512_inserti32x4(t, _mm_loadu_si128(reinterpret_cast<const __m128i*>(g[1].qs)), 1);
    t = _mm512_inserti32x4(t, _mm_loadu_si128(reinterpret_cast<const __m128i*>(g[2].qs)), 2);
    t = _mm512_inserti32x4(t, _mm_loadu_si128(reinterpret_cast<const __m128i*>(g[3].qs)), 3);
    Q4Group q;
    q.lo = _mm512_sub_epi8(_mm512_and_si512(t, low), eight);
    q.hi = _mm512_sub_epi8(_mm512_and_si512(_mm512_srli_epi16(t, 4), low), eight);
    const uint64_t bits = uint64_t(g[0].d) | uint64_t(g[1].d) << 16 | uint64_t(g[2].d) << 32 |
                          uint64_t(g[3].d) << 48;
    q.dw = _mm_cvtph_ps(_mm_cvtsi64_si128(int64_t(bits)));
    q.neg = _mm512_sub_epi32(
        _mm512_setzero_si512(),
        _mm512_dpbusd_epi32(_mm512_dpbusd_epi32(_mm512_setzero_si512(), k128, q.lo), k128, q.hi));
    return q;
  }
  // acc + one activation row's codes xr (and scales dx) of the group . the group's weights.
  static V dot(const Q4Group& q, const int8_t* xr, const float* dx, V acc) {
    __m512i s = _mm512_dpbusd_epi32(q.neg, _mm512_loadu_si512(xr), q.lo);
    s = _mm512_dpbusd_epi32(s, _mm512_loadu_si512(xr + 64), q.hi);
    // Lanes 4i..4i+3 hold block i: [dw_i * dx_i] spread to 4 lanes each.
    const __m512i pick4 = _mm512_setr_epi32(0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3);
    const __m512 sc = _mm512_permutexvar_ps(pick4, _mm512_castps128_ps512(_mm_mul_ps(q.dw, _mm_loadu_ps(dx))));
    return _mm512_fmadd_ps(_mm512_cvtepi32_ps(s), sc, acc);
  }
  // Other blocks two at a time (Q8_0, and the last nb % 4 Q4_0 blocks, in the natural order);
  // an odd last block has `two` = false and the upper half zero.
  static constexpr int kBlockStep = 2;
  struct Blocks { __m512i q, neg; __m128 dw; __mmask64 xmask; bool two; };
  static void load_blocks(const BlockQ4_0* b, bool two, __m512i& q) {  // in element order
    const __m128i q0 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(b[0].qs));
    const __m128i q1 = two ? _mm_loadu_si128(reinterpret_cast<const __m128i*>(b[1].qs)) : _mm_set1_epi8(0x08 | 0x80);
    const __m256i t = _mm256_inserti128_si256(_mm256_castsi128_si256(q0), q1, 1);
    const __m256i m = _mm256_set1_epi8(0x0f);
    const __m256i lo = _mm256_and_si256(t, m), hi = _mm256_and_si256(_mm256_srli_epi16(t, 4), m);
    __m512i z = _mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1);  // lo0 lo1 hi0 hi1
    z = _mm512_shuffle_i64x2(z, z, _MM_SHUFFLE(3, 1, 2, 0));             // lo0 hi0 lo1 hi1
    q = _mm512_sub_epi8(z, _mm512_set1_epi8(8));  // the missing block's nibbles are 8: zero weights
  }
  static void load_blocks(const BlockQ8_0* b, bool two, __m512i& q) {
    const __m256i q0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b[0].qs));
    const __m256i q1 = two ? _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b[1].qs))
                           : _mm256_setzero_si256();
    q = _mm512_inserti64x4(_mm512_castsi256_si512(q0), q1, 1);
  }
  template <typename Block>
  static Blocks blocks(const Block* w, int64_t left) {  // left: blocks from w to the row's end
    Blocks g;
    g.two = left >= 2;
    _mm_prefetch(reinterpret_cast<const char*>(w) + 512, _MM_HINT_T0);  // as in q4_group
    load_blocks(w, g.two, g.q);
    // The two F16 scales as floats [d0, d1, 0, 0] (one conversion for both).
    const uint32_t bits = uint32_t(w[0].d) | (g.two ? uint32_t(w[1].d) << 16 : 0u);
    g.dw = _mm_cvtph_ps(_mm_cvtsi32_si128(int(bits)));
    g.neg = _mm512_sub_epi32(_mm512_setzero_si512(),
                             _mm512_dpbusd_epi32(_mm512_setzero_si512(), _mm512_set1_epi8(char(0x80)), g.q));
    g.xmask = g.two ? ~__mmask64(0) : __mmask64(0xffffffffu);
    return g;
  }
  static V dot(const Blocks& g, const int8_t* xr, const float* dx, V acc) {
    const __m512i s = _mm512_dpbusd_epi32(g.neg, _mm512_maskz_loadu_epi8(g.xmask, xr), g.q);
    // Two floats, only 4-byte aligned: movq (an unaligned 8-byte load), not movsd.
    const __m128 dxv = g.two ? _mm_castsi128_ps(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(dx)))
                             : _mm_load_ss(dx);
    // [dw0*dx0, dw1*dx1] spread to 8 + 8 lanes, matching the two blocks' int32 lanes.
    const __m512i pick = _mm512_setr_epi32(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1);
    const __m512 sc = _mm512_permutexvar_ps(pick, _mm512_castps128_ps512(_mm_mul_ps(g.dw, dxv)));
    return _mm512_fmadd_ps(_mm512_cvtepi32_ps(s), sc, acc);
  }

  // ---- block-decoded weights (../matmul_blocks_impl.h) ----
  static void prefetch(const uint8_t* p, size_t bytes) {
    for (size_t o = 0; o < bytes; o += 64) _mm_prefetch(reinterpret_cast<const char*>(p) + o, _MM_HINT_T0);
  }
  // The unpacked group was just written with 32-byte stores (block_unpack.h compiles to ymm
  // code): reading it back 32 bytes at a time lets each load take its data from one store in
  // flight; a 64-byte load spanning two of them would wait for both to reach the cache.
  static __m512i load_written(const uint8_t* p) {
    return _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p))),
                              _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + 32)), 1);
  }
  static V load_written(const float* p) {
    return _mm512_castpd_ps(_mm512_insertf64x4(_mm512_castpd256_pd512(_mm256_castps_pd(_mm256_loadu_ps(p))),
                                               _mm256_castps_pd(_mm256_loadu_ps(p + 8)), 1));
  }
  // Unit v (64 weights) of a group: lane i covers weights 64v + 4i.. and takes scale 4v + i/4.
  static V lane_scales(const float* d16, int v) {
    const __m512i idx = _mm512_add_epi32(_mm512_set1_epi32(4 * v),
                                         _mm512_setr_epi32(0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3));
    return _mm512_permutexvar_ps(idx, load_written(d16));
  }
  // Lane i: Σ codes[4i + j] * x[4i + j], j < 4 (64 unsigned codes, 64 signed activations), exact.
  static V dot_codes(const uint8_t* codes, const int8_t* x) {
    return _mm512_cvtepi32_ps(_mm512_dpbusd_epi32(_mm512_setzero_si512(), load_written(codes),
                                                  _mm512_loadu_si512(x)));
  }
  static V dot_codes_wide(const uint8_t* codes, const int8_t* x) { return dot_codes(codes, x); }  // any u8
};

}  // namespace

}  // namespace llmpipe::cpu::avx512
