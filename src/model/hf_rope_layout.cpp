#include "model/hf_rope_layout.h"

#include <cstring>

#include "core/error.h"

namespace llmpipe {

namespace {
// Calls move(gguf_row, hf_row) for every row.
template <typename Fn>
void for_each_row(int64_t rows, size_t row_bytes, int64_t n_head, size_t src_size,
                  size_t dst_size, Fn&& move) {
  if (n_head <= 0 || rows % n_head != 0 || (rows / n_head) % 2 != 0)
    fail("RoPE row reorder: ", rows, " rows do not split into ", n_head,
         " heads of an even head dimension");
  LLMPIPE_CHECK(src_size == size_t(rows) * row_bytes && dst_size == src_size,
                "RoPE row reorder: buffer sizes");
  const int64_t head_dim = rows / n_head, half = head_dim / 2;
  for (int64_t h = 0; h < n_head; ++h)
    for (int64_t i = 0; i < half; ++i)
      for (int64_t j = 0; j < 2; ++j)
        move(h * head_dim + 2 * i + j, h * head_dim + j * half + i);
}
}  // namespace

void hf_to_gguf_rope_rows(std::span<const uint8_t> src, std::span<uint8_t> dst, int64_t rows,
                          size_t row_bytes, int64_t n_head) {
  for_each_row(rows, row_bytes, n_head, src.size(), dst.size(), [&](int64_t g, int64_t hf) {
    std::memcpy(dst.data() + size_t(g) * row_bytes, src.data() + size_t(hf) * row_bytes, row_bytes);
  });
}

void gguf_to_hf_rope_rows(std::span<const uint8_t> src, std::span<uint8_t> dst, int64_t rows,
                          size_t row_bytes, int64_t n_head) {
  for_each_row(rows, row_bytes, n_head, src.size(), dst.size(), [&](int64_t g, int64_t hf) {
    std::memcpy(dst.data() + size_t(hf) * row_bytes, src.data() + size_t(g) * row_bytes, row_bytes);
  });
}

}  // namespace llmpipe
