// The one place where the Q/K row order of Hugging Face checkpoints meets GGUF's.
//
// transformers' LLaMA applies RoPE "rotate-half": within each head of head_dim rows, row i pairs
// with row i + head_dim/2. GGUF (llama.cpp's convert_hf_to_gguf `permute`) stores the same
// weights with the pairs adjacent, rows 2i and 2i+1:
//   w.reshape(n_head, 2, head_dim/2, in).swapaxes(1, 2).reshape(out, in)
// so GGUF row h*head_dim + 2i + j is HF row h*head_dim + j*head_dim/2 + i (j = 0, 1).
// K uses the KV head count. Rows are moved whole, so this works for any row encoding.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace llmpipe {

// dst = src with HF rows reordered into GGUF order. `rows` = n_head * head_dim, each
// `row_bytes` long; spans must hold rows * row_bytes bytes and not overlap.
void hf_to_gguf_rope_rows(std::span<const uint8_t> src, std::span<uint8_t> dst, int64_t rows,
                          size_t row_bytes, int64_t n_head);

// The inverse (GGUF → HF), for writing test fixtures and checking round trips.
void gguf_to_hf_rope_rows(std::span<const uint8_t> src, std::span<uint8_t> dst, int64_t rows,
                          size_t row_bytes, int64_t n_head);

}  // namespace llmpipe
