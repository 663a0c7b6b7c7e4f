// GGUF metadata of a LLaMA model as llama.cpp writes it: general.*, llama.* hyper-parameters
// and tokenizer.ggml.* vocabulary keys.
#pragma once

#include <cstdint>
#include <string>

#include "core/dtype.h"
#include "formats/gguf_writer.h"
#include "model/llama_hparams.h"
#include "tokenizer/vocab.h"

namespace llmpipe {

// llama.cpp's general.file_type (llama_ftype) for a model whose matrices are `type`.
uint32_t gguf_file_type(DType type);

void set_llama_metadata(gguf::Writer& w, const LlamaHParams& h, const std::string& name,
                        DType weight_type);
// general.architecture and the <arch>.* hyper-parameter keys (llama.*, qwen2.*, qwen3.*) as
// llama.cpp writes them; what hparams_from_gguf reads back.
void set_hparams_metadata(gguf::Writer& w, const LlamaHParams& h);

}  // namespace llmpipe
