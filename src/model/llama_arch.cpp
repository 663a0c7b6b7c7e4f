#include "model/llama_arch.h"

#include "core/error.h"

namespace llmpipe {

namespace {
struct RoleInfo {
  TensorRole role;
  const char* suffix;  // name, or name after "blk.N." for layer roles
  bool per_layer;
  const char* hf_suffix;  // Hugging Face name, or name after "model.layers.N." for layer roles
};
constexpr RoleInfo kRoles[] = {
    {TensorRole::TokenEmbd, "token_embd.weight", false, "model.embed_tokens.weight"},
    {TensorRole::OutputNorm, "output_norm.weight", false, "model.norm.weight"},
    {TensorRole::Output, "output.weight", false, "lm_head.weight"},
    {TensorRole::AttnNorm, "attn_norm.weight", true, "input_layernorm.weight"},
    {TensorRole::AttnQ, "attn_q.weight", true, "self_attn.q_proj.weight"},
    {TensorRole::AttnK, "attn_k.weight", true, "self_attn.k_proj.weight"},
    {TensorRole::AttnV, "attn_v.weight", true, "self_attn.v_proj.weight"},
    {TensorRole::AttnOut, "attn_output.weight", true, "self_attn.o_proj.weight"},
    {TensorRole::FfnNorm, "ffn_norm.weight", true, "post_attention_layernorm.weight"},
    {TensorRole::FfnGate, "ffn_gate.weight", true, "mlp.gate_proj.weight"},
    {TensorRole::FfnUp, "ffn_up.weight", true, "mlp.up_proj.weight"},
    {TensorRole::FfnDown, "ffn_down.weight", true, "mlp.down_proj.weight"},
    {TensorRole::AttnQBias, "attn_q.bias", true, "self_attn.q_proj.bias"},
    {TensorRole::AttnKBias, "attn_k.bias", true, "self_attn.k_proj.bias"},
    {TensorRole::AttnVBias, "attn_v.bias", true, "self_attn.v_proj.bias"},
    {TensorRole::AttnQNorm, "attn_q_norm.weight", true, "self_attn.q_norm.weight"},
    {TensorRole::AttnKNorm, "attn_k_norm.weight", true, "self_attn.k_norm.weight"},
    {TensorRole::RopeFreqs, "rope_freqs.weight", false, ""},
};
const RoleInfo& info(TensorRole r) {
  return kRoles[static_cast<int>(r)];
}

// Mistral is LLaMA with a sliding window (hyper-parameter), in GGUF too (llama.cpp writes it as
// llama). Qwen2 and Qwen3 keep HF's Q/K row order in GGUF and rotate halves (NEOX RoPE).
constexpr ArchInfo kArchs[] = {
    {ModelArch::Llama,
     "llama",
     {"LlamaForCausalLM", "MistralForCausalLM"},
     {"llama", "mistral"},
     RopeStyle::Adjacent,
     false,
     false,
     false},
    {ModelArch::Qwen2,
     "qwen2",
     {"Qwen2ForCausalLM", nullptr},
     {"qwen2", nullptr},
     RopeStyle::Neox,
     true,
     false,
     true},
    {ModelArch::Qwen3,
     "qwen3",
     {"Qwen3ForCausalLM", nullptr},
     {"qwen3", nullptr},
     RopeStyle::Neox,
     false,
     true,
     true},
};
}  // namespace

const ArchInfo& arch_info(ModelArch arch) {
  for (const auto& a : kArchs)
    if (a.arch == arch) return a;
  fail("unknown architecture id ", int(arch));
}

const char* arch_gguf_name(ModelArch arch) {
  return arch_info(arch).gguf_name;
}

std::optional<ModelArch> arch_from_gguf_name(std::string_view name) {
  for (const auto& a : kArchs)
    if (name == a.gguf_name) return a.arch;
  return std::nullopt;
}

std::optional<ModelArch> arch_from_hf_config(const std::vector<std::string>& architectures,
                                             std::string_view model_type) {
  for (const auto& cls : architectures)
    for (const auto& a : kArchs)
      for (const char* c : a.hf_classes)
        if (c && cls == c) return a.arch;
  if (!architectures.empty()) return std::nullopt;  // named, but none of ours
  for (const auto& a : kArchs)
    for (const char* t : a.model_types)
      if (t && model_type == t) return a.arch;
  return std::nullopt;
}

std::string supported_gguf_archs() {
  std::string s;
  for (const auto& a : kArchs) s += cat(s.empty() ? "" : ", ", a.gguf_name);
  return s;
}

std::string supported_hf_classes() {
  std::string s;
  for (const auto& a : kArchs)
    for (const char* c : a.hf_classes)
      if (c) s += cat(s.empty() ? "" : ", ", c);
  return s;
}

bool is_layer_role(TensorRole role) {
  return info(role).per_layer;
}

bool role_in_model(TensorRole role, const LlamaHParams& h) {
  const ArchInfo& a = arch_info(h.arch);
  switch (role) {
    case TensorRole::AttnQBias:
    case TensorRole::AttnKBias:
    case TensorRole::AttnVBias:
      return a.qkv_bias;
    case TensorRole::AttnQNorm:
    case TensorRole::AttnKNorm:
      return a.qk_norm;
    case TensorRole::RopeFreqs:
      return h.has_rope_freqs;
    default:
      return true;
  }
}

std::string tensor_name(TensorRole role, int64_t layer) {
  const auto& i = info(role);
  if (!i.per_layer) return i.suffix;
  LLMPIPE_CHECK(layer >= 0, "layer tensor ", i.suffix, " needs a layer index");
  return cat("blk.", layer, ".", i.suffix);
}

std::string hf_tensor_name(TensorRole role, int64_t layer) {
  const auto& i = info(role);
  if (!i.per_layer) return i.hf_suffix;
  LLMPIPE_CHECK(layer >= 0, "layer tensor ", i.hf_suffix, " needs a layer index");
  return cat("model.layers.", layer, ".", i.hf_suffix);
}

std::optional<RoleAndLayer> role_from_name(std::string_view name) {
  for (const auto& i : kRoles) {
    if (!i.per_layer) {
      if (name == i.suffix) return RoleAndLayer{i.role, -1};
      continue;
    }
    const std::string_view sfx = i.suffix;
    if (!name.starts_with("blk.") || name.size() <= 4 + sfx.size() + 1 || !name.ends_with(sfx))
      continue;
    const std::string_view mid = name.substr(4, name.size() - 4 - sfx.size());
    if (mid.size() < 2 || mid.back() != '.' || mid.size() > 10) continue;
    int64_t layer = 0;
    bool digits = true;
    for (const char c : mid.substr(0, mid.size() - 1)) {
      if (c < '0' || c > '9') digits = false;
      layer = layer * 10 + (c - '0');
    }
    // "blk.3.attn_q_norm.weight" ends with "norm.weight" too: a non-number is another role's.
    if (!digits) continue;
    return RoleAndLayer{i.role, layer};
  }
  return std::nullopt;
}

bool role_has_rope_rows(TensorRole role, ModelArch arch) {
  return (role == TensorRole::AttnQ || role == TensorRole::AttnK) &&
         arch_info(arch).rope == RopeStyle::Adjacent;
}

std::vector<int64_t> expected_shape(TensorRole role, const LlamaHParams& h) {
  switch (role) {
    case TensorRole::TokenEmbd:
    case TensorRole::Output:
      return {h.n_embd, h.n_vocab};
    case TensorRole::OutputNorm:
    case TensorRole::AttnNorm:
    case TensorRole::FfnNorm:
      return {h.n_embd};
    case TensorRole::AttnQ:
      return {h.n_embd, h.q_dim()};
    case TensorRole::AttnOut:
      return {h.q_dim(), h.n_embd};
    case TensorRole::AttnK:
    case TensorRole::AttnV:
      return {h.n_embd, h.kv_dim()};
    case TensorRole::FfnGate:
    case TensorRole::FfnUp:
      return {h.n_embd, h.n_ff};
    case TensorRole::FfnDown:
      return {h.n_ff, h.n_embd};
    case TensorRole::AttnQBias:
      return {h.q_dim()};
    case TensorRole::AttnKBias:
    case TensorRole::AttnVBias:
      return {h.kv_dim()};
    case TensorRole::AttnQNorm:
    case TensorRole::AttnKNorm:
      return {h.head_dim()};
    case TensorRole::RopeFreqs:
      return {h.head_dim() / 2};
  }
  fail("unknown tensor role");
}

bool role_requires_f32(TensorRole role) {
  switch (role) {
    case TensorRole::OutputNorm:
    case TensorRole::AttnNorm:
    case TensorRole::FfnNorm:
    case TensorRole::AttnQBias:
    case TensorRole::AttnKBias:
    case TensorRole::AttnVBias:
    case TensorRole::AttnQNorm:
    case TensorRole::AttnKNorm:
    case TensorRole::RopeFreqs:
      return true;
    default:
      return false;
  }
}

}  // namespace llmpipe
