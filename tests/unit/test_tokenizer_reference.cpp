// The tokenizer against llama.cpp's test vectors (ggml-vocab-llama-spm) and against
// libsentencepiece itself on the LLaMA 2 tokenizer.model, over varied generated strings.
#include <gtest/gtest.h>
#include <sentencepiece_processor.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>

#include "formats/gguf_reader.h"
#include "test_helpers.h"
#include "tokenizer/tokenizer.h"

namespace llmpipe {
namespace {

std::string read_text(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(f), {}};
}

// .inp: inputs separated by "\n__ggml_vocab_test__\n"; .out: one line of ids per input.
TEST(TokenizerVectors, ReproducesLlamaCppVectors) {
  const auto reader = gguf::Reader::open(test::data_path("ggml-vocab-llama-spm.gguf"));
  const Tokenizer tok(vocab_from_gguf(reader));
  const std::string inp = read_text(test::data_path("ggml-vocab-llama-spm.gguf.inp"));
  const std::string sep = "\n__ggml_vocab_test__\n";
  std::vector<std::string> inputs;
  for (size_t pos = 0;;) {
    const size_t next = inp.find(sep, pos);
    if (next == std::string::npos) break;
    inputs.push_back(inp.substr(pos, next - pos));
    pos = next + sep.size();
  }
  std::ifstream out(test::data_path("ggml-vocab-llama-spm.gguf.out"));
  std::vector<std::vector<int32_t>> expected;
  for (std::string line; std::getline(out, line);) {
    std::istringstream ss(line);
    std::vector<int32_t> ids;
    for (int32_t id; ss >> id;) ids.push_back(id);
    expected.push_back(ids);
  }
  ASSERT_EQ(inputs.size(), expected.size());
  ASSERT_GT(inputs.size(), 40u);
  for (size_t i = 0; i < inputs.size(); ++i)
    EXPECT_EQ(tok.encode(inputs[i], false), expected[i]) << "input " << i << ": \"" << inputs[i] << "\"";
}

TEST(TokenizerVectors, BundledModelPrompt) {
  const auto reader = gguf::Reader::open(test::model_path());
  const Tokenizer tok(vocab_from_gguf(reader));
  EXPECT_EQ(tok.encode("Once upon a time", true), (std::vector<int32_t>{1, 403, 407, 261, 378}));
  // Every reference prompt tokenizes exactly as llama.cpp did (BOS added).
  std::ifstream refs(test::data_path("stories260K-greedy.jsonl"));
  int n = 0;
  for (std::string line; std::getline(refs, line); ++n) {
    const auto j = nlohmann::json::parse(line);
    EXPECT_EQ(tok.encode(j["prompt"].get<std::string>(), true), j["prompt_tokens"].get<std::vector<int32_t>>());
  }
  EXPECT_EQ(n, 3);
}

// Deterministic varied strings: words, whitespace runs, punctuation, digits, emoji, CJK,
// Cyrillic, accents and rare code points that force byte fallback.
std::vector<std::string> varied_strings() {
  const std::vector<std::string> pool = {
      "hello", "world", "The", "quick", "brown", "fox", " ", "  ", "   ", "\t", "\n", "\n\n",
      " \n ", ",", ".", "!", "?", "'s", "\"", "(", ")", "-", "123", "4567", "3.14", "🦙", "😀",
      "🤖🤖", "日本語", "中文", "한국어", "Привет", "мир", "Führer", "café", "naïve", "ǅ",
      "\xf0\x9d\x94\x98", "\xe2\x80\x8b", "ʕ•ᴥ•ʔ", "<s>", "</s>", "▁", "__", "~~~", "\r\n"};
  std::vector<std::string> out = {"", " ", "  ", "\n\n\n", " leading", "trailing ", "a  b",
                                  "\t\tTabs", "Once upon a time"};
  std::mt19937 rng(12345);
  for (int i = 0; i < 300; ++i) {
    std::string s;
    const int n = 1 + int(rng() % 8);
    for (int k = 0; k < n; ++k) s += pool[rng() % pool.size()] + ((rng() % 3) ? " " : "");
    out.push_back(s);
  }
  return out;
}

TEST(TokenizerSentencePiece, AgreesWithLibSentencePiece) {
  const std::string path = test::data_path("llama2-tokenizer.model");
  sentencepiece::SentencePieceProcessor spm;
  ASSERT_TRUE(spm.Load(path).ok());
  const Tokenizer tok(vocab_from_sentencepiece_file(path));
  EXPECT_EQ(tok.n_vocab(), 32000);
  int checked = 0;
  for (const auto& s : varied_strings()) {
    std::vector<int> ref;
    ASSERT_TRUE(spm.Encode(s, &ref).ok());
    const auto ours = tok.encode(s, false);
    EXPECT_EQ(std::vector<int>(ours.begin(), ours.end()), ref) << "\"" << s << "\"";
    std::string ref_text;
    ASSERT_TRUE(spm.Decode(ref, &ref_text).ok());
    EXPECT_EQ(tok.decode(ours), ref_text) << "\"" << s << "\"";
    ++checked;
  }
  EXPECT_GT(checked, 300);
}

// decode(encode(s)) == s for every string without a leading space and without a literal "▁"
// (U+2581): SentencePiece (and so we) drop the first space together with the space prefix, and
// decode "▁" as a space.
TEST(TokenizerSentencePiece, DecodeInvertsEncode) {
  const Tokenizer tok(vocab_from_sentencepiece_file(test::data_path("llama2-tokenizer.model")));
  for (const auto& s : varied_strings()) {
    if ((!s.empty() && s[0] == ' ') || s.find("\xe2\x96\x81") != std::string::npos) continue;
    EXPECT_EQ(tok.decode(tok.encode(s, true)), s) << "\"" << s << "\"";
  }
}

// Streaming never emits half a UTF-8 character, and its concatenation equals decode().
TEST(TokenizerStream, NeverSplitsUtf8) {
  const auto reader = gguf::Reader::open(test::model_path());
  const Tokenizer tok(vocab_from_gguf(reader));  // 512 pieces: CJK and emoji use byte tokens
  const std::string text = "Lily saw 🦙 and 日本語 — café!";
  const auto ids = tok.encode(text, true);
  StreamDecoder d(tok, true);
  std::string all;
  for (int32_t id : ids) {
    const std::string part = d.push(id);
    for (size_t i = 0; i < part.size();) {  // each part is whole characters
      const auto c = static_cast<unsigned char>(part[i]);
      const size_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : 4;
      ASSERT_LE(i + len, part.size()) << "partial character emitted";
      i += len;
    }
    all += part;
  }
  all += d.flush();
  EXPECT_EQ(all, text);
  EXPECT_EQ(tok.decode(ids), text);
}

TEST(TokenizerErrors, BadModelFiles) {
  test::TempDir dir;
  auto bytes = test::read_bytes(test::data_path("llama2-tokenizer.model"));
  bytes.resize(bytes.size() / 2);
  test::write_bytes(dir.file("truncated.model"), bytes);
  test::expect_error([&] { vocab_from_sentencepiece_file(dir.file("truncated.model")); },
                     {"truncated.model", "not a valid SentencePiece model"});
  test::write_bytes(dir.file("garbage.model"), {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff});
  test::expect_error([&] { vocab_from_sentencepiece_file(dir.file("garbage.model")); },
                     {"garbage.model"});
  const Tokenizer tok(vocab_from_sentencepiece_file(test::data_path("llama2-tokenizer.model")));
  test::expect_error([&] { tok.decode(std::vector<int32_t>{40000}); }, {"40000", "32000"});
}

}  // namespace
}  // namespace llmpipe
