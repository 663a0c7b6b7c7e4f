// Matmuls with the block-decoded weight types (Q4_1, Q5_0, Q5_1, IQ4_NL, Q2_K..Q6_K, IQ4_XS),
// written once for every x86 level and every type: each weight group of 256 is unpacked to
// 8-bit codes with per-16 scales and offsets (block_unpack.h, the only per-type code), and
// multiplied with activations quantized once per matmul to int8 codes per 32 (d = max|x| / 127,
// more precise than the per-256 scale of llama.cpp's Q8_K):
//
//   y = Σ_s d_s * dx_s * Σ_{e in s} code_e * q_e  +  Σ_s m_s * (dx_s * Σ_{e in s} q_e)
//
// over the 16-weight pieces s. The inner sums are exact int32 (Simd::dot_codes: vpdpbusd on
// AVX-512 VNNI, vpmaddubsw + vpmaddwd on AVX2); the activation side's dx per 4-weight lane and
// dx * Σ q per 16 are precomputed by quantize_row_q8_blocks, so a group costs, per activation
// row, one int8 dot, one multiply and one fma per vector. Each unpacked group serves
// Simd::kBlockRows activation rows (prefill); a row's operations are the same whatever the tile,
// so its result does not depend on the batch.
//
// Numerics: against the F32-activation product of the decoded weights, the difference is the
// activation rounding, |Σ w (x - x̂)| <= Σ_blocks (dx / 2) Σ |w|, plus float rounding.
//
// Included once per level by x86/<level>/matmul_blocks_<level>.cpp; anonymous namespace inside
// the level's namespace for the reason given in matmul_float_impl.h.
#pragma once

#include <algorithm>
#include <cmath>

#include "core/quant_blocks.h"
#include "kernels/cpu/block_unpack.h"
#include "kernels/cpu/x86/isa_kernels.h"

namespace llmpipe::cpu::LLMPIPE_X86_ISA {

namespace {

// Weights are read once per token at decode: ask for the group this far ahead (~2 KiB).
template <typename Block>
constexpr int64_t kPrefetchGroups = (2048 + int64_t(sizeof(Block)) * kBlocksPerGroup<Block> - 1) /
                                    (int64_t(sizeof(Block)) * kBlocksPerGroup<Block>);

template <typename S, typename Block, int R>
void block_tile(const uint8_t* row, int64_t nb, const MatmulArgs& a, int64_t t, float* y) {
  constexpr int kUnit = S::kW * 4;  // weights per int8 dot (4 per int32 lane)
  const int64_t n_groups = (nb + kBlocksPerGroup<Block> - 1) / kBlocksPerGroup<Block>;
  constexpr size_t kGroupBytes = sizeof(Block) * kBlocksPerGroup<Block>;
  const int64_t kp = a.ldq;
  typename S::V acc[R];
  for (int r = 0; r < R; ++r) acc[r] = S::zero();
  UnpackedGroup u;
  for (int64_t g = 0; g < n_groups; ++g) {
    if (g + kPrefetchGroups<Block> < n_groups)
      S::prefetch(row + size_t(g + kPrefetchGroups<Block>) * kGroupBytes, kGroupBytes);
    unpack_group<Block>(row, nb, g, u);
    for (int v = 0; v < kGroup / kUnit; ++v) {
      const typename S::V dl = S::lane_scales(u.d, v);
      const int64_t e = g * kGroup + v * kUnit;
      for (int r = 0; r < R; ++r) {
        const int8_t* xq = a.xq + (t + r) * kp + e;
        typename S::V p;
        if constexpr (Unpack<Block>::kMaxCode > 127)
          p = S::dot_codes_wide(u.codes + v * kUnit, xq);
        else
          p = S::dot_codes(u.codes + v * kUnit, xq);
        p = S::mul(p, S::load(a.xd + (t + r) * (kp / 4) + e / 4));
        acc[r] = S::fma(p, dl, acc[r]);
      }
    }
    for (int h = 0; h < kGroupSubs; h += S::kW) {
      const typename S::V m = S::load_written(u.m + h);
      for (int r = 0; r < R; ++r)
        acc[r] = S::fma(m, S::load(a.xs + (t + r) * (kp / 16) + g * kGroupSubs + h), acc[r]);
    }
  }
  for (int r = 0; r < R; ++r) y[r * a.ldy] = S::reduce_add(acc[r]);
}

template <typename S, typename Block, int R>
void block_tail_tile(int rem, const uint8_t* row, int64_t nb, const MatmulArgs& a, int64_t t,
                     float* y) {
  if constexpr (R > 0) {
    if (rem == R) return block_tile<S, Block, R>(row, nb, a, t, y);
    block_tail_tile<S, Block, R - 1>(rem, row, nb, a, t, y);
  }
}

template <typename S, typename Block>
void matmul_blocks(const MatmulArgs& a, int64_t m0, int64_t m1) {
  constexpr int kRowTile = S::kBlockRows;
  const int64_t nb = a.k / Unpack<Block>::kElems;
  // Activation rows per pass: their codes (~512 KiB) stay in L2 while this thread's weight
  // rows stream past once.
  int64_t chunk = ((int64_t(1) << 19) / a.ldq) / kRowTile * kRowTile;
  if (chunk < kRowTile) chunk = kRowTile;
  for (int64_t c0 = 0; c0 < a.n; c0 += chunk) {
    const int64_t c1 = c0 + chunk < a.n ? c0 + chunk : a.n;
    for (int64_t m = m0; m < m1; ++m) {
      const uint8_t* row = a.w + size_t(m) * a.w_row_bytes;
      int64_t t = c0;
      for (; t + kRowTile <= c1; t += kRowTile)
        block_tile<S, Block, kRowTile>(row, nb, a, t, a.y + t * a.ldy + m);
      if (t < c1)
        block_tail_tile<S, Block, kRowTile - 1>(int(c1 - t), row, nb, a, t, a.y + t * a.ldy + m);
    }
  }
}

}  // namespace

// Codes round(x / dx) per 32 (nearest even, as llama.cpp rounds), dx = max|x| / 127; the row
// padded with zeros to a whole group; lane_d[i] = dx of weights 4i..4i+3; sums16[s] = dx * Σ
// codes of weights 16s..16s+15.
void quantize_row_q8_blocks(const float* x, int64_t k, int8_t* qs, float* lane_d, float* sums16) {
  const int64_t kp = q8_blocks_stride(k);
  constexpr float kMagic = 12582912.0f;  // 1.5 * 2^23: adding it rounds to an integer
  for (int64_t b = 0; b < kp / 32; ++b) {
    float amax = 0.0f;
    const bool real = b * 32 < k;
    if (real)
      for (int j = 0; j < 32; ++j) amax = std::max(amax, std::fabs(x[b * 32 + j]));
    const float d = amax / 127.0f, id = d != 0.0f ? 1.0f / d : 0.0f;
    int8_t* q = qs + b * 32;
    for (int j = 0; j < 32; ++j)
      q[j] = real ? int8_t(int((x[b * 32 + j] * id + kMagic) - kMagic)) : 0;
    for (int i = 0; i < 8; ++i) lane_d[b * 8 + i] = d;
    for (int h = 0; h < 2; ++h) {
      int s = 0;
      for (int j = 0; j < 16; ++j) s += q[16 * h + j];
      sums16[b * 2 + h] = d * float(s);
    }
  }
}

void matmul_q4_1_f32(const MatmulArgs& a, int64_t m0, int64_t m1) {
  matmul_blocks<Simd, BlockQ4_1>(a, m0, m1);
}
void matmul_q5_0_f32(const MatmulArgs& a, int64_t m0, int64_t m1) {
  matmul_blocks<Simd, BlockQ5_0>(a, m0, m1);
}
void matmul_q5_1_f32(const MatmulArgs& a, int64_t m0, int64_t m1) {
  matmul_blocks<Simd, BlockQ5_1>(a, m0, m1);
}
void matmul_iq4_nl_f32(const MatmulArgs& a, int64_t m0, int64_t m1) {
  matmul_blocks<Simd, BlockIQ4_NL>(a, m0, m1);
}
void matmul_q2_k_f32(const MatmulArgs& a, int64_t m0, int64_t m1) {
  matmul_blocks<Simd, BlockQ2_K>(a, m0, m1);
}
void matmul_q3_k_f32(const MatmulArgs& a, int64_t m0, int64_t m1) {
  matmul_blocks<Simd, BlockQ3_K>(a, m0, m1);
}
void matmul_q4_k_f32(const MatmulArgs& a, int64_t m0, int64_t m1) {
  matmul_blocks<Simd, BlockQ4_K>(a, m0, m1);
}
void matmul_q5_k_f32(const MatmulArgs& a, int64_t m0, int64_t m1) {
  matmul_blocks<Simd, BlockQ5_K>(a, m0, m1);
}
void matmul_q6_k_f32(const MatmulArgs& a, int64_t m0, int64_t m1) {
  matmul_blocks<Simd, BlockQ6_K>(a, m0, m1);
}
void matmul_iq4_xs_f32(const MatmulArgs& a, int64_t m0, int64_t m1) {
  matmul_blocks<Simd, BlockIQ4_XS>(a, m0, m1);
}

}  // namespace llmpipe::cpu::LLMPIPE_X86_ISA
