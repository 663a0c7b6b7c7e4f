// SentencePiece BPE tokenizer (LLaMA 1/2, OpenLLaMA): encode, decode, and streaming decode.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "tokenizer/vocab.h"

namespace llmpipe {

class Tokenizer {
 public:
  explicit Tokenizer(Vocab vocab);

  // Text to token ids as SentencePiece would: optional space prefix, spaces as "▁", BPE merges
  // by score, byte fallback (<0xNN>) for pieces not in the vocabulary. BOS prepended if asked.
  std::vector<int32_t> encode(std::string_view text, bool add_bos) const;

  // Ids to text as SentencePiece's DecodeIds: control tokens dropped, byte tokens reassembled
  // into UTF-8, "▁" as space, the leading space of the first piece removed when
  // add_space_prefix is set. Invalid ids are an Error.
  std::string decode(std::span<const int32_t> ids) const;

  // The text of one token in the middle of a text (no leading-space removal); byte tokens give
  // their raw byte, control tokens give "".
  std::string piece_text(int32_t id) const;

  const Vocab& vocab() const { return vocab_; }
  int32_t n_vocab() const { return vocab_.size(); }
  int32_t bos_id() const { return vocab_.bos_id; }
  int32_t eos_id() const { return vocab_.eos_id; }
  bool is_control(int32_t id) const;

 private:
  Vocab vocab_;
  std::unordered_map<std::string, int32_t> piece_to_id_;
  int32_t byte_ids_[256];  // id of <0xNN>, or -1 if the vocabulary lacks it
};

// Incremental decoding for streaming output: push() returns only complete UTF-8 characters,
// keeping an incomplete multi-byte sequence until the next token completes it.
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
