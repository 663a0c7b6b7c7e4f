// The LLaMA tensor table: every tensor the model uses, its GGUF name and its expected shape.
// One place for names, so that loaders for other formats translate to these.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "model/llama_hparams.h"

namespace llmpipe {

enum class TensorRole {
  TokenEmbd,   // token_embd.weight       [n_embd, n_vocab]
  OutputNorm,  // output_norm.weight      [n_embd]
  Output,      // output.weight           [n_embd, n_vocab]; absent means tied to token_embd
  AttnNorm,    // blk.N.attn_norm.weight  [n_embd]
  AttnQ,       // blk.N.attn_q.weight     [n_embd, n_embd]
  AttnK,       // blk.N.attn_k.weight     [n_embd, kv_dim]
  AttnV,       // blk.N.attn_v.weight     [n_embd, kv_dim]
  AttnOut,     // blk.N.attn_output.weight [n_embd, n_embd]
  FfnNorm,     // blk.N.ffn_norm.weight   [n_embd]
  FfnGate,     // blk.N.ffn_gate.weight   [n_embd, n_ff]
  FfnUp,       // blk.N.ffn_up.weight     [n_embd, n_ff]
  FfnDown,     // blk.N.ffn_down.weight   [n_ff, n_embd]
};

inline constexpr TensorRole kLayerRoles[] = {
    TensorRole::AttnNorm, TensorRole::AttnQ,   TensorRole::AttnK,  TensorRole::AttnV,
    TensorRole::AttnOut,  TensorRole::FfnNorm, TensorRole::FfnGate, TensorRole::FfnUp,
    TensorRole::FfnDown};

bool is_layer_role(TensorRole role);
// GGUF name; `layer` is used for per-layer roles only.
std::string tensor_name(TensorRole role, int64_t layer = -1);
// Hugging Face (transformers LlamaForCausalLM) name: model.layers.N.self_attn.q_proj.weight...
std::string hf_tensor_name(TensorRole role, int64_t layer = -1);
struct RoleAndLayer {
  TensorRole role;
  int64_t layer;  // -1 for model-wide tensors
};
// Parses a GGUF name of this table ("blk.3.attn_q.weight"); nullopt for any other name.
std::optional<RoleAndLayer> role_from_name(std::string_view gguf_name);
// Q and K projections: their output rows are ordered for RoPE differently in HF checkpoints
// (rotate-half) than in GGUF (adjacent pairs); see model/hf_rope_layout.h.
bool role_has_rope_rows(TensorRole role);
// Expected shape in GGUF order (shape[0] contiguous).
std::vector<int64_t> expected_shape(TensorRole role, const LlamaHParams& h);
// Norm weights are applied elementwise by kernels that read F32 only.
bool role_requires_f32(TensorRole role);

}  // namespace llmpipe
