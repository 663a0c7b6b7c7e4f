#include "model/llama_arch.h"

#include "core/error.h"

namespace llmpipe {

namespace {
struct RoleInfo {
  TensorRole role;
  const char* suffix;     // name, or name after "blk.N." for layer roles
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
};
const RoleInfo& info(TensorRole r) { return kRoles[static_cast<int>(r)]; }
}  // namespace

bool is_layer_role(TensorRole role) { return info(role).per_layer; }

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
    for (const char c : mid.substr(0, mid.size() - 1)) {
      if (c < '0' || c > '9') return std::nullopt;
      layer = layer * 10 + (c - '0');
    }
    return RoleAndLayer{i.role, layer};
  }
  return std::nullopt;
}

bool role_has_rope_rows(TensorRole role) {
  return role == TensorRole::AttnQ || role == TensorRole::AttnK;
}

std::vector<int64_t> expected_shape(TensorRole role, const LlamaHParams& h) {
  switch (role) {
    case TensorRole::TokenEmbd:
    case TensorRole::Output: return {h.n_embd, h.n_vocab};
    case TensorRole::OutputNorm:
    case TensorRole::AttnNorm:
    case TensorRole::FfnNorm: return {h.n_embd};
    case TensorRole::AttnQ:
    case TensorRole::AttnOut: return {h.n_embd, h.n_embd};
    case TensorRole::AttnK:
    case TensorRole::AttnV: return {h.n_embd, h.kv_dim()};
    case TensorRole::FfnGate:
    case TensorRole::FfnUp: return {h.n_embd, h.n_ff};
    case TensorRole::FfnDown: return {h.n_ff, h.n_embd};
  }
  fail("unknown tensor role");
}

bool role_requires_f32(TensorRole role) {
  return role == TensorRole::OutputNorm || role == TensorRole::AttnNorm ||
         role == TensorRole::FfnNorm;
}

}  // namespace llmpipe
