// Where a model's tensors come from, whatever the file format: the model asks for tensors by
// their GGUF name and gets host bytes in GGUF layout. A GGUF file maps them; other formats
// (safetensors, PyTorch checkpoints) translate names and layouts behind this interface.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/dtype.h"

namespace llmpipe {

struct TensorDesc {
  std::string name;
  DType dtype = DType::F32;
  std::vector<int64_t> shape;  // GGUF order: shape[0] contiguous
  uint64_t bytes = 0;
  std::string shape_string() const;
};

// Bytes of one tensor in host memory; `owner` keeps them alive (a mapping or a buffer).
struct HostTensor {
  TensorDesc desc;
  const void* data = nullptr;
  std::shared_ptr<const void> owner;
};

class TensorSource {
 public:
  virtual ~TensorSource() = default;
  virtual std::string origin() const = 0;  // file or directory, for messages
  virtual std::optional<TensorDesc> find(std::string_view name) const = 0;
  virtual std::vector<TensorDesc> list() const = 0;
  // Maps or reads only this tensor. Errors name the tensor.
  virtual HostTensor load(std::string_view name) const = 0;
  // Files whose tensors have been opened so far, for formats spread over several files
  // (sharded checkpoints); empty for a single file. Shows that a stage read only its shards.
  virtual std::vector<std::string> files_opened() const { return {}; }
};

}  // namespace llmpipe
