// Scalar decode of the block types without SIMD kernels (core/quant_blocks.h) to floats: the
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

}  // namespace llmpipe::cpu
