// Scalar reference conversions between F32 and the storage types (GGUF block layouts).
// These define the numbers: faster kernels are tested against them.
#pragma once

#include <cstdint>
#include <span>

#include "core/dtype.h"

namespace llmpipe::cpu {

// dst[0..n) = row of n elements of type `type` at src. n is a multiple of the block size.
void dequantize_row_f32(DType type, const void* src, float* dst, int64_t n);

// Row of n floats to `type` (any dtype); dst must hold dtype_row_bytes(type, n) bytes. The
// quantized types follow llama.cpp's reference quantizers without an importance matrix (what
// llama-quantize writes): Q4_0..Q8_0 are bit-identical to gguf-py's numpy quantize.
void quantize_row(DType type, const float* src, void* dst, int64_t n);

void quantize_row_q8_0(const float* src, BlockQ8_0* dst, int64_t n);
void quantize_row_q4_0(const float* src, BlockQ4_0* dst, int64_t n);
// The rest write their blocks (core/quant_blocks.h) to dst at any alignment.
void quantize_row_q4_1(const float* src, void* dst, int64_t n);  // quantize.cpp
void quantize_row_q5_0(const float* src, void* dst, int64_t n);
void quantize_row_q5_1(const float* src, void* dst, int64_t n);
void quantize_row_q2_k(const float* src, void* dst, int64_t n);  // quantize_k.cpp
void quantize_row_q3_k(const float* src, void* dst, int64_t n);
void quantize_row_q4_k(const float* src, void* dst, int64_t n);
void quantize_row_q5_k(const float* src, void* dst, int64_t n);
void quantize_row_q6_k(const float* src, void* dst, int64_t n);
void quantize_row_iq4_nl(const float* src, void* dst, int64_t n);  // quantize_iq4.cpp
void quantize_row_iq4_xs(const float* src, void* dst, int64_t n);

}  // namespace llmpipe::cpu
