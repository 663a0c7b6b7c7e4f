// Synthetic models: reproducible bytes, loadable by our reader/model/tokenizer, finite logits;
// the synthetic vocabulary round-trips any text.
#include <gtest/gtest.h>

#include <cmath>

#include "convert/synth_model.h"
#include "convert/synth_vocab.h"
#include "formats/gguf_reader.h"
#include "formats/gguf_writer.h"
#include "model/llama_arch.h"
#include "synth_test_util.h"
#include "test_helpers.h"
#include "tokenizer/tokenizer.h"

namespace llmpipe {
namespace {

const ModelShape& tiny() { return find_model_shape("tiny"); }

TEST(SynthVocab, ShapeOfTheVocabulary) {
  const Vocab v = synthetic_vocab(32000);
  ASSERT_EQ(v.size(), 32000);
  EXPECT_EQ(v.tokens[0], "<unk>");
  EXPECT_EQ(v.tokens[1], "<s>");
  EXPECT_EQ(v.tokens[2], "</s>");
  EXPECT_EQ(v.tokens[3], "<0x00>");
  EXPECT_EQ(v.tokens[258], "<0xFF>");
  EXPECT_EQ(v.types[0], TokenType::Unknown);
  EXPECT_EQ(v.types[1], TokenType::Control);
  EXPECT_EQ(v.types[100], TokenType::Byte);
  EXPECT_EQ(v.types[259], TokenType::Normal);
  EXPECT_NE(std::find(v.tokens.begin(), v.tokens.end(), "\xe2\x96\x81the"), v.tokens.end());
  test::expect_error([] { synthetic_vocab(100); }, {"at least", "100"});
}

TEST(SynthVocab, EncodesAndDecodesAnyText) {
  const Tokenizer tok(synthetic_vocab(32000));
  const std::vector<std::string> texts = {
      "Once upon a time, there was a little girl named Lily.",
      "The quick brown fox jumps over the lazy dog 1234567890!",
      "Ünïcödé, 中文字符, emoji 🦙🚀 and tabs\tand\nnewlines",
      "  leading spaces and trailing  ",
      "x"};
  for (const auto& t : texts) {
    const auto ids = tok.encode(t, true);
    ASSERT_GE(ids.size(), 2u);
    EXPECT_EQ(ids[0], tok.bos_id());
    EXPECT_EQ(tok.decode(ids), t) << t;
  }
  // Common words are single pieces, not bytes or letters.
  EXPECT_EQ(tok.encode("the", false).size(), 1u);
  EXPECT_EQ(tok.encode("Once upon a time", false).size(), 4u);
}

// Streaming a tensor in pieces gives the same file as writing it whole; overruns are errors.
TEST(GgufWriterParts, PiecesEqualWholeTensors) {
  test::TempDir dir;
  std::vector<uint8_t> a(100), b(36);
  for (size_t i = 0; i < a.size(); ++i) a[i] = uint8_t(i);
  for (size_t i = 0; i < b.size(); ++i) b[i] = uint8_t(200 - i);
  auto declare = [](gguf::Writer& w) {
    w.set_string("general.architecture", "llama");
    w.add_tensor("a", DType::F32, {25});
    w.add_tensor("b", DType::F16, {18});
  };
  gguf::Writer whole;
  declare(whole);
  whole.write_all(dir.file("whole.gguf"), {a, b});
  gguf::Writer parts;
  declare(parts);
  parts.begin(dir.file("parts.gguf"));
  parts.write_tensor_part(std::span(a).first(7));
  parts.write_tensor_part(std::span(a).subspan(7));
  parts.write_tensor_part(std::span(b).first(30));
  test::expect_error([&] { parts.write_tensor_part(std::span(b).first(7)); },
                     {"tensor b needs 36 bytes, got 37"});
  parts.write_tensor_part(std::span(b).subspan(30));
  parts.finish();
  EXPECT_EQ(test::read_bytes(dir.file("whole.gguf")), test::read_bytes(dir.file("parts.gguf")));
}

TEST(SynthModel, SameSeedSameBytesOtherSeedOtherBytes) {
  test::TempDir dir;
  const SynthOptions o{.type = DType::Q8_0, .seed = 42, .threads = 2};
  synthesize_model(tiny(), o, dir.file("a.gguf"));
  synthesize_model(tiny(), {.type = DType::Q8_0, .seed = 42, .threads = 1}, dir.file("b.gguf"));
  synthesize_model(tiny(), {.type = DType::Q8_0, .seed = 43, .threads = 2}, dir.file("c.gguf"));
  const auto a = test::read_bytes(dir.file("a.gguf"));
  EXPECT_GT(a.size(), 1000000u);
  EXPECT_EQ(a, test::read_bytes(dir.file("b.gguf")));  // thread count does not matter
  EXPECT_NE(a, test::read_bytes(dir.file("c.gguf")));
}

TEST(SynthModel, LoadsWithTheShapeAndMetadata) {
  test::TempDir dir;
  const auto path = dir.file("tiny.gguf");
  const auto s = synthesize_model(tiny(), {.type = DType::Q4_0, .seed = 7, .threads = 2}, path);
  const auto f = gguf::Reader::open(path);
  EXPECT_EQ(f.version(), 3u);
  EXPECT_EQ(f.tensors().size(), s.n_tensors);
  EXPECT_EQ(f.tensors().size(), size_t(2 + 9 * tiny().hparams.n_layer + 1));
  const LlamaHParams h = hparams_from_gguf(f);
  const LlamaHParams& e = tiny().hparams;
  EXPECT_EQ(h.n_vocab, e.n_vocab);
  EXPECT_EQ(h.n_ctx_train, e.n_ctx_train);
  EXPECT_EQ(h.n_embd, e.n_embd);
  EXPECT_EQ(h.n_layer, e.n_layer);
  EXPECT_EQ(h.n_head, e.n_head);
  EXPECT_EQ(h.n_head_kv, e.n_head_kv);
  EXPECT_EQ(h.n_ff, e.n_ff);
  EXPECT_FLOAT_EQ(h.rms_eps, e.rms_eps);
  EXPECT_EQ(f.get_int("general.file_type"), 2);
  EXPECT_EQ(f.get_string("tokenizer.ggml.model"), "llama");
  EXPECT_EQ(f.find_tensor("blk.0.attn_q.weight")->dtype, DType::Q4_0);
  EXPECT_EQ(f.find_tensor("token_embd.weight")->dtype, DType::Q4_0);
  EXPECT_EQ(f.find_tensor("output_norm.weight")->dtype, DType::F32);
  const Vocab v = vocab_from_gguf(f);
  EXPECT_EQ(v.tokens, synthetic_vocab(32000).tokens);
}

TEST(SynthModel, LogitsStayFiniteThroughEveryLayer) {
  test::TempDir dir;
  for (DType type : {DType::F32, DType::Q4_0}) {
    const auto path = dir.file("tiny.gguf");
    synthesize_model(tiny(), {.type = type, .seed = 1, .threads = 2}, path);
    const Tokenizer tok(vocab_from_gguf(gguf::Reader::open(path)));
    const auto r = test::greedy(path, tok.encode("Once upon a time there was a dog", true), 16);
    ASSERT_EQ(r.first_logits.size(), 32000u);
    double sum2 = 0;
    for (float x : r.first_logits) {
      ASSERT_TRUE(std::isfinite(x));
      sum2 += double(x) * x;
    }
    const double rms = std::sqrt(sum2 / 32000.0);
    EXPECT_GT(rms, 0.1) << dtype_name(type);  // not collapsed
    EXPECT_LT(rms, 100.0) << dtype_name(type);  // not exploding
    EXPECT_EQ(r.tokens.size(), 16u);
    EXPECT_NO_THROW(tok.decode(r.tokens));
  }
}

TEST(SynthModel, RowsNotMultipleOfBlockAreAnError) {
  test::TempDir dir;
  ModelShape odd = tiny();
  odd.hparams.n_ff = 700;  // not a multiple of 32
  test::expect_error([&] { synthesize_model(odd, {.type = DType::Q8_0}, dir.file("x.gguf")); },
                     {"blk.0.ffn_down.weight", "700", "block size 32"});
  EXPECT_FALSE(std::filesystem::exists(dir.file("x.gguf")));
  EXPECT_FALSE(std::filesystem::exists(dir.file("x.gguf.part")));
}

}  // namespace
}  // namespace llmpipe
