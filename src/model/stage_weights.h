// The weights one pipeline stage holds: its contiguous range of layers, plus the token embedding
// on the first stage and the final norm and lm_head on the last. Only these tensors are mapped.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "formats/tensor_source.h"
#include "kernels/backend.h"
#include "model/llama_hparams.h"

namespace llmpipe {

struct LayerRange {
  int64_t first = 0;  // first layer
  int64_t last = 0;   // one past the last layer
  int64_t size() const { return last - first; }
};

struct StageSpec {
  LayerRange layers;
  bool is_first = true;  // embeds tokens
  bool is_last = true;   // final norm, lm_head, sampling
};

struct LayerWeights {
  TensorView attn_norm;     // [1, n_embd] f32
  TensorView wq, wk, wv;    // [q_dim | kv_dim, n_embd]
  TensorView wo;            // [n_embd, q_dim]
  TensorView ffn_norm;      // [1, n_embd] f32
  TensorView w_gate, w_up;  // [n_ff, n_embd]
  TensorView w_down;        // [n_embd, n_ff]
  // Where the architecture has them (llama_arch.h), else data == nullptr:
  TensorView bq, bk, bv;      // [1, q_dim | kv_dim] f32 projection biases (qwen2)
  TensorView q_norm, k_norm;  // [1, head_dim] f32 per-head RMSNorm weights (qwen3)
};

struct StageWeights {
  std::optional<TensorView> tok_embd;     // first stage: [n_vocab, n_embd]
  std::optional<TensorView> output_norm;  // last stage: [1, n_embd] f32
  std::optional<TensorView> output;       // last stage: [n_vocab, n_embd] (maybe tok_embd's bytes)
  std::vector<LayerWeights> layers;       // layers[i] is model layer spec.layers.first + i
  std::optional<TensorView> rope_freqs;   // every stage, if the model has it: [1, head_dim/2] f32

  std::vector<std::string> tensor_names;  // every tensor this stage holds, for the rank log
  uint64_t bytes = 0;                     // bytes of those tensors
  bool tied_output = false;               // lm_head uses token_embd

  std::vector<HostTensor> host;  // keeps mappings and converted copies alive
  std::vector<Buffer> backend_copies;
};

// Loads (maps) exactly the tensors of `spec`, checking each one's shape against the
// hyper-parameters: errors name the tensor with expected and actual shapes.
StageWeights load_stage_weights(const TensorSource& source, const LlamaHParams& hparams,
                                const StageSpec& spec, Backend& backend);

// What load_stage_weights would refuse for the whole model, without loading anything: each
// missing tensor and each shape that differs from the hyper-parameters', one line per problem
// (empty: every stage of every split can load). For `info`.
std::vector<std::string> model_tensor_problems(const TensorSource& source,
                                               const LlamaHParams& hparams);

}  // namespace llmpipe
