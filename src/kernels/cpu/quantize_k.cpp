// Row quantizers of the K-quants (super-blocks of 256 weights, core/quant_blocks.h), following
// llama.cpp's reference quantizers without an importance matrix (ggml-quants.c's
// quantize_row_q*_K_ref, which llama-quantize runs when given no imatrix): per sub-block a
// scale (and min) from qsearch, the sub-block scales quantized against the super-block's
// largest, then every weight re-coded against the stored (rounded) scales.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/half.h"
#include "core/quant_blocks.h"
#include "kernels/cpu/quant_search.h"
#include "kernels/cpu/quantize.h"

namespace llmpipe::cpu {

using qsearch::nearest_int;

namespace {

// Codes of 256 weights in four 2-bit fields per byte, as Q2_K / Q3_K store them: each half of
// 128 weights fills 32 bytes, weight h*128 + g*32 + l at bits 2g of byte h*32 + l.
void pack_two_bits(const uint8_t* L, uint8_t* qs) {
  for (int h = 0; h < 2; ++h)
    for (int l = 0; l < 32; ++l) {
      const uint8_t* c = L + h * 128 + l;
      qs[h * 32 + l] = uint8_t(c[0] | c[32] << 2 | c[64] << 4 | c[96] << 6);
    }
}

// Re-codes the weights of a sub-block of `n` against its stored scale d and min dm:
// q = clamp(round((x + dm) / d), 0, nmax). d == 0 leaves the search's codes.
void recode_affine(const float* x, int n, float d, float dm, int nmax, uint8_t* L) {
  if (d == 0) return;
  for (int i = 0; i < n; ++i)
    L[i] = uint8_t(std::max(0, std::min(nmax, nearest_int((x[i] + dm) / d))));
}

void quantize_block_q2_k(const float* x, BlockQ2_K& y) {
  uint8_t L[kQK_K];
  float scales[16], mins[16], w[16];
  float max_scale = 0, max_min = 0;
  for (int j = 0; j < 16; ++j) {
    for (int l = 0; l < 16; ++l) w[l] = std::fabs(x[16 * j + l]);
    scales[j] = qsearch::affine_scale(16, 3, x + 16 * j, w, L + 16 * j, &mins[j], -0.5f, 0.1f, 15,
                                      true);
    max_scale = std::max(max_scale, scales[j]);
    max_min = std::max(max_min, mins[j]);
  }
  // 4-bit scales and mins against the largest of each (stored as d, dmin).
  std::memset(y.scales, 0, sizeof y.scales);
  y.d = y.dmin = f32_to_f16(0.0f);
  if (max_scale > 0) {
    const float iscale = 15.0f / max_scale;
    for (int j = 0; j < 16; ++j) y.scales[j] = uint8_t(nearest_int(iscale * scales[j]));
    y.d = f32_to_f16(max_scale / 15.0f);
  }
  if (max_min > 0) {
    const float iscale = 15.0f / max_min;
    for (int j = 0; j < 16; ++j) y.scales[j] |= uint8_t(nearest_int(iscale * mins[j]) << 4);
    y.dmin = f32_to_f16(max_min / 15.0f);
  }
  for (int j = 0; j < 16; ++j)
    recode_affine(x + 16 * j, 16, f16_to_f32(y.d) * float(y.scales[j] & 0x0f),
                  f16_to_f32(y.dmin) * float(y.scales[j] >> 4), 3, L + 16 * j);
  pack_two_bits(L, y.qs);
}

// Q3_K's sixteen 6-bit scales (biased by 32): low nibbles in bytes 0..7, high two bits in 8..11.
void store_q3_scale(uint8_t* sc, int j, int l) {
  sc[j % 8] |= uint8_t((l & 0x0f) << (j < 8 ? 0 : 4));
  sc[8 + j % 4] |= uint8_t((l >> 4) << (2 * (j / 4)));
}
int load_q3_scale(const uint8_t* sc, int j) {
  const int low = (sc[j % 8] >> (j < 8 ? 0 : 4)) & 0x0f;
  return (low | ((sc[8 + j % 4] >> (2 * (j / 4))) & 3) << 4) - 32;
}

void quantize_block_q3_k(const float* x, BlockQ3_K& y) {
  int8_t L[kQK_K];
  float scales[16];
  float max_scale = 0, amax = 0;
  for (int j = 0; j < 16; ++j) {
    scales[j] = qsearch::symmetric_scale_refined(16, 4, x + 16 * j, L + 16 * j);
    if (std::fabs(scales[j]) > amax) {
      amax = std::fabs(scales[j]);
      max_scale = scales[j];
    }
  }
  std::memset(y.scales, 0, sizeof y.scales);
  y.d = f32_to_f16(0.0f);
  if (max_scale != 0) {
    const float iscale = -32.0f / max_scale;
    for (int j = 0; j < 16; ++j)
      store_q3_scale(y.scales, j,
                     std::max(-32, std::min(31, int(int8_t(nearest_int(iscale * scales[j]))))) + 32);
    y.d = f32_to_f16(1 / iscale);
  }
  for (int j = 0; j < 16; ++j) {
    const float d = f16_to_f32(y.d) * float(load_q3_scale(y.scales, j));
    if (d == 0) continue;
    for (int i = 0; i < 16; ++i)
      L[16 * j + i] = int8_t(std::max(-4, std::min(3, nearest_int(x[16 * j + i] / d))) + 4);
  }
  // Codes 4..7 set their bit in hmask (bit e / 32 of byte e % 32) and keep the low two bits.
  uint8_t low[kQK_K];
  std::memset(y.hmask, 0, sizeof y.hmask);
  for (int e = 0; e < kQK_K; ++e) {
    if (L[e] > 3) y.hmask[e % 32] |= uint8_t(1 << (e / 32));
    low[e] = uint8_t(L[e] > 3 ? L[e] - 4 : L[e]);
  }
  pack_two_bits(low, y.qs);
}

// Q4_K / Q5_K: eight 6-bit scales and mins in 12 bytes (the layout block_decode.cpp reads).
void store_scale_min_k4(uint8_t* q, int j, uint8_t ls, uint8_t lm) {
  if (j < 4) {
    q[j] = ls;
    q[j + 4] = lm;
  } else {
    q[j + 4] = uint8_t((ls & 0x0f) | (lm & 0x0f) << 4);
    q[j - 4] |= uint8_t((ls >> 4) << 6);
    q[j] |= uint8_t((lm >> 4) << 6);
  }
}
void load_scale_min_k4(const uint8_t* q, int j, int& ls, int& lm) {
  if (j < 4) {
    ls = q[j] & 63;
    lm = q[j + 4] & 63;
  } else {
    ls = (q[j + 4] & 0x0f) | (q[j - 4] >> 6) << 4;
    lm = (q[j + 4] >> 4) | (q[j] >> 6) << 4;
  }
}

// The 5-bit (nmax 31) or 4-bit (15) codes of a Q4_K / Q5_K super-block, with its scales.
template <typename Block>
void quantize_scales_k4(const float* x, Block& y, int nmax, float rmin, int nstep, uint8_t* L) {
  float scales[8], mins[8], w[32];
  float max_scale = 0, max_min = 0;
  for (int j = 0; j < 8; ++j) {
    const float* xb = x + 32 * j;
    float sum_x2 = 0;
    for (int l = 0; l < 32; ++l) sum_x2 += xb[l] * xb[l];
    const float av_x = std::sqrt(sum_x2 / 32);
    for (int l = 0; l < 32; ++l) w[l] = av_x + std::fabs(xb[l]);
    scales[j] = qsearch::affine_scale(32, nmax, xb, w, L + 32 * j, &mins[j], rmin, 0.1f, nstep,
                                      false);
    max_scale = std::max(max_scale, scales[j]);
    max_min = std::max(max_min, mins[j]);
  }
  const float inv_scale = max_scale > 0 ? 63.0f / max_scale : 0.0f;
  const float inv_min = max_min > 0 ? 63.0f / max_min : 0.0f;
  for (int j = 0; j < 8; ++j) {
    const auto ls = std::min<uint8_t>(63, uint8_t(nearest_int(inv_scale * scales[j])));
    const auto lm = std::min<uint8_t>(63, uint8_t(nearest_int(inv_min * mins[j])));
    store_scale_min_k4(y.scales, j, ls, lm);
  }
  y.d = f32_to_f16(max_scale / 63.0f);
  y.dmin = f32_to_f16(max_min / 63.0f);
  for (int j = 0; j < 8; ++j) {
    int ls = 0, lm = 0;
    load_scale_min_k4(y.scales, j, ls, lm);
    recode_affine(x + 32 * j, 32, f16_to_f32(y.d) * float(ls), f16_to_f32(y.dmin) * float(lm),
                  nmax, L + 32 * j);
  }
}

void quantize_block_q4_k(const float* x, BlockQ4_K& y) {
  uint8_t L[kQK_K];
  quantize_scales_k4(x, y, 15, -1.0f, 20, L);
  for (int c = 0; c < 4; ++c)  // 32 bytes per 64 weights: low nibbles first 32, high the next
    for (int l = 0; l < 32; ++l) y.qs[32 * c + l] = uint8_t(L[64 * c + l] | L[64 * c + 32 + l] << 4);
}

void quantize_block_q5_k(const float* x, BlockQ5_K& y) {
  uint8_t L[kQK_K];
  quantize_scales_k4(x, y, 31, -0.5f, 15, L);
  std::memset(y.qh, 0, sizeof y.qh);
  for (int c = 0; c < 4; ++c)
    for (int l = 0; l < 32; ++l) {
      const int lo = L[64 * c + l], hi = L[64 * c + 32 + l];
      y.qs[32 * c + l] = uint8_t((lo & 0x0f) | (hi & 0x0f) << 4);
      y.qh[l] |= uint8_t((lo >> 4) << (2 * c) | (hi >> 4) << (2 * c + 1));  // fifth bit of group j at bit j
    }
}

void quantize_block_q6_k(const float* x, BlockQ6_K& y) {
  int8_t L[kQK_K];
  float scales[16];
  float max_scale = 0, max_abs = 0;
  for (int j = 0; j < 16; ++j) {
    scales[j] = qsearch::symmetric_scale(16, 32, x + 16 * j, L + 16 * j);
    if (std::fabs(scales[j]) > max_abs) {
      max_abs = std::fabs(scales[j]);
      max_scale = scales[j];
    }
  }
  std::memset(&y, 0, sizeof y);
  if (max_abs < qsearch::kGroupMaxEps) return;  // all zero (d = +0)
  const float iscale = -128.0f / max_scale;
  y.d = f32_to_f16(1 / iscale);
  for (int j = 0; j < 16; ++j) y.scales[j] = int8_t(std::min(127, nearest_int(iscale * scales[j])));
  for (int j = 0; j < 16; ++j) {
    const float d = f16_to_f32(y.d) * float(y.scales[j]);
    if (d == 0) continue;
    for (int i = 0; i < 16; ++i)
      L[16 * j + i] = int8_t(std::max(-32, std::min(31, nearest_int(x[16 * j + i] / d))) + 32);
  }
  // Low four bits: 64 bytes per 128 weights (groups 0, 1 low nibbles; 2, 3 high); top two bits
  // as Q2_K's fields.
  uint8_t high[kQK_K];
  for (int h = 0; h < 2; ++h)
    for (int l = 0; l < 64; ++l) {
      const int e = 128 * h + l;
      y.ql[64 * h + l] = uint8_t((L[e] & 0x0f) | (L[e + 64] & 0x0f) << 4);
    }
  for (int e = 0; e < kQK_K; ++e) high[e] = uint8_t(L[e] >> 4);
  pack_two_bits(high, y.qh);
}

template <typename Block, void (*kQuantize)(const float*, Block&)>
void quantize_row_k(const float* src, void* dst, int64_t n) {
  auto* out = static_cast<uint8_t*>(dst);
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    Block b;
    kQuantize(src + i * kQK_K, b);
    std::memcpy(out + size_t(i) * sizeof(Block), &b, sizeof(Block));  // rows of odd-sized blocks
  }
}

}  // namespace

void quantize_row_q2_k(const float* src, void* dst, int64_t n) {
  quantize_row_k<BlockQ2_K, quantize_block_q2_k>(src, dst, n);
}
void quantize_row_q3_k(const float* src, void* dst, int64_t n) {
  quantize_row_k<BlockQ3_K, quantize_block_q3_k>(src, dst, n);
}
void quantize_row_q4_k(const float* src, void* dst, int64_t n) {
  quantize_row_k<BlockQ4_K, quantize_block_q4_k>(src, dst, n);
}
void quantize_row_q5_k(const float* src, void* dst, int64_t n) {
  quantize_row_k<BlockQ5_K, quantize_block_q5_k>(src, dst, n);
}
void quantize_row_q6_k(const float* src, void* dst, int64_t n) {
  quantize_row_k<BlockQ6_K, quantize_block_q6_k>(src, dst, n);
}

}  // namespace llmpipe::cpu
