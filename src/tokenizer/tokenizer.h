// The tokenizer: encode, decode and streaming decode for SentencePiece BPE (LLaMA 1/2, Mistral,
// OpenLLaMA) and byte-level BPE (LLaMA 3, Qwen2/3, GPT-2, DeepSeek) vocabularies.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/vocab.h"

namespace llmpipe {

class Tokenizer {
 public:
  // Errors (inconsistent vocabulary, unsupported pre-tokenizer, bad regex) are thrown here.
  explicit Tokenizer(Vocab vocab);

  // Text to token ids. BOS prepended if asked. User-defined (added, non-special) tokens written
  // in the text always become their ids, as llama.cpp and Hugging Face do; control tokens
  // (`<|eot_id|>`, `<|im_start|>`, `<s>`...) only with parse_special, else they are plain text.
  // Where several match, the longest at the leftmost position wins. The text between them:
  //  - SentencePiece: optional space prefix (at the start and after a special token, as
  //    llama.cpp), spaces as "▁", merges by score, byte fallback (<0xNN>).
  //  - byte-level BPE: the pre-tokenizer's regex split, bytes as GPT-2's characters, ranked merges.
  std::vector<int32_t> encode(std::string_view text, bool add_bos,
                              bool parse_special = false) const;

  // Ids to text: control tokens dropped, byte tokens reassembled into UTF-8; SentencePiece: "▁"
  // as space, the leading space of the first piece removed when add_space_prefix is set.
  // Invalid ids are an Error.
  std::string decode(std::span<const int32_t> ids) const;

  // The text of one token in the middle of a text (no leading-space removal); byte tokens give
  // their raw bytes (possibly part of a UTF-8 character), control tokens give "".
  std::string piece_text(int32_t id) const;

  // The token's stored text, e.g. "<|eot_id|>" or "Ġhello" (what a chat template's bos_token
  // and eos_token are). Invalid ids are an Error.
  std::string token_text(int32_t id) const;
  // The id whose stored text is exactly `text`, if any.
  std::optional<int32_t> token_id(std::string_view text) const;

  // Tokens that end generation: eos, eot, eom, and control tokens whose text is a known
  // end-of-turn marker (<|eot_id|>, <|eom_id|>, <|im_end|>, <|end|>, <end_of_turn>,
  // <|endoftext|>, </s>, ...), as llama.cpp's end-of-generation set. Sorted.
  bool is_end_of_generation(int32_t id) const;
  std::span<const int32_t> end_of_generation_ids() const;

  // tokenizer.chat_template (GGUF) or tokenizer_config.json's chat_template; "" if none.
  const std::string& chat_template() const { return vocab().chat_template; }

  const Vocab& vocab() const;
  int32_t n_vocab() const { return vocab().size(); }
  int32_t bos_id() const { return vocab().bos_id; }
  int32_t eos_id() const { return vocab().eos_id; }
  bool is_control(int32_t id) const;

  struct Impl;  // the algorithm's tables (tokenizer.cpp); shared, so copies are cheap

 private:
  std::shared_ptr<const Impl> impl_;
};

// Incremental decoding for streaming output: push() returns only complete UTF-8 characters,
// keeping an incomplete multi-byte sequence (a byte-level token may end mid-character) until
// a later token completes it.
class StreamDecoder {
 public:
  // at_text_start: true when the first pushed token starts the text (its leading space, from the
  // space prefix, is then dropped as decode() does); false when continuing after a prompt.
  StreamDecoder(const Tokenizer& tokenizer, bool at_text_start);
  std::string push(int32_t id);
  std::string flush();  // whatever is left, invalid bytes as U+FFFD

 private:
  const Tokenizer& tok_;
  bool at_start_;
  std::string pending_;
};

}  // namespace llmpipe
