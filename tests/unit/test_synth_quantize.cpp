// `quantize` on the bundled stories260K (F32): the result loads, keeps every metadata key and
// generates (nearly) the same greedy text; wrong inputs fail clearly. stories260K's ffn_down
// rows hold 172 elements (n_ff), not a whole number of 32-element blocks: without a fallback
// type that is an error, with --fallback f16 those 5 matrices are stored as F16.
#include <gtest/gtest.h>

#include <cmath>

#include "convert/quantize_model.h"
#include "convert/synth_model.h"
#include "formats/gguf_reader.h"
#include "formats/gguf_writer.h"
#include "synth_test_util.h"
#include "test_helpers.h"
#include "tokenizer/tokenizer.h"

namespace llmpipe {
namespace {

const QuantizeOptions kQ8{.type = DType::Q8_0, .fallback = DType::F16, .threads = 2};

float max_abs_diff(const std::vector<float>& a, const std::vector<float>& b) {
  float m = 0;
  for (size_t i = 0; i < a.size(); ++i) m = std::max(m, std::fabs(a[i] - b[i]));
  return m;
}

TEST(Quantize, Q8_0KeepsMetadataAndConvertsMatrices) {
  test::TempDir dir;
  const auto out = dir.file("q8.gguf");
  const auto s = quantize_model(test::model_path(), out, kQ8);
  const auto in = gguf::Reader::open(test::model_path());
  const auto q = gguf::Reader::open(out);
  ASSERT_EQ(q.tensors().size(), in.tensors().size());
  EXPECT_GT(s.n_converted, 0u);
  EXPECT_EQ(s.fallback_tensors.size(), 5u);
  EXPECT_LT(s.out_bytes, s.in_bytes / 3);
  for (const auto& kv : in.metadata()) {
    if (kv.key == "general.file_type") continue;
    const auto* v = q.find(kv.key);
    ASSERT_NE(v, nullptr) << kv.key;
    EXPECT_EQ(v->to_string(1 << 20), kv.value.to_string(1 << 20)) << kv.key;
  }
  EXPECT_EQ(q.get_int("general.file_type"), 7);
  for (const auto& t : q.tensors()) {
    EXPECT_EQ(t.shape, in.find_tensor(t.name)->shape) << t.name;
    const bool down = t.name.find("ffn_down") != std::string::npos;
    EXPECT_EQ(t.dtype, t.shape.size() < 2 ? DType::F32 : down ? DType::F16 : DType::Q8_0) << t.name;
  }
}

// stories260K (dim 64, 5 layers): all 24 q8_0 greedy tokens equal F32's, and the first-step
// logits stay within 0.3 of F32's (measured: 0.147, with |logits| up to 17.8: 0.8%).
TEST(Quantize, Q8_0GeneratesLikeF32) {
  test::TempDir dir;
  const auto out = dir.file("q8.gguf");
  quantize_model(test::model_path(), out, kQ8);
  const Tokenizer tok(vocab_from_gguf(gguf::Reader::open(test::model_path())));
  const auto prompt = tok.encode("Once upon a time", true);
  const auto f32 = test::greedy(test::model_path(), prompt, 24);
  const auto q8 = test::greedy(out, prompt, 24);
  ASSERT_EQ(q8.tokens.size(), f32.tokens.size());
  EXPECT_EQ(q8.tokens, f32.tokens)
      << "q8_0: " << tok.decode(q8.tokens) << "\nf32: " << tok.decode(f32.tokens);
  float range = 0;
  for (float x : f32.first_logits) range = std::max(range, std::fabs(x));
  std::printf("q8_0 vs f32: max |logit diff| %.4f, max |logit| %.3f, %zu/%zu greedy tokens equal\n",
              max_abs_diff(q8.first_logits, f32.first_logits), range,
              size_t(std::mismatch(q8.tokens.begin(), q8.tokens.end(), f32.tokens.begin()).first - q8.tokens.begin()), f32.tokens.size());
  EXPECT_LT(max_abs_diff(q8.first_logits, f32.first_logits), 0.3f);
}

// Round trips: f32 -> f16 -> q4_0 (any input type via dequantization) -> f32 loads and runs.
TEST(Quantize, ChainsThroughEveryType) {
  test::TempDir dir;
  std::string prev = test::model_path();
  int i = 0;
  for (DType t : {DType::F16, DType::BF16, DType::Q4_0, DType::F32}) {
    const auto next = dir.file(cat("m", i++, ".gguf"));
    quantize_model(prev, next, {.type = t, .fallback = DType::F32, .threads = 1});
    const auto r = gguf::Reader::open(next);
    EXPECT_EQ(r.find_tensor("blk.0.ffn_up.weight")->dtype, t);
    EXPECT_EQ(r.find_tensor("blk.0.ffn_down.weight")->dtype, t == DType::Q4_0 ? DType::F32 : t);
    EXPECT_EQ(r.find_tensor("blk.0.ffn_norm.weight")->dtype, DType::F32);
    prev = next;
  }
  const auto r = test::greedy(prev, {1, 403, 407}, 4);
  for (float x : r.first_logits) ASSERT_TRUE(std::isfinite(x));
}

TEST(Quantize, RowsNotMultipleOf32AreAnError) {
  test::TempDir dir;
  const auto in = dir.file("odd.gguf");
  gguf::Writer w;
  w.set_string("general.architecture", "llama");
  w.add_tensor("blk.0.attn_q.weight", DType::F32, {48, 2});
  std::vector<float> data(96, 0.5f);
  w.write_all(in, {std::span(reinterpret_cast<const uint8_t*>(data.data()), data.size() * 4)});
  test::expect_error([&] { quantize_model(in, dir.file("out.gguf"), {.type = DType::Q4_0}); },
                     {"blk.0.attn_q.weight", "48", "not a multiple", "q4_0", "32"});
  EXPECT_FALSE(std::filesystem::exists(dir.file("out.gguf")));
  // stories260K itself: ffn_down's rows of 172.
  test::expect_error([&] { quantize_model(test::model_path(), dir.file("out.gguf"), {.type = DType::Q8_0}); },
                     {"blk.0.ffn_down.weight", "172", "not a multiple", "--fallback"});
  test::expect_error([&] { quantize_model(in, dir.file("out.gguf"), {.type = DType::Q4_0, .fallback = DType::Q8_0}); },
                     {"blk.0.attn_q.weight", "nor of the fallback q8_0"});
  // f16 has no blocks: the same tensor converts.
  EXPECT_NO_THROW(quantize_model(in, dir.file("out.gguf"), {.type = DType::F16}));
}

TEST(Quantize, InputErrors) {
  test::TempDir dir;
  test::expect_error([&] { quantize_model("/nonexistent.gguf", dir.file("o.gguf"), {}); },
                     {"/nonexistent.gguf"});
  test::expect_error([&] { quantize_model(test::model_path(), test::model_path(), {}); },
                     {"same file"});
  test::write_bytes(dir.file("junk.gguf"), std::vector<uint8_t>(64, 7));
  test::expect_error([&] { quantize_model(dir.file("junk.gguf"), dir.file("o.gguf"), {}); },
                     {"junk.gguf"});
}

}  // namespace
}  // namespace llmpipe
