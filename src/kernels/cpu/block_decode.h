// Scalar decode of the block-decoded types (core/quant_blocks.h) to floats: the
// numbers of each format, equal bit for bit to gguf-py's numpy dequantization (the same
// products and sums in the same order; this file is compiled without FMA contraction).
#pragma once

#include <cstdint>

#include "core/dtype.h"

namespace llmpipe::cpu {

// Whether `type` is decoded here (the legacy, K-quant and IQ4 types).
bool decoded_by_blocks(DType type);

// dst[0..n) = the n weights of a row of `type` at src. n is a whole number of blocks (checked).
void decode_blocks_f32(DType type, const void* src, float* dst, int64_t n);

// The row in the SIMD kernels' unpacked form (block_unpack.h; block_unpack_row.cpp), weight
// e = d16[e / 16] * codes[e] + m16[e / 16]: codes for k rounded up to 256, d16 and m16 a
// sixteenth of that (the padding zero). For tests: the reference the unpack is checked against.
void unpack_row_codes(DType type, const void* src, int64_t k, uint8_t* codes, float* d16, float* m16);

}  // namespace llmpipe::cpu
