// F32 / F16 / BF16 matmuls on column-interleaved weights (packed_weights.h), AVX-512.
//
// Column i of a 16-row group is one vector (16 F32, or 16 halves widened exactly by one
// instruction), so out[t][16 g + j] = Σ_i x[t][i] · column_i[j] is a chain of FMAs of a
// broadcast activation into a vector of 16 outputs: no horizontal sums. Decode (one activation
// row) runs kDecodeGroups groups side by side (independent FMA chains, weight streams
// prefetched); prefill runs tiles of kTileTokens activation rows x kTileGroups groups, so each
// weight vector loaded feeds kTileTokens FMAs and each broadcast kTileGroups FMAs (the register
// tile of a BLAS kernel), with activation rows taken in chunks that stay in L2.
//
// Every output is the same FMA chain over i = 0 .. k-1 in every tile shape, so its bits do not
// depend on how many activation rows or groups share its tile: a sequence's results are the
// same whatever else is in its batch (README, "Scheduling"; the row-major kernels keep that
// property their own way).
#define LLMPIPE_X86_ISA avx512
#include "kernels/cpu/x86/avx512/simd_avx512.h"  // first: it includes <immintrin.h>

#include "kernels/cpu/packed_weights.h"
#include "kernels/cpu/x86/isa_kernels.h"

namespace llmpipe::cpu::avx512 {

namespace {

constexpr int kTileTokens = 12;  // 12 x 2 accumulators, 2 weight vectors, a broadcast: 27 zmm
constexpr int kTileGroups = 2;
constexpr int kDecodeGroups = 4;  // independent FMA chains (and weight streams) for one row
// Decode streams the weights from DRAM once per token: every line is asked for this far ahead.
// 3B F16, 2 threads, `bench -p 0 -n 32 -r 2`, alternating: 1, 2, 4 and 8 KiB all gave 3.5-4.3
// t/s (2 KiB: 3.66-4.28 over five runs, 8 KiB: 3.92-4.24), no distance better than the noise.
constexpr size_t kPrefetchBytes = 2048;
// Activation rows per pass of the prefill: ~1 MiB of them stay in L2 while this thread's
// weight groups go past (each group pair is read once per pass).
constexpr int64_t kChunkBytes = int64_t(1) << 20;

template <DType T>
constexpr size_t kColumnBytes = size_t(kPackRows) * (T == DType::F32 ? 4 : 2);

template <DType T>
__m512 load_column(const uint8_t* p) {
  if constexpr (T == DType::F32) {
    return _mm512_loadu_ps(p);
  } else {
    const __m256i h = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
    if constexpr (T == DType::F16)
      return _mm512_cvtph_ps(h);
    else
      return Simd::bf16_to_ps(h);
  }
}

// y[r * ldy + 16 g + j] = Σ_i x[r * ldx + i] · (column i of group g)[j] for r < R, g < G, the
// groups `group_bytes` apart from `first`; rows of the last group past the range are masked
// off (last_rows).
template <DType T, int R, int G>
void tile(const uint8_t* first, size_t group_bytes, const float* x, int64_t ldx, int64_t k,
          float* y, int64_t ldy, __mmask16 last_rows) {
  __m512 acc[R][G];
  for (int r = 0; r < R; ++r)
    for (int g = 0; g < G; ++g) acc[r][g] = _mm512_setzero_ps();
  for (int64_t i = 0; i < k; ++i) {
    const size_t off = size_t(i) * kColumnBytes<T>;
    if constexpr (R == 1) {
      if (off % 64 == 0)
        for (int g = 0; g < G; ++g)
          _mm_prefetch(
              reinterpret_cast<const char*>(first + g * group_bytes + off) + kPrefetchBytes,
              _MM_HINT_T0);
    }
    __m512 w[G];
    for (int g = 0; g < G; ++g) w[g] = load_column<T>(first + g * group_bytes + off);
    for (int r = 0; r < R; ++r) {
      const __m512 xr = _mm512_set1_ps(x[r * ldx + i]);
      for (int g = 0; g < G; ++g) acc[r][g] = _mm512_fmadd_ps(xr, w[g], acc[r][g]);
    }
  }
  for (int r = 0; r < R; ++r) {
    for (int g = 0; g + 1 < G; ++g) _mm512_storeu_ps(y + r * ldy + g * kPackRows, acc[r][g]);
    _mm512_mask_storeu_ps(y + r * ldy + (G - 1) * kPackRows, last_rows, acc[r][G - 1]);
  }
}

// The last rows of a chunk: a tile of exactly `rem` (< R) activation rows.
template <DType T, int R, int G>
void tail_tile(int rem, const uint8_t* first, size_t group_bytes, const float* x, int64_t ldx,
               int64_t k, float* y, int64_t ldy, __mmask16 last_rows) {
  if constexpr (R > 0) {
    if (rem == R) return tile<T, R, G>(first, group_bytes, x, ldx, k, y, ldy, last_rows);
    tail_tile<T, R - 1, G>(rem, first, group_bytes, x, ldx, k, y, ldy, last_rows);
  }
}

// Activation rows [c0, c1) x G groups from weight row m (a multiple of 16) on.
template <DType T, int G>
void rows_by_groups(const MatmulArgs& a, size_t group_bytes, int64_t c0, int64_t c1, int64_t m,
                    int64_t m1) {
  const uint8_t* first = a.w + size_t(m / kPackRows) * group_bytes;
  const __mmask16 last_rows = head_mask16(m1 - m - (G - 1) * kPackRows);
  int64_t t = c0;
  for (; t + kTileTokens <= c1; t += kTileTokens)
    tile<T, kTileTokens, G>(first, group_bytes, a.x + t * a.ldx, a.ldx, a.k, a.y + t * a.ldy + m,
                            a.ldy, last_rows);
  if (t < c1)
    tail_tile<T, kTileTokens - 1, G>(int(c1 - t), first, group_bytes, a.x + t * a.ldx, a.ldx, a.k,
                                     a.y + t * a.ldy + m, a.ldy, last_rows);
}

template <DType T>
void matmul_packed_float(const MatmulArgs& a, int64_t m0, int64_t m1) {
  const size_t group_bytes = size_t(a.k) * kColumnBytes<T>;
  if (a.n == 1) {  // decode: kDecodeGroups groups at a time, then single groups
    int64_t m = m0;
    for (; m + (kDecodeGroups - 1) * kPackRows < m1; m += kDecodeGroups * kPackRows)
      tile<T, 1, kDecodeGroups>(a.w + size_t(m / kPackRows) * group_bytes, group_bytes, a.x, a.ldx,
                                a.k, a.y + m, a.ldy,
                                head_mask16(m1 - m - (kDecodeGroups - 1) * kPackRows));
    for (; m < m1; m += kPackRows)
      tile<T, 1, 1>(a.w + size_t(m / kPackRows) * group_bytes, group_bytes, a.x, a.ldx, a.k,
                    a.y + m, a.ldy, head_mask16(m1 - m));
    return;
  }
  int64_t chunk = kChunkBytes / (a.k * int64_t(sizeof(float))) / kTileTokens * kTileTokens;
  if (chunk < kTileTokens) chunk = kTileTokens;
  for (int64_t c0 = 0; c0 < a.n; c0 += chunk) {
    const int64_t c1 = c0 + chunk < a.n ? c0 + chunk : a.n;
    int64_t m = m0;
    for (; m + (kTileGroups - 1) * kPackRows < m1; m += kTileGroups * kPackRows)
      rows_by_groups<T, kTileGroups>(a, group_bytes, c0, c1, m, m1);
    for (; m < m1; m += kPackRows) rows_by_groups<T, 1>(a, group_bytes, c0, c1, m, m1);
  }
}

}  // namespace

void matmul_f32x16_f32(const MatmulArgs& a, int64_t m0, int64_t m1) {
  matmul_packed_float<DType::F32>(a, m0, m1);
}
void matmul_f16x16_f32(const MatmulArgs& a, int64_t m0, int64_t m1) {
  matmul_packed_float<DType::F16>(a, m0, m1);
}
void matmul_bf16x16_f32(const MatmulArgs& a, int64_t m0, int64_t m1) {
  matmul_packed_float<DType::BF16>(a, m0, m1);
}

}  // namespace llmpipe::cpu::avx512
