// Byte-level BPE's pre-tokenizer: the text cut into words by a sequence of regexes (Hugging
// Face's Split with behavior "Isolated": each regex cuts every piece the previous ones left
// into its matches and the text between them). PCRE2 (UTF, Unicode properties) runs them.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace llmpipe::detail {

// The regexes of a GGUF tokenizer.ggml.pre value (llama.cpp's names), or an Error naming the
// value and the supported ones.
std::vector<std::string> pre_tokenizer_patterns(const std::string& pre);
// The GGUF name whose regexes are exactly `patterns`, or "" (for GGUF export of tokenizer.json).
std::string pre_tokenizer_name(const std::vector<std::string>& patterns);
// The supported names, comma separated (for error messages).
std::string supported_pre_tokenizers();
// GPT-2's regex (Hugging Face's ByteLevel pre-tokenizer with use_regex).
const std::string& gpt2_pattern();

class PreTokenizer {
 public:
  // Compiles the regexes; a bad one is an Error naming it and PCRE2's message.
  explicit PreTokenizer(const std::vector<std::string>& patterns);
  ~PreTokenizer();
  PreTokenizer(const PreTokenizer&) = delete;
  PreTokenizer& operator=(const PreTokenizer&) = delete;

  struct Piece {
    size_t start, len;
  };
  // The words of `text`, in order, covering all of it.
  std::vector<Piece> split(std::string_view text) const;

 private:
  struct Regex;
  std::vector<std::unique_ptr<Regex>> regexes_;
};

}  // namespace llmpipe::detail
