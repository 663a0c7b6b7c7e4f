// Independent float64 decoders of the GGUF storage types, written from the format definitions
// (IEEE half, bfloat16, ggml's Q8_0 and Q4_0 blocks) with ldexp and bit fields only: they share
// no code with src/core/half.h or src/kernels/cpu/quantize.cpp, which tests compare against them.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <vector>

#include "core/dtype.h"

namespace llmpipe::test {

// IEEE 754 binary16: 1 sign bit, 5 exponent bits (bias 15), 10 mantissa bits.
inline double f16_value(uint16_t h) {
  const int e = (h >> 10) & 0x1f, m = h & 0x3ff;
  double v;
  if (e == 0) v = std::ldexp(double(m), -24);  // subnormal (and zero): m * 2^-14 * 2^-10
  else if (e == 31) v = m ? std::numeric_limits<double>::quiet_NaN() : HUGE_VAL;
  else v = std::ldexp(double(1024 + m), e - 15 - 10);
  return (h & 0x8000) ? -v : v;
}

// bfloat16: the upper half of an IEEE binary32: 1 sign, 8 exponent (bias 127), 7 mantissa bits.
inline double bf16_value(uint16_t h) {
  const int e = (h >> 7) & 0xff, m = h & 0x7f;
  double v;
  if (e == 0) v = std::ldexp(double(m), -126 - 7);
  else if (e == 255) v = m ? std::numeric_limits<double>::quiet_NaN() : HUGE_VAL;
  else v = std::ldexp(double(128 + m), e - 127 - 7);
  return (h & 0x8000) ? -v : v;
}

inline uint16_t load_u16(const uint8_t* p) { return uint16_t(p[0] | (p[1] << 8)); }

// Decodes n elements of `type` from raw little-endian bytes.
// Q8_0 block (34 bytes): f16 scale d, then 32 int8 q; x[j] = d * q[j].
// Q4_0 block (18 bytes): f16 scale d, then 16 bytes; byte j holds element j in its low nibble and
// element j + 16 in its high nibble; x = d * (nibble - 8).
inline std::vector<double> decode_f64(DType type, const uint8_t* p, int64_t n) {
  std::vector<double> out(static_cast<size_t>(n));
  switch (type) {
    case DType::F32:
      for (int64_t i = 0; i < n; ++i) {
        float f;
        std::memcpy(&f, p + 4 * i, 4);
        out[size_t(i)] = f;
      }
      break;
    case DType::F16:
      for (int64_t i = 0; i < n; ++i) out[size_t(i)] = f16_value(load_u16(p + 2 * i));
      break;
    case DType::BF16:
      for (int64_t i = 0; i < n; ++i) out[size_t(i)] = bf16_value(load_u16(p + 2 * i));
      break;
    case DType::Q8_0:
      for (int64_t b = 0; b < n / 32; ++b) {
        const uint8_t* blk = p + 34 * b;
        const double d = f16_value(load_u16(blk));
        for (int j = 0; j < 32; ++j) out[size_t(b * 32 + j)] = d * double(int8_t(blk[2 + j]));
      }
      break;
    case DType::Q4_0:
      for (int64_t b = 0; b < n / 32; ++b) {
        const uint8_t* blk = p + 18 * b;
        const double d = f16_value(load_u16(blk));
        for (int j = 0; j < 16; ++j) {
          out[size_t(b * 32 + j)] = d * double((blk[2 + j] & 0x0f) - 8);
          out[size_t(b * 32 + j + 16)] = d * double((blk[2 + j] >> 4) - 8);
        }
      }
      break;
    default:  // the block-decoded types are checked against gguf-py (test_block_decode.sh)
      throw std::runtime_error("decode_f64: no float64 decode of this type");
  }
  return out;
}

}  // namespace llmpipe::test
