// Q4_0 / Q8_0 weights x F32 activations, written once for every x86 level, as llama.cpp does it:
// the activations are quantized once per matmul to Q8_0-style int8 blocks (quantize_row_q8), and
// each weight block's exact integer dot product with an activation block is scaled by d_w * d_x
// in F32. Each unpacked weight block (group) serves Simd::kQuantRows activation rows (register
// blocking for prefill). Numerics: differs from the F32-activation reference only by the Q8_0
// rounding of the activations.
//
// What genuinely differs per level lives in its struct Simd (simd_<level>.h), not here: the
// activation code layout (Block32, store_codes, group_q4), the Q4_0 group of kQ4Group blocks
// unpacked at once (q4_group: 2 blocks per ymm on AVX2, 4 per zmm on AVX-512; the activations
// of each whole group are stored as the group's first halves, then its second halves, so the
// nibbles need no shuffling), the other blocks kBlockStep at a time (blocks), and the int8 dot
// product (dot: vpmaddubsw + vpmaddwd on AVX2, vpdpbusd on AVX-512 VNNI).
//
// Included once per level by x86/<level>/matmul_quant_<level>.cpp; anonymous namespace inside
// the level's namespace for the reason given in matmul_float_impl.h.
#pragma once

#include <type_traits>

#include "core/dtype.h"
#include "kernels/cpu/x86/isa_kernels.h"

namespace llmpipe::cpu::LLMPIPE_X86_ISA {

namespace {

// y[r * ldy] = activation row r of the tile (R rows) . weight row w, for r < R.
template <typename S, int R, typename Block>
void tile(const Block* w, const int8_t* xq, const float* xd, int64_t k, float* y, int64_t ldy) {
  const int64_t nb = k / kQK;
  typename S::V acc[R];
  for (int r = 0; r < R; ++r) acc[r] = S::zero();
  int64_t b = 0;
  if constexpr (std::is_same_v<Block, BlockQ4_0>) {
    for (; b + S::kQ4Group <= nb; b += S::kQ4Group) {
      const auto g = S::q4_group(w + b);
      for (int r = 0; r < R; ++r) acc[r] = S::dot(g, xq + r * k + b * kQK, xd + r * nb + b, acc[r]);
    }
  }
  for (; b < nb; b += S::kBlockStep) {
    const auto g = S::blocks(w + b, nb - b);
    for (int r = 0; r < R; ++r) acc[r] = S::dot(g, xq + r * k + b * kQK, xd + r * nb + b, acc[r]);
  }
  for (int r = 0; r < R; ++r) y[r * ldy] = S::reduce_add(acc[r]);
}

template <typename S, int R, typename Block>
void tail_tile(int rem, const Block* w, const int8_t* xq, const float* xd, int64_t k, float* y,
               int64_t ldy) {
  if constexpr (R > 0) {
    if (rem == R) return tile<S, R>(w, xq, xd, k, y, ldy);
    tail_tile<S, R - 1>(rem, w, xq, xd, k, y, ldy);
  }
}

template <typename S, typename Block>
void matmul_quant(const MatmulArgs& a, int64_t m0, int64_t m1) {
  constexpr int kRowTile = S::kQuantRows;
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
        tile<S, kRowTile>(w, a.xq + t * k, a.xd + t * nb, k, y + t * a.ldy, a.ldy);
      if (t < c1) tail_tile<S, kRowTile - 1>(int(c1 - t), w, a.xq + t * k, a.xd + t * nb, k, y + t * a.ldy, a.ldy);
    }
  }
}

template <typename S>
void quantize_row(DType weights, const float* x, int64_t k, int8_t* qs, float* d) {
  const int64_t nb = k / kQK;
  for (int64_t b = 0; b < nb; ++b) {
    const auto v = S::load32(x + b * kQK);
    const float dd = S::abs_max(v) / 127.0f;
    const float id = dd != 0.0f ? 1.0f / dd : 0.0f;
    d[b] = _cvtsh_ss(_cvtss_sh(dd, _MM_FROUND_TO_NEAREST_INT));  // as stored in ggml's F16
    S::store_codes(v, id, qs + b * kQK);
  }
  if (weights == DType::Q4_0)  // whole groups: the first halves, then the second halves
    for (int64_t b = 0; b + S::kQ4Group <= nb; b += S::kQ4Group) S::group_q4(qs + b * kQK);
}

}  // namespace

void quantize_row_q8(DType weights, const float* x, int64_t k, int8_t* qs, float* d) {
  quantize_row<Simd>(weights, x, k, qs, d);
}
void matmul_q4_0_f32(const MatmulArgs& a, int64_t m0, int64_t m1) {
  matmul_quant<Simd, BlockQ4_0>(a, m0, m1);
}
void matmul_q8_0_f32(const MatmulArgs& a, int64_t m0, int64_t m1) {
  matmul_quant<Simd, BlockQ8_0>(a, m0, m1);
}

}  // namespace llmpipe::cpu::LLMPIPE_X86_ISA
