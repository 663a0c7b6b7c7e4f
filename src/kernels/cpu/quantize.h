// Scalar reference conversions between F32 and the storage types (GGUF block layouts).
// These define the numbers: faster kernels are tested against them.
#pragma once

#include <cstdint>
#include <span>

#include "core/dtype.h"

namespace llmpipe::cpu {

// dst[0..n) = row of n elements of type `type` at src. n is a multiple of the block size.
void dequantize_row_f32(DType type, const void* src, float* dst, int64_t n);

// Row of n floats to `type` (any dtype); dst must hold dtype_row_bytes(type, n) bytes.
void quantize_row(DType type, const float* src, void* dst, int64_t n);

void quantize_row_q8_0(const float* src, BlockQ8_0* dst, int64_t n);
void quantize_row_q4_0(const float* src, BlockQ4_0* dst, int64_t n);

}  // namespace llmpipe::cpu
