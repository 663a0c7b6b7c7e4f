// Converts another TensorSource's weights to one element type as they are loaded (`--dtype`):
// 2-D weight matrices become `target` (F32, F16, BF16, Q8_0 or Q4_0; quantized row by row),
// 1-D tensors (norms) become F32. A matrix whose rows are not whole blocks of a quantized
// target keeps its stored type. Works for any source, and nothing is converted before a
// stage asks for its own tensors.
#pragma once

#include <memory>

#include "formats/tensor_source.h"

namespace llmpipe {

class ConvertingTensorSource final : public TensorSource {
 public:
  ConvertingTensorSource(std::shared_ptr<const TensorSource> inner, DType target)
      : inner_(std::move(inner)), target_(target) {}
  std::string origin() const override { return inner_->origin(); }
  std::optional<TensorDesc> find(std::string_view name) const override;
  std::vector<TensorDesc> list() const override;
  HostTensor load(std::string_view name) const override;
  std::vector<std::string> files_opened() const override { return inner_->files_opened(); }

  // The type `desc` is converted to.
  DType target_for(const TensorDesc& desc) const;

 private:
  std::shared_ptr<const TensorSource> inner_;
  DType target_;
};

// "keep" -> nullopt, else the dtype; an Error lists the accepted names.
std::optional<DType> weight_dtype_from_name(const std::string& name);

}  // namespace llmpipe
