// Hugging Face tokenizer.json / tokenizer_config.json reading: a small byte-level BPE, special
// tokens from the config, which file a model directory uses, and the errors for the rest.
#include <gtest/gtest.h>

#include <filesystem>
#include <functional>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "hf_test_files.h"
#include "tokenizer/hf_tokenizer.h"
#include "tokenizer/tokenizer.h"

namespace llmpipe {
namespace {

using nlohmann::json;

// Byte characters for "a", "b", " " (Ġ) and "c", merges "a b" then "Ġ ab", two added tokens.
json tiny_tokenizer() {
  return json::parse(R"({
    "version": "1.0",
    "added_tokens": [
      {"id": 7, "content": "<|bos|>", "special": true, "normalized": false},
      {"id": 8, "content": "<|end|>", "special": true, "normalized": false},
      {"id": 9, "content": "<tool>", "special": false, "normalized": false}],
    "normalizer": null,
    "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": false, "use_regex": true},
    "post_processor": {"type": "TemplateProcessing",
                       "single": [{"SpecialToken": {"id": "<|bos|>", "type_id": 0}},
                                  {"Sequence": {"id": "A", "type_id": 0}}]},
    "decoder": {"type": "ByteLevel"},
    "model": {"type": "BPE", "dropout": null, "unk_token": null,
              "continuing_subword_prefix": null, "end_of_word_suffix": null,
              "byte_fallback": false, "ignore_merges": false,
              "vocab": {"a": 0, "b": 1, "\u0120": 2, "c": 3, "ab": 4, "\u0120ab": 5},
              "merges": ["a b", ["\u0120", "ab"]]}})");
}

struct Dir {
  test::TempDir dir;
  std::string path(const std::string& f = "") const {
    return f.empty() ? dir.file("") : dir.file(f);
  }
  void write(const std::string& name, const json& j) const {
    test::write_text(dir.file(name), j.dump());
  }
};

void expect_error(const std::function<void()>& f, const std::vector<std::string>& parts) {
  try {
    f();
    FAIL() << "expected an error with " << parts[0];
  } catch (const Error& e) {
    for (const auto& p : parts)
      EXPECT_NE(std::string(e.what()).find(p), std::string::npos) << e.what();
  }
}

TEST(TokenizerHfJson, ReadsByteLevelBpe) {
  Dir d;
  d.write("tokenizer.json", tiny_tokenizer());
  const Tokenizer tok(vocab_from_hf_tokenizer_json(d.path("tokenizer.json"), ""));
  EXPECT_EQ(tok.n_vocab(), 10);
  EXPECT_EQ(tok.vocab().pre, "gpt-2");
  EXPECT_EQ(tok.token_text(6), "[PAD6]");  // an id no token claims
  EXPECT_EQ(tok.encode("ab ab c", false), (std::vector<int32_t>{4, 5, 2, 3}));
  EXPECT_EQ(tok.encode("ab<tool>c", false), (std::vector<int32_t>{4, 9, 3}));  // added: always
  EXPECT_EQ(tok.encode("ab<|end|>", false, true), (std::vector<int32_t>{4, 8}));
  EXPECT_EQ(tok.decode(std::vector<int32_t>{4, 5, 9, 8}), "ab ab<tool>");
  // No tokenizer_config.json: the post-processor's first token is the BOS, and added.
  EXPECT_EQ(tok.bos_id(), 7);
  EXPECT_TRUE(tok.vocab().add_bos);
  EXPECT_EQ(tok.eos_id(), 7);  // no eos_token anywhere: the BOS stands in
}

TEST(TokenizerHfJson, SpecialTokensFromTheConfig) {
  Dir d;
  d.write("tokenizer.json", tiny_tokenizer());
  d.write("tokenizer_config.json",
          json{{"bos_token", json{{"content", "<|bos|>"}, {"special", true}}},
               {"eos_token", "<|end|>"},
               {"chat_template", json::array({json{{"name", "tool_use"}, {"template", "T"}},
                                              json{{"name", "default"}, {"template", "D"}}})}});
  const Tokenizer tok(
      vocab_from_hf_tokenizer_json(d.path("tokenizer.json"), d.path("tokenizer_config.json")));
  EXPECT_EQ(tok.bos_id(), 7);
  EXPECT_EQ(tok.eos_id(), 8);
  EXPECT_TRUE(tok.vocab().add_bos);  // the post-processor's template starts with <|bos|>
  EXPECT_EQ(tok.chat_template(), "D");
  EXPECT_TRUE(tok.is_end_of_generation(8));
  EXPECT_EQ(tok.encode("ab", true), (std::vector<int32_t>{7, 4}));
  d.write("tokenizer_config.json", json{{"bos_token", "<|bos|>"}, {"add_bos_token", false}});
  EXPECT_FALSE(
      vocab_from_hf_tokenizer_json(d.path("tokenizer.json"), d.path("tokenizer_config.json"))
          .add_bos);
}

TEST(TokenizerHfJson, UnsupportedTokenizersAreErrors) {
  Dir d;
  const auto read = [&] { vocab_from_hf_tokenizer_json(d.path("tokenizer.json"), ""); };
  for (const char* type : {"WordPiece", "Unigram", "WordLevel"}) {
    json j = tiny_tokenizer();
    j["model"]["type"] = type;
    d.write("tokenizer.json", j);
    expect_error(read, {"unsupported tokenizer model type '" + std::string(type) + "'", "BPE"});
  }
  json j = tiny_tokenizer();
  j["pre_tokenizer"] = json{{"type", "Metaspace"}};
  d.write("tokenizer.json", j);
  expect_error(read, {"unsupported pre-tokenizer type 'Metaspace'"});
  j = tiny_tokenizer();
  j["pre_tokenizer"] =
      json::parse(R"({"type": "Split", "pattern": {"Regex": "a"}, "behavior": "Removed"})");
  d.write("tokenizer.json", j);
  expect_error(read, {"Split with behavior Removed"});
  j = tiny_tokenizer();
  j["pre_tokenizer"] = nullptr;  // BPE without ByteLevel: SentencePiece-style, not byte-level
  d.write("tokenizer.json", j);
  expect_error(read, {"not byte-level"});
  j = tiny_tokenizer();
  j["normalizer"] = json{{"type", "Lowercase"}};
  d.write("tokenizer.json", j);
  expect_error(read, {"unsupported normalizer 'Lowercase'"});
  j = tiny_tokenizer();
  j["model"]["byte_fallback"] = true;
  d.write("tokenizer.json", j);
  expect_error(read, {"byte_fallback"});
  test::write_text(d.path("tokenizer.json"), "{\"model\": ");
  expect_error(read, {"not valid JSON"});
}

TEST(TokenizerHfJson, DirectoryPrefersByteLevelJsonElseSentencePiece) {
  Dir d;
  expect_error([&] { hf_vocab_reader(d.path()); }, {"has no tokenizer.model or tokenizer.json"});
  json spm_style = tiny_tokenizer();
  spm_style["pre_tokenizer"] = nullptr;
  d.write("tokenizer.json", spm_style);
  expect_error([&] { hf_vocab_reader(d.path()); }, {"not byte-level"});
  // With a tokenizer.model beside it, the SentencePiece model is used (the json is its copy).
  std::filesystem::copy_file(test::data_path("llama2-tokenizer.model"), d.path("tokenizer.model"));
  d.write("tokenizer_config.json", json{{"chat_template", "{{ messages }}"}});
  Vocab v = hf_vocab_reader(d.path())();
  EXPECT_EQ(v.model, VocabModel::SentencePiece);
  EXPECT_EQ(v.size(), 32000);
  EXPECT_EQ(v.chat_template, "{{ messages }}");
  // A byte-level tokenizer.json wins over tokenizer.model (transformers' fast tokenizer).
  d.write("tokenizer.json", tiny_tokenizer());
  v = hf_vocab_reader(d.path())();
  EXPECT_EQ(v.model, VocabModel::ByteLevelBpe);
  EXPECT_EQ(v.size(), 10);
}

}  // namespace
}  // namespace llmpipe
