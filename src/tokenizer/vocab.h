// A SentencePiece-style vocabulary as GGUF (`tokenizer.ggml.model = llama`) and
// `tokenizer.model` files describe it. The tokenizer is built from this, whatever the source.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace llmpipe {

namespace gguf {
class Reader;
}

// Values as GGUF's tokenizer.ggml.token_type stores them (= SentencePiece piece types + 1).
enum class TokenType : int32_t {
  Undefined = 0,
  Normal = 1,
  Unknown = 2,
  Control = 3,
  UserDefined = 4,
  Unused = 5,
  Byte = 6,
};

struct Vocab {
  std::vector<std::string> tokens;  // piece text, with U+2581 (▁) standing for a space
  std::vector<float> scores;        // merge priority: higher merges first
  std::vector<TokenType> types;
  int32_t bos_id = 1;
  int32_t eos_id = 2;
  int32_t unk_id = 0;
  std::optional<int32_t> pad_id;
  bool add_space_prefix = true;  // prepend "▁" to the text before encoding
  bool add_bos = true;           // encode() for a prompt adds BOS

  int32_t size() const { return int32_t(tokens.size()); }
};

// From GGUF metadata (tokenizer.ggml.*). Errors name the missing or inconsistent key.
Vocab vocab_from_gguf(const gguf::Reader& file);

// From a SentencePiece `tokenizer.model` (protobuf ModelProto), parsed without libprotobuf.
Vocab vocab_from_sentencepiece_file(const std::string& path);

}  // namespace llmpipe
