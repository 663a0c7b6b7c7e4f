// One tensor as a Hugging Face checkpoint file stores it (safetensors or a PyTorch zip): its
// stored name, element type, PyTorch shape and the byte range holding it. Formats produce these
// from their headers without touching tensor bytes; the model layer maps and translates them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/dtype.h"
#include "core/mapped_file.h"

namespace llmpipe::hf {

struct CheckpointTensor {
  std::string name;            // as stored, e.g. model.layers.0.self_attn.q_proj.weight
  std::string dtype_name;      // as the file names it: "BF16", "F32", "I64", "HalfStorage"...
  std::optional<DType> dtype;  // F32, F16 or BF16; nullopt for a type we cannot load
  std::vector<int64_t> shape;  // PyTorch order: shape.back() is the contiguous dimension
  std::string file;            // file holding the bytes
  uint64_t offset = 0;         // absolute byte offset in `file`
  uint64_t bytes = 0;

  int64_t n_elements() const;
  // The element type, or an Error "unsupported dtype X for tensor Y in FILE".
  DType require_dtype() const;
  // Maps exactly this tensor's bytes.
  MappedRegion map() const;
};

// Product of `shape`, failing (naming `what`) on negative dimensions or overflow past 2^62.
int64_t checked_elements(const std::vector<int64_t>& shape, const std::string& what);

}  // namespace llmpipe::hf
