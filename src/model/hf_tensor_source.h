// TensorSource over a Hugging Face checkpoint: answers GGUF names (llama_arch's table) with
// GGUF-layout bytes. Names are translated (model.layers.N.self_attn.q_proj.weight ->
// blk.N.attn_q.weight), shapes reversed to GGUF order, and Q/K rows reordered for RoPE
// (model/hf_rope_layout.h) where the architecture rotates adjacent pairs (LLaMA; Qwen keeps
// HF's order). rope_freqs.weight, which HF checkpoints do not store, is computed from
// config.json's llama3 rope scaling, as llama.cpp's converter does. Stored types are kept (F32, F16, BF16); tensors are mapped one by
// one and only their shards are opened, so the model code sees a GGUF file.
#pragma once

#include <memory>

#include "formats/hf/checkpoint_set.h"
#include "formats/tensor_source.h"
#include "model/llama_hparams.h"

namespace llmpipe {

class HfTensorSource final : public TensorSource {
 public:
  // `tied`: config.json's tie_word_embeddings (then lm_head.weight is not looked for).
  HfTensorSource(std::shared_ptr<const hf::CheckpointSet> set, const LlamaHParams& hparams,
                 bool tied);
  std::string origin() const override { return set_->origin(); }
  std::optional<TensorDesc> find(std::string_view name) const override;
  std::vector<TensorDesc> list() const override;
  HostTensor load(std::string_view name) const override;
  std::vector<std::string> files_opened() const override { return set_->opened_files(); }

 private:
  const hf::CheckpointTensor* stored(std::string_view gguf_name) const;
  bool is_rope_freqs(std::string_view gguf_name) const;

  std::shared_ptr<const hf::CheckpointSet> set_;
  LlamaHParams h_;
  bool tied_;
};

}  // namespace llmpipe
