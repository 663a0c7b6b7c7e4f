#include "formats/hf/checkpoint_tensor.h"

#include "core/error.h"

namespace llmpipe::hf {

int64_t checked_elements(const std::vector<int64_t>& shape, const std::string& what) {
  constexpr int64_t kMax = int64_t(1) << 62;
  int64_t n = 1;
  for (const int64_t d : shape) {
    if (d < 0) fail(what, ": negative dimension ", d);
    if (d != 0 && n > kMax / d) fail(what, ": shape has more than 2^62 elements");
    n *= d;
  }
  return n;
}

int64_t CheckpointTensor::n_elements() const { return checked_elements(shape, name); }

DType CheckpointTensor::require_dtype() const {
  if (!dtype)
    fail(file, ": unsupported dtype ", dtype_name, " for tensor ", name,
         " (supported: F32, F16, BF16)");
  return *dtype;
}

MappedRegion CheckpointTensor::map() const { return MappedRegion(file, offset, size_t(bytes)); }

}  // namespace llmpipe::hf
