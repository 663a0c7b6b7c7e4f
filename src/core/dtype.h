// Element types of weights and activations, with the GGUF block layouts of the quantized ones.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace llmpipe {

// The order is the table's in dtype.cpp. Q8_0 and Q4_0 have SIMD kernels and packed layouts;
// the others (their blocks in core/quant_blocks.h) are decoded block by block (block_decode.h).
enum class DType : uint8_t {
  F32, F16, BF16, Q8_0, Q4_0,
  Q4_1, Q5_0, Q5_1,                  // legacy blocks of 32
  Q2_K, Q3_K, Q4_K, Q5_K, Q6_K,      // super-blocks of 256
  IQ4_NL, IQ4_XS,                    // non-linear 4-bit codes (blocks of 32 / 256)
};
inline constexpr int kDTypeCount = 15;

// Quantized blocks as GGUF stores them (32 weights each).
inline constexpr int kQK = 32;
struct BlockQ8_0 {
  uint16_t d;       // scale, f16
  int8_t qs[kQK];   // value = d * qs[i]
};
struct BlockQ4_0 {
  uint16_t d;           // scale, f16
  uint8_t qs[kQK / 2];  // low nibbles: weights 0..15, high nibbles: 16..31; value = d * (q - 8)
};
static_assert(sizeof(BlockQ8_0) == 34);
static_assert(sizeof(BlockQ4_0) == 18);

std::string_view dtype_name(DType t);                    // "f32", "q4_0", ...
std::optional<DType> dtype_from_name(std::string_view);  // inverse of dtype_name
int64_t dtype_block_size(DType t);                       // elements per block (1 for plain types)
int64_t dtype_block_bytes(DType t);                      // bytes per block
bool dtype_is_quantized(DType t);                        // blocks with scales (not f32/f16/bf16)
// Bytes of a row of n elements; n must be a multiple of the block size (checked).
size_t dtype_row_bytes(DType t, int64_t n);

// GGUF's numeric type ids (ggml_type).
uint32_t dtype_to_ggml(DType t);
std::optional<DType> dtype_from_ggml(uint32_t ggml_type);
std::string_view ggml_type_name(uint32_t ggml_type);  // also names types we do not support
std::string supported_ggml_type_names();             // "F32, F16, BF16, Q8_0, ..." (ggml's names)

}  // namespace llmpipe
