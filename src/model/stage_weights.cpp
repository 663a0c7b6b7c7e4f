#include "model/stage_weights.h"

#include <cstring>
#include <optional>

#include "core/error.h"
#include "kernels/cpu/quantize.h"
#include "model/llama_arch.h"

namespace llmpipe {

namespace {

std::string shape_str(const std::vector<int64_t>& s) {
  return TensorDesc{"", DType::F32, s, 0}.shape_string();
}

// Norm weights are read as F32 by every backend; other stored types are converted once here.
HostTensor to_f32(HostTensor t) {
  if (t.desc.dtype == DType::F32) return t;
  auto buf = std::make_shared<std::vector<float>>(size_t(t.desc.shape[0]));
  cpu::dequantize_row_f32(t.desc.dtype, t.data, buf->data(), t.desc.shape[0]);
  HostTensor out;
  out.desc = {t.desc.name, DType::F32, t.desc.shape, buf->size() * sizeof(float)};
  out.data = buf->data();
  out.owner = std::move(buf);
  return out;
}

WeightUse weight_use(TensorRole role) {
  if (role == TensorRole::TokenEmbd) return WeightUse::Lookup;
  return role_requires_f32(role) ? WeightUse::Vector : WeightUse::Matmul;
}

// Why the model's tensor `name` (of `role`) cannot be loaded: missing, or a shape that differs
// from the hyper-parameters'; nullopt when it can. One check for loading and for `info`.
std::optional<std::string> tensor_problem(const TensorSource& src, TensorRole role,
                                          const std::string& name, const LlamaHParams& h) {
  const auto desc = src.find(name);
  if (!desc) return cat("missing tensor ", name);
  const auto expected = expected_shape(role, h);
  if (desc->shape != expected)
    return cat("tensor ", name, " has shape ", desc->shape_string(), ", expected ", shape_str(expected));
  return std::nullopt;
}

class StageLoader {
 public:
  StageLoader(const TensorSource& src, const LlamaHParams& h, Backend& backend, StageWeights& w)
      : src_(src), h_(h), backend_(backend), w_(w) {}

  TensorView load(TensorRole role, int64_t layer = -1, std::string name = "") {
    if (name.empty()) name = tensor_name(role, layer);
    if (const auto why = tensor_problem(src_, role, name, h_)) fail(src_.origin(), ": ", *why);
    const uint64_t stored_bytes = src_.find(name)->bytes;
    HostTensor t = src_.load(name);
    if (role_requires_f32(role)) t = to_f32(std::move(t));
    const int64_t cols = t.desc.shape[0];
    const int64_t rows = t.desc.shape.size() > 1 ? t.desc.shape[1] : 1;
    TensorView v = backend_.place_weight(t.desc.dtype, rows, cols, t.data, w_.backend_copies,
                                         weight_use(role));
    w_.tensor_names.push_back(name);
    w_.bytes += stored_bytes;
    // Copied (or repacked): drop the host bytes now, so the file pages leave this process's
    // resident memory instead of counting twice.
    if (v.data == t.data) w_.host.push_back(std::move(t));
    return v;
  }

 private:
  const TensorSource& src_;
  const LlamaHParams& h_;
  Backend& backend_;
  StageWeights& w_;
};

}  // namespace

StageWeights load_stage_weights(const TensorSource& source, const LlamaHParams& h,
                                const StageSpec& spec, Backend& backend) {
  if (spec.layers.first < 0 || spec.layers.last > h.n_layer || spec.layers.first > spec.layers.last)
    fail("stage layer range [", spec.layers.first, ", ", spec.layers.last,
         ") is outside the model's ", h.n_layer, " layers");
  StageWeights w;
  StageLoader loader(source, h, backend, w);
  if (spec.is_first) w.tok_embd = loader.load(TensorRole::TokenEmbd);
  for (int64_t l = spec.layers.first; l < spec.layers.last; ++l) {
    LayerWeights lw;
    lw.attn_norm = loader.load(TensorRole::AttnNorm, l);
    lw.wq = loader.load(TensorRole::AttnQ, l);
    lw.wk = loader.load(TensorRole::AttnK, l);
    lw.wv = loader.load(TensorRole::AttnV, l);
    lw.wo = loader.load(TensorRole::AttnOut, l);
    lw.ffn_norm = loader.load(TensorRole::FfnNorm, l);
    lw.w_gate = loader.load(TensorRole::FfnGate, l);
    lw.w_up = loader.load(TensorRole::FfnUp, l);
    lw.w_down = loader.load(TensorRole::FfnDown, l);
    auto optional = [&](TensorRole role) {
      return role_in_model(role, h) ? loader.load(role, l) : TensorView{};
    };
    lw.bq = optional(TensorRole::AttnQBias);
    lw.bk = optional(TensorRole::AttnKBias);
    lw.bv = optional(TensorRole::AttnVBias);
    lw.q_norm = optional(TensorRole::AttnQNorm);
    lw.k_norm = optional(TensorRole::AttnKNorm);
    w.layers.push_back(lw);
  }
  if (role_in_model(TensorRole::RopeFreqs, h)) w.rope_freqs = loader.load(TensorRole::RopeFreqs);
  if (spec.is_last) {
    w.output_norm = loader.load(TensorRole::OutputNorm);
    if (source.find(tensor_name(TensorRole::Output))) {
      w.output = loader.load(TensorRole::Output);
    } else if (w.tok_embd) {
      w.output = w.tok_embd;
      w.tied_output = true;
    } else {
      // Tied embeddings on a last stage that is not also the first: map token_embd as lm_head.
      w.output = loader.load(TensorRole::Output, -1, tensor_name(TensorRole::TokenEmbd));
      w.tied_output = true;
    }
  }
  return w;
}

std::vector<std::string> model_tensor_problems(const TensorSource& source, const LlamaHParams& h) {
  std::vector<std::string> problems;
  auto check = [&](TensorRole role, const std::string& name) {
    if (auto why = tensor_problem(source, role, name, h)) problems.push_back(std::move(*why));
  };
  check(TensorRole::TokenEmbd, tensor_name(TensorRole::TokenEmbd));
  for (int64_t l = 0; l < h.n_layer; ++l)
    for (const TensorRole r : kLayerRoles)
      if (role_in_model(r, h)) check(r, tensor_name(r, l));
  if (role_in_model(TensorRole::RopeFreqs, h))
    check(TensorRole::RopeFreqs, tensor_name(TensorRole::RopeFreqs));
  check(TensorRole::OutputNorm, tensor_name(TensorRole::OutputNorm));
  if (source.find(tensor_name(TensorRole::Output)))  // absent: tied to token_embd
    check(TensorRole::Output, tensor_name(TensorRole::Output));
  return problems;
}

}  // namespace llmpipe
