// A tiny random LLaMA written as GGUF, for tests that need a model file they control: its size,
// weight type, and which tensors or metadata keys are missing or wrong.
#pragma once

#include <cstdint>
#include <map>
#include <random>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "core/dtype.h"
#include "formats/gguf_writer.h"
#include "kernels/cpu/quantize.h"
#include "model/llama_arch.h"
#include "model/llama_hparams.h"

namespace llmpipe::test {

struct TinyLlamaOptions {
  int64_t n_embd = 64;
  int64_t n_layer = 2;
  int64_t n_head = 4;
  int64_t n_head_kv = 2;
  int64_t n_ff = 96;
  int64_t n_vocab = 32;
  int64_t n_ctx = 128;
  DType dtype = DType::F32;  // weight matrices; norm weights are always F32, as llama.cpp writes
  uint32_t seed = 1;
  std::string architecture = "llama";
  bool tied_output = false;  // omit output.weight: lm_head is token_embd
  std::set<std::string> omit_tensors;
  std::set<std::string> omit_keys;
  std::map<std::string, std::vector<int64_t>> shape_overrides;  // GGUF order
  // Set after the standard keys: replaces one of them (e.g. with another type) or adds a key.
  std::vector<gguf::KeyValue> override_keys;
};

struct TinyLlama {
  LlamaHParams hparams;
  // Every tensor written, as the floats the file holds (dequantized), so tests can compute
  // references from exactly the stored weights.
  std::map<std::string, std::vector<float>> weights;
};

namespace detail {

// Uniform in [lo, hi) from raw mt19937 output: std::uniform_real_distribution differs between
// standard libraries, this does not.
inline float uniform(std::mt19937& rng, float lo, float hi) {
  return lo + (hi - lo) * float(rng() >> 8) * (1.0f / 16777216.0f);
}

struct PlannedTensor {
  std::string name;
  TensorRole role;
  std::vector<int64_t> shape;
};

inline std::vector<PlannedTensor> plan_tensors(const LlamaHParams& h, bool tied) {
  std::vector<PlannedTensor> out;
  auto add = [&](TensorRole role, int64_t layer) {
    out.push_back({tensor_name(role, layer), role, expected_shape(role, h)});
  };
  add(TensorRole::TokenEmbd, -1);
  add(TensorRole::OutputNorm, -1);
  if (!tied) add(TensorRole::Output, -1);
  for (int64_t l = 0; l < h.n_layer; ++l)
    for (TensorRole role : kLayerRoles)
      if (role_in_model(role, h)) add(role, l);
  return out;
}

}  // namespace detail

// Writes a LLaMA GGUF to `path` following `o` and returns its hyper-parameters and weights.
inline TinyLlama write_tiny_llama(const std::string& path, const TinyLlamaOptions& o = {}) {
  TinyLlama m;
  auto& h = m.hparams;
  h.n_vocab = o.n_vocab;
  h.n_ctx_train = o.n_ctx;
  h.n_embd = o.n_embd;
  h.n_layer = o.n_layer;
  h.n_head = o.n_head;
  h.n_head_kv = o.n_head_kv;
  h.n_ff = o.n_ff;

  gguf::Writer w;
  auto key = [&](const std::string& k, uint32_t v) {
    if (!o.omit_keys.count(k)) w.set_u32(k, v);
  };
  if (!o.omit_keys.count("general.architecture"))
    w.set_string("general.architecture", o.architecture);
  w.set_string("general.name", "tiny-llama-test");
  key("llama.context_length", uint32_t(o.n_ctx));
  key("llama.embedding_length", uint32_t(o.n_embd));
  key("llama.block_count", uint32_t(o.n_layer));
  key("llama.attention.head_count", uint32_t(o.n_head));
  key("llama.attention.head_count_kv", uint32_t(o.n_head_kv));
  key("llama.feed_forward_length", uint32_t(o.n_ff));
  key("llama.rope.dimension_count", uint32_t(o.n_embd / o.n_head));
  if (!o.omit_keys.count("llama.attention.layer_norm_rms_epsilon"))
    w.set_f32("llama.attention.layer_norm_rms_epsilon", h.rms_eps);
  for (const auto& kv : o.override_keys) w.set(kv.key, kv.value);

  std::mt19937 rng(o.seed);
  std::vector<std::vector<uint8_t>> bytes;
  for (auto& t : detail::plan_tensors(h, o.tied_output)) {
    if (o.omit_tensors.count(t.name)) continue;
    if (auto it = o.shape_overrides.find(t.name); it != o.shape_overrides.end()) t.shape = it->second;
    const DType dtype = role_requires_f32(t.role) ? DType::F32 : o.dtype;
    int64_t n = 1;
    for (int64_t d : t.shape) n *= d;
    // Norm weights near 1 as in trained models; matrices small and centred.
    std::vector<float> values(static_cast<size_t>(n));
    for (auto& v : values)
      v = role_requires_f32(t.role) ? detail::uniform(rng, 0.5f, 1.5f)
                                    : detail::uniform(rng, -0.25f, 0.25f);
    // Rows are whole blocks (shape[0] is a multiple of the block size), so the tensor quantizes
    // as one long row.
    bytes.emplace_back(dtype_row_bytes(dtype, n));
    cpu::quantize_row(dtype, values.data(), bytes.back().data(), n);
    cpu::dequantize_row_f32(dtype, bytes.back().data(), values.data(), n);
    w.add_tensor(t.name, dtype, t.shape);
    m.weights[t.name] = std::move(values);
  }
  std::vector<std::span<const uint8_t>> spans(bytes.begin(), bytes.end());
  w.write_all(path, spans);
  return m;
}

}  // namespace llmpipe::test
