// What a GGUF file says it is and what it holds: llama.cpp's general.file_type (enum llama_ftype
// in llama.cpp's include/llama.h) against the actual mix of tensor types. The declared type is a
// label only (every tensor carries its own type, and the reader trusts those), so a mismatch is
// worth a warning in `llmpipe info`, not an error.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/dtype.h"
#include "formats/gguf_reader.h"

namespace llmpipe::gguf {

// llama_ftype's name without the LLAMA_FTYPE_ prefix ("MOSTLY_Q4_K_M"); nullopt for an id
// llama.cpp does not define (or defines only as removed).
std::optional<std::string_view> file_type_name(int64_t id);

// The type most matrices of a file of that llama_ftype have (MOSTLY_Q4_K_M -> q4_k; its other
// matrices are q6_k); nullopt for the types this engine cannot read (IQ2_XXS, TQ1_0, ...).
std::optional<DType> file_type_matrix_dtype(int64_t id);

// Tensors and bytes of one type.
struct TypeShare {
  DType dtype;
  size_t tensors = 0;
  uint64_t bytes = 0;
};
// Every type present, most bytes first (ties: DType order).
std::vector<TypeShare> tensor_mix(std::span<const TensorInfo> tensors);
// "157 q5_0 (1.20 GiB), 27 q8_0 (301.50 MiB), 65 f32 (1.00 MiB)".
std::string format_mix(const std::vector<TypeShare>& mix);

// "1.20 GiB", "512 B": binary units, two decimals above bytes.
std::string human_bytes(uint64_t bytes);

// A warning when general.file_type names a type that none of the matrices (tensors of two or
// more dimensions) has, e.g. "general.file_type = 15 (MOSTLY_Q4_K_M) promises q4_k matrices,
// but none of the 29 matrices is q4_k ...". nullopt when the key is absent, consistent, or
// names a type this engine cannot read (its tensors would have been refused by the reader).
std::optional<std::string> file_type_mismatch(const Reader& file);

}  // namespace llmpipe::gguf
