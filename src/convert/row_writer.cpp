#include "convert/row_writer.h"

#include <algorithm>
#include <vector>

#include "kernels/cpu/quantize.h"

namespace llmpipe {

namespace {
constexpr int64_t kChunkFloats = int64_t(4) << 20;  // 16 MiB of F32 rows per chunk
}

void write_tensor_rows(gguf::Writer& writer, DType type, int64_t rows, int64_t cols,
                       ThreadPool& pool, const RowFill& fill,
                       const std::function<void(uint64_t)>& on_chunk) {
  const size_t row_bytes = dtype_row_bytes(type, cols);  // checks whole blocks
  const int64_t chunk_rows = std::clamp<int64_t>(kChunkFloats / std::max<int64_t>(cols, 1), 1, rows);
  std::vector<float> f32(size_t(chunk_rows * cols));
  std::vector<uint8_t> out(size_t(chunk_rows) * row_bytes);
  for (int64_t r0 = 0; r0 < rows; r0 += chunk_rows) {
    const int64_t n = std::min(chunk_rows, rows - r0);
    pool.parallel_for(n, [&](int64_t a, int64_t b, int) {
      if (a >= b) return;
      fill(r0 + a, std::span(f32.data() + a * cols, size_t((b - a) * cols)));
      for (int64_t r = a; r < b; ++r)
        cpu::quantize_row(type, f32.data() + r * cols, out.data() + size_t(r) * row_bytes, cols);
    });
    const size_t bytes = size_t(n) * row_bytes;
    writer.write_tensor_part(std::span(out.data(), bytes));
    if (on_chunk) on_chunk(bytes);
  }
}

}  // namespace llmpipe
