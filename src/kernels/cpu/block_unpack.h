// Every block-decoded weight type (block_decode.h) in one intermediate form for the SIMD
// matmuls: groups of 256 weights as unsigned 8-bit codes plus, per 16 weights, a float scale d
// and offset m, so that weight e = d[e / 16] * codes[e] + m[e / 16]. A dot product with
// activations then splits into an exact integer part per 16 weights (Σ code * x, the int8
// products SIMD units are built for) and one float term per 16 (m * Σ x), whatever the type:
// the kernels share one loop and differ only in this unpack, which is plain C++ (the compiler
// vectorizes it for each instruction-set level that includes this header).
//
//   type      code                           d                m
//   Q4_1      q (0..15)                      d                m
//   Q5_0      q (0..31)                      d                -16 d
//   Q5_1      q (0..31)                      d                m
//   IQ4_NL    kIQ4Values[q] + 128 (1..241)   d                -128 d
//   Q2_K      q (0..3)                       d * sc           -dmin * min
//   Q3_K      q | hbit << 2 (0..7)           d * (sc - 32)    -4 d_s
//   Q4_K      q (0..15)                      d * sc           -dmin * min
//   Q5_K      q (0..31)                      d * sc           -dmin * min
//   Q6_K      q (0..63)                      d * sc           -32 d_s
//   IQ4_XS    kIQ4Values[q] + 128 (1..241)   d * (sc - 32)    -128 d_s
//
// Blocks of 32 weights fill a group eight at a time; a row's last group may hold fewer (rows of
// 3200), and the rest of it is zero (codes, d and m: zero weights).
//
// Everything here has internal linkage (anonymous namespace): each level compiles its own copy
// with its own target flags, and no copy may be linked into code for a lesser CPU.
#pragma once

#include <cstdint>
#include <cstring>

#include "core/half.h"
#include "core/quant_blocks.h"
#include "kernels/cpu/cpu_kernels.h"

#if defined(__SSSE3__) || defined(__F16C__) || defined(__AVX2__)
#include <immintrin.h>
#endif

namespace llmpipe::cpu {

namespace {

inline constexpr int kGroup = 256;  // weights per unpacked group
inline constexpr int kGroupSubs = kGroup / 16;
static_assert(q8_blocks_stride(1) == kGroup);  // the activations' padding (cpu_kernels.h)

struct UnpackedGroup {
  alignas(64) uint8_t codes[kGroup];
  alignas(64) float d[kGroupSubs];
  alignas(64) float m[kGroupSubs];
};

// Inlined into the kernels' loops: a call per group would spill their accumulators.
#define LLMPIPE_UNPACK_INLINE [[gnu::always_inline]] inline

LLMPIPE_UNPACK_INLINE float half(uint16_t h) {
#if defined(__F16C__)
  return _cvtsh_ss(h);  // exact, like f16_to_f32
#else
  return f16_to_f32(h);
#endif
}

// out[2j] = out[2j + 1] = scale * sign * b[j], j < 8: one value per 32 weights, as d16 / m16.
LLMPIPE_UNPACK_INLINE void fill_pairs(const uint8_t b[8], float scale, float* out) {
#if defined(__AVX2__)
  const __m256 f = _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(
                                     _mm_loadl_epi64(reinterpret_cast<const __m128i*>(b)))),
                                 _mm256_set1_ps(scale));
  _mm256_storeu_ps(out, _mm256_permutevar8x32_ps(f, _mm256_setr_epi32(0, 0, 1, 1, 2, 2, 3, 3)));
  _mm256_storeu_ps(out + 8, _mm256_permutevar8x32_ps(f, _mm256_setr_epi32(4, 4, 5, 5, 6, 6, 7, 7)));
#else
  for (int j = 0; j < 8; ++j) out[2 * j] = out[2 * j + 1] = scale * float(b[j]);
#endif
}

// codes[j] = table[nibble j] for 16 nibbles given as bytes (values 0..15).
LLMPIPE_UNPACK_INLINE void lookup16(const uint8_t table[16], const uint8_t* nibbles,
                                    uint8_t* codes) {
#if defined(__SSSE3__)
  const __m128i t = _mm_loadu_si128(reinterpret_cast<const __m128i*>(table));
  const __m128i q = _mm_loadu_si128(reinterpret_cast<const __m128i*>(nibbles));
  _mm_storeu_si128(reinterpret_cast<__m128i*>(codes), _mm_shuffle_epi8(t, q));
#else
  for (int j = 0; j < 16; ++j) codes[j] = table[nibbles[j]];
#endif
}

struct IQ4Codes {  // kIQ4Values + 128, as unsigned codes
  uint8_t v[16];
  constexpr IQ4Codes() : v{} {
    for (int i = 0; i < 16; ++i) v[i] = uint8_t(kIQ4Values[i] + 128);
  }
};
inline constexpr IQ4Codes kIQ4Codes{};

// The 32 codes of one 16-byte nibble array: low nibbles first, then high nibbles. Written with
// intrinsics where there are some: GCC 12 turns the plain loop into byte inserts.
LLMPIPE_UNPACK_INLINE void nibbles32(const uint8_t* qs, uint8_t* codes) {
#if defined(__AVX2__)
  const __m128i q = _mm_loadu_si128(reinterpret_cast<const __m128i*>(qs));
  const __m128i low = _mm_set1_epi8(0x0f);
  const __m128i lo = _mm_and_si128(q, low), hi = _mm_and_si128(_mm_srli_epi16(q, 4), low);
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(codes), _mm256_set_m128i(hi, lo));
#else
  for (int j = 0; j < 16; ++j) {
    codes[j] = qs[j] & 0x0f;
    codes[j + 16] = qs[j] >> 4;
  }
#endif
}

LLMPIPE_UNPACK_INLINE void iq4_codes32(const uint8_t* qs, uint8_t* codes) {
  alignas(16) uint8_t q[32];
  nibbles32(qs, q);
  lookup16(kIQ4Codes.v, q, codes);
  lookup16(kIQ4Codes.v, q + 16, codes + 16);
}

// Q5_0 / Q5_1: four bits from qs, the fifth from bit j of the little-endian u32 qh.
LLMPIPE_UNPACK_INLINE void codes5_32(const uint8_t* qs, const uint8_t* qh, uint8_t* codes) {
  nibbles32(qs, codes);
  uint32_t h;
  std::memcpy(&h, qh, 4);
#if defined(__AVX2__)
  // Byte j takes byte j / 8 of h, tests bit j % 8, and becomes 0x10 where it is set.
  const __m256i bytes = _mm256_shuffle_epi8(
      _mm256_set1_epi32(int(h)), _mm256_setr_epi8(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1,
                                                  2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3));
  const __m256i bit = _mm256_set1_epi64x(0x8040201008040201);
  const __m256i fifth = _mm256_and_si256(_mm256_cmpeq_epi8(_mm256_and_si256(bytes, bit), bit),
                                         _mm256_set1_epi8(0x10));
  auto* c = reinterpret_cast<__m256i*>(codes);
  _mm256_storeu_si256(c, _mm256_or_si256(_mm256_loadu_si256(c), fifth));
#else
  for (int j = 0; j < 32; ++j) codes[j] |= uint8_t(((h >> j) & 1) << 4);
#endif
}

LLMPIPE_UNPACK_INLINE void fill2(float* p, float v) {
  p[0] = p[1] = v;
}  // one scale for 32 weights

// One block: its codes at `codes`, its d and m at `d` / `m` (kElems / 16 entries each).
template <typename Block>
struct Unpack;

template <>
struct Unpack<BlockQ4_1> {
  static constexpr int kElems = 32, kMaxCode = 15;
  LLMPIPE_UNPACK_INLINE static void block(const BlockQ4_1& b, uint8_t* codes, float* d, float* m) {
    nibbles32(b.qs, codes);
    fill2(d, half(b.d));
    fill2(m, half(b.m));
  }
};

template <>
struct Unpack<BlockQ5_0> {
  static constexpr int kElems = 32, kMaxCode = 31;
  LLMPIPE_UNPACK_INLINE static void block(const BlockQ5_0& b, uint8_t* codes, float* d, float* m) {
    codes5_32(b.qs, b.qh, codes);
    const float dd = half(b.d);
    fill2(d, dd);
    fill2(m, -16.0f * dd);
  }
};

template <>
struct Unpack<BlockQ5_1> {
  static constexpr int kElems = 32, kMaxCode = 31;
  LLMPIPE_UNPACK_INLINE static void block(const BlockQ5_1& b, uint8_t* codes, float* d, float* m) {
    codes5_32(b.qs, b.qh, codes);
    fill2(d, half(b.d));
    fill2(m, half(b.m));
  }
};

template <>
struct Unpack<BlockIQ4_NL> {
  static constexpr int kElems = 32, kMaxCode = 241;
  LLMPIPE_UNPACK_INLINE static void block(const BlockIQ4_NL& b, uint8_t* codes, float* d,
                                          float* m) {
    iq4_codes32(b.qs, codes);
    const float dd = half(b.d);
    fill2(d, dd);
    fill2(m, -128.0f * dd);
  }
};

// K-quants' 2-bit fields: two halves of 128 weights, each 32 bytes holding four 32-weight
// groups at shifts 0, 2, 4, 6.
LLMPIPE_UNPACK_INLINE void two_bit_codes(const uint8_t* qs, uint8_t* codes) {
  for (int h = 0; h < 2; ++h)
    for (int j = 0; j < 4; ++j)
      for (int l = 0; l < 32; ++l) codes[128 * h + 32 * j + l] = (qs[32 * h + l] >> (2 * j)) & 3;
}

template <>
struct Unpack<BlockQ2_K> {
  static constexpr int kElems = 256, kMaxCode = 3;
  LLMPIPE_UNPACK_INLINE static void block(const BlockQ2_K& b, uint8_t* codes, float* d, float* m) {
    two_bit_codes(b.qs, codes);
    const float dd = half(b.d), dmin = half(b.dmin);
    for (int s = 0; s < 16; ++s) {
      d[s] = dd * float(b.scales[s] & 0x0f);
      m[s] = -dmin * float(b.scales[s] >> 4);
    }
  }
};

template <>
struct Unpack<BlockQ3_K> {
  static constexpr int kElems = 256, kMaxCode = 7;
  LLMPIPE_UNPACK_INLINE static void block(const BlockQ3_K& b, uint8_t* codes, float* d, float* m) {
    two_bit_codes(b.qs, codes);
    for (int h = 0; h < 2; ++h)
      for (int j = 0; j < 4; ++j)
        for (int l = 0; l < 32; ++l)
          codes[128 * h + 32 * j + l] |= uint8_t(((b.hmask[l] >> (4 * h + j)) & 1) << 2);
    const float dd = half(b.d);
    // Sixteen 6-bit scales: low four bits in bytes 0..7, high two bits in bytes 8..11.
    for (int s = 0; s < 16; ++s) {
      const int low = s < 8 ? (b.scales[s] & 0x0f) : (b.scales[s - 8] >> 4);
      const int high = (b.scales[8 + s % 4] >> (2 * (s / 4))) & 3;
      d[s] = dd * float((low | high << 4) - 32);
      m[s] = -4.0f * d[s];
    }
  }
};

// Q4_K / Q5_K: eight 6-bit scales and mins in 12 bytes, one pair per 32 weights: scales 0-3 and
// mins 0-3 are the low six bits of bytes 0-3 and 4-7; scales and mins 4-7 take their low four
// bits from bytes 8-11 (low and high nibbles) and their top two from the top of bytes 0-3 / 4-7.
// Four at a time in 32-bit words.
LLMPIPE_UNPACK_INLINE void k4_scales(const uint8_t* sc, float dd, float dmin, float* d, float* m) {
  uint32_t w[3];
  std::memcpy(w, sc, sizeof w);
  const uint32_t six = 0x3f3f3f3fu, four = 0x0f0f0f0fu, two = 0x03030303u;
  const uint32_t v[4] = {w[0] & six, (w[2] & four) | ((w[0] >> 6) & two) << 4,          // scales
                         w[1] & six, ((w[2] >> 4) & four) | ((w[1] >> 6) & two) << 4};  // mins
  uint8_t b[16];
  std::memcpy(b, v, sizeof b);
  fill_pairs(b, dd, d);
  fill_pairs(b + 8, -dmin, m);
}

// Q4_K / Q5_K low four bits: 32-byte chunks, each two 32-weight groups (low nibbles, then high).
LLMPIPE_UNPACK_INLINE void k4_codes(const uint8_t* qs, uint8_t* codes) {
  for (int c = 0; c < 4; ++c)
    for (int l = 0; l < 32; ++l) {
      codes[64 * c + l] = qs[32 * c + l] & 0x0f;
      codes[64 * c + 32 + l] = qs[32 * c + l] >> 4;
    }
}

template <>
struct Unpack<BlockQ4_K> {
  static constexpr int kElems = 256, kMaxCode = 15;
  LLMPIPE_UNPACK_INLINE static void block(const BlockQ4_K& b, uint8_t* codes, float* d, float* m) {
    k4_codes(b.qs, codes);
    k4_scales(b.scales, half(b.d), half(b.dmin), d, m);
  }
};

template <>
struct Unpack<BlockQ5_K> {
  static constexpr int kElems = 256, kMaxCode = 31;
  LLMPIPE_UNPACK_INLINE static void block(const BlockQ5_K& b, uint8_t* codes, float* d, float* m) {
    k4_codes(b.qs, codes);
    for (int g = 0; g < 8; ++g)  // bit g of qh[l]: fifth bit of weight 32 g + l
      for (int l = 0; l < 32; ++l) codes[32 * g + l] |= uint8_t(((b.qh[l] >> g) & 1) << 4);
    k4_scales(b.scales, half(b.d), half(b.dmin), d, m);
  }
};

template <>
struct Unpack<BlockQ6_K> {
  static constexpr int kElems = 256, kMaxCode = 63;
  LLMPIPE_UNPACK_INLINE static void block(const BlockQ6_K& b, uint8_t* codes, float* d, float* m) {
    for (int h = 0; h < 2; ++h) {
      const uint8_t* ql = b.ql + 64 * h;
      const uint8_t* qh = b.qh + 32 * h;
      uint8_t* c = codes + 128 * h;
      for (int l = 0; l < 32; ++l) {
        c[l] = uint8_t((ql[l] & 0x0f) | (qh[l] & 3) << 4);
        c[l + 32] = uint8_t((ql[l + 32] & 0x0f) | ((qh[l] >> 2) & 3) << 4);
        c[l + 64] = uint8_t((ql[l] >> 4) | ((qh[l] >> 4) & 3) << 4);
        c[l + 96] = uint8_t((ql[l + 32] >> 4) | (qh[l] >> 6) << 4);
      }
    }
    const float dd = half(b.d);
    for (int s = 0; s < 16; ++s) {
      d[s] = dd * float(b.scales[s]);
      m[s] = -32.0f * d[s];
    }
  }
};

template <>
struct Unpack<BlockIQ4_XS> {
  static constexpr int kElems = 256, kMaxCode = 241;
  LLMPIPE_UNPACK_INLINE static void block(const BlockIQ4_XS& b, uint8_t* codes, float* d,
                                          float* m) {
    const float dd = half(b.d);
    uint8_t sc[8];  // the 6-bit scales, offset by 32
    for (int j = 0; j < 8; ++j) {
      iq4_codes32(b.qs + 16 * j, codes + 32 * j);
      const int low = (b.scales_l[j / 2] >> (4 * (j % 2))) & 0x0f;
      const int high = (b.scales_h >> (2 * j)) & 3;
      sc[j] = uint8_t(low | high << 4);
    }
    fill_pairs(sc, dd, d);
    for (int s = 0; s < 16; ++s) {  // d (sc - 32) = d sc - 32 d, exact in float (d is f16)
      d[s] -= 32.0f * dd;
      m[s] = -128.0f * d[s];
    }
  }
};

template <typename Block>
inline constexpr int kBlocksPerGroup = kGroup / Unpack<Block>::kElems;

// Group `g` of a row of `nb` blocks (GGUF layout, at `row`) into `out`. Blocks have alignment 2
// and every block size is even, so the blocks of a GGUF tensor (32-byte aligned) are aligned.
template <typename Block>
LLMPIPE_UNPACK_INLINE void unpack_group(const uint8_t* row, int64_t nb, int64_t g,
                                        UnpackedGroup& out) {
  using U = Unpack<Block>;
  constexpr int kPer = kBlocksPerGroup<Block>;
  const auto* blocks = reinterpret_cast<const Block*>(row) + g * kPer;
  const int64_t left = nb - g * kPer;
  auto one = [&](int i) {
    U::block(blocks[i], out.codes + i * U::kElems, out.d + i * (U::kElems / 16),
             out.m + i * (U::kElems / 16));
  };
  if (left >= kPer) {  // a whole group: a loop of constant length, unrolled into registers
    for (int i = 0; i < kPer; ++i) one(i);
    return;
  }
  const int n = int(left);
  for (int i = 0; i < n; ++i) one(i);
  {  // the row's last group of 32-blocks: zero weights
    std::memset(out.codes + n * U::kElems, 0, size_t(kGroup - n * U::kElems));
    for (int s = n * (U::kElems / 16); s < kGroupSubs; ++s) out.d[s] = out.m[s] = 0.0f;
  }
}

}  // namespace

}  // namespace llmpipe::cpu
