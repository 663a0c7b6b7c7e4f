// GGUF block layouts of the quantized types beyond Q8_0/Q4_0 (dtype.h), as ggml stores them
// (ggml-common.h; the GGUF spec). Facts of the file format: field order and sizes are fixed.
// How each decodes to floats: kernels/cpu/block_decode.cpp.
#pragma once

#include <cstdint>

#include "core/dtype.h"

namespace llmpipe {

inline constexpr int kQK_K = 256;  // elements per K-quant super-block

struct BlockQ4_1 {     // value = d * q + m, q in [0, 15]
  uint16_t d, m;       // f16
  uint8_t qs[kQK / 2]; // low nibbles: weights 0..15, high nibbles: 16..31
};
struct BlockQ5_0 {     // value = d * (q - 16), q in [0, 31]
  uint16_t d;
  uint8_t qh[4];       // bit j (little-endian u32): fifth bit of weight j
  uint8_t qs[kQK / 2]; // low four bits, as Q4_0
};
struct BlockQ5_1 {     // value = d * q + m, q in [0, 31]
  uint16_t d, m;
  uint8_t qh[4];
  uint8_t qs[kQK / 2];
};
struct BlockQ2_K {           // value = d * (scales[s] & 15) * q - dmin * (scales[s] >> 4)
  uint8_t scales[kQK_K / 16];  // per 16 weights: 4-bit scale, 4-bit min
  uint8_t qs[kQK_K / 4];       // 2-bit codes
  uint16_t d, dmin;            // f16
};
struct BlockQ3_K {           // value = d * (scale - 32) * (q - 4 * !hbit)
  uint8_t hmask[kQK_K / 8];  // third bit of each code
  uint8_t qs[kQK_K / 4];     // low two bits
  uint8_t scales[12];        // sixteen 6-bit scales
  uint16_t d;
};
struct BlockQ4_K {           // value = d * sc * q - dmin * m, per 32 weights 6-bit sc and m
  uint16_t d, dmin;
  uint8_t scales[12];
  uint8_t qs[kQK_K / 2];
};
struct BlockQ5_K {           // as Q4_K with a fifth bit per code
  uint16_t d, dmin;
  uint8_t scales[12];
  uint8_t qh[kQK_K / 8];
  uint8_t qs[kQK_K / 2];
};
struct BlockQ6_K {           // value = d * scales[s] * (q - 32), per 16 weights an int8 scale
  uint8_t ql[kQK_K / 2];     // low four bits
  uint8_t qh[kQK_K / 4];     // high two bits
  int8_t scales[kQK_K / 16];
  uint16_t d;
};
struct BlockIQ4_NL {         // value = d * kIQ4Values[q]
  uint16_t d;
  uint8_t qs[kQK / 2];
};
struct BlockIQ4_XS {         // value = d * (scale - 32) * kIQ4Values[q], per 32 weights a 6-bit scale
  uint16_t d;
  uint16_t scales_h;         // high two bits of the eight scales
  uint8_t scales_l[kQK_K / 64];  // low four bits
  uint8_t qs[kQK_K / 2];
};
static_assert(sizeof(BlockQ4_1) == 20 && sizeof(BlockQ5_0) == 22 && sizeof(BlockQ5_1) == 24);
static_assert(sizeof(BlockQ2_K) == 84 && sizeof(BlockQ3_K) == 110 && sizeof(BlockQ4_K) == 144);
static_assert(sizeof(BlockQ5_K) == 176 && sizeof(BlockQ6_K) == 210);
static_assert(sizeof(BlockIQ4_NL) == 18 && sizeof(BlockIQ4_XS) == 136);

// The sixteen non-linear levels of IQ4_NL / IQ4_XS codes.
inline constexpr int8_t kIQ4Values[16] = {-127, -104, -83, -65, -49, -35, -22, -10,
                                          1,    13,   25,  38,  53,  69,  89,  113};

}  // namespace llmpipe
