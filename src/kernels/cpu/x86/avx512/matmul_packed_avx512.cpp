// Q4_0 / Q8_0 / Q5_0 matmuls on row-interleaved weights (packed_weights.h), AVX-512 VNNI.
//
// Per packed block (16 weight rows x 32 weights) and activation row: 8 vpdpbusd, each taking
// one 64-byte vector of codes (unit u of the 16 rows) and 4 activation codes broadcast to all
// lanes, leave lane j = Σ code_j * x over the block. The code offset (8 or 128) is removed in
// float with the activation block's precomputed offset * d_x * Σ x, so the weights need no
// arithmetic beyond the Q4_0 nibble split, and the 16 results come out in 16 lanes: decode
// computes 16 rows per step with no horizontal reduction, and prefill reuses each unpacked
// block for kTileRows activation rows.
#define LLMPIPE_X86_ISA avx512
#include "kernels/cpu/x86/avx512/simd_avx512.h"  // first: it includes <immintrin.h>

#include <cstring>

#include "kernels/cpu/packed_weights.h"
#include "kernels/cpu/x86/isa_kernels.h"

namespace llmpipe::cpu::avx512 {

namespace {

constexpr int kTileRows = 8;  // activation rows per unpacked block (registers: 8 codes + 8 sums)
// Decode streams the weights from DRAM once per token: every line is asked for this many blocks
// ahead (9 KiB for Q4_0). Measured on the 3B model, 1 thread: no prefetch 4.7 tok/s, one line
// per block 4 ahead 5.4, every line 8 ahead 6.8, 16 ahead 5.8, 32 ahead 6.6 (noise ~±0.4).
constexpr int kPrefetchBlocks = 32;
// Decode reads this many groups side by side, block by block: two weight streams in flight
// instead of one, and twice the independent work per activation block. Measured on the 3B
// model (`llmpipe bench -p 0 -n 48`, old and new binaries alternating): Q4_0 2 threads 11.75 ->
// 12.90 t/s (5 rounds), 1 thread 6.85 -> 7.22 (4 rounds); Q8_0 2 threads 6.68 -> 6.91. Three
// or four groups were no better than two (a kernel-only benchmark).
constexpr int kDecodeGroups = 2;

int32_t load_i32(const int8_t* p) {
  int32_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

// The 8 code vectors of one packed block, vector u pairing with activation codes 4u..4u+3.
template <DType T>
void unpack(const uint8_t* qs, __m512i w[8]) {
  if constexpr (T == DType::Q4_0 || T == DType::Q5_0) {
    const __m512i low = _mm512_set1_epi8(0x0f);
    for (int u = 0; u < 4; ++u) {
      const __m512i v = _mm512_loadu_si512(qs + 64 * u);
      w[u] = _mm512_and_si512(v, low);                            // weights 4u..4u+3
      w[u + 4] = _mm512_and_si512(_mm512_srli_epi16(v, 4), low);  // weights 16+4u..16+4u+3
    }
    if constexpr (T == DType::Q5_0) {  // the fifth bits: bits 2u and 2u + 1 of each hb byte
      const __m512i h = _mm512_loadu_si512(qs + 256);
      const __m512i bit4 = _mm512_set1_epi8(0x10);
      w[0] = _mm512_or_si512(w[0], _mm512_and_si512(_mm512_slli_epi16(h, 4), bit4));
      w[4] = _mm512_or_si512(w[4], _mm512_and_si512(_mm512_slli_epi16(h, 3), bit4));
      w[1] = _mm512_or_si512(w[1], _mm512_and_si512(_mm512_slli_epi16(h, 2), bit4));
      w[5] = _mm512_or_si512(w[5], _mm512_and_si512(_mm512_slli_epi16(h, 1), bit4));
      w[2] = _mm512_or_si512(w[2], _mm512_and_si512(h, bit4));
      w[6] = _mm512_or_si512(w[6], _mm512_and_si512(_mm512_srli_epi16(h, 1), bit4));
      w[3] = _mm512_or_si512(w[3], _mm512_and_si512(_mm512_srli_epi16(h, 2), bit4));
      w[7] = _mm512_or_si512(w[7], _mm512_and_si512(_mm512_srli_epi16(h, 3), bit4));
    }
  } else {
    for (int u = 0; u < 8; ++u) w[u] = _mm512_loadu_si512(qs + 64 * u);
  }
}

// acc[r] (lane j: weight row j) += activation row r . the 16 rows, over blocks [0, nb).
template <DType T, int R>
void tile(const uint8_t* group, int64_t nb, const int8_t* xq, const float* xd, const float* xs,
          int64_t k, float* y, int64_t ldy, __mmask16 rows) {
  const size_t block_bytes = packed_block_bytes(T);
  __m512 acc[R];
  for (int r = 0; r < R; ++r) acc[r] = _mm512_setzero_ps();
  for (int64_t b = 0; b < nb; ++b) {
    const uint8_t* blk = group + size_t(b) * block_bytes;
    for (size_t line = 0; line < block_bytes; line += 64)
      _mm_prefetch(reinterpret_cast<const char*>(blk) + kPrefetchBlocks * block_bytes + line, _MM_HINT_T0);
    const __m512 dw = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk)));
    __m512i w[8];
    unpack<T>(blk + kPackRows * sizeof(uint16_t), w);
    for (int r = 0; r < R; ++r) {
      const int8_t* x = xq + r * k + b * kQK;
      __m512i s0 = _mm512_setzero_si512(), s1 = _mm512_setzero_si512();  // two dependency chains
      for (int u = 0; u < 8; u += 2) {
        s0 = _mm512_dpbusd_epi32(s0, w[u], _mm512_set1_epi32(load_i32(x + 4 * u)));
        s1 = _mm512_dpbusd_epi32(s1, w[u + 1], _mm512_set1_epi32(load_i32(x + 4 * u + 4)));
      }
      const int64_t i = r * (k / kQK) + b;
      // d_x * Σ code * x - offset * d_x * Σ x, per weight row; then times d_w.
      const __m512 f = _mm512_fmsub_ps(_mm512_cvtepi32_ps(_mm512_add_epi32(s0, s1)),
                                       _mm512_set1_ps(xd[i]), _mm512_set1_ps(xs[i]));
      acc[r] = _mm512_fmadd_ps(dw, f, acc[r]);
    }
  }
  for (int r = 0; r < R; ++r) _mm512_mask_storeu_ps(y + r * ldy, rows, acc[r]);
}

// Decode (one activation row): y[16 i + j] = x . row j of group i, for the kDecodeGroups
// groups from `first` on (group_bytes apart); the last group's rows past the weight's end are
// masked off (last_rows).
template <DType T>
void decode_groups(const uint8_t* first, size_t group_bytes, int64_t nb, const int8_t* xq,
                   const float* xd, const float* xs, float* y, __mmask16 last_rows) {
  constexpr int G = kDecodeGroups;
  const size_t block_bytes = packed_block_bytes(T);
  __m512 acc[G];
  for (int i = 0; i < G; ++i) acc[i] = _mm512_setzero_ps();
  for (int64_t b = 0; b < nb; ++b) {
    const size_t off = size_t(b) * block_bytes;
    for (int i = 0; i < G; ++i)
      for (size_t line = 0; line < block_bytes; line += 64)
        _mm_prefetch(reinterpret_cast<const char*>(first + i * group_bytes + off) +
                         kPrefetchBlocks * block_bytes + line, _MM_HINT_T0);
    const int8_t* x = xq + b * kQK;
    __m512i xb[8];  // activation codes 4u..4u+3 in every lane
    for (int u = 0; u < 8; ++u) xb[u] = _mm512_set1_epi32(load_i32(x + 4 * u));
    const __m512 dx = _mm512_set1_ps(xd[b]), sx = _mm512_set1_ps(xs[b]);
    for (int i = 0; i < G; ++i) {
      const uint8_t* blk = first + i * group_bytes + off;
      __m512i w[8];
      unpack<T>(blk + kPackRows * sizeof(uint16_t), w);
      __m512i s0 = _mm512_setzero_si512(), s1 = _mm512_setzero_si512();
      for (int u = 0; u < 8; u += 2) {
        s0 = _mm512_dpbusd_epi32(s0, w[u], xb[u]);
        s1 = _mm512_dpbusd_epi32(s1, w[u + 1], xb[u + 1]);
      }
      const __m512 dw = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk)));
      const __m512 f = _mm512_fmsub_ps(_mm512_cvtepi32_ps(_mm512_add_epi32(s0, s1)), dx, sx);
      acc[i] = _mm512_fmadd_ps(dw, f, acc[i]);
    }
  }
  for (int i = 0; i + 1 < G; ++i) _mm512_storeu_ps(y + i * kPackRows, acc[i]);
  _mm512_mask_storeu_ps(y + (G - 1) * kPackRows, last_rows, acc[G - 1]);
}

template <DType T, int R>
void tail_tile(int rem, const uint8_t* group, int64_t nb, const int8_t* xq, const float* xd,
               const float* xs, int64_t k, float* y, int64_t ldy, __mmask16 rows) {
  if constexpr (R > 0) {
    if (rem == R) return tile<T, R>(group, nb, xq, xd, xs, k, y, ldy, rows);
    tail_tile<T, R - 1>(rem, group, nb, xq, xd, xs, k, y, ldy, rows);
  }
}

template <DType T>
void matmul_packed(const MatmulArgs& a, int64_t m0, int64_t m1) {
  const int64_t k = a.k, nb = k / kQK;
  const size_t group_bytes = size_t(nb) * packed_block_bytes(T);
  // Activation rows per pass: their codes (~512 KiB) stay in L2 while this thread's weight
  // groups stream past once.
  int64_t chunk = ((int64_t(1) << 19) / k) / kTileRows * kTileRows;
  if (chunk < kTileRows) chunk = kTileRows;
  for (int64_t c0 = 0; c0 < a.n; c0 += chunk) {
    const int64_t c1 = c0 + chunk < a.n ? c0 + chunk : a.n;
    int64_t m = m0;
    if (a.n == 1)  // decode: whole sets of kDecodeGroups groups; what is left goes by tile()
      for (; m + (kDecodeGroups - 1) * kPackRows < m1; m += kDecodeGroups * kPackRows)
        decode_groups<T>(a.w + size_t(m / kPackRows) * group_bytes, group_bytes, nb, a.xq, a.xd,
                         a.xs, a.y + m, head_mask16(m1 - m - (kDecodeGroups - 1) * kPackRows));
    for (; m < m1; m += kPackRows) {
      const uint8_t* group = a.w + size_t(m / kPackRows) * group_bytes;
      const __mmask16 rows = head_mask16(m1 - m);
      float* y = a.y + m;
      int64_t t = c0;
      for (; t + kTileRows <= c1; t += kTileRows)
        tile<T, kTileRows>(group, nb, a.xq + t * k, a.xd + t * nb, a.xs + t * nb, k, y + t * a.ldy, a.ldy, rows);
      if (t < c1)
        tail_tile<T, kTileRows - 1>(int(c1 - t), group, nb, a.xq + t * k, a.xd + t * nb,
                                    a.xs + t * nb, k, y + t * a.ldy, a.ldy, rows);
    }
  }
}

}  // namespace

void quantize_row_q8_packed(DType weights, const float* x, int64_t k, int8_t* qs, float* d,
                            float* s) {
  const float offset = float(packed_code_offset(weights));
  const bool halves = packed_sums_per_block(weights) == 2;  // per 16 codes
  const __m512 sign = _mm512_set1_ps(-0.0f);
  for (int64_t b = 0; b < k / kQK; ++b) {
    const __m512 v0 = _mm512_loadu_ps(x + b * kQK), v1 = _mm512_loadu_ps(x + b * kQK + 16);
    const float amax = _mm512_reduce_max_ps(
        _mm512_max_ps(_mm512_andnot_ps(sign, v0), _mm512_andnot_ps(sign, v1)));
    const float d_exact = amax / 127.0f;
    const float id = d_exact != 0.0f ? 1.0f / d_exact : 0.0f;
    const float dd = _cvtsh_ss(_cvtss_sh(d_exact, _MM_FROUND_TO_NEAREST_INT));  // as ggml stores it
    // Round to nearest (even), as llama.cpp does; |code| <= 127.
    const __m512i c0 = _mm512_cvtps_epi32(_mm512_mul_ps(v0, _mm512_set1_ps(id)));
    const __m512i c1 = _mm512_cvtps_epi32(_mm512_mul_ps(v1, _mm512_set1_ps(id)));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(qs + b * kQK), _mm512_cvtsepi32_epi8(c0));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(qs + b * kQK + 16), _mm512_cvtsepi32_epi8(c1));
    d[b] = dd;
    if (halves) {
      s[2 * b] = offset * dd * float(_mm512_reduce_add_epi32(c0));
      s[2 * b + 1] = offset * dd * float(_mm512_reduce_add_epi32(c1));
    } else {
      s[b] = offset * dd * float(_mm512_reduce_add_epi32(_mm512_add_epi32(c0, c1)));
    }
  }
}

void matmul_q4_0x16_f32(const MatmulArgs& a, int64_t m0, int64_t m1) {
  matmul_packed<DType::Q4_0>(a, m0, m1);
}
void matmul_q8_0x16_f32(const MatmulArgs& a, int64_t m0, int64_t m1) {
  matmul_packed<DType::Q8_0>(a, m0, m1);
}
void matmul_q5_0x16_f32(const MatmulArgs& a, int64_t m0, int64_t m1) {
  matmul_packed<DType::Q5_0>(a, m0, m1);
}

}  // namespace llmpipe::cpu::avx512
