// `llmpipe quantize`: converts a GGUF model's weight matrices (every tensor of two or more
// dimensions, token_embd and output included) to another type, from any type we can read
// (dequantized to F32 first); 1-D tensors (norms) are stored as F32. All metadata is copied
// (general.file_type updated). Streaming: one chunk of rows in memory at a time.
// A matrix whose rows are not a whole number of blocks (e.g. stories260K's ffn_down, rows of 172)
// is an error naming it, unless a fallback type is given: such tensors are then stored in it.
// With a llama.cpp preset (convert/quant_presets.h: Q4_K_M, IQ4_XS, ...) instead, every tensor
// gets the type llama-quantize would give it, and general.file_type the preset's llama_ftype.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "convert/quant_presets.h"
#include "core/dtype.h"

namespace llmpipe {

struct QuantizeOptions {
  DType type = DType::Q8_0;
  std::optional<DType> fallback = std::nullopt;  // for matrices whose rows do not fit `type`'s blocks
  const QuantPreset* preset = nullptr;  // set: its per-tensor types; `type` and `fallback` unused
  int threads = 1;
  bool progress = false;
};

struct QuantizeSummary {
  size_t n_tensors = 0;
  size_t n_converted = 0;  // tensors whose type changed
  uint64_t in_bytes = 0;   // tensor data read
  uint64_t out_bytes = 0;  // tensor data written
  std::vector<std::string> fallback_tensors;  // stored in the fallback type (single type only)
  std::vector<DType> types;                   // every tensor's type, in the file's order
};

QuantizeSummary quantize_model(const std::string& in_path, const std::string& out_path,
                               const QuantizeOptions& options);

}  // namespace llmpipe
