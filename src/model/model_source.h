// Opening a model by path: hyper-parameters, tokenizer vocabulary and tensor source, whatever
// the format. Opening reads headers only; tensors are mapped later, per stage.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "formats/tensor_source.h"
#include "model/llama_hparams.h"
#include "tokenizer/vocab.h"

namespace llmpipe {

struct ModelSource {
  std::string path;  // the file (or Hugging Face directory) actually opened
  std::string name;  // general.name or the file name
  LlamaHParams hparams;
  std::shared_ptr<const TensorSource> tensors;
  // Reads the tokenizer vocabulary (only the first pipeline stage needs it).
  std::function<Vocab()> load_vocab;
};

// `path` is a .gguf file, a directory holding exactly one .gguf file, or a Hugging Face model
// directory (config.json, tokenizer.model, safetensors or PyTorch weights; see docs/hf-models.md).
// `weight_dtype` (--dtype): convert weights to this type as they are loaded (see
// converting_tensor_source.h); nullopt keeps the stored types.
ModelSource open_model(const std::string& path, std::optional<DType> weight_dtype = std::nullopt);

}  // namespace llmpipe
