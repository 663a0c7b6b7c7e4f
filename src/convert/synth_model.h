// `llmpipe synth`: a GGUF model of a given shape with seeded random weights and a synthetic
// vocabulary, written one tensor (and one chunk of rows) at a time, so memory stays small
// whatever the size. The same shape, type and seed always give the same bytes.
#pragma once

#include <cstdint>
#include <string>

#include "core/dtype.h"
#include "model/model_shapes.h"

namespace llmpipe {

struct SynthOptions {
  DType type = DType::F32;  // matrices (token_embd and output included); norms stay F32
  uint64_t seed = 0;
  int threads = 1;
  bool progress = false;  // tensor i/N, MB written, on stderr
};

struct SynthSummary {
  size_t n_tensors = 0;
  int64_t n_params = 0;
  uint64_t tensor_bytes = 0;
  uint64_t file_bytes = 0;
};

SynthSummary synthesize_model(const ModelShape& shape, const SynthOptions& options,
                              const std::string& path);

}  // namespace llmpipe
