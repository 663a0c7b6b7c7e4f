#include "model/llama_arch.h"

#include "core/error.h"

namespace llmpipe {

namespace {
struct RoleInfo {
  TensorRole role;
  const char* suffix;  // name, or name after "blk.N." for layer roles
  bool per_layer;
};
constexpr RoleInfo kRoles[] = {
    {TensorRole::TokenEmbd, "token_embd.weight", false},
    {TensorRole::OutputNorm, "output_norm.weight", false},
    {TensorRole::Output, "output.weight", false},
    {TensorRole::AttnNorm, "attn_norm.weight", true},
    {TensorRole::AttnQ, "attn_q.weight", true},
    {TensorRole::AttnK, "attn_k.weight", true},
    {TensorRole::AttnV, "attn_v.weight", true},
    {TensorRole::AttnOut, "attn_output.weight", true},
    {TensorRole::FfnNorm, "ffn_norm.weight", true},
    {TensorRole::FfnGate, "ffn_gate.weight", true},
    {TensorRole::FfnUp, "ffn_up.weight", true},
    {TensorRole::FfnDown, "ffn_down.weight", true},
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
