// A tokenizer vocabulary as GGUF (`tokenizer.ggml.*`), SentencePiece `tokenizer.model` and
// Hugging Face `tokenizer.json` files describe it. The tokenizer is built from this, whatever
// the source. Two algorithms: SentencePiece BPE (GGUF model `llama`: LLaMA 1/2, Mistral, Phi-3)
// and byte-level BPE (GGUF model `gpt2`: LLaMA 3, Qwen2/3, GPT-2, DeepSeek).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace llmpipe {

namespace gguf {
class Reader;
class Writer;
}  // namespace gguf

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

enum class VocabModel {
  SentencePiece,  // GGUF "llama": merges by score, "▁" for spaces, <0xNN> byte fallback
  ByteLevelBpe,   // GGUF "gpt2": regex pre-split, bytes as GPT-2's printable characters, ranked
                  // merges
};

struct Vocab {
  VocabModel model = VocabModel::SentencePiece;
  std::vector<std::string> tokens;  // piece text (SentencePiece: U+2581 (▁) for a space;
                                    // byte-level: GPT-2's byte characters, e.g. "Ġ" for a space)
  std::vector<float> scores;        // SentencePiece merge priority: higher merges first
  std::vector<TokenType> types;
  int32_t bos_id = 1;
  int32_t eos_id = 2;
  int32_t unk_id = 0;
  std::optional<int32_t> pad_id;
  std::optional<int32_t> eot_id;  // end of turn (tokenizer.ggml.eot_token_id)
  std::optional<int32_t> eom_id;  // end of message (tokenizer.ggml.eom_token_id)
  bool add_space_prefix = true;   // SentencePiece: prepend "▁"; byte-level: prepend " "
  bool add_bos = true;            // encode() for a prompt adds BOS

  // Byte-level BPE only.
  std::string pre;  // GGUF tokenizer.ggml.pre name ("" if none matched)
  std::vector<std::string>
      pre_patterns;                 // split regexes, applied in sequence (see pre_tokenizer.h)
  std::vector<std::string> merges;  // "left right", highest priority first
  bool ignore_merges = false;       // a pre-token that is a whole token is not merged (LLaMA 3)

  std::string chat_template;  // Jinja source (tokenizer.chat_template); empty if none

  int32_t size() const { return int32_t(tokens.size()); }
};

// From GGUF metadata (tokenizer.ggml.*). Errors name the missing or inconsistent key.
Vocab vocab_from_gguf(const gguf::Reader& file);

// Writes `v` as GGUF tokenizer.ggml.* keys (and tokenizer.chat_template), as llama.cpp's
// converter does: reading them back with vocab_from_gguf gives the same tokenizer.
void write_vocab_gguf(gguf::Writer& w, const Vocab& v);

// From a SentencePiece `tokenizer.model` (protobuf ModelProto), parsed without libprotobuf.
Vocab vocab_from_sentencepiece_file(const std::string& path);

// From a Hugging Face `tokenizer.json` (model type BPE, byte-level) and, when `config_path` is
// not empty, `tokenizer_config.json` (bos/eos tokens, add_bos_token, chat_template). Errors
// name the unsupported model, pre-tokenizer or normalizer.
Vocab vocab_from_hf_tokenizer_json(const std::string& path, const std::string& config_path);
// The same from the files' contents (config_json may be empty); the paths only name them in
// errors. Every malformed input is an Error.
Vocab vocab_from_hf_tokenizer_json_text(std::string_view tokenizer_json,
                                        std::string_view config_json, const std::string& path,
                                        const std::string& config_path);

}  // namespace llmpipe
