// Row quantizers of IQ4_NL (blocks of 32, one f16 scale) and IQ4_XS (super-blocks of 256: an f16
// scale and eight 6-bit sub-scales), codes indexing the sixteen non-linear levels kIQ4Values.
// The search is llama.cpp's as llama-quantize runs it without an importance matrix
// (ggml-quants.c quantize_iq4_nl / quantize_iq4_xs, 7 trial scales either side, weights x^2).
#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/half.h"
#include "core/quant_blocks.h"
#include "kernels/cpu/quant_search.h"
#include "kernels/cpu/quantize.h"

namespace llmpipe::cpu {

namespace {

constexpr int kTrials = 7;

// Weighted (w = x^2) least-squares fit of the 32 weights xb coded at the levels nearest to id*x:
// sums of w*q*x and w*q*q.
void fit_levels(const float* xb, float id, float& sumqx, float& sumq2, uint8_t* L) {
  sumqx = sumq2 = 0;
  for (int j = 0; j < 32; ++j) {
    const int l = qsearch::nearest_level(kIQ4Values, id * xb[j]);
    if (L) L[j] = uint8_t(l);
    const float q = float(kIQ4Values[l]), w = xb[j] * xb[j];
    sumqx += w * q * xb[j];
    sumq2 += w * q * q;
  }
}

// The best scale of a block of 32 (0 when all of it is below kGroupMaxEps): first the largest
// weight at +127 (clamped to the top level), then at each of 127 - 7 .. 127 + 7 with the sign
// that puts it at the bottom level, keeping the least-squares scale that fits best.
float block_scale(const float* xb) {
  float amax = 0, max = 0;
  for (int j = 0; j < 32; ++j)
    if (std::fabs(xb[j]) > amax) {
      amax = std::fabs(xb[j]);
      max = xb[j];
    }
  if (amax < qsearch::kGroupMaxEps) return 0;
  const float low = float(kIQ4Values[0]);
  float sumqx = 0, sumq2 = 0;
  fit_levels(xb, 1 / (-max / low), sumqx, sumq2, nullptr);
  float d = sumqx / sumq2, best = d * sumqx;
  for (int t = -kTrials; t <= kTrials; ++t) {
    fit_levels(xb, float(t + kIQ4Values[0]) / max, sumqx, sumq2, nullptr);
    if (sumq2 > 0 && sumqx * sumqx > best * sumq2) {
      d = sumqx / sumq2;
      best = d * sumqx;
    }
  }
  return d;
}

void code_block(const float* xb, float id, uint8_t* qs) {
  uint8_t L[32];
  for (int j = 0; j < 32; ++j) L[j] = uint8_t(qsearch::nearest_level(kIQ4Values, id * xb[j]));
  for (int j = 0; j < 16; ++j) qs[j] = uint8_t(L[j] | L[j + 16] << 4);
}

void quantize_block_iq4_nl(const float* x, BlockIQ4_NL& y) {
  const float d = block_scale(x);
  y.d = f32_to_f16(d);
  code_block(x, d != 0 ? 1 / d : 0.0f, y.qs);
}

// Sub-scales l in [-32, 31] of d = -max_scale / 32 (the block scale of largest magnitude maps to
// +32, one past the top, and is clamped); codes against the unrounded d * l.
void quantize_block_iq4_xs(const float* x, BlockIQ4_XS& y) {
  float scales[8], max_scale = 0, amax_scale = 0;
  for (int ib = 0; ib < 8; ++ib) {
    scales[ib] = block_scale(x + 32 * ib);
    if (std::fabs(scales[ib]) > amax_scale) {
      amax_scale = std::fabs(scales[ib]);
      max_scale = scales[ib];
    }
  }
  const float d = -max_scale / 32;
  y.d = f32_to_f16(d);
  y.scales_h = 0;
  std::memset(y.scales_l, 0, sizeof y.scales_l);
  const float id = d != 0 ? 1 / d : 0.0f;
  for (int ib = 0; ib < 8; ++ib) {
    const int l = std::max(-32, std::min(31, qsearch::nearest_int(id * scales[ib])));
    const float dl = d * float(l);
    code_block(x + 32 * ib, dl != 0 ? 1 / dl : 0.0f, y.qs + 16 * ib);
    y.scales_l[ib / 2] |= uint8_t(((l + 32) & 0x0f) << (4 * (ib % 2)));
    y.scales_h |= uint16_t(((l + 32) >> 4) << (2 * ib));
  }
}

template <typename Block, int kElems, void (*kQuantize)(const float*, Block&)>
void quantize_row_blocks(const float* src, void* dst, int64_t n) {
  auto* out = static_cast<uint8_t*>(dst);
  for (int64_t i = 0; i < n / kElems; ++i) {
    Block b;
    kQuantize(src + i * kElems, b);
    std::memcpy(out + size_t(i) * sizeof(Block), &b, sizeof(Block));
  }
}

}  // namespace

void quantize_row_iq4_nl(const float* src, void* dst, int64_t n) {
  quantize_row_blocks<BlockIQ4_NL, kQK, quantize_block_iq4_nl>(src, dst, n);
}
void quantize_row_iq4_xs(const float* src, void* dst, int64_t n) {
  quantize_row_blocks<BlockIQ4_XS, kQK_K, quantize_block_iq4_xs>(src, dst, n);
}

}  // namespace llmpipe::cpu
