// The LLaMA decoder over a contiguous range of layers: the unit of pipeline parallelism.
// The first stage embeds tokens, every stage runs its layers, the last stage applies the final
// norm and lm_head to the rows that need logits. With one stage holding every layer this is the
// whole model. The stage owns scratch activations sized for `max_tokens` tokens per batch.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "kernels/backend.h"
#include "model/llama_hparams.h"
#include "model/stage_weights.h"
#include "runtime/kv_cache.h"

namespace llmpipe {

class LlamaStage {
 public:
  LlamaStage(const LlamaHParams& hparams, const StageSpec& spec, StageWeights weights,
             Backend& backend, KvCacheShape kv_shape, int64_t max_tokens, int64_t max_logit_rows);

  const StageSpec& spec() const { return whole_spec_; }  // with the tail's layers, if any
  const StageWeights& weights() const { return weights_; }
  const LlamaHParams& hparams() const { return h_; }
  const KvCache& kv_cache() const { return kv_; }
  Backend& backend() { return backend_; }
  int64_t max_tokens() const { return max_tokens_; }

  // Where a non-first stage puts the hidden states it receives: [n_tokens, n_embd] F32.
  TensorView input(int64_t n_tokens) const;

  // Runs the batch through the stage. First stage: `tokens` are embedded (input() is ignored);
  // other stages read input(). Returns hidden states [n, n_embd] (not last), or logits
  // [logit_rows.size(), n_vocab] of the given batch rows (last stage).
  TensorView forward(const BatchLayout& batch, std::span<const int32_t> tokens,
                     std::span<const int32_t> logit_rows);

  // Partial offload (--gpu-layers): the layers after this stage's own run on `tail`, a stage
  // on another backend that continues where this one ends (not first; last if this was to be).
  // forward() hands the hidden states over through host memory and returns the tail's output;
  // spec() then covers both.
  void set_tail(std::unique_ptr<LlamaStage> tail);
  const LlamaStage* tail() const { return tail_.get(); }
  // The backend holding forward()'s result: this stage's, or the tail's when there is one.
  Backend& output_backend() { return tail_ ? tail_->output_backend() : backend_; }

 private:
  void run_layer(const LayerWeights& w, const LayerWeights* next, KvView kv,
                 const BatchLayout& batch, int64_t n);

  LlamaHParams h_;
  RopeParams rope_;  // from the architecture table, the hyper-parameters and rope_freqs
  StageSpec spec_;
  StageWeights weights_;
  Backend& backend_;
  KvCache kv_;
  int64_t max_tokens_, max_logit_rows_;
  // Scratch activations, shape comments per token row.
  Buffer x_;              // [max_tokens, n_embd]   residual stream
  Buffer h_buf_;          // [max_tokens, n_embd]   normed input / attention output projection
  Buffer q_;              // [max_tokens, q_dim]  (q_dim = n_head * head_dim; n_embd for LLaMA)
  Buffer k_, v_;          // [max_tokens, kv_dim]
  Buffer attn_;           // [max_tokens, q_dim]
  Buffer gate_, up_;      // [max_tokens, n_ff]
  Buffer sel_;            // [max_logit_rows, n_embd] rows that need logits
  Buffer logits_;         // [max_logit_rows, n_vocab]
  StageSpec whole_spec_;  // spec_ extended by the tail's layers
  std::unique_ptr<LlamaStage> tail_;  // --gpu-layers: the layers on the other backend
  std::vector<float> hop_;            // hidden states on their way to the tail
};

}  // namespace llmpipe
