// Writes an opened model (any format) as a self-contained GGUF file: llama.* hyper-parameters,
// the tokenizer vocabulary (tokenizer.ggml.*) and every tensor in the source's layout and types.
// Streams tensor by tensor (one is held in memory at a time) into OUT.partial, renamed to OUT
// when complete, so an interrupted conversion never leaves a truncated OUT behind.
#pragma once

#include <functional>
#include <string>

#include "model/model_source.h"

namespace llmpipe {

// `progress` is called before each tensor is written (index, count, description).
void write_model_gguf(const ModelSource& model, const std::string& out_path,
                      const std::function<void(size_t, size_t, const TensorDesc&)>& progress = {});

}  // namespace llmpipe
