// TensorSource over a GGUF file: each tensor is memory-mapped on its own when loaded.
#pragma once

#include <memory>

#include "formats/gguf_reader.h"
#include "formats/tensor_source.h"

namespace llmpipe {

class GgufTensorSource final : public TensorSource {
 public:
  explicit GgufTensorSource(std::shared_ptr<const gguf::Reader> file) : file_(std::move(file)) {}
  std::string origin() const override { return file_->path(); }
  std::optional<TensorDesc> find(std::string_view name) const override;
  std::vector<TensorDesc> list() const override;
  HostTensor load(std::string_view name) const override;

 private:
  std::shared_ptr<const gguf::Reader> file_;
};

}  // namespace llmpipe
