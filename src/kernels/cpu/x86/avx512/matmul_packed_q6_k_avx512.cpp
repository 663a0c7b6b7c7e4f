// Q6_K matmul on row-interleaved weights (packed_weights.h), AVX-512 VNNI: as packed Q4_K
// (matmul_packed_q4_k_avx512.cpp), a 32-weight sub-block of 16 rows is 8 vpdpbusd on 64-byte
// code vectors with activation codes broadcast, one weight row per lane; the codes' top two bits
// are or-ed in from their own plane, and the two 16-weight halves (each its own scale) keep
// their own sums:
//
//   y_j += Σ_halves D_j,h * (d_x * Σ_h q_j * x  -  32 d_x * Σ_h x)      (D = d * sc, per row j)
//
// with d_x and 32 d_x Σ_h x per 16 codes from quantize_row_q8_packed (Q6_K's offset 32). A row's
// operations are the same in every tile, so its result does not depend on the batch.
#define LLMPIPE_X86_ISA avx512
#include "kernels/cpu/x86/avx512/simd_avx512.h"  // first: it includes <immintrin.h>

#include <cstring>

#include "core/quant_blocks.h"
#include "kernels/cpu/packed_weights.h"
#include "kernels/cpu/x86/avx512/packed_super_avx512.h"
#include "kernels/cpu/x86/isa_kernels.h"

namespace llmpipe::cpu::avx512 {

namespace {

constexpr int kTileRows = 8;  // activation rows per unpacked sub-block (8 accumulators)
// A packed super-block of 16 rows: d[16] (F16), sc[16][16] (int8), then per 32 weights
// nib[256] and hb[2][64].
constexpr size_t kD = 0, kSc = 32, kSub = 32 + 256, kSubBytes = 256 + 128;
constexpr size_t kSuperBytes = kSub + 8 * kSubBytes;
constexpr size_t kPrefetchBytes = 9 * 1024;  // as for Q4_0 and Q4_K

int32_t load_i32(const int8_t* p) {
  int32_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

__m512 load_i8x16(const uint8_t* p) {
  return _mm512_cvtepi32_ps(
      _mm512_cvtepi8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))));
}

// The 8 code vectors of one packed 32-weight sub-block: w[u] (u < 4) weights 4u..4u+3 (the
// first half), w[u + 4] weights 16+4u..16+4u+3 (the second), 6-bit codes.
void unpack(const uint8_t* sub, __m512i w[8]) {
  const __m512i low = _mm512_set1_epi8(0x0f);
  for (int u = 0; u < 4; ++u) {
    const __m512i v = _mm512_loadu_si512(sub + 64 * u);
    w[u] = _mm512_and_si512(v, low);
    w[u + 4] = _mm512_and_si512(_mm512_srli_epi16(v, 4), low);
  }
  for (int p = 0; p < 2; ++p) {
    const __m512i h = _mm512_loadu_si512(sub + 256 + 64 * p);
    const int u0 = 2 * p, u1 = 2 * p + 1;
    // Masked first, then shifted: no bit crosses into a neighbouring byte.
    w[u0] =
        _mm512_or_si512(w[u0], _mm512_slli_epi16(_mm512_and_si512(h, _mm512_set1_epi8(0x03)), 4));
    w[u0 + 4] = _mm512_or_si512(w[u0 + 4],
                                _mm512_slli_epi16(_mm512_and_si512(h, _mm512_set1_epi8(0x0c)), 2));
    w[u1] = _mm512_or_si512(w[u1], _mm512_and_si512(h, _mm512_set1_epi8(0x30)));
    w[u1 + 4] = _mm512_or_si512(
        w[u1 + 4], _mm512_srli_epi16(_mm512_and_si512(h, _mm512_set1_epi8(char(0xc0))), 2));
  }
}

// acc[r] (lane j: weight row j) += activation row r . the 16 rows, over super-blocks [0, nb).
template <int R>
void q6_k_tile(const uint8_t* group, int64_t nb, const int8_t* xq, const float* xd, const float* xs,
               int64_t k, float* y, int64_t ldy, __mmask16 rows) {
  __m512 acc[R];
  for (int r = 0; r < R; ++r) acc[r] = _mm512_setzero_ps();
  for (int64_t b = 0; b < nb; ++b) {
    const uint8_t* sb = group + size_t(b) * kSuperBytes;
    for (size_t line = 0; line < kSuperBytes; line += 64)
      _mm_prefetch(reinterpret_cast<const char*>(sb) + kPrefetchBytes + line, _MM_HINT_T0);
    const __m512 d = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(sb + kD)));
    for (int t = 0; t < 8; ++t) {
      const __m512 da = _mm512_mul_ps(d, load_i8x16(sb + kSc + 16 * (2 * t)));
      const __m512 db = _mm512_mul_ps(d, load_i8x16(sb + kSc + 16 * (2 * t + 1)));
      __m512i w[8];
      unpack(sb + kSub + kSubBytes * size_t(t), w);
      const int64_t blk = b * 8 + t;  // the activation block of 32 under this sub-block
      for (int r = 0; r < R; ++r) {
        const int8_t* x = xq + r * k + blk * kQK;
        __m512i sa = _mm512_setzero_si512(), sb2 = _mm512_setzero_si512();
        for (int u = 0; u < 4; ++u) {
          sa = _mm512_dpbusd_epi32(sa, w[u], _mm512_set1_epi32(load_i32(x + 4 * u)));
          sb2 = _mm512_dpbusd_epi32(sb2, w[u + 4], _mm512_set1_epi32(load_i32(x + 16 + 4 * u)));
        }
        const int64_t i = r * (k / kQK) + blk;
        const __m512 dx = _mm512_set1_ps(xd[i]);
        const float* s = xs + 2 * i;  // 32 d_x Σ x of each half
        const __m512 fa = _mm512_fmsub_ps(_mm512_cvtepi32_ps(sa), dx, _mm512_set1_ps(s[0]));
        const __m512 fb = _mm512_fmsub_ps(_mm512_cvtepi32_ps(sb2), dx, _mm512_set1_ps(s[1]));
        acc[r] = _mm512_fmadd_ps(db, fb, _mm512_fmadd_ps(da, fa, acc[r]));
      }
    }
  }
  for (int r = 0; r < R; ++r) _mm512_mask_storeu_ps(y + r * ldy, rows, acc[r]);
}

struct PackedQ6K {
  static constexpr size_t kSuperBytes = avx512::kSuperBytes;
  static constexpr DType kType = DType::Q6_K;
  static constexpr int kTileRows = avx512::kTileRows;
  template <int R>
  static void tile(const uint8_t* group, int64_t nb, const int8_t* xq, const float* xd,
                   const float* xs, int64_t k, float* y, int64_t ldy, __mmask16 rows) {
    q6_k_tile<R>(group, nb, xq, xd, xs, k, y, ldy, rows);
  }
};

}  // namespace

void matmul_q6_kx16_f32(const MatmulArgs& a, int64_t m0, int64_t m1) {
  matmul_packed_super<PackedQ6K>(a, m0, m1);
}

}  // namespace llmpipe::cpu::avx512
