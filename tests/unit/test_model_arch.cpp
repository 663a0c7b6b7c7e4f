// The architecture table and what each config spelling becomes: Mistral's window, Qwen2's
// biases and tied embeddings, Qwen3's head_dim and q/k norms, transformers 5's rope_parameters,
// llama3's frequency divisors, and the errors for what is not supported (named before any
// weight is read).
#include <gtest/gtest.h>

#include <cmath>
#include <numbers>

#include "convert/synth_model.h"
#include "formats/hf/hf_config.h"
#include "hf_test_files.h"
#include "kernels/cpu/cpu_backend.h"
#include "model/llama_arch.h"
#include "model/llama_stage.h"
#include "model/model_source.h"
#include "test_helpers.h"

namespace llmpipe {
namespace {

using nlohmann::json;
using test::expect_error;

LlamaHParams hparams_of(const json& j) {
  return hparams_from_hf_config(hf::parse_hf_config(j.dump(), "config.json"));
}

TEST(ModelArch, HfClassesMapToTheTable) {
  json j = test::tiny_config();
  EXPECT_EQ(hparams_of(j).arch, ModelArch::Llama);
  j["architectures"] = {"MistralForCausalLM"};
  j["model_type"] = "mistral";
  j["sliding_window"] = 4;
  const auto m = hparams_of(j);
  EXPECT_EQ(m.arch, ModelArch::Llama);
  EXPECT_EQ(m.sliding_window, 4);
  j["sliding_window"] = nullptr;
  EXPECT_EQ(hparams_of(j).sliding_window, 0);

  j = test::tiny_config();
  j["architectures"] = {"Qwen2ForCausalLM"};
  j["model_type"] = "qwen2";
  j["sliding_window"] = 4;  // present in Qwen configs, unused without use_sliding_window
  const auto q2 = hparams_of(j);
  EXPECT_EQ(q2.arch, ModelArch::Qwen2);
  EXPECT_EQ(q2.sliding_window, 0);
  EXPECT_TRUE(role_in_model(TensorRole::AttnQBias, q2));
  EXPECT_FALSE(role_in_model(TensorRole::AttnQNorm, q2));
  EXPECT_FALSE(role_has_rope_rows(TensorRole::AttnQ, q2.arch));  // NEOX: HF's row order kept
  EXPECT_EQ(arch_info(q2.arch).rope, RopeStyle::Neox);
  j["use_sliding_window"] = true;
  expect_error([&] { hparams_of(j); }, {"use_sliding_window", "not supported"});

  j = test::tiny_config();
  j.erase("architectures");
  j["model_type"] = "qwen3";
  j["head_dim"] = 6;  // hidden 8 / 2 heads = 4
  const auto q3 = hparams_of(j);
  EXPECT_EQ(q3.arch, ModelArch::Qwen3);
  EXPECT_EQ(q3.head_dim(), 6);
  EXPECT_EQ(q3.q_dim(), 12);
  EXPECT_EQ(q3.kv_dim(), 6);
  EXPECT_TRUE(role_in_model(TensorRole::AttnKNorm, q3));
  EXPECT_EQ(expected_shape(TensorRole::AttnQ, q3), (std::vector<int64_t>{8, 12}));
  EXPECT_EQ(expected_shape(TensorRole::AttnOut, q3), (std::vector<int64_t>{12, 8}));
  EXPECT_EQ(expected_shape(TensorRole::AttnQNorm, q3), (std::vector<int64_t>{6}));
  EXPECT_TRUE(role_has_rope_rows(TensorRole::AttnQ, ModelArch::Llama));

  j["model_type"] = "falcon";
  expect_error([&] { hparams_of(j); },
               {"model_type 'falcon'", "not supported", "Qwen3ForCausalLM"});
}

TEST(ModelArch, RopeParametersOfTransformers5) {
  json j = test::tiny_config();
  j["rope_parameters"] = {{"rope_type", "default"}, {"rope_theta", 1e6}};
  auto h = hparams_of(j);
  EXPECT_FLOAT_EQ(h.rope_freq_base, 1e6f);
  EXPECT_FALSE(h.rope_scaling);
  j["rope_parameters"] = {{"rope_type", "llama3"},   {"rope_theta", 5e5},
                          {"factor", 8.0},           {"low_freq_factor", 1.0},
                          {"high_freq_factor", 4.0}, {"original_max_position_embeddings", 8192}};
  h = hparams_of(j);
  EXPECT_FLOAT_EQ(h.rope_freq_base, 5e5f);
  ASSERT_TRUE(h.rope_scaling);
  EXPECT_EQ(h.rope_scaling->type, "llama3");
  EXPECT_TRUE(h.has_rope_freqs);
  j["rope_parameters"] = {{"rope_type", "yarn"}, {"rope_theta", 5e5}, {"factor", 4.0}};
  expect_error([&] { hparams_of(j); }, {"rope scaling 'yarn'", "not supported"});
}

TEST(ModelArch, Llama3FrequencyDivisors) {
  // head_dim 16, base 10000, original context 64, low 1, high 4: wavelengths 2*pi*10000^(i/8).
  const RopeScaling s{"llama3", 8.0, 1.0, 4.0, 64};
  const auto f = llama3_rope_freq_factors(s, 16, 10000.0f);
  ASSERT_EQ(f.size(), 8u);
  EXPECT_FLOAT_EQ(f[0], 1.0f);    // 6.3 < 64 / 4: high frequency, unchanged
  for (int i = 1; i <= 2; ++i) {  // 19.9 and 62.8: smoothed
    const double wavelen = 2 * std::numbers::pi * std::pow(10000.0, i / 8.0);
    const double smooth = (64 / wavelen - 1) / (4 - 1);
    EXPECT_FLOAT_EQ(f[size_t(i)], float(1 / ((1 - smooth) / 8 + smooth))) << i;
    EXPECT_GT(f[size_t(i)], 1.0f);
    EXPECT_LT(f[size_t(i)], 8.0f);
  }
  for (int i = 3; i < 8; ++i) EXPECT_FLOAT_EQ(f[size_t(i)], 8.0f) << i;  // > 64: divided by 8
}

// synth writes what each architecture has (biases, q/k norms, rope_freqs with the llama3
// divisors, <arch>.* keys with key_length), the GGUF loader reads it back as written, and the
// one forward pass runs it.
TEST(ModelArch, SynthModelsOfEveryArchitectureLoadAndRun) {
  auto small = [](ModelArch arch) {
    LlamaHParams h;
    h.arch = arch;
    h.n_vocab = 512, h.n_ctx_train = 32, h.n_embd = 32, h.n_layer = 2, h.n_head = 4;
    h.n_head_kv = 2, h.n_ff = 64;
    return h;
  };
  LlamaHParams llama3 = small(ModelArch::Llama);
  llama3.rope_scaling = RopeScaling{"llama3", 8.0, 1.0, 4.0, 16};
  llama3.has_rope_freqs = true;
  LlamaHParams linear = small(ModelArch::Llama);
  linear.rope_scaling = RopeScaling{"linear", 2.0};
  linear.sliding_window = 3;
  LlamaHParams qwen3 = small(ModelArch::Qwen3);
  qwen3.n_embd_head = 16;  // 32 / 4 heads = 8
  test::TempDir dir;
  for (const LlamaHParams& h : {llama3, linear, small(ModelArch::Qwen2), qwen3}) {
    SCOPED_TRACE(cat(arch_gguf_name(h.arch), " head_dim ", h.head_dim()));
    const std::string path = dir.file("m.gguf");
    synthesize_model({"test", "test", h}, {.type = DType::F32, .seed = 3}, path);
    const ModelSource m = open_model(path);
    EXPECT_EQ(m.hparams.arch, h.arch);
    EXPECT_EQ(m.hparams.head_dim(), h.head_dim());
    EXPECT_EQ(m.hparams.has_rope_freqs, h.has_rope_freqs);
    EXPECT_EQ(m.hparams.sliding_window, h.sliding_window);
    EXPECT_FLOAT_EQ(m.hparams.rope_position_scale(), h.rope_position_scale());
    for (const TensorRole r : kLayerRoles)
      EXPECT_EQ(bool(m.tensors->find(tensor_name(r, 1))), role_in_model(r, h)) << tensor_name(r, 1);
    if (h.has_rope_freqs) {
      const HostTensor t = m.tensors->load(tensor_name(TensorRole::RopeFreqs));
      const auto want = llama3_rope_freq_factors(*h.rope_scaling, h.head_dim(), h.rope_freq_base);
      const auto* got = static_cast<const float*>(t.data);
      EXPECT_EQ(std::vector<float>(got, got + want.size()), want);
    }
    CpuBackend backend({.threads = 1});
    const StageSpec spec{{0, h.n_layer}, true, true};
    LlamaStage stage(m.hparams, spec, load_stage_weights(*m.tensors, m.hparams, spec, backend),
                     backend, {h.n_layer, 1, 8, h.kv_dim(), DType::F32}, 8, 1);
    const std::vector<int32_t> tokens = {1, 5, 9, 2}, pos = {0, 1, 2, 3}, slots(4, 0);
    const int32_t last[] = {3};
    std::vector<float> logits(size_t(h.n_vocab));
    backend.to_host(logits, stage.forward({pos, slots, 1}, tokens, last));
    for (float v : logits) ASSERT_TRUE(std::isfinite(v));
  }
}

}  // namespace
}  // namespace llmpipe
