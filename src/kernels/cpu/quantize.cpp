#include "kernels/cpu/quantize.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/error.h"
#include "core/half.h"
#include "core/quant_blocks.h"
#include "kernels/cpu/block_decode.h"

namespace llmpipe::cpu {

void dequantize_row_f32(DType type, const void* src, float* dst, int64_t n) {
  switch (type) {
    case DType::F32:
      std::memcpy(dst, src, size_t(n) * sizeof(float));
      return;
    case DType::F16: {
      const auto* s = static_cast<const uint16_t*>(src);
      for (int64_t i = 0; i < n; ++i) dst[i] = f16_to_f32(s[i]);
      return;
    }
    case DType::BF16: {
      const auto* s = static_cast<const uint16_t*>(src);
      for (int64_t i = 0; i < n; ++i) dst[i] = bf16_to_f32(s[i]);
      return;
    }
    case DType::Q8_0: {
      const auto* b = static_cast<const BlockQ8_0*>(src);
      for (int64_t i = 0; i < n / kQK; ++i) {
        const float d = f16_to_f32(b[i].d);
        for (int j = 0; j < kQK; ++j) dst[i * kQK + j] = d * float(b[i].qs[j]);
      }
      return;
    }
    case DType::Q4_0: {
      const auto* b = static_cast<const BlockQ4_0*>(src);
      for (int64_t i = 0; i < n / kQK; ++i) {
        const float d = f16_to_f32(b[i].d);
        for (int j = 0; j < kQK / 2; ++j) {
          dst[i * kQK + j] = d * float(int(b[i].qs[j] & 0x0f) - 8);
          dst[i * kQK + j + kQK / 2] = d * float(int(b[i].qs[j] >> 4) - 8);
        }
      }
      return;
    }
    default:
      return decode_blocks_f32(type, src, dst, n);
  }
}

// Q8_0: d = max|x| / 127, q = round(x / d).
void quantize_row_q8_0(const float* src, BlockQ8_0* dst, int64_t n) {
  for (int64_t i = 0; i < n / kQK; ++i) {
    const float* x = src + i * kQK;
    float amax = 0;
    for (int j = 0; j < kQK; ++j) amax = std::max(amax, std::fabs(x[j]));
    const float d = amax / 127.0f;
    const float id = d != 0 ? 1.0f / d : 0.0f;
    dst[i].d = f32_to_f16(d);
    for (int j = 0; j < kQK; ++j) dst[i].qs[j] = int8_t(std::lround(x[j] * id));
  }
}

// Q4_0: the value of largest magnitude maps to -8 exactly (d = max / -8), so the full 4-bit
// range [-8, 7] is used; q = clamp(round(x / d) + 8, 0, 15).
void quantize_row_q4_0(const float* src, BlockQ4_0* dst, int64_t n) {
  for (int64_t i = 0; i < n / kQK; ++i) {
    const float* x = src + i * kQK;
    float amax = 0, max = 0;
    for (int j = 0; j < kQK; ++j)
      if (std::fabs(x[j]) > amax) {
        amax = std::fabs(x[j]);
        max = x[j];
      }
    const float d = max / -8.0f;
    const float id = d != 0 ? 1.0f / d : 0.0f;
    dst[i].d = f32_to_f16(d);
    auto q = [&](float v) { return uint8_t(std::min(15, int(v * id + 8.5f))); };
    for (int j = 0; j < kQK / 2; ++j)
      dst[i].qs[j] = uint8_t(q(x[j]) | (q(x[j + kQK / 2]) << 4));
  }
}

namespace {

// Smallest and largest of a block of 32.
void block_range(const float* x, float& min, float& max) {
  min = x[0];
  max = x[0];
  for (int j = 1; j < kQK; ++j) {
    min = std::min(min, x[j]);
    max = std::max(max, x[j]);
  }
}

// Q5_0 / Q5_1's codes: low four bits in qs (as Q4_0), the fifth of weight j at bit j of qh.
void pack_codes5(const uint8_t q[kQK], uint8_t* qs, uint8_t* qh) {
  uint32_t h = 0;
  for (int j = 0; j < kQK; ++j) h |= uint32_t(q[j] >> 4) << j;
  for (int j = 0; j < kQK / 2; ++j) qs[j] = uint8_t((q[j] & 0x0f) | (q[j + kQK / 2] & 0x0f) << 4);
  for (int k = 0; k < 4; ++k) qh[k] = uint8_t(h >> (8 * k));
}

template <typename Block, void (*kQuantize)(const float*, Block&)>
void quantize_blocks(const float* src, void* dst, int64_t n) {
  auto* out = static_cast<uint8_t*>(dst);
  for (int64_t i = 0; i < n / kQK; ++i) {
    Block b;
    kQuantize(src + i * kQK, b);
    std::memcpy(out + size_t(i) * sizeof(Block), &b, sizeof(Block));  // 22-byte blocks: unaligned
  }
}

// Q4_1 / Q5_1: d = (max - min) / nmax, m = min, q = min(nmax, trunc((x - min) / d + 0.5)).
template <typename Block, int kNmax>
void affine_block(const float* x, Block& b, uint8_t q[kQK]) {
  float min = 0, max = 0;
  block_range(x, min, max);
  const float d = (max - min) / float(kNmax);
  const float id = d != 0 ? 1.0f / d : 0.0f;
  b.d = f32_to_f16(d);
  b.m = f32_to_f16(min);
  for (int j = 0; j < kQK; ++j) q[j] = uint8_t(std::min(kNmax, int((x[j] - min) * id + 0.5f)));
}

void quantize_block_q4_1(const float* x, BlockQ4_1& b) {
  uint8_t q[kQK];
  affine_block<BlockQ4_1, 15>(x, b, q);
  for (int j = 0; j < kQK / 2; ++j) b.qs[j] = uint8_t(q[j] | q[j + kQK / 2] << 4);
}

// Q5_0: as Q4_0 with 5 bits: d = max / -16, q = min(31, trunc(x / d + 16.5)).
void quantize_block_q5_0(const float* x, BlockQ5_0& b) {
  float amax = 0, max = 0;
  for (int j = 0; j < kQK; ++j)
    if (std::fabs(x[j]) > amax) {
      amax = std::fabs(x[j]);
      max = x[j];
    }
  const float d = max / -16.0f;
  const float id = d != 0 ? 1.0f / d : 0.0f;
  b.d = f32_to_f16(d);
  uint8_t q[kQK];
  for (int j = 0; j < kQK; ++j) q[j] = uint8_t(std::min(31, int(x[j] * id + 16.5f)));
  pack_codes5(q, b.qs, b.qh);
}

void quantize_block_q5_1(const float* x, BlockQ5_1& b) {
  uint8_t q[kQK];
  affine_block<BlockQ5_1, 31>(x, b, q);
  pack_codes5(q, b.qs, b.qh);
}

}  // namespace

void quantize_row_q4_1(const float* src, void* dst, int64_t n) {
  quantize_blocks<BlockQ4_1, quantize_block_q4_1>(src, dst, n);
}
void quantize_row_q5_0(const float* src, void* dst, int64_t n) {
  quantize_blocks<BlockQ5_0, quantize_block_q5_0>(src, dst, n);
}
void quantize_row_q5_1(const float* src, void* dst, int64_t n) {
  quantize_blocks<BlockQ5_1, quantize_block_q5_1>(src, dst, n);
}

void quantize_row(DType type, const float* src, void* dst, int64_t n) {
  switch (type) {
    case DType::F32:
      std::memcpy(dst, src, size_t(n) * sizeof(float));
      return;
    case DType::F16: {
      auto* d = static_cast<uint16_t*>(dst);
      for (int64_t i = 0; i < n; ++i) d[i] = f32_to_f16(src[i]);
      return;
    }
    case DType::BF16: {
      auto* d = static_cast<uint16_t*>(dst);
      for (int64_t i = 0; i < n; ++i) d[i] = f32_to_bf16(src[i]);
      return;
    }
    case DType::Q8_0:
      quantize_row_q8_0(src, static_cast<BlockQ8_0*>(dst), n);
      return;
    case DType::Q4_0:
      quantize_row_q4_0(src, static_cast<BlockQ4_0*>(dst), n);
      return;
    case DType::Q4_1: return quantize_row_q4_1(src, dst, n);
    case DType::Q5_0: return quantize_row_q5_0(src, dst, n);
    case DType::Q5_1: return quantize_row_q5_1(src, dst, n);
    case DType::Q2_K: return quantize_row_q2_k(src, dst, n);
    case DType::Q3_K: return quantize_row_q3_k(src, dst, n);
    case DType::Q4_K: return quantize_row_q4_k(src, dst, n);
    case DType::Q5_K: return quantize_row_q5_k(src, dst, n);
    case DType::Q6_K: return quantize_row_q6_k(src, dst, n);
    case DType::IQ4_NL: return quantize_row_iq4_nl(src, dst, n);
    case DType::IQ4_XS: return quantize_row_iq4_xs(src, dst, n);
  }
  fail("quantize_row: unknown type ", int(type));
}

}  // namespace llmpipe::cpu
