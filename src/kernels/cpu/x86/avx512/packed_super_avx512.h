// The loop the packed super-block kernels share (matmul_packed_q4_k_avx512.cpp,
// matmul_packed_q6_k_avx512.cpp): activation rows in passes whose codes (~512 KiB) stay in L2
// while this thread's weight groups of 16 rows stream past once, each group multiplied with
// whole tiles of K::kTileRows activation rows and a ragged last one. A kernel is a struct K:
//   kSuperBytes    bytes of one packed super-block of 16 rows
//   kType          the weight type (its activation sums per block: packed_sums_per_block)
//   kTileRows      activation rows per tile
//   tile<R>(group, nb, xq, xd, xs, k, y, ldy, rows): R activation rows . the group's 16 rows
// Internal linkage, as everything compiled with AVX-512 flags (simd_avx512.h).
#pragma once

#include "core/quant_blocks.h"
#include "kernels/cpu/cpu_kernels.h"
#include "kernels/cpu/packed_weights.h"
#include "kernels/cpu/x86/avx512/simd_avx512.h"

namespace llmpipe::cpu::avx512 {

namespace {

template <typename K, int R>
void packed_super_tail(int rem, const uint8_t* group, int64_t nb, const int8_t* xq, const float* xd,
                       const float* xs, int64_t k, float* y, int64_t ldy, __mmask16 rows) {
  if constexpr (R > 0) {
    if (rem == R) return K::template tile<R>(group, nb, xq, xd, xs, k, y, ldy, rows);
    packed_super_tail<K, R - 1>(rem, group, nb, xq, xd, xs, k, y, ldy, rows);
  }
}

template <typename K>
void matmul_packed_super(const MatmulArgs& a, int64_t m0, int64_t m1) {
  constexpr int kTile = K::kTileRows;
  const int64_t k = a.k, nb = k / kQK_K, nbx = k / kQK;
  const int64_t ns = nbx * packed_sums_per_block(K::kType);  // activation sums per row
  const size_t group_bytes = size_t(nb) * K::kSuperBytes;
  int64_t chunk = ((int64_t(1) << 19) / k) / kTile * kTile;
  if (chunk < kTile) chunk = kTile;
  for (int64_t c0 = 0; c0 < a.n; c0 += chunk) {
    const int64_t c1 = c0 + chunk < a.n ? c0 + chunk : a.n;
    for (int64_t m = m0; m < m1; m += kPackRows) {
      const uint8_t* group = a.w + size_t(m / kPackRows) * group_bytes;
      const __mmask16 rows = head_mask16(m1 - m);
      float* y = a.y + m;
      int64_t t = c0;
      for (; t + kTile <= c1; t += kTile)
        K::template tile<kTile>(group, nb, a.xq + t * k, a.xd + t * nbx, a.xs + t * ns, k,
                                y + t * a.ldy, a.ldy, rows);
      if (t < c1)
        packed_super_tail<K, kTile - 1>(int(c1 - t), group, nb, a.xq + t * k, a.xd + t * nbx,
                                        a.xs + t * ns, k, y + t * a.ldy, a.ldy, rows);
    }
  }
}

}  // namespace

}  // namespace llmpipe::cpu::avx512
