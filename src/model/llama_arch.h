// The architecture table: the decoders of the LLaMA family that the one forward pass
// (model/llama_stage.h) runs, what each adds to LLaMA, and every tensor they use with its GGUF
// name, Hugging Face name and expected shape. One place for names and variants, so that loaders
// for other formats translate to these and the forward pass asks the table, not the model name.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kernels/backend.h"
#include "model/llama_hparams.h"

namespace llmpipe {

enum class TensorRole {
  TokenEmbd,   // token_embd.weight       [n_embd, n_vocab]
  OutputNorm,  // output_norm.weight      [n_embd]
  Output,      // output.weight           [n_embd, n_vocab]; absent means tied to token_embd
  AttnNorm,    // blk.N.attn_norm.weight  [n_embd]
  AttnQ,       // blk.N.attn_q.weight     [n_embd, q_dim]  (q_dim = n_head * head_dim)
  AttnK,       // blk.N.attn_k.weight     [n_embd, kv_dim]
  AttnV,       // blk.N.attn_v.weight     [n_embd, kv_dim]
  AttnOut,     // blk.N.attn_output.weight [q_dim, n_embd]
  FfnNorm,     // blk.N.ffn_norm.weight   [n_embd]
  FfnGate,     // blk.N.ffn_gate.weight   [n_embd, n_ff]
  FfnUp,       // blk.N.ffn_up.weight     [n_embd, n_ff]
  FfnDown,     // blk.N.ffn_down.weight   [n_ff, n_embd]
  // Present only where the architecture (ArchInfo) or the model (rope_freqs) has them:
  AttnQBias,  // blk.N.attn_q.bias       [q_dim]   qwen2
  AttnKBias,  // blk.N.attn_k.bias       [kv_dim]  qwen2
  AttnVBias,  // blk.N.attn_v.bias       [kv_dim]  qwen2
  AttnQNorm,  // blk.N.attn_q_norm.weight [head_dim] qwen3: RMSNorm of each q head
  AttnKNorm,  // blk.N.attn_k_norm.weight [head_dim] qwen3
  RopeFreqs,  // rope_freqs.weight       [head_dim / 2] per-frequency divisors (llama3 scaling)
};

inline constexpr TensorRole kLayerRoles[] = {
    TensorRole::AttnNorm,  TensorRole::AttnQ,     TensorRole::AttnK,     TensorRole::AttnV,
    TensorRole::AttnQBias, TensorRole::AttnKBias, TensorRole::AttnVBias, TensorRole::AttnQNorm,
    TensorRole::AttnKNorm, TensorRole::AttnOut,   TensorRole::FfnNorm,   TensorRole::FfnGate,
    TensorRole::FfnUp,     TensorRole::FfnDown};

// What an architecture adds to LLaMA's decoder.
struct ArchInfo {
  ModelArch arch;
  const char* gguf_name;       // general.architecture and the metadata key prefix
  const char* hf_classes[2];   // config.json architectures (nullptr: unused entry)
  const char* model_types[2];  // config.json model_type, when architectures is absent
  RopeStyle rope;              // GGUF row order of Q/K (and so the rotation the forward pass uses)
  bool qkv_bias;               // q, k and v projections have biases
  bool qk_norm;                // per-head RMSNorm of q and k before RoPE
  // config.json's sliding_window applies only with use_sliding_window: true (Qwen's configs
  // carry a window they do not use); otherwise (Mistral) a non-null sliding_window applies.
  bool window_needs_flag;
};

const ArchInfo& arch_info(ModelArch arch);
const char* arch_gguf_name(ModelArch arch);
std::optional<ModelArch> arch_from_gguf_name(std::string_view name);
// From config.json's architectures (first known class wins) or else its model_type.
std::optional<ModelArch> arch_from_hf_config(const std::vector<std::string>& architectures,
                                             std::string_view model_type);
std::string supported_gguf_archs();  // "llama, qwen2, qwen3"
std::string supported_hf_classes();  // "LlamaForCausalLM, MistralForCausalLM, ..."

bool is_layer_role(TensorRole role);
// Whether a model with these hyper-parameters has the tensor (Output: the table lists it; a
// model may still tie it to token_embd by leaving it out).
bool role_in_model(TensorRole role, const LlamaHParams& h);
// GGUF name; `layer` is used for per-layer roles only.
std::string tensor_name(TensorRole role, int64_t layer = -1);
// Hugging Face (transformers *ForCausalLM) name: model.layers.N.self_attn.q_proj.weight...;
// empty for rope_freqs (computed from config.json's rope scaling, not stored).
std::string hf_tensor_name(TensorRole role, int64_t layer = -1);
struct RoleAndLayer {
  TensorRole role;
  int64_t layer;  // -1 for model-wide tensors
};
// Parses a GGUF name of this table ("blk.3.attn_q.weight"); nullopt for any other name.
std::optional<RoleAndLayer> role_from_name(std::string_view gguf_name);
// Q and K projections of an architecture with adjacent-pair RoPE: their output rows are ordered
// differently in HF checkpoints (rotate-half) than in GGUF; see model/hf_rope_layout.h.
bool role_has_rope_rows(TensorRole role, ModelArch arch);
// Expected shape in GGUF order (shape[0] contiguous).
std::vector<int64_t> expected_shape(TensorRole role, const LlamaHParams& h);
// Norm weights, biases and rope factors are applied elementwise by kernels that read F32 only.
bool role_requires_f32(TensorRole role);

}  // namespace llmpipe
