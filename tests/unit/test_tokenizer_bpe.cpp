// Byte-level BPE against llama.cpp's test vectors (LLaMA 3, Qwen2, GPT-2, DeepSeek LLM; made by
// Hugging Face's tokenizers), special-token parsing, end-of-generation ids and streaming.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "core/error.h"
#include "formats/gguf_reader.h"
#include "formats/gguf_writer.h"
#include "test_helpers.h"
#include "tokenizer/tokenizer.h"

namespace llmpipe {
namespace {

std::string read_text(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(f), {}};
}

Tokenizer load(const std::string& name) {
  const auto reader = gguf::Reader::open(test::data_path("ggml-vocab-" + name + ".gguf"));
  return Tokenizer(vocab_from_gguf(reader));
}

struct Vectors {
  std::vector<std::string> inputs;
  std::vector<std::vector<int32_t>> expected;
};

// .inp: inputs separated by "\n__ggml_vocab_test__\n"; .out: one line of ids per input.
Vectors read_vectors(const std::string& name) {
  Vectors v;
  const std::string base = test::data_path("ggml-vocab-" + name + ".gguf");
  const std::string inp = read_text(base + ".inp");
  const std::string sep = "\n__ggml_vocab_test__\n";
  for (size_t pos = 0;;) {
    const size_t next = inp.find(sep, pos);
    if (next == std::string::npos) break;
    v.inputs.push_back(inp.substr(pos, next - pos));
    pos = next + sep.size();
  }
  std::ifstream out(base + ".out");
  for (std::string line; std::getline(out, line);) {
    std::istringstream ss(line);
    std::vector<int32_t> ids;
    for (int32_t id; ss >> id;) ids.push_back(id);
    v.expected.push_back(ids);
  }
  return v;
}

class Vocabularies : public ::testing::TestWithParam<std::string> {};

TEST_P(Vocabularies, ReproducesLlamaCppVectors) {
  const Tokenizer tok = load(GetParam());
  const Vectors v = read_vectors(GetParam());
  ASSERT_EQ(v.inputs.size(), v.expected.size());
  ASSERT_GT(v.inputs.size(), 30u);
  for (size_t i = 0; i < v.inputs.size(); ++i) {
    const auto ids = tok.encode(v.inputs[i], false);
    EXPECT_EQ(ids, v.expected[i]) << GetParam() << " input " << i << ": \"" << v.inputs[i] << "\"";
    EXPECT_EQ(tok.decode(ids), v.inputs[i]) << GetParam() << " input " << i;
  }
}

INSTANTIATE_TEST_SUITE_P(Bpe, Vocabularies,
                         ::testing::Values("llama-bpe", "qwen2", "gpt-2", "deepseek-llm", "phi-3"),
                         [](const auto& info) {
                           std::string s = info.param;
                           for (char& c : s)
                             if (c == '-') c = '_';
                           return s;
                         });

TEST(TokenizerBpe, VocabularyFacts) {
  const Tokenizer llama3 = load("llama-bpe");
  EXPECT_EQ(llama3.vocab().model, VocabModel::ByteLevelBpe);
  EXPECT_EQ(llama3.bos_id(), 128000);
  EXPECT_TRUE(llama3.vocab().add_bos);  // llama.cpp's default for llama-bpe
  EXPECT_EQ(llama3.encode("Hello", true), (std::vector<int32_t>{128000, 9906}));
  const Tokenizer qwen = load("qwen2");
  EXPECT_FALSE(qwen.vocab().add_bos);
  EXPECT_FALSE(qwen.chat_template().empty());
  EXPECT_EQ(load("gpt-2").chat_template(), "");
}

TEST(TokenizerBpe, ParsesSpecialTokensOnlyWhenAsked) {
  const Tokenizer tok = load("llama-bpe");
  const std::string text = "<|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>";
  const auto special = tok.encode(text, true, /*parse_special=*/true);
  const int32_t start = tok.token_id("<|start_header_id|>").value(),
                end = tok.token_id("<|end_header_id|>").value();
  const int32_t eot = tok.token_id("<|eot_id|>").value();
  ASSERT_GE(special.size(), 6u);
  EXPECT_EQ(special[0], 128000);
  EXPECT_EQ(special[1], start);
  EXPECT_EQ(special.back(), eot);
  EXPECT_EQ(std::count(special.begin(), special.end(), end), 1);
  // The text between special tokens is encoded as on its own.
  std::vector<int32_t> expected = {128000, start};
  for (int32_t id : tok.encode("user", false)) expected.push_back(id);
  expected.push_back(end);
  for (int32_t id : tok.encode("\n\nHi", false)) expected.push_back(id);
  expected.push_back(eot);
  EXPECT_EQ(special, expected);
  // Without parse_special the markers are plain text.
  const auto plain = tok.encode(text, false);
  EXPECT_EQ(std::count(plain.begin(), plain.end(), eot), 0);
  EXPECT_EQ(tok.decode(plain), text);
  // Control tokens decode to nothing; their stored text is there for templates.
  EXPECT_EQ(tok.decode(special), "user\n\nHi");
  EXPECT_EQ(tok.token_text(eot), "<|eot_id|>");
  EXPECT_FALSE(tok.token_id("<|no such token|>"));
}

TEST(TokenizerBpe, EndOfGeneration) {
  const Tokenizer llama3 = load("llama-bpe");
  // This is Llama 3.0's vocabulary: <|eot_id|> is there, <|eom_id|> (3.1) is not.
  ASSERT_EQ(llama3.token_id("<|eot_id|>"), 128009);
  ASSERT_FALSE(llama3.token_id("<|eom_id|>"));
  EXPECT_TRUE(llama3.is_end_of_generation(128001));  // eos <|end_of_text|>
  EXPECT_TRUE(llama3.is_end_of_generation(128009));
  EXPECT_FALSE(llama3.is_end_of_generation(128008));  // <|reserved_special_token_3|>
  EXPECT_FALSE(llama3.is_end_of_generation(128000));
  EXPECT_FALSE(llama3.is_end_of_generation(9906));
  // Llama 3.1 spells 128008 <|eom_id|>: found by its text, a control token.
  Vocab v31 = vocab_from_gguf(gguf::Reader::open(test::data_path("ggml-vocab-llama-bpe.gguf")));
  ASSERT_EQ(v31.types[128008], TokenType::Control);
  v31.tokens[128008] = "<|eom_id|>";
  EXPECT_TRUE(Tokenizer(std::move(v31)).is_end_of_generation(128008));
  const Tokenizer qwen = load("qwen2");
  const auto ids = qwen.end_of_generation_ids();
  EXPECT_EQ(std::vector<int32_t>(ids.begin(), ids.end()),
            (std::vector<int32_t>{151643, 151645}));  // <|endoftext|>, <|im_end|>
  EXPECT_EQ(qwen.encode("<|im_start|>user", false, true).front(), 151644);
}

TEST(TokenizerSpm, SpecialTokensAndEndOfGeneration) {
  const Tokenizer tok = load("llama-spm");
  EXPECT_EQ(tok.encode("<s>Hi</s>", false, true).front(), 1);
  EXPECT_EQ(tok.encode("<s>Hi</s>", false, true).back(), 2);
  // After a special token the SentencePiece space prefix comes again (as llama.cpp).
  auto hi = tok.encode("Hi", false);
  std::vector<int32_t> expected = {1};
  expected.insert(expected.end(), hi.begin(), hi.end());
  EXPECT_EQ(tok.encode("<s>Hi", false, true), expected);
  EXPECT_EQ(tok.encode("<s>Hi", false), tok.encode("<s>Hi", false, false));
  EXPECT_NE(tok.encode("<s>Hi", false).front(), 1);
  const auto eog = tok.end_of_generation_ids();
  EXPECT_EQ(std::vector<int32_t>(eog.begin(), eog.end()), std::vector<int32_t>{2});
  EXPECT_EQ(tok.token_text(1), "<s>");
  EXPECT_EQ(tok.chat_template(), "");
}

// Valid UTF-8 made of whole characters (no sequence cut short, no stray continuation byte).
bool whole_utf8(const std::string& s) {
  for (size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    const size_t len = c < 0x80         ? 1
                       : (c >> 5) == 6  ? 2
                       : (c >> 4) == 14 ? 3
                       : (c >> 3) == 30 ? 4
                                        : 0;
    if (len == 0 || i + len > s.size()) return false;
    for (size_t k = 1; k < len; ++k)
      if ((static_cast<unsigned char>(s[i + k]) & 0xc0) != 0x80) return false;
    i += len;
  }
  return true;
}

// A character split across tokens comes out whole: each push returns complete characters.
TEST(TokenizerBpe, StreamingHoldsIncompleteCharacters) {
  const Tokenizer tok = load("gpt-2");
  const std::string text = "日本語 🦙 llama ok";
  const auto ids = tok.encode(text, false);
  bool split_char = false;
  for (int32_t id : ids) {
    const std::string piece = tok.piece_text(id);
    if (!piece.empty() && (static_cast<unsigned char>(piece.back()) & 0x80)) split_char = true;
  }
  ASSERT_TRUE(split_char) << "the text should have tokens ending mid-character";
  StreamDecoder d(tok, true);
  std::string streamed;
  for (int32_t id : ids) {
    const std::string out = d.push(id);
    EXPECT_TRUE(whole_utf8(out)) << "token " << id << " released part of a character";
    streamed += out;
  }
  streamed += d.flush();
  EXPECT_EQ(streamed, text);
}

TEST(TokenizerBpe, UnknownPreTokenizerIsAnError) {
  test::TempDir dir;
  gguf::Writer w;
  w.set_string("general.architecture", "llama");
  w.set_string("tokenizer.ggml.model", "gpt2");
  w.set_string("tokenizer.ggml.pre", "no-such-pre");
  w.set_string_array("tokenizer.ggml.tokens", {"a", "b", "ab"});
  w.set_string_array("tokenizer.ggml.merges", {"a b"});
  const std::string path = dir.file("v.gguf");
  w.begin(path);
  w.finish();
  const auto reader = gguf::Reader::open(path);
  try {
    (void)vocab_from_gguf(reader);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("'no-such-pre'"), std::string::npos) << msg;
    EXPECT_NE(msg.find("llama-bpe"), std::string::npos) << msg;
    EXPECT_NE(msg.find("qwen2"), std::string::npos) << msg;
  }
}

// GGUF export writes what vocab_from_gguf reads back: the same tokenizer.
TEST(TokenizerBpe, GgufRoundTrip) {
  test::TempDir dir;
  for (const std::string name : {"qwen2", "llama-spm"}) {
    const Tokenizer a = load(name);
    gguf::Writer w;
    w.set_string("general.architecture", "llama");
    write_vocab_gguf(w, a.vocab());
    const std::string path = dir.file(name + ".gguf");
    w.begin(path);
    w.finish();
    const Tokenizer b(vocab_from_gguf(gguf::Reader::open(path)));
    EXPECT_EQ(b.vocab().tokens, a.vocab().tokens);
    EXPECT_EQ(b.vocab().merges, a.vocab().merges);
    EXPECT_EQ(b.vocab().pre, a.vocab().pre);
    EXPECT_EQ(b.chat_template(), a.chat_template());
    for (const std::string& s : read_vectors(name).inputs)
      EXPECT_EQ(b.encode(s, true), a.encode(s, true));
  }
}

}  // namespace
}  // namespace llmpipe
