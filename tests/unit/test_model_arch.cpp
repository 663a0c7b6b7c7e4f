// The architecture table and what each config spelling becomes: Mistral's window, Qwen2's
// biases and tied embeddings, Qwen3's head_dim and q/k norms, transformers 5's rope_parameters,
// llama3's frequency divisors, and the errors for what is not supported (named before any
// weight is read).
#include <gtest/gtest.h>

#include <cmath>
#include <numbers>

#include "formats/hf/hf_config.h"
#include "hf_test_files.h"
#include "model/llama_arch.h"
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

}  // namespace
}  // namespace llmpipe
