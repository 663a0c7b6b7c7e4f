// Q4_K matmul on row-interleaved weights (packed_weights.h), AVX-512 VNNI: each 32-weight
// sub-block of 16 rows multiplies like a packed Q4_0 block (matmul_packed_avx512.cpp) — 8
// vpdpbusd on 64-byte code vectors with activation codes broadcast, one weight row per lane —
// and its scales are vectors too: D = d * sc and M = dmin * mn per row, decoded once per
// super-block and sub-block for all activation rows of the tile:
//
//   y_j += D_j * (d_x * Σ q_j * x)  -  M_j * (d_x * Σ x)        (per sub-block, per row j)
//
// with d_x and d_x * Σ x from quantize_row_q8_packed (Q4_K's code offset 1). Decode reads 16 rows
// per step with no horizontal sums, as for Q4_0; a row's operations are the same in every tile,
// so its result does not depend on the batch.
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
// A packed super-block of 16 rows: d[16], dmin[16] (F16), sc[8][16], mn[8][16], qs[8][256].
constexpr size_t kD = 0, kDmin = 32, kSc = 64, kMn = 64 + 128, kQs = 64 + 256;
constexpr size_t kSuperBytes = kQs + 8 * 256;
// Decode streams the weights once per token: ask for them this far ahead (as for Q4_0).
constexpr size_t kPrefetchBytes = 9 * 1024;

int32_t load_i32(const int8_t* p) {
  int32_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

__m512 load_f16x16(const uint8_t* p) {
  return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
}
__m512 load_u8x16(const uint8_t* p) {
  return _mm512_cvtepi32_ps(
      _mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))));
}

// acc[r] (lane j: weight row j) += activation row r . the 16 rows, over super-blocks [0, nb).
template <int R>
void q4_k_tile(const uint8_t* group, int64_t nb, const int8_t* xq, const float* xd, const float* xs,
               int64_t k, float* y, int64_t ldy, __mmask16 rows) {
  const __m512i low = _mm512_set1_epi8(0x0f);
  __m512 acc[R];
  for (int r = 0; r < R; ++r) acc[r] = _mm512_setzero_ps();
  for (int64_t b = 0; b < nb; ++b) {
    const uint8_t* sb = group + size_t(b) * kSuperBytes;
    for (size_t line = 0; line < kSuperBytes; line += 64)
      _mm_prefetch(reinterpret_cast<const char*>(sb) + kPrefetchBytes + line, _MM_HINT_T0);
    const __m512 d = load_f16x16(sb + kD), dmin = load_f16x16(sb + kDmin);
    for (int s = 0; s < 8; ++s) {
      const __m512 ds = _mm512_mul_ps(d, load_u8x16(sb + kSc + 16 * s));
      const __m512 ms = _mm512_mul_ps(dmin, load_u8x16(sb + kMn + 16 * s));
      const uint8_t* qs = sb + kQs + 256 * size_t(s);
      __m512i w[8];
      for (int u = 0; u < 4; ++u) {
        const __m512i v = _mm512_loadu_si512(qs + 64 * u);
        w[u] = _mm512_and_si512(v, low);                            // weights 4u..4u+3
        w[u + 4] = _mm512_and_si512(_mm512_srli_epi16(v, 4), low);  // weights 16+4u..16+4u+3
      }
      const int64_t blk = b * 8 + s;  // the activation block of 32 under this sub-block
      for (int r = 0; r < R; ++r) {
        const int8_t* x = xq + r * k + blk * kQK;
        __m512i s0 = _mm512_setzero_si512(), s1 = _mm512_setzero_si512();  // two dependency chains
        for (int u = 0; u < 8; u += 2) {
          s0 = _mm512_dpbusd_epi32(s0, w[u], _mm512_set1_epi32(load_i32(x + 4 * u)));
          s1 = _mm512_dpbusd_epi32(s1, w[u + 1], _mm512_set1_epi32(load_i32(x + 4 * u + 4)));
        }
        const int64_t i = r * (k / kQK) + blk;
        const __m512 f =
            _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_add_epi32(s0, s1)), _mm512_set1_ps(xd[i]));
        acc[r] = _mm512_fnmadd_ps(ms, _mm512_set1_ps(xs[i]), _mm512_fmadd_ps(ds, f, acc[r]));
      }
    }
  }
  for (int r = 0; r < R; ++r) _mm512_mask_storeu_ps(y + r * ldy, rows, acc[r]);
}

struct PackedQ4K {
  static constexpr size_t kSuperBytes = avx512::kSuperBytes;
  static constexpr DType kType = DType::Q4_K;
  static constexpr int kTileRows = avx512::kTileRows;
  template <int R>
  static void tile(const uint8_t* group, int64_t nb, const int8_t* xq, const float* xd,
                   const float* xs, int64_t k, float* y, int64_t ldy, __mmask16 rows) {
    q4_k_tile<R>(group, nb, xq, xd, xs, k, y, ldy, rows);
  }
};

}  // namespace

void matmul_q4_kx16_f32(const MatmulArgs& a, int64_t m0, int64_t m1) {
  matmul_packed_super<PackedQ4K>(a, m0, m1);
}

}  // namespace llmpipe::cpu::avx512
