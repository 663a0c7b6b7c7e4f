#include "kernels/tensor.h"

#include "core/error.h"
#include "kernels/backend.h"

namespace llmpipe {

Buffer& Buffer::operator=(Buffer&& o) noexcept {
  if (this != &o) {
    release();
    backend_ = std::exchange(o.backend_, nullptr);
    ptr_ = std::exchange(o.ptr_, nullptr);
    bytes_ = std::exchange(o.bytes_, 0);
  }
  return *this;
}

void Buffer::release() {
  if (backend_ && ptr_) backend_->free(ptr_, bytes_);
  ptr_ = nullptr;
  bytes_ = 0;
}

TensorView Buffer::view(DType dtype, int64_t rows, int64_t cols) const {
  const size_t need = dtype_row_bytes(dtype, cols) * size_t(rows);
  LLMPIPE_CHECK(need <= bytes_, "view of ", need, " bytes in a buffer of ", bytes_);
  return {ptr_, dtype, rows, cols};
}

}  // namespace llmpipe
