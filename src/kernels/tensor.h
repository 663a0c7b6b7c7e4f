// Tensors as kernels see them: 2-D, row-major views into a backend's memory. Model code passes
// views around and slices rows, but never dereferences `data`: on a GPU backend it is device memory.
#pragma once

#include <cstddef>
#include <cstdint>
#include <utility>

#include "core/dtype.h"

namespace llmpipe {

struct TensorView {
  void* data = nullptr;
  DType dtype = DType::F32;
  int64_t rows = 0;
  int64_t cols = 0;  // elements per row (contiguous)
  // 0: rows contiguous (GGUF layout). Otherwise a weight a backend rearranged for its kernels:
  // CPU, rows interleaved in groups of this many (kernels/cpu/packed_weights.h); CUDA, 1 for
  // quants and block scales split apart (kernels/cuda/split_layout.cuh). Only that backend's
  // matmul reads it, and it must not be sliced or reshaped.
  int32_t packed_rows = 0;

  size_t row_bytes() const { return dtype_row_bytes(dtype, cols); }
  size_t bytes() const { return row_bytes() * size_t(rows); }
  // Rows [first, first + n): pointer arithmetic only, valid for every backend.
  TensorView rows_slice(int64_t first, int64_t n) const {
    return {static_cast<uint8_t*>(data) + size_t(first) * row_bytes(), dtype, n, cols};
  }
  // The same memory seen with another shape of equal size (e.g. [n, heads*hd] as [n*heads, hd]).
  TensorView reshaped(int64_t new_rows, int64_t new_cols) const {
    return {data, dtype, new_rows, new_cols};
  }
};

class Backend;

// Memory owned by a backend, freed when the Buffer goes away (RAII).
class Buffer {
 public:
  Buffer() = default;
  Buffer(Backend* backend, void* ptr, size_t bytes) : backend_(backend), ptr_(ptr), bytes_(bytes) {}
  Buffer(Buffer&& o) noexcept { *this = std::move(o); }
  Buffer& operator=(Buffer&& o) noexcept;
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;
  ~Buffer() { release(); }

  void* data() const { return ptr_; }
  size_t bytes() const { return bytes_; }
  TensorView view(DType dtype, int64_t rows, int64_t cols) const;  // checks the size fits

 private:
  void release();
  Backend* backend_ = nullptr;
  void* ptr_ = nullptr;
  size_t bytes_ = 0;
};

}  // namespace llmpipe
