#include "model/converting_tensor_source.h"

#include <vector>

#include "core/error.h"
#include "kernels/cpu/quantize.h"

namespace llmpipe {

namespace {
TensorDesc converted(TensorDesc d, DType t) {
  if (d.dtype == t) return d;
  const int64_t cols = d.shape.empty() ? 1 : d.shape[0];
  int64_t rows = 1;
  for (size_t i = 1; i < d.shape.size(); ++i) rows *= d.shape[i];
  d.dtype = t;
  d.bytes = uint64_t(rows) * dtype_row_bytes(t, cols);
  return d;
}
}  // namespace

std::optional<DType> weight_dtype_from_name(const std::string& name) {
  if (name == "keep") return std::nullopt;
  const auto t = dtype_from_name(name);
  if (!t) {
    std::string names;
    for (int i = 0; i < kDTypeCount; ++i) names += cat(", ", dtype_name(static_cast<DType>(i)));
    fail("unknown weight type '", name, "' (use keep", names, ")");
  }
  return t;
}

DType ConvertingTensorSource::target_for(const TensorDesc& d) const {
  if (d.shape.size() < 2) return DType::F32;
  if (d.shape[0] % dtype_block_size(target_) != 0) return d.dtype;
  return target_;
}

std::optional<TensorDesc> ConvertingTensorSource::find(std::string_view name) const {
  auto d = inner_->find(name);
  if (!d) return d;
  return converted(*d, target_for(*d));
}

std::vector<TensorDesc> ConvertingTensorSource::list() const {
  auto all = inner_->list();
  for (auto& d : all) d = converted(d, target_for(d));
  return all;
}

HostTensor ConvertingTensorSource::load(std::string_view name) const {
  HostTensor in = inner_->load(name);
  const DType t = target_for(in.desc);
  if (t == in.desc.dtype) return in;
  HostTensor out;
  out.desc = converted(in.desc, t);
  const int64_t cols = in.desc.shape.empty() ? 1 : in.desc.shape[0];
  const int64_t rows = cols > 0 ? int64_t(out.desc.bytes / dtype_row_bytes(t, cols)) : 0;
  auto buf = std::make_shared<std::vector<uint8_t>>(out.desc.bytes);
  std::vector<float> row(static_cast<size_t>(cols));
  const size_t in_row = dtype_row_bytes(in.desc.dtype, cols), out_row = dtype_row_bytes(t, cols);
  const auto* src = static_cast<const uint8_t*>(in.data);
  for (int64_t r = 0; r < rows; ++r) {
    cpu::dequantize_row_f32(in.desc.dtype, src + size_t(r) * in_row, row.data(), cols);
    cpu::quantize_row(t, row.data(), buf->data() + size_t(r) * out_row, cols);
  }
  out.data = buf->data();
  out.owner = std::move(buf);
  return out;
}

}  // namespace llmpipe
