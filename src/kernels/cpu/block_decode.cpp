#include "kernels/cpu/block_decode.h"

#include <cstring>

#include "core/error.h"
#include "core/half.h"
#include "core/quant_blocks.h"

namespace llmpipe::cpu {

namespace {

// Each decode writes one block's weights (32 or 256) in storage order. The expressions follow
// gguf-py's (d * q + m, (d * sc) * q - dmin * m, ...) so that results round identically.

void decode(const BlockQ4_1& b, float* y) {
  const float d = f16_to_f32(b.d), m = f16_to_f32(b.m);
  for (int j = 0; j < kQK / 2; ++j) {
    y[j] = d * float(b.qs[j] & 0x0f) + m;
    y[j + kQK / 2] = d * float(b.qs[j] >> 4) + m;
  }
}

uint32_t load_u32(const uint8_t* p) {  // little-endian, any alignment
  return uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 | uint32_t(p[3]) << 24;
}

// The 5-bit codes of Q5_0 / Q5_1: four bits from qs, the fifth from bit j of qh.
void codes5(const uint8_t* qs, const uint8_t* qh, int q[kQK]) {
  const uint32_t h = load_u32(qh);
  for (int j = 0; j < kQK / 2; ++j) {
    q[j] = int(qs[j] & 0x0f) | int((h >> j) & 1) << 4;
    q[j + kQK / 2] = int(qs[j] >> 4) | int((h >> (j + kQK / 2)) & 1) << 4;
  }
}

void decode(const BlockQ5_0& b, float* y) {
  int q[kQK];
  codes5(b.qs, b.qh, q);
  const float d = f16_to_f32(b.d);
  for (int j = 0; j < kQK; ++j) y[j] = d * float(q[j] - 16);
}

void decode(const BlockQ5_1& b, float* y) {
  int q[kQK];
  codes5(b.qs, b.qh, q);
  const float d = f16_to_f32(b.d), m = f16_to_f32(b.m);
  for (int j = 0; j < kQK; ++j) y[j] = d * float(q[j]) + m;
}

// Weight e of a super-block whose 2-bit fields are packed as ggml's K-quants pack them: two
// halves of 128 weights, each 32 bytes holding four 32-weight groups at shifts 0, 2, 4, 6.
int two_bits(const uint8_t* qs, int e) {
  const int half = e / 128, group = (e % 128) / 32, l = e % 32;
  return (qs[half * 32 + l] >> (2 * group)) & 3;
}

void decode(const BlockQ2_K& b, float* y) {
  const float d = f16_to_f32(b.d), dmin = f16_to_f32(b.dmin);
  for (int e = 0; e < kQK_K; ++e) {
    const int s = e / 16;
    const float dl = d * float(b.scales[s] & 0x0f), ml = dmin * float(b.scales[s] >> 4);
    y[e] = dl * float(two_bits(b.qs, e)) - ml;
  }
}

// Q3_K's sixteen 6-bit scales: low four bits in bytes 0..7 (two per byte), high two bits in
// bytes 8..11 (four per byte).
int q3_k_scale(const uint8_t* sc, int s) {
  const int low = s < 8 ? (sc[s] & 0x0f) : (sc[s - 8] >> 4);
  const int high = (sc[8 + s % 4] >> (2 * (s / 4))) & 3;
  return (low | high << 4) - 32;
}

void decode(const BlockQ3_K& b, float* y) {
  const float d = f16_to_f32(b.d);
  for (int e = 0; e < kQK_K; ++e) {
    const float dl = d * float(q3_k_scale(b.scales, e / 16));
    const int hbit = (b.hmask[e % 32] >> (e / 32)) & 1;  // set: no offset
    y[e] = dl * float(two_bits(b.qs, e) - (hbit ? 0 : 4));
  }
}

// Q4_K / Q5_K: eight 6-bit scales and mins packed in 12 bytes.
void scale_min_k4(const uint8_t* sc, int j, int& scale, int& min) {
  if (j < 4) {
    scale = sc[j] & 63;
    min = sc[j + 4] & 63;
  } else {
    scale = (sc[j + 4] & 0x0f) | ((sc[j - 4] >> 6) << 4);
    min = (sc[j + 4] >> 4) | ((sc[j] >> 6) << 4);
  }
}

// Weight e's low four bits in Q4_K / Q5_K: 32-byte chunks, each holding two 32-weight groups
// (low nibbles, then high nibbles).
int four_bits(const uint8_t* qs, int e) {
  const int chunk = e / 64, high = (e % 64) / 32, l = e % 32;
  return (qs[chunk * 32 + l] >> (4 * high)) & 0x0f;
}

template <typename Block, bool kFifthBit>
void decode_k4(const Block& b, float* y) {
  const float d = f16_to_f32(b.d), dmin = f16_to_f32(b.dmin);
  for (int j = 0; j < kQK_K / 32; ++j) {
    int scale = 0, min = 0;
    scale_min_k4(b.scales, j, scale, min);
    const float dl = d * float(scale), ml = dmin * float(min);
    for (int l = 0; l < 32; ++l) {
      const int e = j * 32 + l;
      int q = four_bits(b.qs, e);
      if constexpr (kFifthBit) q |= ((b.qh[l] >> j) & 1) << 4;
      y[e] = dl * float(q) - ml;
    }
  }
}

void decode(const BlockQ4_K& b, float* y) { decode_k4<BlockQ4_K, false>(b, y); }
void decode(const BlockQ5_K& b, float* y) { decode_k4<BlockQ5_K, true>(b, y); }

void decode(const BlockQ6_K& b, float* y) {
  const float d = f16_to_f32(b.d);
  for (int e = 0; e < kQK_K; ++e) {
    const int half = e / 128, r = e % 128;
    const int low = (b.ql[half * 64 + r % 64] >> (4 * (r / 64))) & 0x0f;
    const int high = two_bits(b.qh, e);
    y[e] = d * float(b.scales[e / 16]) * float((low | high << 4) - 32);
  }
}

void decode(const BlockIQ4_NL& b, float* y) {
  const float d = f16_to_f32(b.d);
  for (int j = 0; j < kQK / 2; ++j) {
    y[j] = d * float(kIQ4Values[b.qs[j] & 0x0f]);
    y[j + kQK / 2] = d * float(kIQ4Values[b.qs[j] >> 4]);
  }
}

void decode(const BlockIQ4_XS& b, float* y) {
  const float d = f16_to_f32(b.d);
  for (int j = 0; j < kQK_K / 32; ++j) {
    const int low = (b.scales_l[j / 2] >> (4 * (j % 2))) & 0x0f;
    const int high = (b.scales_h >> (2 * j)) & 3;
    const float dl = d * float((low | high << 4) - 32);
    const uint8_t* qs = b.qs + j * 16;
    for (int l = 0; l < 16; ++l) {
      y[j * 32 + l] = dl * float(kIQ4Values[qs[l] & 0x0f]);
      y[j * 32 + l + 16] = dl * float(kIQ4Values[qs[l] >> 4]);
    }
  }
}

// One row loop for every type: blocks are copied out first, as rows of odd-sized blocks
// (22, 110 bytes) leave them at any alignment in a file mapping.
template <typename Block>
void decode_row(const void* src, float* dst, int64_t n, int64_t block_elems) {
  const auto* p = static_cast<const uint8_t*>(src);
  for (int64_t i = 0; i < n / block_elems; ++i) {
    Block b;
    std::memcpy(&b, p + size_t(i) * sizeof(Block), sizeof(Block));
    decode(b, dst + i * block_elems);
  }
}

}  // namespace

bool decoded_by_blocks(DType type) {
  switch (type) {
    case DType::Q4_1: case DType::Q5_0: case DType::Q5_1: case DType::Q2_K: case DType::Q3_K:
    case DType::Q4_K: case DType::Q5_K: case DType::Q6_K: case DType::IQ4_NL: case DType::IQ4_XS:
      return true;
    default:
      return false;
  }
}

void decode_blocks_f32(DType type, const void* src, float* dst, int64_t n) {
  const int64_t bs = dtype_block_size(type);
  LLMPIPE_CHECK(n >= 0 && n % bs == 0, "decode ", dtype_name(type), ": a row of ", n,
                " elements is not whole blocks of ", bs);
  switch (type) {
    case DType::Q4_1: return decode_row<BlockQ4_1>(src, dst, n, bs);
    case DType::Q5_0: return decode_row<BlockQ5_0>(src, dst, n, bs);
    case DType::Q5_1: return decode_row<BlockQ5_1>(src, dst, n, bs);
    case DType::Q2_K: return decode_row<BlockQ2_K>(src, dst, n, bs);
    case DType::Q3_K: return decode_row<BlockQ3_K>(src, dst, n, bs);
    case DType::Q4_K: return decode_row<BlockQ4_K>(src, dst, n, bs);
    case DType::Q5_K: return decode_row<BlockQ5_K>(src, dst, n, bs);
    case DType::Q6_K: return decode_row<BlockQ6_K>(src, dst, n, bs);
    case DType::IQ4_NL: return decode_row<BlockIQ4_NL>(src, dst, n, bs);
    case DType::IQ4_XS: return decode_row<BlockIQ4_XS>(src, dst, n, bs);
    default: fail("decode: ", dtype_name(type), " is not a block-decoded type");
  }
}

}  // namespace llmpipe::cpu
