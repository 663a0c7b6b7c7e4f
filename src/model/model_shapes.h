// Named model shapes: the hyper-parameters of well-known LLaMA-family models, in one place, so
// that synthetic models (`llmpipe synth`) and benchmarks use exactly the published dimensions.
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "model/llama_hparams.h"

namespace llmpipe {

struct ModelShape {
  std::string_view name;         // "openllama-3b"
  std::string_view description;  // one line, for --help and `llmpipe synth --list`
  LlamaHParams hparams;
};

// Every known shape, smallest first.
std::span<const ModelShape> model_shapes();
// The shape called `name`; an Error listing the valid names otherwise.
const ModelShape& find_model_shape(std::string_view name);
std::string model_shape_names();  // "tiny, openllama-3b, ..."

}  // namespace llmpipe
