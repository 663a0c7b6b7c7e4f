// The model-shape table: published dimensions, valid hyper-parameters, clear unknown-name errors.
#include <gtest/gtest.h>

#include "model/model_shapes.h"
#include "test_helpers.h"

namespace llmpipe {
namespace {

TEST(ModelShapes, EveryShapeIsValidAndQuantizable) {
  ASSERT_GE(model_shapes().size(), 4u);
  for (const auto& s : model_shapes()) {
    EXPECT_NO_THROW(s.hparams.validate(std::string(s.name))) << s.name;
    // Rows of every matrix hold whole 32-element blocks (q8_0 / q4_0).
    EXPECT_EQ(s.hparams.n_embd % 32, 0) << s.name;
    EXPECT_EQ(s.hparams.n_ff % 32, 0) << s.name;
  }
}

TEST(ModelShapes, ArchitectureShapes) {
  const auto& l3 = find_model_shape("llama3-8b").hparams;
  EXPECT_EQ(l3.n_vocab, 128256);
  EXPECT_EQ(l3.n_head_kv, 8);
  EXPECT_EQ(l3.n_ff, 14336);
  EXPECT_EQ(l3.n_ctx_train, 131072);
  EXPECT_FLOAT_EQ(l3.rope_freq_base, 500000.0f);
  ASSERT_TRUE(l3.rope_scaling);
  EXPECT_EQ(l3.rope_scaling->type, "llama3");
  EXPECT_EQ(l3.rope_scaling->original_max_position_embeddings, 8192);
  EXPECT_TRUE(l3.has_rope_freqs);
  const auto& l70 = find_model_shape("llama3-70b").hparams;
  EXPECT_EQ(l70.n_embd, 8192);
  EXPECT_EQ(l70.n_layer, 80);
  EXPECT_EQ(l70.n_head, 64);
  EXPECT_EQ(l70.n_ff, 28672);
  const auto& q = find_model_shape("qwen2.5-7b").hparams;
  EXPECT_EQ(q.arch, ModelArch::Qwen2);
  EXPECT_EQ(q.n_vocab, 152064);
  EXPECT_EQ(q.n_embd, 3584);
  EXPECT_EQ(q.n_head, 28);
  EXPECT_EQ(q.n_head_kv, 4);
  EXPECT_EQ(q.n_ff, 18944);
  EXPECT_FLOAT_EQ(q.rope_freq_base, 1e6f);
  const auto& m = find_model_shape("mistral-7b").hparams;
  EXPECT_EQ(m.n_vocab, 32768);
  EXPECT_EQ(m.n_head_kv, 8);
  EXPECT_EQ(m.n_ff, 14336);
  EXPECT_FLOAT_EQ(m.rope_freq_base, 1e6f);
}

TEST(ModelShapes, PublishedDimensions) {
  const auto& o3 = find_model_shape("openllama-3b").hparams;
  EXPECT_EQ(o3.n_embd, 3200);
  EXPECT_EQ(o3.n_layer, 26);
  EXPECT_EQ(o3.n_head, 32);
  EXPECT_EQ(o3.n_head_kv, 32);
  EXPECT_EQ(o3.n_ff, 8640);
  EXPECT_EQ(o3.n_ctx_train, 2048);
  EXPECT_FLOAT_EQ(o3.rms_eps, 1e-6f);
  EXPECT_FLOAT_EQ(o3.rope_freq_base, 10000.0f);
  const auto& o7 = find_model_shape("openllama-7b").hparams;
  EXPECT_EQ(o7.n_embd, 4096);
  EXPECT_EQ(o7.n_layer, 32);
  EXPECT_EQ(o7.n_ff, 11008);
  EXPECT_EQ(o7.n_ctx_train, 2048);
  const auto& l2 = find_model_shape("llama2-7b").hparams;
  EXPECT_EQ(l2.n_embd, 4096);
  EXPECT_EQ(l2.n_head, 32);
  EXPECT_EQ(l2.n_ff, 11008);
  EXPECT_EQ(l2.n_ctx_train, 4096);
  EXPECT_FLOAT_EQ(l2.rms_eps, 1e-5f);
  EXPECT_EQ(l2.n_vocab, 32000);
}

TEST(ModelShapes, UnknownShapeListsTheValidOnes) {
  test::expect_error([] { find_model_shape("gpt-5"); },
                     {"unknown model shape 'gpt-5'", "tiny", "openllama-3b", "llama2-7b"});
}

}  // namespace
}  // namespace llmpipe
