#include "tokenizer/hf_tokenizer.h"

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/error.h"

namespace llmpipe {

namespace fs = std::filesystem;

namespace {

bool is_file(const fs::path& p) {
  std::error_code ec;
  return fs::is_regular_file(p, ec);
}

// tokenizer_config.json's chat_template for a SentencePiece model; a bad file is not fatal
// for the tokenizer itself (the template is only needed by chat prompts).
std::string config_chat_template(const std::string& config) {
  if (config.empty()) return "";
  std::ifstream f(config, std::ios::binary);
  const auto j = nlohmann::json::parse(f, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object() || !j.contains("chat_template") || !j["chat_template"].is_string()) return "";
  return j["chat_template"].get<std::string>();
}

}  // namespace

std::function<Vocab()> hf_vocab_reader(const std::string& dir) {
  const fs::path d(dir);
  const std::string json = (d / "tokenizer.json").string(), spm = (d / "tokenizer.model").string();
  const std::string config =
      is_file(d / "tokenizer_config.json") ? (d / "tokenizer_config.json").string() : "";
  if (is_file(json)) {
    try {
      vocab_from_hf_tokenizer_json(json, config);  // parsed twice: the check, then the reader
      return [json, config] { return vocab_from_hf_tokenizer_json(json, config); };
    } catch (const Error&) {
      if (!is_file(spm)) throw;
    }
  }
  if (!is_file(spm))
    fail("model directory ", dir,
         " has no tokenizer.model or tokenizer.json (the tokenizer: a "
         "SentencePiece model or a byte-level BPE tokenizer.json)");
  return [spm, config] {
    Vocab v = vocab_from_sentencepiece_file(spm);
    v.chat_template = config_chat_template(config);
    return v;
  };
}

}  // namespace llmpipe
